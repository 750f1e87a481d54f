// Package models holds Moat's GORM models and its domain errors.
package models

import (
	"errors"

	"github.com/google/uuid"
)

// Domain errors returned by stores. Handlers map them to responses; GORM's own errors never
// leave a store.
var (
	// ErrNotFound means the record is not visible to the caller: it never existed, was
	// deleted, belongs to another tenant, or the id is malformed. Callers cannot tell which.
	ErrNotFound = errors.New("not found")
	// ErrNoTenant means a tenant-owned model was touched with no tenant in the context.
	ErrNoTenant = errors.New("no tenant in context")
	// ErrLastOwner means a change would leave the tenant without an active owner.
	ErrLastOwner = errors.New("the last owner cannot be demoted, deactivated or removed")
	// ErrForbidden means the person's role may not make this change. Pages a role may not see
	// answer ErrNotFound instead.
	ErrForbidden = errors.New("not permitted")
)

// ValidationError lists what is wrong with input, by form field name.
type ValidationError struct {
	Fields map[string]string `json:"invalid"`
}

func (e *ValidationError) Error() string { return "invalid input" }

// MissError is a lookup by id that found nothing the tenant may see: an unknown, trashed,
// malformed (looked up as the nil UUID) or another tenant's id, alike. It is ErrNotFound to every
// caller (errors.Is) and answered exactly like one. Only the error handler looks closer: after the
// response it hands every miss to the cross-tenant probe, which tells operators, never the tenant,
// when the id exists in another tenant.
type MissError struct {
	Entity string    // the table the id was looked up in
	ID     uuid.UUID // as parsed
}

func (e *MissError) Error() string { return "not found" }

// Is makes a MissError match ErrNotFound.
func (e *MissError) Is(target error) bool { return target == ErrNotFound }

// ParseID parses id as a UUID in its canonical form (what Moat's pages and links carry);
// anything else is the nil UUID, which names no record.
func ParseID(id string) uuid.UUID {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return uuid.Nil
	}
	return u
}

// CleanID returns id as a canonical UUID string, or "" when it is not one: an id from a request
// that is kept or echoed, never the request's own bytes.
func CleanID(id string) string {
	if u := ParseID(id); u != uuid.Nil {
		return u.String()
	}
	return ""
}

// IsAnswer reports whether err is an answer to the request (not found, not permitted, invalid
// input) rather than a failure: the work that gave it, and its audit row, stand.
func IsAnswer(err error) bool {
	var invalid *ValidationError
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) || errors.Is(err, ErrLastOwner) || errors.As(err, &invalid)
}
