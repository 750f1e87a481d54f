// Package server builds the Fiber app: middleware order, the error handler and the routes.
package server

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/gofiber/fiber/v2/utils"
	pgstorage "github.com/gofiber/storage/postgres/v3"

	"moat/app/api"
	"moat/app/auth"
	"moat/app/background"
	"moat/app/crosstenant"
	"moat/app/handlers"
	"moat/app/htmx"
	"moat/app/jobs"
	"moat/app/metrics"
	"moat/app/middleware"
	"moat/app/pdf"
	"moat/app/store"
	"moat/models"
	"moat/static"
	"moat/views/fragments"
	"moat/views/pages"
)

// Options are what New needs besides the database.
type Options struct {
	Log             *slog.Logger
	Metrics         *metrics.Metrics
	Secure          bool // Secure cookies with the __Host- prefix; off only in development
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	Limits          middleware.Limits // sign-in and sign-up rate limits
	TrustedProxies  []string          // proxies whose X-Forwarded-For names the client; none by default
	APIRate         int               // API requests a token may make a minute; api.DefaultRate when 0
	CloseGrace      time.Duration     // how long a closed organization waits before it is deleted; 30 days when 0
	Jobs            *jobs.Queue       // background work (imports); when nil, jobs are queued for another process
	After           *background.Queue // work after the response: cross-tenant probes, refused sign-ins' trail rows
	BaseURL         string            // the site's public address, for links in emails
	Outbox          bool              // serve the outbox page (development only)
	Printer         handlers.Printer  // prints invoices to PDF; Debian's Chromium when nil
	Now             func() time.Time
}

// BodyLimit is the largest request body accepted; larger ones get 413.
const BodyLimit = 256 * 1024

// New returns the Moat web app over db.
func New(db *store.DB, o Options) *fiber.App {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.CloseGrace <= 0 {
		o.CloseGrace = 30 * 24 * time.Hour
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	if o.After == nil {
		o.After = background.New(1024, 5*time.Second)
	}
	probes := crosstenant.New(db.Pool, o.Metrics, o.Log, o.After)
	if o.Jobs == nil {
		q, err := jobs.New(db.Pool, o.Log, nil)
		if err != nil {
			panic(err) // only a configuration mistake fails here
		}
		o.Jobs = q
	}
	if o.Printer == nil {
		o.Printer = pdf.New("/usr/bin/chromium")
	}
	if o.BaseURL == "" {
		o.BaseURL = "http://127.0.0.1:3000"
	}
	if o.Limits.Window == 0 {
		o.Limits = middleware.Limits{PerIP: 100, PerEmail: 10, Window: 15 * time.Minute}
	}
	app := fiber.New(fiber.Config{
		AppName:               "moat",
		BodyLimit:             BodyLimit,
		ReadBufferSize:        16 * 1024, // request line and headers: room for long search URLs
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler(o.Log, probes),
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           60 * time.Second,
	})

	// The client's address (for rate limits and the trail) comes from X-Forwarded-For only
	// behind a trusted proxy.
	ips := middleware.NewClientIPs(o.TrustedProxies)
	cookie := "moat_session"
	if o.Secure {
		cookie = "__Host-moat_session"
	}
	sessions := &middleware.Sessions{
		Store: session.New(session.Config{
			// A request reads its session from PostgreSQL once, and saves it unchanged at most
			// once a minute; Load checks every session against the database regardless.
			Storage: store.NewSessionCache(store.HashedKeys(store.Patient(pgstorage.New(pgstorage.Config{DB: db.Pool, Table: "public.sessions", GCInterval: time.Minute}))),
				2*time.Second, time.Minute, o.Now),
			Expiration:     o.SessionIdle,
			KeyLookup:      "cookie:" + cookie,
			CookieSecure:   o.Secure,
			CookieHTTPOnly: true,
			CookieSameSite: "Lax",
			CookiePath:     "/",
		}),
		List:     store.NewSessions(db),
		Idle:     o.SessionIdle,
		Absolute: o.SessionAbsolute,
		Now:      o.Now,
		Log:      o.Log,
		IPs:      ips,
	}

	app.Use(middleware.RequestIDs())
	app.Use(middleware.AccessLog(o.Log, o.Metrics))
	app.Use(recover.New())
	app.Use(middleware.SecurityHeaders())
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static.FS), MaxAge: 3600}))
	app.Use(func(c *fiber.Ctx) error {
		if middleware.SkipBrowser(c) {
			return c.Next()
		}
		return sessions.Load(c)
	})
	// Tokens are constant rows, so the cache makes a GET's token check read and write nothing
	// most of the time.
	tokens := store.NewSessionCache(store.HashedKeys(store.Patient(pgstorage.New(pgstorage.Config{DB: db.Pool, Table: "public.csrf_tokens", GCInterval: time.Minute}))),
		2*time.Second, time.Minute, o.Now)
	app.Use(middleware.CSRF(tokens, o.Secure, o.SessionIdle, db.Gorm))
	app.Use(sessions.BindCSRF(o.Secure))

	limits := middleware.RateLimits(store.NewAttempts(db.Pool).Count, o.Limits, ips, o.Metrics, o.Now)
	routes(app, db, sessions, limits, o)
	api.Mount(app, api.Deps{DB: db, Tokens: store.NewAPITokens(db), Customers: store.NewCustomers(db.Gorm), Tags: store.NewTags(db.Gorm),
		Invoices: store.NewInvoices(db.Gorm), Products: store.NewProducts(db.Gorm), Imports: store.NewImports(db.Gorm).Only(models.ImportCustomers), Jobs: o.Jobs, Probes: probes, Metrics: o.Metrics, IPs: ips,
		Log: o.Log, Now: o.Now, Rate: o.APIRate})
	return app
}

// errorHandler renders every error as a page (or, for htmx, a fragment swapped into the content
// region). Not found, foreign and malformed ids all arrive here as models.ErrNotFound and leave
// as the same 404; every miss on an id is then handed, alike, to the cross-tenant probe, which
// looks after the response. Server errors are logged once, with request id, tenant and user.
func errorHandler(log *slog.Logger, probes *crosstenant.Recorder) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var miss *models.MissError
		if errors.As(err, &miss) {
			probe(c, probes, miss)
		}
		props := fragments.ErrorProps{Status: fiber.StatusInternalServerError, RequestID: middleware.RequestID(c),
			Title: "Something went wrong", Message: "The error has been logged. Please try again in a moment."}
		var fe *fiber.Error
		switch {
		case errors.Is(err, models.ErrNotFound):
			props.Status = fiber.StatusNotFound
		case errors.As(err, &fe):
			props.Status = fe.Code
		}
		switch props.Status {
		case fiber.StatusNotFound:
			props.Title, props.Message = "Page not found", "There is nothing here, or it is not yours to see."
		case fiber.StatusForbidden:
			props.Title, props.Message = "Request refused", "The form was out of date or incomplete. Go back, reload the page and try again."
		case fiber.StatusTooManyRequests:
			props.Title, props.Message = "Too many attempts", fe.Message
		case fiber.StatusRequestEntityTooLarge:
			props.Title, props.Message = "Too much data", "The request was larger than Moat accepts."
		case fiber.StatusInternalServerError:
		default:
			if props.Status < 500 {
				props.Title, props.Message = "Request not understood", fe.Message
			}
		}
		if props.Status >= 500 {
			attrs := []any{"request_id", props.RequestID, "method", c.Method(), "route", c.Route().Path, "err", err}
			if p, ok := auth.FromContext(c.UserContext()); ok {
				attrs = append(attrs, "tenant_id", p.Tenant.String(), "user_id", p.UserID.String())
			}
			log.ErrorContext(c.UserContext(), "server error", attrs...)
		}
		if htmx.IsRequest(c) {
			c.Set(htmx.HeaderRetarget, htmx.ContentTarget)
			c.Set(htmx.HeaderReswap, "innerHTML")
		}
		frag := fragments.Error(props)
		return htmx.Render(c, props.Status, pages.Error(handlers.Meta(c, props.Title), frag), frag)
	}
}

// probe hands a miss to the cross-tenant probe, with copies of what it needs from the request.
func probe(c *fiber.Ctx, probes *crosstenant.Recorder, m *models.MissError) {
	p, ok := auth.FromContext(c.UserContext())
	if !ok {
		return
	}
	probes.Record(crosstenant.Miss{Entity: m.Entity, ID: m.ID, Tenant: p.Tenant.UUID(), User: p.UserID,
		Route: utils.CopyString(c.Route().Path), Method: utils.CopyString(c.Method()), RequestID: middleware.RequestID(c)})
}
