// Package handlers holds one file per resource: each handler parses the request, calls a store
// or service with the request's context, and renders. None reads a tenant from the request.
package handlers

import (
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

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
