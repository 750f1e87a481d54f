package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/app/tenant"
	"moat/models"
)

// PageSize is how many customers a page of the list shows.
const PageSize = 25

// Customers is the customer store.
type Customers struct{ db *gorm.DB }

// NewCustomers returns the customer store over db.
func NewCustomers(db *gorm.DB) *Customers { return &Customers{db: db} }

// ListQuery asks for one page of the list. Page counts from 1; After is a keyset cursor from a
// previous page's Next and wins over Page when valid. Odd values fall back to the first page.
type ListQuery struct {
	Search string
	Page   int
	After  string
}

// CustomerPage is one page of the list, ordered by name.
type CustomerPage struct {
	Customers []models.Customer
	Search    string
	Page      int
	Next      string // cursor of the next page; empty on the last page
}

// List returns a page of the customers of the tenant in ctx matching the search text: every
// word of it starts a word of the customer's name, email or company.
func (s *Customers) List(ctx context.Context, lq ListQuery) (CustomerPage, error) {
	search := cleanSearch(lq.Search)
	p := CustomerPage{Search: search, Page: lq.Page}
	after, keyset := decodeCursor(lq.After)
	switch {
	case keyset && (p.Page < 2 || p.Page > 100000):
		p.Page = 2 // the number is only a label; a cursor always points past the first page
	case !keyset && (lq.After != "" || p.Page < 1 || p.Page > 100000):
		p.Page = 1
	}
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		q := tx.Model(&models.Customer{})
		offset := (p.Page - 1) * PageSize
		words, err := searchWords(tx, search)
		if err != nil {
			return err
		}
		if len(words) > 0 {
			// Each word must start a word of the customer's name, email or company. The page's
			// customers are chosen from the terms index alone (words, sort keys and ids), so a
			// common word costs little more than a rare one, and only they are fetched. The
			// ranges use text_pattern_ops comparisons, which row level security lets the index
			// serve; ILIKE it does not, its operator not being LEAKPROOF.
			var parts []string
			var args []any
			for _, w := range words {
				parts = append(parts, "SELECT customer_id, sort_key FROM customer_terms WHERE tenant_id = current_tenant_id() AND term ~>=~ ? AND term ~<~ ?")
				args = append(args, w, w+maxRune)
			}
			// A customer can have several words starting with the same prefix: DISTINCT.
			pick := "SELECT DISTINCT customer_id, sort_key FROM (" + strings.Join(parts, " INTERSECT ") + ") m"
			if keyset {
				pick += " WHERE (sort_key, customer_id) > (?, ?)"
				args = append(args, after.Name, after.ID)
				offset = 0
			}
			pick += " ORDER BY sort_key, customer_id LIMIT ? OFFSET ?"
			args = append(args, PageSize+1, offset)
			q = q.Where("id IN (SELECT customer_id FROM ("+pick+") page)", args...)
			keyset, offset = false, 0 // the page is picked
		} else if search != "" {
			// Nothing but punctuation: match it literally, the slow way; such searches are rare.
			like := "%" + escapeLike(search) + "%"
			q = q.Where("name ILIKE ? OR email ILIKE ? OR company ILIKE ?", like, like, like)
		}
		if keyset {
			q = q.Where("(lower(name), id) > (?, ?)", after.Name, after.ID)
		} else if offset > 0 {
			q = q.Offset(offset)
		}
		var rows []struct {
			models.Customer `gorm:"embedded"`
			SortKey         string // lower(name) as PostgreSQL computes it, for the cursor
		}
		if err := q.Select("*, lower(name) AS sort_key").Order("lower(name), id").Limit(PageSize + 1).Find(&rows).Error; err != nil {
			return fmt.Errorf("list customers: %w", err)
		}
		if len(rows) > PageSize {
			rows = rows[:PageSize]
			last := rows[len(rows)-1]
			p.Next = encodeCursor(cursor{Name: last.SortKey, ID: last.ID})
		}
		p.Customers = make([]models.Customer, len(rows))
		for i, r := range rows {
			p.Customers[i] = r.Customer
		}
		return audit.Record(tx, audit.Event{Action: "customer.list", Entity: "customer", Outcome: models.OutcomeAllowed,
			Details: map[string]any{"search": search, "page": p.Page}})
	})
	return p, err
}

// Get returns the customer with id. ErrNotFound covers unknown, deleted, foreign and malformed
// ids alike; each costs the same statements and is audited as a denied view.
func (s *Customers) Get(ctx context.Context, id string) (models.Customer, error) {
	var c models.Customer
	var miss error
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		if miss, err = take(tx, &c, id, false); err != nil {
			return err
		}
		return audit.Record(tx, audit.Event{Action: "customer.view", Entity: "customer", EntityID: id, Outcome: outcome(miss)})
	})
	if err == nil {
		err = miss
	}
	return c, err
}

// Create validates in and adds a customer to the tenant in ctx. Invalid input returns a
// *models.ValidationError and is audited as rejected.
func (s *Customers) Create(ctx context.Context, in models.CustomerInput) (models.Customer, error) {
	invalid := in.Validate()
	c := models.Customer{Name: in.Name, Email: in.Email, Phone: in.Phone, Company: in.Company, Notes: in.Notes}
	if u := audit.RequestFrom(ctx).UserID; u != uuid.Nil {
		c.CreatedBy = &u
	}
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		ev := audit.Event{Action: "customer.create", Entity: "customer", Outcome: models.OutcomeRejected}
		if invalid != nil {
			ev.Details = invalid
			return audit.Record(tx, ev)
		}
		if err := tx.Create(&c).Error; err != nil {
			return fmt.Errorf("create customer: %w", err)
		}
		ev.EntityID, ev.Outcome, ev.Details = c.ID.String(), models.OutcomeAllowed, changes(models.Customer{}, c)
		return audit.Record(tx, ev)
	})
	if err == nil {
		err = invalid
	}
	return c, err
}

// Update validates in and replaces the editable fields of the customer with id. A customer the
// caller cannot see answers ErrNotFound before the input is looked at, so invalid input never
// reveals that a foreign id exists.
func (s *Customers) Update(ctx context.Context, id string, in models.CustomerInput) (models.Customer, error) {
	invalid := in.Validate()
	var c models.Customer
	var miss error
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		if miss, err = take(tx, &c, id, true); err != nil {
			return err
		}
		ev := audit.Event{Action: "customer.update", Entity: "customer", EntityID: id, Outcome: outcome(miss)}
		if miss == nil && invalid != nil {
			ev.Outcome, ev.Details = models.OutcomeRejected, invalid
		}
		if miss != nil || invalid != nil {
			return audit.Record(tx, ev)
		}
		before := c
		c.Name, c.Email, c.Phone, c.Company, c.Notes = in.Name, in.Email, in.Phone, in.Company, in.Notes
		if err := tx.Model(&c).Select("name", "email", "phone", "company", "notes", "updated_at").Updates(&c).Error; err != nil {
			return fmt.Errorf("update customer: %w", err)
		}
		ev.Details = changes(before, c)
		return audit.Record(tx, ev)
	})
	switch {
	case err != nil:
		return c, err
	case miss != nil:
		return c, miss
	}
	return c, invalid
}

// Delete removes the customer with id for good.
func (s *Customers) Delete(ctx context.Context, id string) error {
	var miss error
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var c models.Customer
		var err error
		if miss, err = take(tx, &c, id, true); err != nil {
			return err
		}
		ev := audit.Event{Action: "customer.delete", Entity: "customer", EntityID: id, Outcome: outcome(miss)}
		if miss == nil {
			if err := tx.Delete(&c).Error; err != nil {
				return fmt.Errorf("delete customer: %w", err)
			}
			ev.Details = changes(c, models.Customer{})
		}
		return audit.Record(tx, ev)
	})
	if err == nil {
		err = miss
	}
	return err
}

// take loads the customer with id into c, optionally locking it for update. On a miss it
// returns the miss as its first result (see notFound); the second is for real failures. A
// malformed id is looked up as the nil UUID, which never exists, so every miss costs the same.
func take(tx *gorm.DB, c *models.Customer, id string, lock bool) (miss, err error) {
	uid, perr := uuid.Parse(id)
	if perr != nil || len(id) != 36 {
		uid = uuid.Nil
	}
	q := tx
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	err = q.Where("id = ?", uid).Take(c).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return notFound(tx, "customers", uid)
	case err != nil:
		return nil, fmt.Errorf("load customer: %w", err)
	}
	return nil, nil
}

func outcome(miss error) models.Outcome {
	if miss == nil {
		return models.OutcomeAllowed
	}
	return models.OutcomeDenied
}

// change is one field's value before and after.
type change struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// changes lists the editable fields that differ between a and b.
func changes(a, b models.Customer) map[string]change {
	out := map[string]change{}
	add := func(field, from, to string) {
		if from != to {
			out[field] = change{From: from, To: to}
		}
	}
	add("name", a.Name, b.Name)
	add("email", a.Email, b.Email)
	add("phone", a.Phone, b.Phone)
	add("company", a.Company, b.Company)
	add("notes", a.Notes, b.Notes)
	return out
}

// cleanSearch keeps what PostgreSQL can compare: valid UTF-8 in NFC (as customers are stored)
// without control characters, at most 200 characters.
func cleanSearch(s string) string {
	s = norm.NFC.String(strings.ToValidUTF8(s, ""))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200])
	}
	return s
}

// maxRune sorts after every character (byte-wise, as text_pattern_ops compares): word+maxRune
// bounds the words that start with word.
const maxRune = "\U0010FFFF"

// searchWords splits a search into words exactly as the schema splits customers into terms
// (customer_words: lower-cased runs of [:alnum:], as PostgreSQL's locale defines them), at most
// five, each at most 100 characters. Words hold no spaces, so they travel space-separated.
func searchWords(tx *gorm.DB, s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var joined string
	err := tx.Raw(`SELECT coalesce(string_agg(w, ' '), '') FROM (
		SELECT DISTINCT left(w, 100) AS w FROM regexp_split_to_table(lower(?), '[^[:alnum:]]+') w WHERE w <> '' LIMIT 5) words`, s).
		Scan(&joined).Error
	if err != nil {
		return nil, fmt.Errorf("search words: %w", err)
	}
	return strings.Fields(joined), nil
}

// escapeLike makes s match itself literally in a LIKE pattern (PostgreSQL's default escape
// character is the backslash).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

type cursor struct {
	Name string    `json:"n"`
	ID   uuid.UUID `json:"i"`
}

func encodeCursor(c cursor) string {
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeCursor(s string) (cursor, bool) {
	var c cursor
	if s == "" || len(s) > 1200 {
		return c, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(raw, &c) != nil || c.ID == uuid.Nil || !utf8.ValidString(c.Name) || strings.ContainsRune(c.Name, 0) {
		return c, false
	}
	return c, true
}
