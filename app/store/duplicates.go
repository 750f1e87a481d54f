package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

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
	// A name, email or tax id that would be refused on save (NUL bytes, too many emails) is
	// compared with nothing, but the check is still audited. Other fields do not matter here,
	// nor does a name not typed yet.
	usable := true
	var invalid *models.ValidationError
	if errors.As(in.Validate(), &invalid) {
		for field := range invalid.Fields {
			if field == "tax_id" || field == "email" || strings.HasPrefix(field, "email[") || (field == "name" && in.Name != "") {
				usable = false
			}
		}
	}
	if in.Name == "" && len(in.Emails) == 0 && in.TaxID == "" {
		return nil, nil
	}
	// Terms keep the first 100 characters of an email: look longer ones up the same way.
	terms := []string{""} // never empty, so IN () stays valid
	for _, e := range in.Emails {
		terms = append(terms, truncate(e, 100))
	}
	emails := append([]string{""}, in.Emails...)
	var out []Duplicate
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if usable {
			// Candidates come from indexes row level security leaves usable (equality and
			// text_pattern_ops ranges): customers with one of the emails as a term, with the
			// tax id, or whose name words share the first three letters with the typed ones,
			// best first by how similar those words are. Only these few are compared in full.
			// The range bounds are worked out before they meet the index: an expression such
			// as p || x (not LEAKPROOF) would be left to filter rows.
			candidates := `SELECT customer_id FROM (
					SELECT customer_id, sum(best) AS score FROM (
						SELECT customer_id, w, max(similarity(term, w)) AS best
						FROM (SELECT DISTINCT w, left(w, 3) AS p, left(w, 3) || ? AS past FROM regexp_split_to_table(lower(?::text), '[^[:alnum:]]+') w
						      WHERE length(w) >= 2 LIMIT 5) words,
						     customer_terms
						WHERE tenant_id = current_tenant_id() AND term ~>=~ p AND term ~<~ past
						GROUP BY customer_id, w) per_word
					GROUP BY customer_id ORDER BY score DESC, customer_id LIMIT ?) named
				UNION SELECT customer_id FROM customer_terms WHERE tenant_id = current_tenant_id() AND term IN ?
				UNION SELECT id FROM customers WHERE tenant_id = current_tenant_id() AND tax_id = ?::text AND tax_id <> ''`
			// The candidates' flags are worked out once, then filtered on.
			compared := tx.Model(&models.Customer{}).
				Select(`id, number, name,
					EXISTS (SELECT 1 FROM jsonb_array_elements(emails) e WHERE e->>'value' IN ? AND e->>'value' <> '') AS same_email,
					(tax_id <> '' AND tax_id = ?::text) AS same_tax_id,
					similarity(lower(name), lower(?::text)) AS score`,
					emails, in.TaxID, in.Name).
				Where("deleted_at IS NULL AND id <> ?", except).
				Where("id IN ("+candidates+")", maxRune, in.Name, nameCandidates, terms, in.TaxID)
			err := tx.Table("(?) AS compared", compared).
				Select("id, number, name, same_email, same_tax_id, (? <> '' AND score >= ?) AS similar_name", in.Name, similarName).
				Where("same_email OR same_tax_id OR (? <> '' AND score >= ?)", in.Name, similarName).
				Order("score DESC, id").Limit(5).Find(&out).Error
			if err != nil {
				return err
			}
		}
		ev := audit.Event{Action: audit.CustomerDuplicateCheck, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed, Details: map[string]int{"matches": len(out)}}
		if !usable {
			ev.Outcome = models.OutcomeRejected
		}
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

// truncate keeps the first n characters of s.
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
