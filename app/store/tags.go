package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/app/tenant"
	"moat/models"
)

// Tags is the tag store.
type Tags struct{ db *gorm.DB }

// NewTags returns the tag store over db.
func NewTags(db *gorm.DB) *Tags { return &Tags{db: db} }

// TagUse is a tag and how many customers outside the trash carry it.
type TagUse struct {
	models.Tag `gorm:"embedded"`
	Customers  int64
}

// List returns the tenant's tags by name, with how many customers carry each.
func (s *Tags) List(ctx context.Context) ([]TagUse, error) {
	var tags []TagUse
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		err := tx.Model(&models.Tag{}).
			Select("*", `(SELECT count(*) FROM customer_tags ct JOIN customers c ON c.tenant_id = ct.tenant_id AND c.id = ct.customer_id
				WHERE ct.tenant_id = current_tenant_id() AND ct.tag_id = tags.id AND c.deleted_at IS NULL) AS customers`).
			Order("lower(name)").Find(&tags).Error
		if err != nil {
			return fmt.Errorf("list tags: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: audit.TagList, Entity: audit.EntityTag, Outcome: models.OutcomeAllowed})
	})
	return tags, err
}

// Create adds a tag. Invalid input and a name the tenant already has (in any case) are a
// *models.ValidationError.
func (s *Tags) Create(ctx context.Context, in models.TagInput) (models.Tag, error) {
	fields := map[string]string{}
	var invalid *models.ValidationError
	if errors.As(in.Validate(), &invalid) {
		fields = invalid.Fields
	}
	t := models.Tag{Name: in.Name, Color: in.Color}
	ev := audit.Event{Action: audit.TagCreate, Entity: audit.EntityTag, Outcome: models.OutcomeRejected}
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if len(fields) == 0 {
			var n int64
			if err := tx.Model(&models.Tag{}).Where("lower(name) = lower(?)", t.Name).Count(&n).Error; err != nil {
				return fmt.Errorf("check tag: %w", err)
			}
			if n > 0 {
				fields["name"] = "There is already a tag with this name."
			}
		}
		if len(fields) > 0 {
			ev.Details = fields
			return audit.Record(tx, ev)
		}
		if err := tx.Create(&t).Error; err != nil {
			return fmt.Errorf("create tag: %w", err)
		}
		ev.EntityID, ev.Outcome, ev.Details = t.ID.String(), models.OutcomeAllowed, map[string]string{"name": t.Name, "color": t.Color}
		return audit.Record(tx, ev)
	})
	if violates(err, "tags_tenant_name") {
		// Another request added the name between the check and the insert.
		fields["name"] = "There is already a tag with this name."
		ev.Details = fields
		err = audit.RecordAlone(ctx, s.db, ev)
	}
	if err == nil && len(fields) > 0 {
		err = &models.ValidationError{Fields: fields}
	}
	return t, err
}

// Get returns the tag with id; misses answer ErrNotFound like every unknown id, and each look
// is audited as a view.
func (s *Tags) Get(ctx context.Context, id string) (t models.Tag, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.TagView, EntityID: entityID(id)}, func(tx *gorm.DB, _ *audit.Event) error {
		t, err = takeTag(tx, id)
		return err
	})
	return t, err
}

// Delete removes the tag with id from the tenant and from every customer.
func (s *Tags) Delete(ctx context.Context, id string) error {
	return audited(ctx, s.db, audit.Event{Action: audit.TagDelete, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		t, err := takeTag(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(&t).Error; err != nil {
			return fmt.Errorf("delete tag: %w", err)
		}
		ev.Details = map[string]string{"name": t.Name}
		return nil
	})
}

// takeTag loads the tag with id (see byID), FOR SHARE: a bulk tagging must not meet a tag
// deleted between its read and its insert.
func takeTag(tx *gorm.DB, id string) (models.Tag, error) {
	return byID[models.Tag](tx, id, func(q *gorm.DB) *gorm.DB { return q.Clauses(clause.Locking{Strength: "SHARE"}) })
}
