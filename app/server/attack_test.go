package server_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"moat/app/audit"
	"moat/app/middleware"
)

// hostile are search and filter values that have broken multi-tenant apps: LIKE wildcards,
// quotes, backslashes, SQL fragments, NUL and invalid UTF-8, very long and odd Unicode strings.
var hostile = []string{
	"%", "_", "%%", "'", `\`, `\%`, "' OR 1=1 --", "OR 1=1", `") OR ("1"="1`, "*", "?", ".*",
	"\x00", "\xff\xfe", "\u202egnp.exe", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "İı", "e\u0301", "🙂", "　", "\t\n",
	strings.Repeat("a", 1500), strings.Repeat("%_", 500),
	"tenant_id", "00000000-0000-0000-0000-000000000000", "0000-01-01", "9999-12-31",
}

// Every list route, as A, shows nothing that exists only in B, whatever the query.
func TestListRoutesNeverShowAnotherTenantsValues(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	bc := e.client()
	bc.signIn(b.Email, password)
	bc.do("POST", "/customers", bc.form("name", "Zyxwv Onlyinb", "email", "zyxwv@onlyinb.example", "company", "Onlyinb Corp", "notes", "Onlyinb notes"))
	ac := e.client()
	ac.signIn(a.Email, password)
	ac.createCustomer("Alice Anders")

	secrets := []string{"Zyxwv", "Onlyinb", "onlyinb", b.Tenant.String(), b.UserID.String(), b.Email, "globex Owner"}
	lists := 0
	for _, r := range classify(t, e.app) {
		if r.class != list {
			continue
		}
		lists++
		for _, q := range hostile {
			v := url.Values{}
			params := []string{"q", "action", "outcome", "page", "after", "kind", "tag", "from", "to", "sort", "dir"}
			if len(q) > 500 {
				params = []string{"q", "tag", "after"} // all of them would overflow the request line
			}
			for _, param := range params {
				v.Set(param, q)
			}
			for _, hx := range []string{"false", "true"} {
				res, body := ac.do("GET", r.Path+"?"+v.Encode(), "", "HX-Request", hx)
				if res.StatusCode >= 500 || res.StatusCode == 404 {
					t.Fatalf("%s q=%.40q: %d", r.Path, q, res.StatusCode)
				}
				// The page echoes the query in the search box; look at everything but the echo.
				body = strings.ReplaceAll(body, escapeHTML(q), "")
				for _, s := range secrets {
					if strings.Contains(body, s) {
						t.Fatalf("%s q=%.40q shows B's %q", r.Path, q, s)
					}
				}
			}
		}
	}
	if lists < 2 {
		t.Fatalf("only %d list routes found", lists)
	}
	// B's tag id as A's filter matches nothing, and says nothing of B.
	bTag := bc.createTag("Onlyinb VIP")
	for _, path := range []string{"/customers?tag=" + bTag, "/customers?tag=" + bTag + "&q=zyxwv&kind=person"} {
		res, body := ac.do("GET", path, "")
		if res.StatusCode != 200 || !strings.Contains(body, `data-testid="empty-state"`) || strings.Contains(body, "Onlyinb") {
			t.Fatalf("%s as A: %d, shows B's data: %v", path, res.StatusCode, strings.Contains(body, "Onlyinb"))
		}
	}
	// Searching for B's values by name finds nothing. (Last: A's trail now holds these terms.)
	for _, q := range []string{"Zyxwv", "onlyinb", "Onlyinb Corp", "zyxwv@onlyinb.example"} {
		_, body := ac.do("GET", "/customers?q="+url.QueryEscape(q), "", "HX-Request", "true")
		if strings.Contains(body, `data-testid="customer-row"`) || !strings.Contains(body, `data-testid="empty-state"`) {
			t.Fatalf("search %q as A finds rows", q)
		}
	}
}

var anyID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// Every signed-in route ignores a tenant named in the query string, form, JSON body, headers or
// cookies: the injected request answers like the clean one, and B's rows stay as they were.
func TestEveryRouteIgnoresTenantNamedByTheClient(t *testing.T) {
	t.Parallel() // the slowest suites, each on its own database: they overlap each other
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	bc := e.client()
	bc.signIn(b.Email, password)
	bc.createCustomer("Globex Secret")
	before := e.db.Checksum(t, b.Tenant.String())
	bt := b.Tenant.String()
	names := []string{"tenant_id", "tenantId", "tenant", "TenantID", "tenant-id", "org", "organization_id"}

	for _, r := range classify(t, e.app) {
		if r.class == public || r.Path == "/logout" {
			continue
		}
		t.Run(r.key(), func(t *testing.T) {
			var results []string
			for _, inject := range []bool{false, true} {
				c := e.client()
				c.signIn(a.Email, password)
				path := r.Path
				if r.class == record {
					path = fill(r.Path, e.record(r, a, c))
				}
				// A fresh name each time: a second create under a taken name (a warehouse's) would
				// answer differently for that reason alone.
				form := []string{"name", "Acme Renamed " + suffix(), "role", "admin"}
				var headers []string
				if inject {
					q := url.Values{}
					for _, n := range names {
						q.Set(n, bt)
						form = append(form, n, bt)
						c.jar[n] = bt
					}
					path += "?" + q.Encode()
					headers = []string{"X-Tenant-ID", bt, "X-Tenant", bt, "Tenant-ID", bt, "X-Org-ID", bt}
				}
				res, body := c.do(r.Method, path, c.form(form...), headers...)
				loc := anyID.ReplaceAllString(res.Header.Get("Location"), "<id>")
				results = append(results, fmt.Sprintf("%d %s %v", res.StatusCode, loc, strings.Contains(body, "Globex")))

				// JSON bodies bind too: the tenant fields in them are ignored as well.
				if inject && r.Method != "GET" {
					jsonBody := fmt.Sprintf(`{"name":"Acme JSON","role":"admin","tenant_id":%q,"TenantID":%q,"tenantId":%q}`, bt, bt, bt)
					jsonPath := r.Path
					if r.class == record {
						jsonPath = fill(r.Path, e.record(r, a, c))
					}
					res, _ := c.do(r.Method, jsonPath, jsonBody,
						"Content-Type", "application/json", "X-CSRF-Token", c.csrf, "X-Tenant-ID", bt)
					if res.StatusCode >= 400 && res.StatusCode != fiber.StatusUnprocessableEntity {
						t.Errorf("JSON with injected tenant: %d", res.StatusCode)
					}
				}
			}
			if results[0] != results[1] {
				t.Errorf("clean and injected requests answer differently: %q vs %q", results[0], results[1])
			}
		})
	}
	if after := e.db.Checksum(t, b.Tenant.String()); after != before {
		t.Fatal("B's rows changed")
	}
}

// Values taken from a Fiber request and kept past the handler (here, the audit metadata the
// session middleware puts in the context) are copies: Fiber reuses its request buffers, so a
// kept reference would show the next request's bytes.
func TestRequestValuesOutliveTheirBuffers(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	var kept []audit.Request
	e.app.Get("/probe", middleware.RequireSignIn, func(c *fiber.Ctx) error {
		kept = append(kept, audit.RequestFrom(c.UserContext()))
		return c.SendString("ok")
	})
	c := e.client()
	c.signIn(a.Email, password)
	var agents []string
	for i := 0; i < 20; i++ {
		ua := fmt.Sprintf("agent-%02d-%s", i, strings.Repeat(string(rune('a'+i)), 40))
		agents = append(agents, ua)
		c.do("GET", "/probe", "", "User-Agent", ua, "X-Request-ID", uuid.NewString())
	}
	if len(kept) != len(agents) {
		t.Fatalf("kept %d requests", len(kept))
	}
	for i, r := range kept {
		if r.UserAgent != agents[i] {
			t.Fatalf("request %d's user agent now reads %q: a buffer was kept, not copied", i, r.UserAgent)
		}
	}
}
