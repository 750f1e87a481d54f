package models

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"
)

// APIToken is a token that lets a program use the API as the person who made it, within its
// scopes. Only its SHA-256 is kept; its secret is shown once, when it is made.
type APIToken struct {
	TenantID       uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID             uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	UserID         uuid.UUID `gorm:"type:uuid"`
	Name           string
	Prefix         string
	TokenHash      string
	ScopeCustomers string
	ScopeInvoices  string
	ScopeProducts  string
	ExpiresAt      *time.Time
	CreatedAt      time.Time
	CreatedBy      *uuid.UUID `gorm:"type:uuid"`
	RevokedAt      *time.Time
	RevokedBy      *uuid.UUID `gorm:"type:uuid"`
	LastUsedAt     *time.Time `gorm:"->"` // written by api_token_use only
	LastUsedIP     *string    `gorm:"->"`
	UserName       string     `gorm:"->;-:migration"` // the person it acts as, when listed
}

// Active reports whether the token still works at now (its person's deactivation aside).
func (t APIToken) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || t.ExpiresAt.After(now))
}

// APITokenInput is the token page's form.
type APITokenInput struct {
	Name      string `form:"name" validate:"required,max=100,text"`
	Customers string `form:"scope_customers" validate:"oneof=none read write"`
	Invoices  string `form:"scope_invoices" validate:"oneof=none read write"`
	Products  string `form:"scope_products" validate:"oneof=none read write"`
	// Days until it expires; 0 for never.
	ExpiresIn int `form:"expires_in" validate:"oneof=0 7 30 90 365"`
}

// Validate trims the name, fills missing scopes with none and returns a *ValidationError, or
// nil. A token must reach something.
func (in *APITokenInput) Validate() error {
	in.Name = norm.NFC.String(strings.TrimSpace(in.Name))
	for _, s := range []*string{&in.Customers, &in.Invoices, &in.Products} {
		if *s == "" {
			*s = "none"
		}
	}
	if err := validateStruct(in); err != nil {
		return err
	}
	if in.Customers == "none" && in.Invoices == "none" && in.Products == "none" {
		return &ValidationError{Fields: map[string]string{"scope_customers": "Give the token access to at least one kind of record."}}
	}
	return nil
}
