package store

import (
	"github.com/google/uuid"

	"moat/models"
)

// miss is the answer to every lookup by id that found nothing the tenant may see, whether the
// id is unknown, trashed, malformed (looked up as the nil UUID) or another tenant's: the same
// error at the same cost. Whether it was another tenant's is asked after the response, by the
// cross-tenant probe the error handler hands it to.
func missing(entity string, id uuid.UUID) error { return &models.MissError{Entity: entity, ID: id} }
