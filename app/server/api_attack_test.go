package server_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"moat/app/api"
)

// apiRoute is how the attack tests treat one route of the API.
type apiRoute struct {
	kind string                              // the kind of record its :id takes (a key of fixtures); empty when none
	body func(e *env, own ownRecords) string // a valid body, for the routes that take one
	raw  bool                                // the body is bytes (a file's part), not JSON fields
}

// ownRecords are the attacking tenant's own records, for bodies that name one.
type ownRecords struct{ customer string }

func literal(s string) func(*env, ownRecords) string {
	return func(*env, ownRecords) string { return s }
}

// apiRoutes classifies every route of the API. A new operation fails the suite until it is
// listed here.
var apiRoutes = map[string]apiRoute{
	"GET /api/v1/customers":               {},
	"POST /api/v1/customers":              {body: literal(`{"name":"Injected Person"}`)},
	"GET /api/v1/customers/:id":           {kind: "customer"},
	"PATCH /api/v1/customers/:id":         {kind: "customer", body: literal(`{"company":"Hijacked"}`)},
	"DELETE /api/v1/customers/:id":        {kind: "customer"},
	"POST /api/v1/customers/:id/restore":  {kind: "trashed customer"},
	"GET /api/v1/customers/:id/notes":     {kind: "customer"},
	"POST /api/v1/customers/:id/notes":    {kind: "customer", body: literal(`{"body":"Hijacked"}`)},
	"GET /api/v1/tags":                    {},
	"POST /api/v1/tags":                   {body: func(*env, ownRecords) string { return `{"name":"Tag ` + suffix() + `","color":"red"}` }},
	"GET /api/v1/invoices":                {},
	"POST /api/v1/invoices":               {body: invoiceBody},
	"GET /api/v1/invoices/:id":            {kind: "invoice"},
	"PUT /api/v1/invoices/:id":            {kind: "draft invoice", body: invoiceBody},
	"DELETE /api/v1/invoices/:id":         {kind: "draft invoice"},
	"POST /api/v1/invoices/:id/finalize":  {kind: "draft invoice"},
	"POST /api/v1/invoices/:id/payments":  {kind: "invoice", body: literal(`{"amount":"1"}`)},
	"POST /api/v1/invoices/:id/void":      {kind: "invoice"},
	"GET /api/v1/products":                {},
	"POST /api/v1/products":               {body: func(*env, ownRecords) string { return `{"sku":"S-` + suffix() + `","name":"Injected"}` }},
	"GET /api/v1/products/:id":            {kind: "product"},
	"PATCH /api/v1/products/:id":          {kind: "product", body: literal(`{"name":"Hijacked"}`)},
	"DELETE /api/v1/products/:id":         {kind: "product"},
	"POST /api/v1/products/:id/restore":   {kind: "trashed product"},
	"POST /api/v1/products/:id/movements": {kind: "product", body: literal(`{"kind":"receipt","quantity":"1","unit_cost":"1"}`)},
	"GET /api/v1/warehouses":              {},
	"GET /api/v1/imports":                 {},
	"POST /api/v1/imports":                {body: literal(`{"file_name":"people.csv"}`)},
	"GET /api/v1/imports/:id":             {kind: "import"},
	"POST /api/v1/imports/:id/parts/:seq": {kind: "receiving import", body: literal("name\nAda\n"), raw: true},
	"POST /api/v1/imports/:id/finish":     {kind: "uploading import"},
	"POST /api/v1/imports/:id/check":      {kind: "import", body: literal(`{"mapping":{"0":"name","1":"email"},"mode":"create","key":"email"}`)},
	"POST /api/v1/imports/:id/run":        {kind: "checked import"},
	"POST /api/v1/imports/:id/undo":       {kind: "imported import"},
}

// apiPublic are the API's routes that need no token: they describe the API and hold no data.
var apiPublic = []string{"GET /api/v1/openapi.json", "GET /api/v1/openapi.yaml", "GET /api/v1/openapi-3.0.json",
	"GET /api/v1/openapi-3.0.yaml", "GET /api/v1/docs"}

func invoiceBody(_ *env, own ownRecords) string {
	return `{"customer_id":"` + own.customer + `","lines":[{"description":"Work","quantity":"1","unit_price":"10"}]}`
}

// classifiedAPIRoute is a route of the API with what its operation declares.
type classifiedAPIRoute struct {
	apiRoute
	method, path     string
	resource, access string
	managers         bool
	operation        string
}

func (r classifiedAPIRoute) key() string { return r.method + " " + r.path }

// pathParam is a parameter of a Fiber path, which OpenAPI writes in braces.
var pathParam = regexp.MustCompile(`:(\w+)`)

// classifyAPI returns every route of the API in Fiber's route table with its operation in the
// OpenAPI document, and fails t for any route or operation that is not classified.
func classifyAPI(t *testing.T, e *env) []classifiedAPIRoute {
	t.Helper()
	var out []classifiedAPIRoute
	served := map[string]bool{}
	spec := api.Spec()
	for _, r := range e.app.GetRoutes(true) {
		key := r.Method + " " + r.Path
		if r.Method == "USE" || r.Method == "HEAD" || !strings.HasPrefix(r.Path, "/api/") || served[key] {
			continue
		}
		served[key] = true
		if slices.Contains(apiPublic, key) {
			continue
		}
		c, ok := apiRoutes[key]
		if !ok {
			t.Errorf("API route %s is not classified: add it to apiRoutes in api_attack_test.go", key)
			continue
		}
		specPath := pathParam.ReplaceAllString(strings.TrimPrefix(r.Path, api.Prefix), "{$1}")
		item := spec.Paths[specPath]
		if item == nil {
			t.Errorf("API route %s is not in the OpenAPI document", key)
			continue
		}
		op := map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete}[r.Method]
		if op == nil {
			t.Errorf("API route %s is not in the OpenAPI document", key)
			continue
		}
		cr := classifiedAPIRoute{apiRoute: c, method: r.Method, path: r.Path, operation: op.OperationID}
		cr.resource, _ = op.Metadata["moat-resource"].(string)
		cr.access, _ = op.Metadata["moat-access"].(string)
		cr.managers, _ = op.Metadata["moat-managers"].(bool)
		if cr.resource == "" || (cr.access != "read" && cr.access != "write") {
			t.Errorf("operation %s declares no scope", op.OperationID)
		}
		if (cr.kind != "") != strings.Contains(r.Path, ":id") {
			t.Errorf("API route %s: a record kind exactly when it takes an :id", key)
		}
		if cr.kind != "" && fixtures[cr.kind] == nil {
			t.Errorf("API route %s takes a %q, which fixtures cannot make", key, cr.kind)
		}
		if (r.Method == "GET" || r.Method == "DELETE") != (cr.body == nil) && !slices.ContainsFunc([]string{"/restore", "/finalize", "/void", "/finish", "/run", "/undo"},
			func(verb string) bool { return strings.HasSuffix(r.Path, verb) }) {
			t.Errorf("API route %s: a body exactly when it takes one", key)
		}
		out = append(out, cr)
	}
	for key := range apiRoutes {
		if !served[key] {
			t.Errorf("apiRoutes lists %s, which the app no longer serves", key)
		}
	}
	for _, key := range apiPublic {
		if !served[key] {
			t.Errorf("apiPublic lists %s, which the app no longer serves", key)
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d API routes found", len(out))
	}
	return out
}

func TestEveryAPIRouteIsClassified(t *testing.T) {
	classifyAPI(t, newEnv(t))
}

// attackers are two tenants, each with a page client and a token that may do everything.
type attackers struct {
	a, b       tenantUser
	ac, bc     *client
	aTok, bTok string
	own        ownRecords
}

func newAttackers(t *testing.T, e *env) attackers {
	t.Helper()
	x := attackers{a: e.signUp("acme"), b: e.signUp("globex"), ac: e.client(), bc: e.client()}
	x.ac.signIn(x.a.Email, password)
	x.bc.signIn(x.b.Email, password)
	x.aTok = e.apiToken(x.a, "write", "write", "write")
	x.bTok = e.apiToken(x.b, "write", "write", "write")
	x.own.customer = x.ac.createCustomer("Acme Own")
	x.bc.createCustomer("Globex Secret")
	return x
}

func (r classifiedAPIRoute) send(t *testing.T, e *env, x attackers, token, id string, headers ...string) apiCall {
	t.Helper()
	body := ""
	if r.body != nil {
		body = r.body(e, x.own)
	}
	return e.api(t, r.method, fill(r.path, id), token, body, headers...)
}

// Another tenant's id answers exactly like an unknown or malformed one, on every API route
// that takes an id, with the same statements sent; B's rows stay as they were, and the
// cross-tenant attempts reach the operators' metric.
func TestAPIForeignIDsAnswerLikeUnknownOnes(t *testing.T) {
	e := newEnv(t)
	x := newAttackers(t, e)
	routes := classifyAPI(t, e)
	foreign := map[string]string{}
	for _, r := range routes {
		if r.kind != "" {
			foreign[r.key()] = fixtures[r.kind](e, x.b, x.bc)
		}
	}
	before := e.db.Checksum(t, x.b.Tenant.String())
	attacked := 0
	for _, r := range routes {
		if r.kind == "" {
			continue
		}
		attacked++
		t.Run(r.key(), func(t *testing.T) {
			var bodies []string
			var queries [][]string
			for _, id := range []string{foreign[r.key()], uuid.NewString(), "not-a-uuid", strings.ToUpper(foreign[r.key()])} {
				var got apiCall
				queries = append(queries, e.statements(func() { got = r.send(t, e, x, x.aTok, id) }))
				if got.Status != 404 || got.Header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("id %s: %d %s, want a 404 problem", id, got.Status, got.Raw)
				}
				bodies = append(bodies, got.Raw)
			}
			for i := range bodies[1:] {
				if bodies[i+1] != bodies[0] {
					t.Fatalf("the foreign id answers\n%s\nand case %d\n%s", bodies[0], i+1, bodies[i+1])
				}
				if !slices.Equal(queries[i+1], queries[0]) {
					t.Fatalf("the statements differ between the foreign id and case %d:\n%s\n---\n%s", i+1,
						strings.Join(queries[0], "\n"), strings.Join(queries[i+1], "\n"))
				}
			}
		})
	}
	if attacked < 14 {
		t.Fatalf("only %d API routes with ids attacked", attacked)
	}
	if after := e.db.Checksum(t, x.b.Tenant.String()); after != before {
		t.Fatal("B's rows changed under A's attack")
	}
	e.after.Wait()
	if got := testutil.ToFloat64(e.metrics.CrossTenant.WithLabelValues("/api/v1/customers/:id")); got < 2 {
		t.Errorf("cross-tenant attempts on /api/v1/customers/:id counted %v times, want every GET, PATCH and DELETE", got)
	}
}

// A tenant named anywhere in an API request changes nothing: in the query or a header it is
// ignored (the answer is the clean request's), and in a JSON body it is refused as a field the
// API does not have. B's rows stay as they were.
func TestAPIIgnoresTenantNamedByTheClient(t *testing.T) {
	e := newEnv(t)
	x := newAttackers(t, e)
	bt := x.b.Tenant.String()
	before := e.db.Checksum(t, bt)
	for _, r := range classifyAPI(t, e) {
		t.Run(r.key(), func(t *testing.T) {
			id := func() string {
				if r.kind == "" {
					return ""
				}
				return fixtures[r.kind](e, x.a, x.ac)
			}
			clean := r.send(t, e, x, x.aTok, id())
			if clean.Status >= 400 {
				t.Fatalf("the clean request fails: %d %s", clean.Status, clean.Raw)
			}
			// In the query string and in headers.
			injected := r
			injected.path += "?tenant_id=" + bt + "&tenant=" + bt
			got := injected.send(t, e, x, x.aTok, id(), "X-Tenant-ID", bt, "Tenant-Id", bt, "X-Organization", bt, "Cookie", "tenant_id="+bt)
			if got.Status != clean.Status || strings.Contains(got.Raw, bt) {
				t.Fatalf("injected in the query and headers: %d %s, the clean request %d", got.Status, got.Raw, clean.Status)
			}
			// In the JSON body.
			if r.body != nil && !r.raw {
				body := r.body(e, x.own)
				body = `{"tenant_id":"` + bt + `",` + strings.TrimPrefix(body, "{")
				got := e.api(t, r.method, fill(r.path, id()), x.aTok, body)
				if got.Status != 422 || !strings.Contains(got.Raw, `"location":"body.tenant_id"`) {
					t.Fatalf("tenant_id in the body: %d %s, want it refused", got.Status, got.Raw)
				}
			}
		})
	}
	if after := e.db.Checksum(t, bt); after != before {
		t.Fatal("B's rows changed")
	}
}

// A token reaches only what its scopes grant: every route refuses a token without its
// resource, and every write refuses a read-only token, with a 403 in the trail; corrections
// are for tokens of owners and admins.
func TestAPIScopesBoundEveryRoute(t *testing.T) {
	e := newEnv(t)
	x := newAttackers(t, e)
	routes := classifyAPI(t, e)
	grants := func(resource, access string) [3]string {
		g := [3]string{"write", "write", "write"}
		g[slices.Index([]string{"customers", "invoices", "products"}, resource)] = access
		return g
	}
	refused := 0
	for _, r := range routes {
		t.Run(r.key(), func(t *testing.T) {
			levels := []string{"none"}
			if r.access == "write" {
				levels = append(levels, "read")
			}
			for _, level := range levels {
				g := grants(r.resource, level)
				tok := e.apiToken(x.a, g[0], g[1], g[2])
				id := ""
				if r.kind != "" {
					id = fixtures[r.kind](e, x.a, x.ac)
				}
				got := r.send(t, e, x, tok, id)
				if got.Status != 403 || !strings.Contains(got.str("detail"), "no "+r.access+" access to "+r.resource) {
					t.Fatalf("a token with %s on %s: %d %s", level, r.resource, got.Status, got.Raw)
				}
				refused++
			}
		})
	}
	var denied int
	if err := e.db.Superuser(t).QueryRow(context.Background(),
		"SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'api_token.scope' AND outcome = 'denied'", x.a.Tenant.UUID()).Scan(&denied); err != nil {
		t.Fatal(err)
	}
	if denied != refused {
		t.Fatalf("%d refusals, %d in the trail", refused, denied)
	}

	// A token acts for its person as they are now: demoted to member, its corrections stop.
	invoice := fixtures["invoice"](e, x.a, x.ac)
	if _, err := e.db.Superuser(t).Exec(context.Background(), "UPDATE users SET role = 'member' WHERE id = $1", x.a.UserID); err != nil {
		t.Fatal(err)
	}
	got := e.api(t, "POST", "/api/v1/invoices/"+invoice+"/void", x.aTok, "")
	if got.Status != 403 || !strings.Contains(got.Raw, "owners and admins") {
		t.Fatalf("a member's token voids: %d %s", got.Status, got.Raw)
	}
	e.api(t, "GET", "/api/v1/invoices/"+invoice, x.aTok, "").must(t, 200)
}
