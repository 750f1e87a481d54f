package server_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// fuzzWorld is two tenants, A signed in, B holding values A must never see.
type fuzzWorld struct {
	e       *env
	a       *client
	own     string   // an id of A's
	foreign string   // an id of B's
	secrets []string // values that exist only in B
}

func newFuzzWorld(f *testing.F) *fuzzWorld {
	e := newEnv(f)
	a := e.signUp("acme")
	b := e.signUp("globex")
	bc := e.client()
	bc.signIn(b.Email, password)
	foreign := bc.createCustomer("Qwzx Onlyinb")
	ac := e.client()
	ac.signIn(a.Email, password)
	own := ac.createCustomer("Alice Anders")
	return &fuzzWorld{e: e, a: ac, own: own, foreign: foreign,
		secrets: []string{"Qwzx", "Onlyinb", foreign, b.Tenant.String(), b.UserID.String(), b.Email}}
}

// check fails on a server error or a value of B's in what A was shown (the echo of A's own
// input aside).
func (w *fuzzWorld) check(t *testing.T, what string, status int, body string, echoes ...string) {
	t.Helper()
	w.checkOnly(t, w.secrets, what, status, body, echoes...)
}

// checkOnly is check with a narrower list of secrets: A's trail shows whatever A typed earlier,
// B's names included, so there only B's ids (which A has no way to learn) count.
func (w *fuzzWorld) checkOnly(t *testing.T, secrets []string, what string, status int, body string, echoes ...string) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("%s: %d", what, status)
	}
	for _, e := range echoes {
		body = strings.ReplaceAll(body, escapeHTML(e), "")
	}
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Fatalf("%s: shows B's %q", what, s)
		}
	}
}

// FuzzRecordID sends any id to every record route: 404 unless it is A's own, never a 5xx, never
// B's data.
func FuzzRecordID(f *testing.F) {
	w := newFuzzWorld(f)
	for _, id := range []string{w.foreign, w.own, "", "x", "../audit", "%00", "\x00", "\xff", strings.ToUpper(w.foreign), w.foreign + "/", " " + w.foreign} {
		f.Add(id)
	}
	routes := classify(&testing.T{}, w.e.app)
	f.Fuzz(func(t *testing.T, id string) {
		c := w.a.as(t)
		for _, r := range routes {
			if r.class != record {
				continue
			}
			path := fill(r.Path, id)
			res, body := c.do(r.Method, path, c.form("name", "Fuzzed"))
			w.check(t, r.Method+" "+path, res.StatusCode, body, "Fuzzed")
			if id == w.foreign && res.StatusCode != fiber.StatusNotFound {
				t.Fatalf("%s with B's id: %d", r.Method, res.StatusCode)
			}
		}
	})
}

// FuzzSearch sends any search and paging values to every list route.
func FuzzSearch(f *testing.F) {
	w := newFuzzWorld(f)
	for _, q := range append(hostile[:len(hostile)-2], "Qwzx", "onlyinb", "alice") {
		f.Add(q, "1")
	}
	f.Add("", "2")
	f.Add("%", "-1")
	routes := classify(&testing.T{}, w.e.app)
	f.Fuzz(func(t *testing.T, q, page string) {
		c := w.a.as(t)
		for _, r := range routes {
			if r.class != list {
				continue
			}
			v := url.Values{"q": {q}, "page": {page}, "after": {q}, "action": {q}, "outcome": {q}}
			res, body := c.do("GET", r.Path+"?"+v.Encode(), "", "HX-Request", "true")
			secrets := w.secrets
			if strings.HasPrefix(r.Path, "/audit") {
				secrets = w.secrets[3:5] // B's tenant and user ids
			}
			w.checkOnly(t, secrets, r.Path, res.StatusCode, body, q, page)
		}
	})
}

// FuzzCustomerForm binds any form to create and update: 303 or 422, never a 5xx, and what is
// saved lands in A's tenant.
func FuzzCustomerForm(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add("Ada", "ada@example.com", "+1 555 0100", "Analytical", "notes\nline")
	f.Add("", "not-an-email", "call me", strings.Repeat("c", 201), "")
	f.Add("\x00", "\xff@example.com", "+", "\u202e", strings.Repeat("é", 5001))
	f.Add("Planted", "", "", "", "tenant_id=globex")
	// The fifth value goes into every other free-text field of the record.
	f.Fuzz(func(t *testing.T, name, email, phone, company, notes string) {
		c := w.a.as(t)
		form := c.form("name", name, "email", email, "phone", phone, "company", company, "billing_address", notes,
			"website", notes, "tax_id", notes, "number", notes, "currency", notes, "tenant_id", w.secrets[3])
		for _, target := range []struct{ method, path string }{{"POST", "/customers"}, {"PUT", "/customers/" + w.own}} {
			res, body := c.do(target.method, target.path, form)
			w.check(t, target.method+" "+target.path, res.StatusCode, body, name, email, phone, company, notes)
			if res.StatusCode != fiber.StatusSeeOther && res.StatusCode != fiber.StatusUnprocessableEntity {
				t.Fatalf("%s %s: %d, want 303 or 422", target.method, target.path, res.StatusCode)
			}
		}
	})
}
