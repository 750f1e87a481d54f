package server

import (
	"github.com/gofiber/fiber/v2"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/handlers"
	"moat/app/middleware"
	"moat/app/store"
	"moat/models"
)

// routes is Moat's whole URL surface.
func routes(app *fiber.App, db *store.DB, sessions *middleware.Sessions, o Options) {
	customers := &handlers.Customers{Store: store.NewCustomers(db.Gorm)}
	accounts := &handlers.Auth{Service: auth.NewService(db.Gorm, o.Log), Sessions: sessions}
	trail := &handlers.Audit{Reader: audit.NewReader(db.Gorm)}
	user := middleware.RequireSignIn
	owner := middleware.RequireRole(db.Gorm, models.RoleOwner)

	app.Get("/healthz", handlers.Health(db))
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/customers", fiber.StatusSeeOther) })

	app.Get("/signup", accounts.ShowSignup)
	app.Post("/signup", accounts.Signup)
	app.Get("/login", accounts.ShowLogin)
	app.Post("/login", accounts.Login)
	app.Post("/logout", user, accounts.Logout)

	app.Get("/customers", user, customers.ListCustomers)
	app.Get("/customers/new", user, customers.NewCustomer)
	app.Post("/customers", user, customers.CreateCustomer)
	app.Get("/customers/:id", user, customers.ShowCustomer)
	app.Get("/customers/:id/edit", user, customers.EditCustomer)
	app.Post("/customers/:id", user, customers.UpdateCustomer)
	app.Put("/customers/:id", user, customers.UpdateCustomer)
	app.Post("/customers/:id/delete", user, customers.DeleteCustomer)
	app.Delete("/customers/:id", user, customers.DeleteCustomer)

	app.Get("/audit", user, owner, trail.ListAudit)
}
