package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/app/tenant"
	"moat/models"
)

// similarName is the pg_trgm similarity from which two names count as possibly the same.
const similarName = 0.5

// Duplicate is a customer that may be the same as the one being entered, and why.
type Duplicate struct {
	ID          uuid.UUID
	Number      string
	Name        string
	SameEmail   bool
	SameTaxID   bool
	SimilarName bool
}

// Duplicates finds up to five customers of the tenant, outside the trash and other than except,
// that share an email or the tax id with in, or have a very similar name. Like every query it
// runs inside the tenant: other tenants' customers are never compared. It is a warning only.
func (s *Customers) Duplicates(ctx context.Context, in models.CustomerInput, except uuid.UUID) ([]Duplicate, error) {
	in.Normalize()
	if in.Name == "" && len(in.Emails) == 0 && in.TaxID == "" {
		return nil, nil
	}
	var out []Duplicate
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		emails := append([]string{""}, in.Emails...) // never empty, so IN () stays valid
		err := tx.Model(&models.Customer{}).
			Select(`id, number, name,
				EXISTS (SELECT 1 FROM jsonb_array_elements(emails) e WHERE e->>'value' IN ? AND e->>'value' <> '') AS same_email,
				(tax_id <> '' AND tax_id = ?::text) AS same_tax_id,
				(?::text <> '' AND similarity(lower(name), lower(?::text)) >= ?) AS similar_name`,
				emails, in.TaxID, in.Name, in.Name, similarName).
			Where("deleted_at IS NULL AND id <> ?", except).
			Where("EXISTS (SELECT 1 FROM jsonb_array_elements(emails) e WHERE e->>'value' IN ? AND e->>'value' <> '') OR (tax_id <> '' AND tax_id = ?::text) OR (?::text <> '' AND similarity(lower(name), lower(?::text)) >= ?)",
				emails, in.TaxID, in.Name, in.Name, similarName).
			Order(clause.OrderBy{Expression: clause.Expr{SQL: "similarity(lower(name), lower(?::text)) DESC, id", Vars: []any{in.Name}, WithoutParentheses: true}}).
			Limit(5).Find(&out).Error
		if err != nil {
			return err
		}
		ev := audit.Event{Action: "customer.duplicate_check", Entity: "customer", Outcome: models.OutcomeAllowed, Details: map[string]int{"matches": len(out)}}
		if except != uuid.Nil {
			ev.EntityID = except.String()
		}
		return audit.Record(tx, ev)
	})
	if err != nil {
		return nil, fmt.Errorf("find duplicates: %w", err)
	}
	return out, nil
}
