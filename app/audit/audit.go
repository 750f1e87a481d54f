// Package audit writes and reads the tenant's append-only audit trail.
//
// Record writes inside the caller's tenant transaction, so an audited change and its row commit
// or roll back together. The app role may only INSERT and SELECT audit rows.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/tenant"
	"moat/models"
)

// Request is who and where an operation came from. Its strings must be copies, not Fiber's
// reused request buffers: they outlive the handler when written after it returns.
type Request struct {
	UserID    uuid.UUID
	RequestID string
	IP        string
	UserAgent string
	Token     string // the API token the request came with, as the trail names it; empty for pages
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
	Action   Action // one of the registry's
	Entity   Entity // what the id names; the action's own entity when empty
	EntityID string // as asked for; may be a malformed id, stored cleaned and truncated
	Outcome  models.Outcome
	Details  any // marshalled to JSON: changed fields, search terms
}

// Record writes e to the trail of the tenant tx works for, as part of tx: the row is sent with
// the transaction's COMMIT (tenant.Defer), so an operation and its row commit together or not at
// all, and the row costs no round trip of its own. Nothing reads it back in the same
// transaction. The tenant is the transaction's own (current_tenant_id()), which row level
// security checks again.
func Record(tx *gorm.DB, e Event) error {
	return record(tx, e, `VALUES (current_tenant_id(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, Clean(e.EntityID, 100))
}

// RecordEach writes e once for each of ids (as its EntityID), as part of tx like Record: one
// row per record a bulk operation changed, so each record's history shows it, sent as one
// statement with the COMMIT however many there are.
func RecordEach(tx *gorm.DB, e Event, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if !tenant.OnCitus(tx) {
		return record(tx, e, `SELECT current_tenant_id(), $1, $2, $3, id, $5, $6, $7, $8, $9, $10, $11 FROM unnest($4::text[]) AS id`, ids)
	}
	// Citus cannot send an INSERT … SELECT from unnest to the tenant's worker: it would copy
	// the rows there, which row level security refuses ("COPY FROM not supported with
	// row-level security"). Rows of VALUES it can, a statement per thousand.
	for chunk := range slices.Chunk(ids, 1000) {
		var rows strings.Builder
		rows.WriteString("VALUES ")
		for i := range chunk {
			if i > 0 {
				rows.WriteString(", ")
			}
			fmt.Fprintf(&rows, "(current_tenant_id(), $1, $2, $3, ($4::text[])[%d], $5, $6, $7, $8, $9, $10, $11)", i+1)
		}
		if err := record(tx, e, rows.String(), chunk); err != nil {
			return err
		}
	}
	return nil
}

// record defers the insert of e's rows, whose values rows gives, taking the entity id (or ids)
// as $4.
func record(tx *gorm.DB, e Event, rows string, entity any) error {
	kind, err := complete(&e)
	if err != nil {
		return err
	}
	r := RequestFrom(tx.Statement.Context)
	var user *uuid.UUID
	if r.UserID != uuid.Nil {
		id := r.UserID
		user = &id
	}
	var details []byte
	if e.Details != nil {
		raw, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("audit details: %w", err)
		}
		details = bounded(raw)
	}
	return tenant.Defer(tx, `INSERT INTO audit_events
		(tenant_id, user_id, action, entity, entity_id, outcome, request_id, ip, user_agent, details, kind, api_token) `+rows,
		user, string(e.Action), string(e.Entity), entity, string(e.Outcome),
		Clean(r.RequestID, 100), Clean(r.IP, 64), Clean(r.UserAgent, 400), details, string(kind), nullable(Clean(r.Token, 130)))
}

// nullable is s, or NULL when empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// maxDetails bounds what one audit row's details may hold. Details are built from validated
// input, which stays far below it; the bound only keeps a slip from filling the trail.
const maxDetails = 64 * 1024

// bounded is details as PostgreSQL's jsonb accepts them (no NUL escape) and at most maxDetails.
func bounded(details []byte) []byte {
	details = bytes.ReplaceAll(details, []byte(`\u0000`), []byte(`\ufffd`))
	if len(details) > maxDetails {
		return fmt.Appendf(nil, `{"truncated": true, "bytes": %d}`, len(details))
	}
	return details
}

// Clean makes s safe to store and show as text: valid UTF-8, no control characters, at most
// max runes.
func Clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}
