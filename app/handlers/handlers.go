// Package handlers holds one file per resource: each handler parses the request, calls a store
// or service with the request's context, and renders. None reads a tenant from the request.
package handlers

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"moat/app/auth"
	"moat/app/htmx"
	"moat/app/middleware"
	"moat/models"
	"moat/views/components"
	"moat/views/layouts"
	"moat/views/pages"
)

// meta is the frame data every page needs.
func meta(c *fiber.Ctx, title, active string) layouts.Meta {
	m := layouts.Meta{Title: title, CSRF: middleware.CSRFToken(c), Active: active, RequestID: middleware.RequestID(c)}
	if p, ok := auth.FromContext(c.UserContext()); ok {
		m.UserName = p.Name
		m.CanAudit = p.Role.ManagesTeam()
		m.IsOwner = p.Role == models.RoleOwner
	}
	return m
}

// Meta is meta for callers outside this package (the error handler).
func Meta(c *fiber.Ctx, title string) layouts.Meta { return meta(c, title, "") }

// fieldErrors returns the per-field messages of a validation error, or nil and false.
func fieldErrors(err error) (map[string]string, bool) {
	var v *models.ValidationError
	if errors.As(err, &v) {
		return v.Fields, true
	}
	return nil, false
}

// pageNumber reads a page number from the query; anything odd is page 1.
func pageNumber(c *fiber.Ctx) int {
	n, err := strconv.Atoi(c.Query("page"))
	if err != nil || n < 1 || n > 100000 {
		return 1
	}
	return n
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// streamCSV answers with a CSV download named name-DATE.csv, written by write after the
// handler returns. write must use only its own copies, never c: Fiber reuses c by then. A
// stream that breaks off is logged with the request id.
func streamCSV(c *fiber.Ctx, name string, log *slog.Logger, write func(io.Writer) error) {
	requestID := middleware.RequestID(c)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+"-"+time.Now().UTC().Format("2006-01-02")+`.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		if err := write(w); err != nil {
			log.Error("export broke off", "export", name, "request_id", requestID, "err", err)
		}
		w.Flush() //nolint:errcheck // the client went away
	})
}

// confirm answers with a page asking to confirm a destructive action (browsers without
// JavaScript; with it, a dialog asks first and the request carries confirm=yes).
func confirm(c *fiber.Ctx, p components.ConfirmProps) error {
	p.CSRF = middleware.CSRFToken(c)
	frag := components.Confirm(p)
	return htmx.Render(c, fiber.StatusOK, pages.Page(meta(c, p.Title, ""), frag), frag)
}
