package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/tenant"
	"moat/models"
)

// IdempotencyHeader names a POST's retry key.
const IdempotencyHeader = "Idempotency-Key"

// keepResponses is how long a key's first response is replayed.
const keepResponses = 24 * time.Hour

// staleClaim is when a key's request, still marked running, is taken to have died with its
// server: no request runs this long (the server's write timeout is 30 seconds).
const staleClaim = 2 * time.Minute

// claim is what a key's row says about a new request with it.
type claim int

const (
	claimed  claim = iota // the first: run it
	replay                // answered before: send that answer again
	running               // the first is still running: 409
	mismatch              // the key came with another request before: 422
)

// stored is a kept response.
type stored struct {
	Request     string
	Status      *int
	ContentType string
	Location    string
	Body        []byte
	Running     bool // claimed, not answered, and not stale
}

// errUndone rolls back an operation whose answer was a server error, so that a retry runs it
// again.
var errUndone = errors.New("server error: undone")

// idempotent makes a POST with an Idempotency-Key safe to retry. The first request claims the
// key (committed at once, so a concurrent retry sees it running); the operation then runs in one
// tenant transaction with the storing of its answer, so a change is never made without its
// answer being kept, nor kept without the change. A server error rolls both back and frees the
// key. Keys are the token's own, and live a day.
func (a *api) idempotent(ctx huma.Context, next func(huma.Context)) {
	key := ctx.Header(IdempotencyHeader)
	if ctx.Method() != http.MethodPost || key == "" {
		next(ctx)
		return
	}
	if len(key) > 255 {
		huma.WriteErr(a.h, ctx, http.StatusUnprocessableEntity, "The request has invalid fields.",
			&huma.ErrorDetail{Location: "header." + IdempotencyHeader, Message: "Use at most 255 characters."})
		return
	}
	c := humafiber.Unwrap(ctx)
	p, _ := auth.FromContext(ctx.Context())
	sum := sha256.New()
	fmt.Fprintf(sum, "%s %s\n", c.Method(), c.Path())
	sum.Write(c.Body())
	request := hex.EncodeToString(sum.Sum(nil))

	got, prev, err := a.claim(ctx.Context(), p.Token.ID, key, request)
	switch {
	case err != nil:
		a.Log.ErrorContext(ctx.Context(), "server error", "request_id", audit.RequestFrom(ctx.Context()).RequestID, "err", err)
		huma.WriteErr(a.h, ctx, http.StatusInternalServerError, "The error has been logged. Please try again in a moment.")
		return
	case got == mismatch:
		huma.WriteErr(a.h, ctx, http.StatusUnprocessableEntity, "This Idempotency-Key was used with a different request.",
			&huma.ErrorDetail{Location: "header." + IdempotencyHeader, Message: "Use a new key for a new request."})
		return
	case got == running:
		huma.WriteErr(a.h, ctx, http.StatusConflict, "A request with this Idempotency-Key is still running. Retry when it has answered.")
		return
	case got == replay:
		c.Status(*prev.Status)
		c.Set(fiber.HeaderContentType, prev.ContentType)
		if prev.Location != "" {
			c.Set(fiber.HeaderLocation, prev.Location)
		}
		c.Set("Idempotent-Replayed", "true")
		_ = c.Send(prev.Body)
		return
	}

	err = a.DB.Within(ctx.Context(), func(tx context.Context) error {
		next(huma.WithContext(ctx, tx))
		status := c.Response().StatusCode()
		if status >= 500 {
			return errUndone
		}
		return tenant.Tx(tx, a.DB.Gorm, func(db *gorm.DB) error {
			return db.Exec(`UPDATE api_idempotency SET status = ?, content_type = ?, location = ?, body = ?
				WHERE tenant_id = current_tenant_id() AND token_id = ? AND key = ?`,
				status, string(c.Response().Header.ContentType()), string(c.Response().Header.Peek(fiber.HeaderLocation)),
				c.Response().Body(), p.Token.ID, key).Error
		})
	})
	if err == nil {
		return
	}
	if !errors.Is(err, errUndone) {
		// The answer was written but its transaction failed: it must not claim success.
		a.Log.ErrorContext(ctx.Context(), "server error", "request_id", audit.RequestFrom(ctx.Context()).RequestID, "err", err)
		c.Response().ResetBody()
		c.Response().Header.Del(fiber.HeaderLocation)
		huma.WriteErr(a.h, ctx, http.StatusInternalServerError, "The error has been logged. Please try again in a moment.")
	}
	if err := tenant.Tx(ctx.Context(), a.DB.Gorm, func(db *gorm.DB) error {
		return db.Exec("DELETE FROM api_idempotency WHERE tenant_id = current_tenant_id() AND token_id = ? AND key = ?", p.Token.ID, key).Error
	}); err != nil {
		a.Log.ErrorContext(ctx.Context(), "idempotency key release", "request_id", audit.RequestFrom(ctx.Context()).RequestID, "err", err)
	}
}

// claim takes key for a request whose method, path and body hash to request, or says why not.
// A replay is audited, in the same transaction.
func (a *api) claim(ctx context.Context, token any, key, request string) (got claim, prev stored, err error) {
	err = tenant.Tx(ctx, a.DB.Gorm, func(tx *gorm.DB) error {
		// The token's own expired keys go first, so its key space holds a day at most.
		if err := tx.Exec("DELETE FROM api_idempotency WHERE tenant_id = current_tenant_id() AND token_id = ? AND created_at < ?",
			token, a.Now().Add(-keepResponses)).Error; err != nil {
			return fmt.Errorf("idempotency expiry: %w", err)
		}
		res := tx.Exec(`INSERT INTO api_idempotency (tenant_id, token_id, key, request, created_at)
			VALUES (current_tenant_id(), ?, ?, ?, ?) ON CONFLICT DO NOTHING`, token, key, request, a.Now())
		if res.Error != nil {
			return fmt.Errorf("idempotency claim: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			got = claimed
			return nil
		}
		err := tx.Raw(`SELECT request, status, content_type, location, body, status IS NULL AND created_at > ? AS running
			FROM api_idempotency WHERE tenant_id = current_tenant_id() AND token_id = ? AND key = ? FOR UPDATE`,
			a.Now().Add(-staleClaim), token, key).Scan(&prev).Error
		if err != nil {
			return fmt.Errorf("idempotency lookup: %w", err)
		}
		switch {
		case prev.Request != request:
			got = mismatch
		case prev.Running:
			got = running
		case prev.Status == nil:
			// Its first request died with its server, having changed nothing: run it now.
			got = claimed
			return tx.Exec("UPDATE api_idempotency SET created_at = ? WHERE tenant_id = current_tenant_id() AND token_id = ? AND key = ?",
				a.Now(), token, key).Error
		default:
			got = replay
			return audit.Record(tx, audit.Event{Action: audit.APIIdempotent, EntityID: key, Outcome: models.OutcomeAllowed,
				Details: map[string]any{"status": *prev.Status}})
		}
		return nil
	})
	return got, prev, err
}
