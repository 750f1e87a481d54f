package store

import (
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/models"
)

// notFound runs after every miss on an id, whether it is unknown, malformed (looked up as the
// nil UUID) or another tenant's, so all three cost the same statements. It asks the id registry
// whether the id exists at all; if it does, the miss was a cross-tenant attempt: it is recorded
// for operators (never in the tenant's trail) and returned as a *models.CrossTenantError, which
// is still ErrNotFound to everyone else. The second result is for real failures. The count
// stops at three ("three in five minutes" is all the alert needs), so a user's own history
// cannot make a hit measurably slower than a miss.
func notFound(tx *gorm.DB, entity string, id uuid.UUID) (miss, err error) {
	user := audit.RequestFrom(tx.Statement.Context).UserID
	var attempts []int
	err = tx.Raw(`
		WITH hit AS (SELECT 1 FROM record_ids WHERE id = ? AND entity = ?),
		     ins AS (INSERT INTO cross_tenant_attempts (user_id, entity) SELECT ?, ? FROM hit RETURNING 1)
		SELECT 1 + (SELECT count(*) FROM (SELECT 1 FROM cross_tenant_attempts
		                                   WHERE user_id = ? AND at > now() - interval '5 minutes' LIMIT 2) recent)
		FROM ins`, id, entity, user, entity, user).Scan(&attempts).Error
	if err != nil {
		return nil, fmt.Errorf("id registry: %w", err)
	}
	if len(attempts) == 1 {
		return &models.CrossTenantError{Entity: entity, Attempts: attempts[0]}, nil
	}
	return models.ErrNotFound, nil
}
