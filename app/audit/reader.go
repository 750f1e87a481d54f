package audit

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/tenant"
	"moat/models"
)

// PageSize is how many events a page of the trail shows.
const PageSize = 50

// Filter narrows the trail. Empty fields do not filter.
type Filter struct {
	Action  string
	Outcome models.Outcome
	Page    int // from 1
}

// Page is one page of the trail, newest first.
type Page struct {
	Events  []Entry
	Page    int
	HasNext bool
}

// Entry is an event with the name of the person who caused it.
type Entry struct {
	models.AuditEvent
	UserName string
}

// Reader reads a tenant's trail.
type Reader struct{ db *gorm.DB }

// NewReader returns a Reader over db.
func NewReader(db *gorm.DB) *Reader { return &Reader{db: db} }

// List returns a page of the trail of the tenant in ctx, and records that it was read.
func (r *Reader) List(ctx context.Context, f Filter) (Page, error) {
	if f.Page < 1 {
		f.Page = 1
	}
	p := Page{Page: f.Page}
	err := tenant.Tx(ctx, r.db, func(tx *gorm.DB) error {
		q := tx.Model(&models.AuditEvent{})
		if f.Action != "" {
			q = q.Where("action = ?", f.Action)
		}
		if f.Outcome != "" {
			q = q.Where("outcome = ?", f.Outcome)
		}
		var rows []models.AuditEvent
		if err := q.Order("occurred_at DESC, id DESC").Limit(PageSize + 1).Offset((f.Page - 1) * PageSize).Find(&rows).Error; err != nil {
			return fmt.Errorf("list audit events: %w", err)
		}
		if len(rows) > PageSize {
			p.HasNext, rows = true, rows[:PageSize]
		}
		names, err := userNames(tx, rows)
		if err != nil {
			return err
		}
		for _, e := range rows {
			entry := Entry{AuditEvent: e}
			if e.UserID != nil {
				entry.UserName = names[*e.UserID]
			}
			p.Events = append(p.Events, entry)
		}
		return Record(tx, Event{Action: "audit.list", Entity: "audit", Outcome: models.OutcomeAllowed,
			Details: map[string]any{"action": f.Action, "outcome": f.Outcome, "page": f.Page}})
	})
	return p, err
}

func userNames(tx *gorm.DB, rows []models.AuditEvent) (map[uuid.UUID]string, error) {
	seen := map[uuid.UUID]bool{}
	var list []uuid.UUID
	for _, e := range rows {
		if e.UserID != nil && !seen[*e.UserID] {
			seen[*e.UserID] = true
			list = append(list, *e.UserID)
		}
	}
	names := map[uuid.UUID]string{}
	if len(list) == 0 {
		return names, nil
	}
	var users []models.User
	if err := tx.Select("id", "name").Where("id IN ?", list).Find(&users).Error; err != nil {
		return nil, fmt.Errorf("audit user names: %w", err)
	}
	for _, u := range users {
		names[u.ID] = u.Name
	}
	return names, nil
}
