package store

import (
	"context"
	"fmt"

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
func (s *Customers) Notes(ctx context.Context, id string, limit int) (notes []Note, err error) {
	err = tenant.Read(ctx, s.db, func(_ context.Context, r *tenant.Reads) error {
		s.QueueNotes(r, id, limit, &notes)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	return notes, nil
}

// QueueNotes queues Notes' read in r, into out.
func (s *Customers) QueueNotes(r *tenant.Reads, id string, limit int, out *[]Note) {
	r.Find(r.Tx().Model(&models.CustomerNote{}).
		Select("*", "(SELECT u.name FROM users u WHERE u.tenant_id = current_tenant_id() AND u.id = customer_notes.created_by) AS author").
		Where("customer_id = ?", models.ParseID(id)).Order("created_at DESC, id DESC").Limit(limit), out)
}

// AddNote adds a note to the customer with id. An empty or over-long body is a
// *models.ValidationError; a customer the caller cannot see is ErrNotFound, whatever the body.
func (s *Customers) AddNote(ctx context.Context, id string, in models.NoteInput) error {
	invalid := in.Validate()
	return audited(ctx, s.db, audit.Event{Action: audit.CustomerNote, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		c, err := take(tx, id, true)
		if err != nil {
			return err
		}
		if invalid != nil {
			return invalid
		}
		n := models.CustomerNote{CustomerID: c.ID, Body: in.Body, CreatedBy: requestUser(tx)}
		if err := tx.Create(&n).Error; err != nil {
			return fmt.Errorf("add note: %w", err)
		}
		ev.Details = map[string]string{"note": n.ID.String()}
		return nil
	})
}
