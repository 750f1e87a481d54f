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
// from the server-side session, and the API's token check, from the token's row.
type Principal struct {
	Tenant    tenant.ID
	UserID    uuid.UUID // the membership in Tenant
	AccountID uuid.UUID // the account that signs in, which may belong to other tenants too
	Role      models.Role
	Name      string
	Email     string
	// SessionID names this signed-in session in the person's list of sessions.
	SessionID uuid.UUID
	// Token is the API token the request came with; zero for a page's session.
	Token Token
}

// Token is an API token acting for its person: the person's role still bounds it, and its
// scopes bound it further.
type Token struct {
	ID     uuid.UUID
	Name   string
	Scopes Scopes
}

// Access is how far a token reaches into one kind of record.
type Access string

// The levels of access, each including the one before.
const (
	AccessNone  Access = "none"
	AccessRead  Access = "read"
	AccessWrite Access = "write"
)

// Allows reports whether a grants at least want.
func (a Access) Allows(want Access) bool {
	rank := map[Access]int{AccessRead: 1, AccessWrite: 2}
	return rank[a] >= rank[want]
}

// Scopes are a token's access to each kind of record the API serves.
type Scopes struct {
	Customers Access `json:"customers"`
	Invoices  Access `json:"invoices"`
	Products  Access `json:"products"`
}

// Resources are the kinds of record a token's scopes name, as the API and the token page name them.
var Resources = []string{"customers", "invoices", "products"}

// Of returns the access s grants to resource, one of Resources; none for any other.
func (s Scopes) Of(resource string) Access {
	switch resource {
	case "customers":
		return s.Customers
	case "invoices":
		return s.Invoices
	case "products":
		return s.Products
	}
	return AccessNone
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
