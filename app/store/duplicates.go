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

// nameCandidates is how many customers sharing name-word prefixes are compared in full.
const nameCandidates = 200

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
		// Candidates come from indexes row level security leaves usable (equality and
		// text_pattern_ops ranges): customers with one of the emails as a term, with the tax
		// id, or with the most words sharing a name word's first three letters. Only those
		// few are compared in full. The range bounds are worked out before they meet the
		// index: an expression such as p || x (not LEAKPROOF) would be left to filter rows.
		candidates := `SELECT customer_id FROM (
				SELECT customer_id, count(DISTINCT p) AS hits
				FROM (SELECT DISTINCT left(w, 3) AS p, left(w, 3) || ? AS past FROM regexp_split_to_table(lower(?::text), '[^[:alnum:]]+') w
				      WHERE length(w) >= 2 LIMIT 5) prefixes,
				     customer_terms
				WHERE tenant_id = current_tenant_id() AND term ~>=~ p AND term ~<~ past
				GROUP BY customer_id ORDER BY hits DESC LIMIT ?) named
			UNION SELECT customer_id FROM customer_terms WHERE tenant_id = current_tenant_id() AND term IN ?
			UNION SELECT id FROM customers WHERE tenant_id = current_tenant_id() AND tax_id = ?::text AND tax_id <> ''`
		err := tx.Model(&models.Customer{}).
			Select(`id, number, name,
				EXISTS (SELECT 1 FROM jsonb_array_elements(emails) e WHERE e->>'value' IN ? AND e->>'value' <> '') AS same_email,
				(tax_id <> '' AND tax_id = ?::text) AS same_tax_id,
				(?::text <> '' AND similarity(lower(name), lower(?::text)) >= ?) AS similar_name`,
				emails, in.TaxID, in.Name, in.Name, similarName).
			Where("deleted_at IS NULL AND id <> ?", except).
			Where("id IN ("+candidates+")", maxRune, in.Name, nameCandidates, emails, in.TaxID).
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
