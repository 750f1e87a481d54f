package middleware

import (
	"slices"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/htmx"
	"moat/models"
)

// RequireSignIn sends signed-out visitors to the sign-in page, which brings them back here
// afterwards.
func RequireSignIn(c *fiber.Ctx) error {
	if _, ok := auth.FromContext(c.UserContext()); !ok {
		return htmx.FullRedirect(c, LoginURL(c))
	}
	return c.Next()
}

// RequireRole lets only the given roles through. Anyone else gets the same 404 as a page that
// does not exist, and a denied row in their tenant's trail. It runs after RequireSignIn.
func RequireRole(db *gorm.DB, roles ...models.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, ok := auth.FromContext(c.UserContext())
		if !ok {
			return htmx.FullRedirect(c, LoginURL(c))
		}
		if slices.Contains(roles, p.Role) {
			return c.Next()
		}
		if err := audit.RecordAlone(c.UserContext(), db, audit.Event{
			Action: audit.PageView, Entity: audit.EntityPage, EntityID: c.Route().Path, Outcome: models.OutcomeDenied,
		}); err != nil {
			return err
		}
		return models.ErrNotFound
	}
}
