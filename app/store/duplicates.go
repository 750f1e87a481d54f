package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
// that share an email or the tax id with in, or have a very similar name: the check of a form
// being filled in. Like every query it runs inside the tenant: other tenants' customers are
// never compared. It is a warning only.
func (s *Customers) Duplicates(ctx context.Context, in models.CustomerInput, except uuid.UUID) ([]Duplicate, error) {
	// A name, email or tax id that would be refused on save (NUL bytes, too many emails) is
	// compared with nothing, but the check is still audited. Other fields do not matter here,
	// nor does a name not typed yet.
	usable := comparable(&in)
	if in.Name == "" && len(in.Emails) == 0 && in.TaxID == "" {
		return nil, nil
	}
	var out []Duplicate
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if usable {
			if err := lookalikes(tx, in, except).Limit(5).Find(&out).Error; err != nil {
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

// comparable normalizes in and reports whether its name, emails and tax id can be compared:
// each would be accepted on save.
func comparable(in *models.CustomerInput) bool {
	var invalid *models.ValidationError
	if errors.As(in.Validate(), &invalid) {
		for field := range invalid.Fields {
			if field == "tax_id" || field == "email" || strings.HasPrefix(field, "email[") || (field == "name" && in.Name != "") {
				return false
			}
		}
	}
	return true
}

// lookalikes is the customers of the tenant outside the trash, other than except, that share
// an email or the tax id with in, or have a very similar name, best first, with columns id,
// number, name, same_email, same_tax_id, similar_name and score.
func lookalikes(tx *gorm.DB, in models.CustomerInput, except uuid.UUID) *gorm.DB {
	// Terms keep the first 100 characters of an email: look longer ones up the same way.
	terms := []string{""} // never empty, so IN () stays valid
	for _, e := range in.Emails {
		terms = append(terms, truncate(e, 100))
	}
	emails := append([]string{""}, in.Emails...)
	// Candidates come from indexes row level security leaves usable (equality and
	// text_pattern_ops ranges): customers with one of the emails as a term, with the tax id, or
	// whose name words share the first three letters with the typed ones, best first by how
	// similar those words are. Only these few are compared in full. The range bounds are worked
	// out before they meet the index: an expression such as p || x (not LEAKPROOF) would be left
	// to filter rows.
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
	return tx.Table("(?) AS compared", compared).
		Select("id, number, name, same_email, same_tax_id, (? <> '' AND score >= ?) AS similar_name, score", in.Name, similarName).
		Where("same_email OR same_tax_id OR (? <> '' AND score >= ?)", in.Name, similarName).
		Order("score DESC, id")
}

// keptDuplicates is how many look-alikes of a customer are kept; its page shows five.
const keptDuplicates = 20

// findDuplicates works out the look-alikes of customer c, to keep. A create runs it, and keeps
// them, before inserting c: the insert takes the tenant's numbering lock until commit, and work
// after it would hold every other create of the tenant behind it.
func findDuplicates(tx *gorm.DB, c models.Customer) ([]lookalike, error) {
	var found []lookalike
	if in := models.InputOf(c); comparable(&in) {
		if err := lookalikes(tx, in, c.ID).Limit(keptDuplicates).Find(&found).Error; err != nil {
			return nil, fmt.Errorf("find duplicates: %w", err)
		}
	}
	return found, nil
}

// lookalike is a customer found to look like another, and why.
type lookalike struct {
	ID                                uuid.UUID
	SameEmail, SameTaxID, SimilarName bool
	Score                             float32
}

// keepDuplicates keeps found as the look-alikes of the customer with id, both ways round. Pairs
// stay while either is in the trash (the page leaves trashed ones out); a customer back from the
// trash is compared again.
func keepDuplicates(tx *gorm.DB, id uuid.UUID, found []lookalike) error {
	if len(found) == 0 {
		return nil
	}
	pairs := make([]models.CustomerDuplicate, 0, 2*len(found))
	for _, l := range found {
		d := models.CustomerDuplicate{CustomerID: id, OtherID: l.ID, SameEmail: l.SameEmail, SameTaxID: l.SameTaxID, SimilarName: l.SimilarName, Score: l.Score}
		pairs = append(pairs, d)
		d.CustomerID, d.OtherID = l.ID, id
		pairs = append(pairs, d)
	}
	// Another request keeping the same customers may have kept a pair first.
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&pairs).Error; err != nil {
		return fmt.Errorf("keep duplicates: %w", err)
	}
	return nil
}

// checkDuplicates works out and keeps the look-alikes of customer c, whose row is written, in
// place of what was kept for it before.
func checkDuplicates(tx *gorm.DB, c models.Customer) error {
	found, err := findDuplicates(tx, c)
	if err != nil {
		return err
	}
	// Rows are locked in one order before they go, so two customers written at once who look
	// alike wait for each other instead of deadlocking.
	err = tx.Exec(`DELETE FROM customer_duplicates WHERE (tenant_id, customer_id, other_id) IN (
		SELECT tenant_id, customer_id, other_id FROM customer_duplicates
		WHERE tenant_id = current_tenant_id() AND (customer_id = ? OR other_id = ?)
		ORDER BY customer_id, other_id FOR UPDATE)`, c.ID, c.ID).Error
	if err != nil {
		return fmt.Errorf("keep duplicates: %w", err)
	}
	if err := keepDuplicates(tx, c.ID, found); err != nil {
		return err
	}
	err = tx.Exec("UPDATE customers SET duplicates_checked = true WHERE tenant_id = current_tenant_id() AND id = ? AND NOT duplicates_checked", c.ID).Error
	if err != nil {
		return fmt.Errorf("keep duplicates: %w", err)
	}
	return nil
}

// KeptDuplicates returns up to five kept look-alikes of customer c outside the trash, for its
// page. Reading them is part of viewing c and is not audited on its own.
func (s *Customers) KeptDuplicates(ctx context.Context, c models.Customer) (out []Duplicate, err error) {
	err = tenant.Read(ctx, s.db, func(_ context.Context, r *tenant.Reads) error {
		return s.QueueKeptDuplicates(r, c, &out)
	})
	return out, err
}

// QueueKeptDuplicates queues KeptDuplicates' read in r, into out, working c's look-alikes out
// first, now, if nobody has since c was written (customers from before they were kept).
func (s *Customers) QueueKeptDuplicates(r *tenant.Reads, c models.Customer, out *[]Duplicate) error {
	if !c.DuplicatesChecked {
		if err := checkDuplicates(r.Tx(), c); err != nil {
			return err
		}
	}
	r.Find(r.Tx().Raw(`SELECT c.id, c.number, c.name, d.same_email, d.same_tax_id, d.similar_name
		FROM customer_duplicates d JOIN customers c ON c.tenant_id = d.tenant_id AND c.id = d.other_id
		WHERE d.tenant_id = current_tenant_id() AND d.customer_id = ? AND c.deleted_at IS NULL
		ORDER BY d.score DESC, c.id LIMIT 5`, c.ID), out)
	return nil
}

// truncate keeps the first n characters of s.
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
