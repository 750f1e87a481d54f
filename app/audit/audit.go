// Package audit writes and reads the tenant's append-only audit trail.
//
// Record writes inside the caller's tenant transaction, so an audited change and its row commit
// or roll back together. The app role may only INSERT and SELECT audit rows.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/models"
)

// Request is who and where an operation came from. Its strings must be copies, not Fiber's
// reused request buffers: they outlive the handler when written after it returns.
type Request struct {
	UserID    uuid.UUID
	RequestID string
	IP        string
	UserAgent string
}

type ctxKey struct{}

// NewContext returns ctx carrying r.
func NewContext(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// RequestFrom returns the request in ctx, or the zero Request.
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(ctxKey{}).(Request)
	return r
}

// Event is one audited operation.
type Event struct {
	Action   string // verb-noun in dotted form: customer.view, auth.sign_in
	Entity   string // customer, user, tenant, audit
	EntityID string // as asked for; may be a malformed id, stored cleaned and truncated
	Outcome  models.Outcome
	Details  any // marshalled to JSON: changed fields, search terms
}

// Record writes e to the trail of the tenant tx works for, inside tx.
func Record(tx *gorm.DB, e Event) error {
	r := RequestFrom(tx.Statement.Context)
	row := models.AuditEvent{
		Action:    e.Action,
		Entity:    e.Entity,
		EntityID:  Clean(e.EntityID, 100),
		Outcome:   e.Outcome,
		RequestID: Clean(r.RequestID, 100),
		IP:        Clean(r.IP, 64),
		UserAgent: Clean(r.UserAgent, 400),
	}
	if r.UserID != uuid.Nil {
		id := r.UserID
		row.UserID = &id
	}
	if e.Details != nil {
		raw, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("audit details: %w", err)
		}
		row.Details = raw
	}
	if err := tx.Create(&row).Error; err != nil {
		return fmt.Errorf("write audit event: %w", err)
	}
	return nil
}

// Clean makes s safe to store as text: valid UTF-8, no NUL bytes, at most max runes.
func Clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}
