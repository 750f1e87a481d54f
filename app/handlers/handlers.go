// Package handlers holds one file per resource: each handler parses the request, calls a store
// or service with the request's context, and renders. None reads a tenant from the request.
package handlers

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"moat/app/auth"
	"moat/app/middleware"
	"moat/models"
	"moat/views/layouts"
)

// meta is the frame data every page needs.
func meta(c *fiber.Ctx, title, active string) layouts.Meta {
	m := layouts.Meta{Title: title, CSRF: middleware.CSRFToken(c), Active: active, RequestID: middleware.RequestID(c)}
	if p, ok := auth.FromContext(c.UserContext()); ok {
		m.UserName = p.Name
		m.CanAudit = p.Role.ManagesTeam()
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

// Pinger is what the health check needs of the database.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health answers 200 ok when the database answers, 503 otherwise.
func Health(db Pinger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := db.Ping(c.UserContext()); err != nil {
			return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable")
		}
		return c.SendString("ok")
	}
}
