// Package models holds Moat's GORM models and its domain errors.
package models

import "errors"

// Domain errors returned by stores. Handlers map them to responses; GORM's own errors never
// leave a store.
var (
	// ErrNotFound means the record is not visible to the caller: it never existed, was
	// deleted, belongs to another tenant, or the id is malformed. Callers cannot tell which.
	ErrNotFound = errors.New("not found")
	// ErrNoTenant means a tenant-owned model was touched with no tenant in the context.
	ErrNoTenant = errors.New("no tenant in context")
	// ErrEmailTaken means a sign-up or new user used an email that already signs in.
	ErrEmailTaken = errors.New("email already in use")
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

// CrossTenantError is a miss on an id that exists in another tenant. It is ErrNotFound to every
// caller (errors.Is) and answered exactly like one; only the error handler looks closer, to
// count and log the attempt for operators.
type CrossTenantError struct {
	Entity   string
	Attempts int // by the same user in the last five minutes, this one included
}

func (e *CrossTenantError) Error() string { return "not found (id of another tenant)" }

// Is makes a CrossTenantError match ErrNotFound.
func (e *CrossTenantError) Is(target error) bool { return target == ErrNotFound }
