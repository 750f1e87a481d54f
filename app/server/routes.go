package server

import (
	"github.com/gofiber/fiber/v2"

	"moat/app/api"
	"moat/app/audit"
	"moat/app/auth"
	"moat/app/handlers"
	"moat/app/middleware"
	"moat/app/store"
	"moat/models"
)

// routes is Moat's whole URL surface.
func routes(app *fiber.App, db *store.DB, sessions *middleware.Sessions, limits []fiber.Handler, o Options) {
	service := auth.NewService(db.Gorm, o.Log, o.BaseURL, o.After)
	reader := audit.NewReader(db.Gorm)
	tags := store.NewTags(db.Gorm)
	invoiceStore := store.NewInvoices(db.Gorm)
	customers := &handlers.Customers{DB: db, Store: store.NewCustomers(db.Gorm), Invoices: invoiceStore, Tags: tags, History: reader, Log: o.Log}
	labels := &handlers.Tags{Store: tags}
	productStore := store.NewProducts(db.Gorm)
	invoices := &handlers.Invoices{DB: db, Store: invoiceStore, Customers: customers.Store, Products: productStore, Printer: o.Printer, Log: o.Log, Now: o.Now}
	products := &handlers.Products{Store: productStore, Tags: tags, Now: o.Now}
	accounts := &handlers.Auth{Service: service, Sessions: sessions, Failures: o.Metrics.SignInFailures}
	account := &handlers.Account{Service: service, List: sessions.List, Sessions: sessions}
	team := &handlers.Team{Users: store.NewUsers(db.Gorm, service.Links()), Sessions: sessions}
	trail := &handlers.Audit{Reader: reader, Log: o.Log}
	apiTokens := &handlers.APITokens{Store: store.NewAPITokens(db), Now: o.Now}
	importer := &handlers.Imports{Store: store.NewImports(db.Gorm), Jobs: o.Jobs}
	organization := &handlers.Organization{Store: store.NewOrganization(db.Gorm), Exports: store.NewExports(db.Gorm), Jobs: o.Jobs,
		Grace: o.CloseGrace, Log: o.Log}
	user := middleware.RequireSignIn
	managers := middleware.RequireRole(db.Gorm, models.RoleOwner, models.RoleAdmin)
	owners := middleware.RequireRole(db.Gorm, models.RoleOwner)
	limited := func(h fiber.Handler) []fiber.Handler { return append(append([]fiber.Handler{}, limits...), h) }

	app.Get("/healthz", handlers.Live)
	app.Get(api.Prefix+"/docs", handlers.APIDocs(api.Prefix+"/openapi.json"))
	app.Get("/readyz", (&handlers.Ready{DB: db, Log: o.Log}).Check)
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/customers", fiber.StatusSeeOther) })

	// Everything about an address answers the same whatever Moat knows of it; only a link
	// sent to the address says more.
	app.Get("/signup", accounts.ShowSignup)
	app.Post("/signup", limited(accounts.Signup)...)
	app.Get("/signup/sent", accounts.ShowSignupSent)
	app.Get("/signup/confirm/:token", accounts.ShowConfirmSignup)
	app.Post("/signup/confirm/:token", limited(accounts.ConfirmSignup)...)
	app.Get("/login", accounts.ShowLogin)
	app.Post("/login", limited(accounts.Login)...)
	app.Get("/login/organization", accounts.ShowChooseOrganization)
	app.Post("/login/organization", accounts.ChooseOrganization)
	app.Post("/logout", user, accounts.Logout)
	app.Get("/password/forgot", accounts.ShowForgot)
	app.Post("/password/forgot", limited(accounts.Forgot)...)
	app.Get("/password/sent", accounts.ShowPasswordSent)
	app.Get("/password/reset/:token", accounts.ShowReset)
	app.Post("/password/reset/:token", limited(accounts.Reset)...)
	app.Get("/invitations/:token", accounts.ShowInvitation)
	app.Post("/invitations/:token", limited(accounts.AcceptInvitation)...)

	app.Get("/account", user, account.ShowAccount)
	app.Post("/account/sessions/end-others", user, account.EndOtherSessions)
	app.Post("/account/sessions/:id/end", user, account.EndSession)
	app.Post("/account/password", append([]fiber.Handler{user}, limited(account.ChangePassword)...)...)

	// Fixed paths before /customers/:id, which would otherwise take them as ids.
	app.Get("/customers", user, customers.ListCustomers)
	app.Get("/customers/new", user, customers.NewCustomer)
	app.Post("/customers", user, customers.CreateCustomer)
	app.Post("/customers/duplicates", user, customers.CheckDuplicates)
	app.Post("/customers/columns", user, customers.SetColumns)
	app.Post("/customers/bulk", user, customers.Bulk)
	app.Post("/customers/export", user, customers.Export)
	app.Get("/customers/trash", user, customers.ShowTrash)
	app.Post("/customers/trash/restore", user, customers.RestoreSelected)
	app.Post("/customers/trash/purge", user, owners, customers.PurgeSelected)
	app.Post("/customers/trash/empty", user, owners, customers.EmptyTrash)
	app.Get("/customers/:id", user, customers.ShowCustomer)
	app.Get("/customers/:id/edit", user, customers.EditCustomer)
	app.Post("/customers/:id", user, customers.UpdateCustomer)
	app.Put("/customers/:id", user, customers.UpdateCustomer)
	app.Post("/customers/:id/delete", user, customers.DeleteCustomer)
	app.Delete("/customers/:id", user, customers.DeleteCustomer)
	app.Post("/customers/:id/restore", user, customers.RestoreCustomer)
	app.Post("/customers/:id/notes", user, customers.AddNote)
	app.Post("/customers/:id/erase", user, managers, customers.EraseCustomer)

	// Anyone who may add and change customers may import them, and undo an import.
	app.Get("/imports", user, importer.ListImports)
	app.Post("/imports", user, importer.Upload)
	app.Post("/imports/parts", user, importer.BeginUpload)
	app.Get("/imports/:id", user, importer.ShowImport)
	app.Get("/imports/:id/progress", user, importer.Progress)
	app.Get("/imports/:id/errors.csv", user, importer.ErrorFile)
	app.Post("/imports/:id/parts/:seq", user, importer.UploadPart)
	app.Post("/imports/:id/finish", user, importer.FinishUpload)
	app.Post("/imports/:id/check", user, importer.Check)
	app.Post("/imports/:id/run", user, importer.Run)
	app.Post("/imports/:id/undo", user, importer.Undo)

	// Anyone in the organization drafts, issues and records payments; corrections (voids,
	// write-offs, credit notes) are for owners and admins.
	app.Get("/invoices", user, invoices.ListInvoices)
	app.Get("/invoices/new", user, invoices.NewInvoice)
	app.Get("/invoices/export", user, invoices.ExportInvoices)
	app.Post("/invoices", user, invoices.CreateInvoice)
	app.Post("/invoices/preview", user, invoices.Preview)
	app.Get("/invoices/:id", user, invoices.ShowInvoice)
	app.Get("/invoices/:id/edit", user, invoices.EditInvoice)
	app.Get("/invoices/:id/print", user, invoices.PrintInvoice)
	app.Get("/invoices/:id/pdf", user, invoices.InvoicePDF)
	app.Post("/invoices/:id", user, invoices.UpdateInvoice)
	app.Post("/invoices/:id/delete", user, invoices.DeleteInvoice)
	app.Post("/invoices/:id/finalize", user, invoices.FinalizeInvoice)
	app.Post("/invoices/:id/payments", user, invoices.RecordPayment)
	app.Post("/invoices/:id/void", user, managers, invoices.VoidInvoice)
	app.Post("/invoices/:id/uncollectible", user, managers, invoices.MarkUncollectible)
	app.Post("/invoices/:id/credit", user, managers, invoices.CreditInvoice)

	// Anyone moves stock by hand; reversing a movement is a correction, for owners and admins,
	// and whether stock may go negative is the owners' call.
	app.Get("/products", user, products.ListProducts)
	app.Get("/products/new", user, products.NewProduct)
	app.Get("/products/trash", user, products.ShowTrash)
	app.Post("/products", user, products.CreateProduct)
	app.Get("/products/:id", user, products.ShowProduct)
	app.Get("/products/:id/edit", user, products.EditProduct)
	app.Post("/products/:id", user, products.UpdateProduct)
	app.Post("/products/:id/delete", user, products.TrashProduct)
	app.Post("/products/:id/restore", user, products.RestoreProduct)
	app.Post("/products/:id/stock", user, products.MoveStock)
	app.Post("/stock/movements/:id/reverse", user, managers, products.ReverseMovement)
	app.Get("/warehouses", user, products.ShowWarehouses)
	app.Post("/warehouses", user, managers, products.CreateWarehouse)
	app.Post("/warehouses/:id", user, managers, products.UpdateWarehouse)
	app.Post("/settings/stock", user, owners, products.SetNegativeStock)

	app.Get("/tags", user, labels.ShowTags)
	app.Post("/tags", user, labels.CreateTag)
	app.Post("/tags/:id/delete", user, managers, labels.DeleteTag)

	app.Get("/team", user, managers, team.ShowTeam)
	app.Post("/team", append([]fiber.Handler{user, managers}, limited(team.Invite)...)...)
	app.Post("/team/invitations/:id/revoke", user, managers, team.RevokeInvitation)
	app.Post("/team/:id/role", user, managers, team.ChangeRole)
	app.Post("/team/:id/deactivate", user, managers, team.Deactivate)
	app.Post("/team/:id/reactivate", user, managers, team.Reactivate)
	app.Post("/team/:id/remove", user, managers, team.Remove)

	// API tokens act as the person who makes them; only owners and admins make and revoke them.
	app.Get("/settings/api-tokens", user, managers, apiTokens.ShowTokens)
	app.Post("/settings/api-tokens", user, managers, apiTokens.CreateToken)
	app.Post("/settings/api-tokens/:id/revoke", user, managers, apiTokens.RevokeToken)

	// The whole organization's data, and its end, are the owners' alone.
	app.Get("/settings/organization", user, owners, organization.ShowOrganization)
	app.Get("/settings/exports", user, owners, organization.ListExports)
	app.Post("/settings/exports", user, owners, organization.RequestExport)
	app.Get("/settings/exports/:id", user, owners, organization.DownloadExport)
	app.Post("/settings/close", user, owners, organization.Close)
	app.Post("/settings/reopen", user, owners, organization.Reopen)

	app.Get("/audit", user, managers, trail.ListAudit)
	app.Get("/audit/export", user, managers, trail.ExportAudit)

	if o.Outbox {
		app.Get("/dev/outbox", (&handlers.Outbox{Pool: db.Pool}).ShowOutbox)
	}
}
