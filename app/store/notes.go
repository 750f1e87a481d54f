package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/tenant"
	"moat/models"
)

// Note is a note with its author's name.
type Note struct {
	models.CustomerNote `gorm:"embedded"`
	Author              string
}

// Notes returns the notes of the customer with id, newest first, at most limit. Misses answer
// like Get's, unaudited: the page that shows notes has audited the view.
func (s *Customers) Notes(ctx context.Context, id string, limit int) ([]Note, error) {
	var notes []Note
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		return tenant.Last(tx).Model(&models.CustomerNote{}).
			Select("*", "(SELECT u.name FROM users u WHERE u.tenant_id = customer_notes.tenant_id AND u.id = customer_notes.created_by) AS author").
			Where("customer_id = ?", parseID(id)).Order("created_at DESC, id DESC").Limit(limit).Find(&notes).Error
	})
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	return notes, nil
}

// AddNote adds a note to the customer with id. An empty or over-long body is a
// *models.ValidationError; a customer the caller cannot see is ErrNotFound, whatever the body.
func (s *Customers) AddNote(ctx context.Context, id string, in models.NoteInput) error {
	var invalid *models.ValidationError
	errors.As(in.Validate(), &invalid)
	var miss error
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		c, m, err := take(tx, id, true)
		if miss = m; err != nil {
			return err
		}
		ev := audit.Event{Action: audit.CustomerNote, Entity: audit.EntityCustomer, EntityID: entityID(id), Outcome: outcome(miss)}
		if miss == nil && invalid != nil {
			ev.Outcome, ev.Details = models.OutcomeRejected, invalid
		}
		if miss != nil || invalid != nil {
			return audit.Record(tx, ev)
		}
		n := models.CustomerNote{CustomerID: c.ID, Body: in.Body}
		if u := audit.RequestFrom(ctx).UserID; u != uuid.Nil {
			n.CreatedBy = &u
		}
		if err := tx.Create(&n).Error; err != nil {
			return fmt.Errorf("add note: %w", err)
		}
		ev.Details = map[string]string{"note": n.ID.String()}
		return audit.Record(tx, ev)
	})
	switch {
	case err != nil:
		return err
	case miss != nil:
		return miss
	case invalid != nil:
		return invalid
	}
	return nil
}
