// Package auth signs organizations up and people in, hashes passwords, and defines the
// Principal a signed-in request acts as.
package auth

import (
	"context"

	"github.com/google/uuid"

	"moat/app/tenant"
	"moat/models"
)

// Principal is the signed-in person a request acts for. Only the session middleware builds it,
// from the server-side session.
type Principal struct {
	Tenant    tenant.ID
	UserID    uuid.UUID // the membership in Tenant
	AccountID uuid.UUID // the account that signs in, which may belong to other tenants too
	Role      models.Role
	Name      string
	Email     string
	// SessionID names this signed-in session in the person's list of sessions.
	SessionID uuid.UUID
}

type ctxKey struct{}

// NewContext returns ctx carrying p, and p's tenant for the tenant scope.
func NewContext(ctx context.Context, p Principal) context.Context {
	ctx = tenant.NewContext(ctx, p.Tenant)
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal in ctx; ok is false for a signed-out request.
func FromContext(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
