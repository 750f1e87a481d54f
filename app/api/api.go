// Package api is Moat's JSON API under /api/v1: the same stores, audit trail and walls as the
// pages, reached with per-tenant tokens instead of a browser's session.
//
// A request's token resolves to the same auth.Principal a session does (see authenticate), so
// every query runs through the tenant scope and row level security unchanged. The operations
// are declared with huma, which validates input against the schemas it generates and serves the
// OpenAPI 3.1 document at /api/v1/openapi.json; errors are RFC 9457 problem details.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"

	"moat/app/crosstenant"
	"moat/app/jobs"
	"moat/app/metrics"
	"moat/app/middleware"
	"moat/app/store"
)

// Prefix is where the API lives. A breaking change gets a new prefix and Version's major.
const Prefix = "/api/v1"

// Version is the API's version in its OpenAPI document.
const Version = "1.0.0"

// DefaultRate is how many requests a token may make a minute unless configured otherwise.
const DefaultRate = 600

// Deps are what the API serves from.
type Deps struct {
	DB        *store.DB
	Tokens    *store.APITokens
	Customers *store.Customers
	Tags      *store.Tags
	Invoices  *store.Invoices
	Products  *store.Products
	Imports   *store.Imports
	Jobs      *jobs.Queue // where imports queue their work
	Probes    *crosstenant.Recorder
	Metrics   *metrics.Metrics
	IPs       middleware.ClientIPs
	Log       *slog.Logger
	Now       func() time.Time
	Rate      int // requests a token may make a minute; DefaultRate when 0
}

type api struct {
	Deps
	h      huma.API
	leases leases
}

// Mount serves the API on app under Prefix and returns it.
func Mount(app *fiber.App, d Deps) huma.API {
	if d.Rate == 0 {
		d.Rate = DefaultRate
	}
	a := &api{Deps: d}
	group := app.Group(Prefix, a.authenticate)
	h := humafiber.NewWithGroup(app, group, config())
	a.h = h
	h.UseMiddleware(a.gate, a.idempotent)
	a.customers(h)
	a.invoices(h)
	a.products(h)
	a.imports(h)
	// Anything else under the prefix is a JSON 404, not the pages' HTML one.
	group.Use(func(c *fiber.Ctx) error {
		return write(c, huma.Error404NotFound("There is no such endpoint."))
	})
	return h
}

// Spec is the OpenAPI document Mount serves, built without a database.
func Spec() *huma.OpenAPI {
	return Mount(fiber.New(), Deps{}).OpenAPI()
}

// Public paths under the prefix: the document that describes the API, and its docs page.
const (
	specPath = Prefix + "/openapi.json"
	docsPath = Prefix + "/docs"
)

func config() huma.Config {
	cfg := huma.DefaultConfig("Moat API", Version)
	cfg.Info.Description = "Customers, invoices and stock of one organization. Every request carries an API token " +
		"(`Authorization: Bearer moat_…`), made by an owner or admin on the API tokens page; the token decides the " +
		"organization, and nothing in a request can name another. Another organization's records answer exactly " +
		"like records that do not exist. Money and quantities are decimal strings. Lists page by cursor: pass a " +
		"page's `next_cursor` as `starting_after`. Every POST accepts an `Idempotency-Key`."
	cfg.Servers = []*huma.Server{{URL: Prefix}}
	cfg.OpenAPIPath = "/openapi"
	cfg.DocsPath = ""    // the docs page is served from static/, not a CDN
	cfg.SchemasPath = "" // the document holds every schema
	cfg.CreateHooks = nil
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"token": {Type: "http", Scheme: "bearer", Description: "An API token: moat_ followed by 36 characters."},
	}
	cfg.Security = []map[string][]string{{"token": {}}}
	return cfg
}

// operation declares an operation on resource that needs access (read or write) to it, and,
// for corrections, a manager's role.
func operation(id, method, path, resource string, access string, summary string) huma.Operation {
	op := huma.Operation{
		OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{resource},
		Metadata: map[string]any{metaResource: resource, metaAccess: access},
		// The scope a token needs, for integrators and their tools.
		Extensions:  map[string]any{"x-moat-scope": resource + ":" + access},
		Description: "Needs a token with " + access + " access to " + resource + ".",
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}
	if method == http.MethodPost {
		op.DefaultStatus = http.StatusCreated
		op.BodyReadTimeout = -1 // Fiber has read the body already
	}
	return op
}

// managersOnly marks op as a correction only owners and admins may make.
func managersOnly(op huma.Operation) huma.Operation {
	op.Metadata[metaManagers] = true
	op.Description += " Only for tokens of owners and admins."
	return op
}

const (
	metaResource = "moat-resource"
	metaAccess   = "moat-access"
	metaManagers = "moat-managers"
)
