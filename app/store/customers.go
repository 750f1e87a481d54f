package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/models"
)

// PageSize is how many customers a page of the list shows.
const PageSize = 25

// Customers is the customer store.
type Customers struct{ db *gorm.DB }

// NewCustomers returns the customer store over db.
func NewCustomers(db *gorm.DB) *Customers { return &Customers{db: db} }

// tagList is a select column giving each customer row its tags as JSON, in the same statement.
// It names the transaction's tenant rather than the row's (the same, under the statement's
// scope): Citus routes a locking read only when every subquery names its tenant by value.
const tagList = `(SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'name', t.name, 'color', t.color) ORDER BY lower(t.name)), '[]')
	FROM customer_tags ct JOIN tags t ON t.tenant_id = ct.tenant_id AND t.id = ct.tag_id
	WHERE ct.tenant_id = current_tenant_id() AND ct.customer_id = customers.id) AS tag_list`

// listTagIDs is a select column giving each row of the list its tags' ids, comma-separated: the
// list has every tag of the tenant already (for its filter), so the names need not be joined
// to every row.
const listTagIDs = `(SELECT string_agg(ct.tag_id::text, ',') FROM customer_tags ct
	WHERE ct.tenant_id = current_tenant_id() AND ct.customer_id = customers.id) AS tag_ids`

// customerRow is a customer as the record page and the export read it: with its tags, and the
// sort key of the export's order.
type customerRow struct {
	models.Customer `gorm:"embedded"`
	TagList         []models.Tag `gorm:"serializer:json"`
	SortKey         string
}

// TableName is the customers table: a customerRow is a customer read with more.
func (customerRow) TableName() string { return "customers" }

func (r customerRow) customer() models.Customer {
	c := r.Customer
	c.Tags = r.TagList
	return c
}

// Get returns the customer with id, with its tags. ErrNotFound covers unknown, trashed,
// foreign and malformed ids alike; each is audited as a denied view.
func (s *Customers) Get(ctx context.Context, id string) (c models.Customer, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.CustomerView, EntityID: entityID(id)}, func(tx *gorm.DB, _ *audit.Event) error {
		c, err = take(tx, id, false)
		return err
	})
	return c, err
}

// Create validates in and adds a customer to the tenant in ctx, numbered by the database when
// in has no number. Invalid input, a taken number and tags the tenant does not have return a
// *models.ValidationError and are audited as rejected.
func (s *Customers) Create(ctx context.Context, in models.CustomerInput) (c models.Customer, err error) {
	return s.create(ctx, in, true)
}

// create is Create; without lookalikes the customer's look-alikes are left to be worked out
// on its first view (an import's thousands of rows would otherwise each compare themselves
// with the tenant's customers while the numbering lock is held).
func (s *Customers) create(ctx context.Context, in models.CustomerInput, lookalikes bool) (c models.Customer, err error) {
	invalid := in.Validate()
	err = audited(ctx, s.db, audit.Event{Action: audit.CustomerCreate}, func(tx *gorm.DB, ev *audit.Event) error {
		c = models.Customer{}
		fill(&c, in)
		c.CreatedBy = requestUser(tx)
		if invalid != nil {
			return invalid
		}
		if err := checkRecord(tx, &c, in); err != nil {
			return err
		}
		// Its look-alikes are kept first, under the id it will have: no foreign key ties the
		// pairs to the row, and the insert takes the numbering lock every create waits for.
		c.ID, c.DuplicatesChecked = uuid.New(), lookalikes
		if lookalikes {
			found, err := findDuplicates(tx, c)
			if err != nil {
				return err
			}
			if err := keepDuplicates(tx, c.ID, found); err != nil {
				return err
			}
		}
		// A number taken between the check and the insert (by a number typed by hand in another
		// request) inserts nothing, rather than failing the transaction: no savepoint per row,
		// which an import of thousands would pay for.
		insert := func() (bool, error) {
			res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "tenant_id"}, {Name: "number_key"}}, DoNothing: true}).Create(&c)
			return res.RowsAffected == 1, res.Error
		}
		inserted, err := insert()
		if err == nil && !inserted && in.Number == "" {
			c.Number = "" // the number counted out for it was taken: count again
			inserted, err = insert()
		}
		switch {
		case err != nil:
			return fmt.Errorf("create customer: %w", err)
		case !inserted:
			return numberTaken()
		}
		if err := setTags(tx, c.ID, c.Tags); err != nil {
			return err
		}
		if in.Notes != "" {
			if err := tx.Create(&models.CustomerNote{CustomerID: c.ID, Body: in.Notes, CreatedBy: c.CreatedBy}).Error; err != nil {
				return fmt.Errorf("create customer note: %w", err)
			}
		}
		ev.EntityID, ev.Details = c.ID.String(), changes(models.Customer{}, c)
		return nil
	})
	return c, err
}

// Update validates in and replaces the editable fields of the customer with id. A customer the
// caller cannot see answers ErrNotFound before the input is looked at, so invalid input never
// reveals that a foreign id exists.
func (s *Customers) Update(ctx context.Context, id string, in models.CustomerInput) (models.Customer, error) {
	return s.Patch(ctx, id, func(cur *models.CustomerInput) { *cur = in })
}

// Patch changes the customer with id as change says, applied to its current values (as the
// edit form shows them) while it is locked, so that two changes of different fields never undo
// each other. It answers as Update does.
func (s *Customers) Patch(ctx context.Context, id string, change func(*models.CustomerInput)) (c models.Customer, err error) {
	return s.patch(ctx, id, change, true)
}

// patch is Patch; without lookalikes the customer's look-alikes are worked out again on its
// next view, as for create.
func (s *Customers) patch(ctx context.Context, id string, change func(*models.CustomerInput), lookalikes bool) (c models.Customer, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.CustomerUpdate, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		var err error
		if c, err = take(tx, id, true); err != nil {
			return err
		}
		before := c
		in := models.InputOf(c)
		change(&in)
		invalid := in.Validate()
		fill(&c, in)
		if invalid != nil {
			return invalid
		}
		if err := checkRecord(tx, &c, in); err != nil {
			return err
		}
		err = tx.Transaction(func(sp *gorm.DB) error { return sp.Model(&c).Select(editable).Updates(&c).Error })
		switch {
		case violates(err, "customers_tenant_number"):
			return numberTaken()
		case err != nil:
			return fmt.Errorf("update customer: %w", err)
		}
		if err := tx.Where("customer_id = ?", c.ID).Delete(&models.CustomerTag{}).Error; err != nil {
			return fmt.Errorf("update customer tags: %w", err)
		}
		if err := setTags(tx, c.ID, c.Tags); err != nil {
			return err
		}
		if lookalikes {
			err = checkDuplicates(tx, c)
		} else {
			err = tx.Exec("UPDATE customers SET duplicates_checked = false WHERE tenant_id = current_tenant_id() AND id = ?", c.ID).Error
		}
		if err != nil {
			return err
		}
		ev.Details = changes(before, c)
		return nil
	})
	return c, err
}

// editable are the columns an edit writes.
var editable = []string{"kind", "number", "name", "email", "phone", "emails", "phones", "company", "website", "tax_id",
	"billing_address", "shipping_address", "currency", "payment_terms", "updated_at"}

// fill copies validated input onto c. An empty number is left for the database to assign on
// create; on edit it keeps the number c has.
func fill(c *models.Customer, in models.CustomerInput) {
	c.Kind, c.Name, c.Company, c.Website, c.TaxID = in.Kind, in.Name, in.Company, in.Website, in.TaxID
	if in.Number != "" {
		c.Number = in.Number
	}
	c.Emails, c.Phones = in.EmailContacts(), in.PhoneContacts()
	c.Email, c.Phone = "", ""
	if len(c.Emails) > 0 {
		c.Email = c.Emails[0].Value
	}
	if len(c.Phones) > 0 {
		c.Phone = c.Phones[0].Value
	}
	c.BillingAddress, c.ShippingAddress = in.BillingAddress, in.ShippingAddress
	c.Currency, c.PaymentTerms = in.Currency, in.Days()
}

// checkRecord checks what only the database knows: that the number is free in the tenant and
// that every tag is one of the tenant's. It puts the chosen tags on c. A tag id from another
// tenant is refused exactly like an unknown one.
func checkRecord(tx *gorm.DB, c *models.Customer, in models.CustomerInput) error {
	fields := map[string]string{}
	if in.Number != "" {
		var n int64
		if err := tx.Model(&models.Customer{}).Where("number_key = lower(?) AND id <> ?", in.Number, c.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("check number: %w", err)
		}
		if n > 0 {
			fields["number"] = numberTaken().Fields["number"]
		}
	}
	c.Tags = nil
	if len(in.TagIDs) > 0 {
		ids, ok := parseIDs(in.TagIDs)
		if ok {
			// FOR SHARE: a tag deleted meanwhile would fail the insert's foreign key.
			if err := tx.Clauses(clause.Locking{Strength: "SHARE"}).Where("id IN ?", ids).Order("lower(name)").Find(&c.Tags).Error; err != nil {
				return fmt.Errorf("check tags: %w", err)
			}
		}
		if !ok || len(c.Tags) != len(ids) {
			fields["tag"] = "Choose tags from the list."
		}
	}
	if len(fields) > 0 {
		return &models.ValidationError{Fields: fields}
	}
	return nil
}

func numberTaken() *models.ValidationError {
	return &models.ValidationError{Fields: map[string]string{"number": "Another customer has this number: choose another, or leave it blank to number it automatically."}}
}

// setTags puts tags on the customer with id.
func setTags(tx *gorm.DB, id uuid.UUID, tags []models.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	links := make([]models.CustomerTag, len(tags))
	for i, t := range tags {
		links[i] = models.CustomerTag{CustomerID: id, TagID: t.ID}
	}
	if err := tx.Create(&links).Error; err != nil {
		return fmt.Errorf("tag customer: %w", err)
	}
	return nil
}

// Trash moves the customer with id to the trash: from then on it answers like an unknown id
// everywhere but the trash.
func (s *Customers) Trash(ctx context.Context, id string) error {
	return audited(ctx, s.db, audit.Event{Action: audit.CustomerTrash, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		c, err := take(tx, id, true)
		if err != nil {
			return err
		}
		if err := trash(tx, tx.Where("id = ?", c.ID)); err != nil {
			return err
		}
		ev.Details = map[string]string{"name": c.Name, "number": c.Number}
		return nil
	})
}

// trash moves the customers q selects to the trash, as the person in the request.
func trash(tx, q *gorm.DB) error {
	err := q.Model(&models.Customer{}).Where("deleted_at IS NULL").
		Updates(map[string]any{"deleted_at": gorm.Expr("now()"), "deleted_by": requestUser(tx)}).Error
	if err != nil {
		return fmt.Errorf("trash customers: %w", err)
	}
	return nil
}

// requestUser is the person the request in tx's context acts for, or nil.
func requestUser(tx *gorm.DB) *uuid.UUID {
	if u := audit.RequestFrom(tx.Statement.Context).UserID; u != uuid.Nil {
		return &u
	}
	return nil
}

// take loads the customer with id, with its tags, optionally locking it for update. A trashed
// customer is a miss like an unknown one (see byID).
func take(tx *gorm.DB, id string, lock bool) (models.Customer, error) {
	r, err := byID[customerRow](tx, id, func(q *gorm.DB) *gorm.DB {
		q = q.Select("*", tagList).Where("deleted_at IS NULL")
		if lock {
			q = forUpdate(q)
		}
		return q
	})
	return r.customer(), err
}

// change is one field's value before and after.
type change struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Fields are the customer fields the trail records changes of, in the order pages show them.
var Fields = []string{"kind", "number", "name", "company", "emails", "phones", "website", "tax_id",
	"billing_address", "shipping_address", "currency", "payment_terms", "tags"}

// changes lists the editable fields that differ between a and b.
func changes(a, b models.Customer) map[string]change {
	out := map[string]change{}
	values := func(c models.Customer) []string {
		terms := ""
		if c.PaymentTerms != 0 || c.Currency != "" {
			terms = strconv.Itoa(c.PaymentTerms)
		}
		names := make([]string, len(c.Tags))
		for i, t := range c.Tags {
			names[i] = t.Name
		}
		return []string{string(c.Kind), c.Number, c.Name, c.Company, contactText(c.Emails), contactText(c.Phones), c.Website, c.TaxID,
			c.BillingAddress, c.ShippingAddress, c.Currency, terms, strings.Join(names, ", ")}
	}
	from, to := values(a), values(b)
	for i, field := range Fields {
		if from[i] != to[i] {
			out[field] = change{From: from[i], To: to[i]}
		}
	}
	return out
}

func contactText(cs []models.Contact) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Value + " (" + c.Type + ")"
	}
	return strings.Join(parts, ", ")
}

// parseIDs parses ids, reporting false if any is not a UUID.
func parseIDs(ids []string) ([]uuid.UUID, bool) {
	out := make([]uuid.UUID, 0, len(ids))
	seen := map[uuid.UUID]bool{}
	for _, s := range ids {
		id := models.ParseID(s)
		if id == uuid.Nil {
			return nil, false
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, true
}
