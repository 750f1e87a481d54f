// Package tenant carries the tenant a request works for and enforces it on every GORM
// statement and every transaction.
//
// The tenant travels in a context.Context under an unexported key, as an ID whose field is
// unexported: request binding (forms, JSON, query strings) cannot produce one. Only the session
// middleware and the named cross-tenant paths (sign-up, sign-in, the demo loader) call
// NewContext.
package tenant

import (
	"context"

	"github.com/google/uuid"
)

// ID identifies a tenant. The zero ID is no tenant.
type ID struct{ id uuid.UUID }

// FromUUID wraps a tenant's database id.
func FromUUID(u uuid.UUID) ID { return ID{u} }

// UUID returns the tenant's database id.
func (t ID) UUID() uuid.UUID { return t.id }

// String returns the id in canonical form.
func (t ID) String() string { return t.id.String() }

// IsZero reports whether t names no tenant.
func (t ID) IsZero() bool { return t.id == uuid.Nil }

type ctxKey struct{}

// NewContext returns ctx carrying tenant t.
func NewContext(ctx context.Context, t ID) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the tenant in ctx; ok is false when there is none.
func FromContext(ctx context.Context) (t ID, ok bool) {
	t, ok = ctx.Value(ctxKey{}).(ID)
	return t, ok && !t.IsZero()
}
