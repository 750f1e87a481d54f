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
	res, body := bc.do("POST", "/invoices", bc.invoiceForm(foreign, "notes", "Qwzx invoice"))
	if res.StatusCode != fiber.StatusSeeOther {
		f.Fatalf("B's invoice: %d\n%s", res.StatusCode, body)
	}
	foreignInvoice := strings.TrimPrefix(res.Header.Get("Location"), "/invoices/")
	ac := e.client()
	ac.signIn(a.Email, password)
	own := ac.createCustomer("Alice Anders")
	return &fuzzWorld{e: e, a: ac, own: own, foreign: foreign,
		secrets: []string{"Qwzx", "Onlyinb", foreign, b.Tenant.String(), b.UserID.String(), b.Email, foreignInvoice}}
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

// FuzzInvoiceForm sends any line to the draft editor, its preview and its line buttons: a draft
// saved (303), the form again with what is wrong (422), or the totals; never a 5xx, never B's
// data, and a draft only ever for A's own customer.
func FuzzInvoiceForm(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add("Consulting", "2", "100.00", "0", "20", "EUR", "")
	f.Add("", "0", "-1", "101", "-5", "JPY", "add")
	f.Add("\x00", "1e309", "NaN", "Infinity", "0x10", "\xff", "remove-1")
	f.Add(strings.Repeat("é", 3000), "99999999999999999999", "0.000001", "33.333333", "9.975", "BHD", "remove-99999999999999999999")
	f.Add("Planted", "1", "1", "0", "0", "EUR", "tenant_id")
	f.Fuzz(func(t *testing.T, desc, qty, price, discount, rate, currency, op string) {
		c := w.a.as(t)
		for _, customer := range []string{w.own, w.foreign} {
			form := c.form("customer_id", customer, "currency", currency, "exchange_rate", qty, "payment_terms", qty, "rounding", op,
				"line_description", desc, "line_quantity", qty, "line_unit_price", price, "line_discount", discount, "line_tax_rate", rate,
				"line_description", "Second", "line_quantity", "1", "line_unit_price", price, "line_sku", desc, "line_warehouse", op,
				"op", op, "tenant_id", w.secrets[3])
			for _, path := range []string{"/invoices", "/invoices/preview"} {
				res, body := c.do("POST", path, form)
				w.check(t, "POST "+path, res.StatusCode, body, desc, qty, price, discount, rate, currency, op, w.foreign)
				switch {
				case path == "/invoices/preview" || res.StatusCode == fiber.StatusOK: // totals, or a line added or removed
				case res.StatusCode == fiber.StatusSeeOther && customer == w.own:
				case res.StatusCode == fiber.StatusUnprocessableEntity:
				default:
					t.Fatalf("POST %s for customer %s: %d", path, customer, res.StatusCode)
				}
			}
		}
	})
}

// FuzzProduct sends any product form and any stock movement: a 303 or a 422, never a 5xx, never
// B's data.
func FuzzProduct(f *testing.F) {
	w := newFuzzWorld(f)
	product := w.a.createProduct("FUZZ-1")
	f.Add("SKU-2", "Chair", "120", "5", "55", "receipt", "")
	f.Add("", "", "-1", "-0.00001", "NaN", "adjustment", "2026-02-30")
	f.Add("\x00", "\xff", "1e309", "99999999999999999999", "Infinity", "transfer", "\x00")
	f.Add(strings.Repeat("é", 300), strings.Repeat("b", 3000), "0,5", "1.23456", "0.00001", "count", "9999-12-31")
	f.Add("tenant_id", w.foreign, w.foreign, "1", "1", "sale", "2000-01-01")
	f.Fuzz(func(t *testing.T, sku, name, price, qty, cost, kind, date string) {
		c := w.a.as(t)
		fields := []string{"sku", sku, "name", name, "sale_price", price, "currency", kind, "tax_rate", qty, "reorder_level", cost,
			"unit", name, "stocked", kind, "description", name, "tenant_id", w.secrets[3]}
		if len(name)%2 == 1 { // tags refuse the product: only on some inputs, so others reach the insert
			fields = append(fields, "tag", sku, "tag", w.foreign)
		}
		form := c.form(fields...)
		res, body := c.do("POST", "/products", form)
		w.check(t, "POST /products", res.StatusCode, body, sku, name, price, qty, cost, kind, date, w.foreign)
		if res.StatusCode != fiber.StatusSeeOther && res.StatusCode != fiber.StatusUnprocessableEntity {
			t.Fatalf("POST /products: %d", res.StatusCode)
		}
		for _, warehouse := range []string{"", sku, w.foreign} {
			form := c.form("kind", kind, "warehouse", warehouse, "to_warehouse", name, "quantity", qty, "unit_cost", cost, "note", name,
				"occurred_on", date, "tenant_id", w.secrets[3])
			res, body := c.do("POST", "/products/"+product+"/stock", form)
			w.check(t, "POST /products/:id/stock", res.StatusCode, body, sku, name, price, qty, cost, kind, date, w.foreign)
			if res.StatusCode != fiber.StatusSeeOther && res.StatusCode != fiber.StatusUnprocessableEntity {
				t.Fatalf("POST /products/:id/stock with warehouse %q: %d", warehouse, res.StatusCode)
			}
		}
	})
}

// FuzzBulk sends any bulk action, tag, ids and filter: a 4xx or a success, never a 5xx, never
// B's data. (That no bulk action reaches B's rows is TestBulkActionsStayInTheTenant's.)
func FuzzBulk(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add("trash", "", w.own, "", "")
	f.Add("tag", w.foreign, w.foreign, "yes", "a")
	f.Add("\x00", "\xff", "not-an-id", "yes", "%")
	f.Add("export", "", "", "", "Qwzx")
	f.Add(strings.Repeat("a", 3000), strings.Repeat("b", 3000), strings.Repeat("c", 3000), "yes", "\u202e")
	f.Fuzz(func(t *testing.T, action, tag, id, confirm, q string) {
		c := w.a.as(t)
		for _, all := range []string{"", "1"} {
			form := c.form("action", action, "bulk_tag", tag, "id", id, "id", w.foreign, "confirm", confirm, "q", q, "all", all, "return", q)
			res, body := c.do("POST", "/customers/bulk", form)
			// The confirmation echoes the ids A named, B's among them: A's own input, not B's data.
			w.check(t, "POST /customers/bulk", res.StatusCode, body, q, action, id, w.foreign)
		}
	})
}

// FuzzTags creates tags with any name and colour: 303 or 422, never a 5xx.
func FuzzTags(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add("VIP", "blue")
	f.Add("\x00", "red\x00")
	f.Add(strings.Repeat("t", 51), "chartreuse")
	f.Add("Onlyinb", "")
	f.Fuzz(func(t *testing.T, name, color string) {
		c := w.a.as(t)
		res, body := c.do("POST", "/tags", c.form("name", name, "color", color))
		w.check(t, "POST /tags", res.StatusCode, body, name, color)
		if res.StatusCode != fiber.StatusSeeOther && res.StatusCode != fiber.StatusUnprocessableEntity {
			t.Fatalf("POST /tags: %d, want 303 or 422", res.StatusCode)
		}
	})
}

// FuzzNotes adds any note to A's customer and to B's: 303 or 422 for A's, 404 for B's.
func FuzzNotes(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add("Called; will order next week.")
	f.Add("")
	f.Add("\x00\x01")
	f.Add(strings.Repeat("n", 5001))
	f.Fuzz(func(t *testing.T, note string) {
		c := w.a.as(t)
		res, body := c.do("POST", "/customers/"+w.own+"/notes", c.form("body", note))
		w.check(t, "POST notes", res.StatusCode, body, note)
		if res.StatusCode != fiber.StatusSeeOther && res.StatusCode != fiber.StatusUnprocessableEntity {
			t.Fatalf("note on A's customer: %d, want 303 or 422", res.StatusCode)
		}
		res, body = c.do("POST", "/customers/"+w.foreign+"/notes", c.form("body", note))
		w.check(t, "POST note on B's customer", res.StatusCode, body, note)
		if res.StatusCode != fiber.StatusNotFound {
			t.Fatalf("note on B's customer: %d, want 404", res.StatusCode)
		}
	})
}

// FuzzTeam adds people and changes roles with any values: a 4xx or a success, never a 5xx.
func FuzzTeam(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add("Ben", "ben@acme.test", "member", "another long password")
	f.Add("", "owner@globex.test", "owner", "short")
	f.Add("\x00", "\xff@x", "superuser", strings.Repeat("p", 2000))
	f.Fuzz(func(t *testing.T, name, email, role, pw string) {
		c := w.a.as(t)
		res, body := c.do("POST", "/team", c.form("name", name, "email", email, "role", role, "password", pw))
		w.checkOnly(t, w.secrets[3:5], "POST /team", res.StatusCode, body, name, email, role)
		res, body = c.do("POST", "/team/"+w.secrets[4]+"/role", c.form("role", role))
		w.checkOnly(t, w.secrets[3:5], "POST role of B's person", res.StatusCode, body, role)
		if res.StatusCode != fiber.StatusNotFound {
			t.Fatalf("role of B's person: %d, want 404", res.StatusCode)
		}
	})
}

// FuzzAccount changes the password and ends sessions with any values: a 4xx or a success,
// never a 5xx; the password changes only with the right current one.
func FuzzAccount(f *testing.F) {
	w := newFuzzWorld(f)
	f.Add("wrong", "a new long password", "a new long password", "not-an-id")
	f.Add("\x00", "\x00", "\xff", w.foreign)
	f.Add(strings.Repeat("x", 2000), "", "", "")
	f.Fuzz(func(t *testing.T, current, next, confirm, session string) {
		c := w.a.as(t)
		res, body := c.do("POST", "/account/password", c.form("current_password", current, "new_password", next, "confirm_password", confirm))
		w.check(t, "POST /account/password", res.StatusCode, body)
		if current != password && res.StatusCode < 400 {
			t.Fatalf("password changed with a wrong current one: %d", res.StatusCode)
		}
		res, body = c.do("POST", fill("/account/sessions/:id/end", session), c.form())
		w.check(t, "POST end session", res.StatusCode, body)
	})
}
