package server_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// fields names the fields each state-changing route reads: every one of them is attacked with
// hostile values. A new state-changing route fails the suite until it is listed here.
var fields = map[string][]string{
	"POST /signup":                         {"organization", "name", "email", "password"},
	"POST /signup/confirm/:token":          {},
	"POST /login":                          {"email", "password", "next"},
	"POST /login/organization":             {"membership"},
	"POST /password/forgot":                {"email"},
	"POST /password/reset/:token":          {"new_password", "confirm_password"},
	"POST /invitations/:token":             {"password", "new_password", "confirm_password"},
	"POST /logout":                         {},
	"POST /account/sessions/end-others":    {},
	"POST /account/sessions/:id/end":       {},
	"POST /account/password":               {"current_password", "new_password", "confirm_password"},
	"POST /customers":                      customerFields,
	"POST /customers/duplicates":           append([]string{"except"}, customerFields...),
	"POST /customers/columns":              {"column", "return"},
	"POST /customers/bulk":                 {"action", "bulk_tag", "return", "confirm", "id", "all", "q", "kind", "tag", "from", "to"},
	"POST /customers/export":               {"id", "all", "q", "kind", "tag", "from", "to"},
	"POST /customers/trash/restore":        {"id"},
	"POST /customers/trash/purge":          {"id", "confirm"},
	"POST /customers/trash/empty":          {"confirm"},
	"POST /customers/:id":                  customerFields,
	"PUT /customers/:id":                   customerFields,
	"POST /customers/:id/delete":           {},
	"DELETE /customers/:id":                {},
	"POST /customers/:id/restore":          {},
	"POST /customers/:id/notes":            {"body"},
	"POST /invoices":                       invoiceFields,
	"POST /invoices/preview":               invoiceFields,
	"POST /invoices/:id":                   invoiceFields,
	"POST /invoices/:id/delete":            {"confirm"},
	"POST /invoices/:id/finalize":          {"confirm"},
	"POST /invoices/:id/payments":          {"amount", "paid_on", "method", "reference"},
	"POST /invoices/:id/void":              {"confirm"},
	"POST /invoices/:id/uncollectible":     {"confirm"},
	"POST /invoices/:id/credit":            {"confirm", "reissue", "return_stock"},
	"POST /products":                       productFields,
	"POST /products/:id":                   productFields,
	"POST /products/:id/delete":            {"confirm"},
	"POST /products/:id/restore":           {"confirm"},
	"POST /products/:id/stock":             {"kind", "warehouse", "to_warehouse", "quantity", "unit_cost", "note", "occurred_on"},
	"POST /stock/movements/:id/reverse":    {"note"},
	"POST /warehouses":                     {"name"},
	"POST /warehouses/:id":                 {"name", "default"},
	"POST /settings/stock":                 {"allow_negative"},
	"POST /tags":                           {"name", "color"},
	"POST /tags/:id/delete":                {"confirm"},
	"POST /team":                           {"name", "email", "role"},
	"POST /imports":                        {"file", "text", "target"},
	"POST /imports/parts":                  {"name", "target"},
	"POST /imports/:id/parts/:seq":         {},
	"POST /imports/:id/finish":             {},
	"POST /imports/:id/check":              {"mode", "key", "column_0", "column_1", "column_99"},
	"POST /imports/:id/run":                {},
	"POST /imports/:id/undo":               {},
	"POST /settings/api-tokens":            {"name", "scope_customers", "scope_invoices", "scope_products", "expires_in"},
	"POST /settings/api-tokens/:id/revoke": {},
	"POST /settings/exports":               {},
	"POST /settings/close":                 {"confirm_name"},
	"POST /settings/reopen":                {},
	"POST /customers/:id/erase":            {"reason"},
	"POST /team/invitations/:id/revoke":    {},
	"POST /team/:id/role":                  {"role"},
	"POST /team/:id/deactivate":            {},
	"POST /team/:id/reactivate":            {},
	"POST /team/:id/remove":                {},
}

var customerFields = []string{"kind", "number", "name", "company", "email", "email_type", "phone", "phone_type", "website",
	"tax_id", "billing_address", "shipping_address", "currency", "payment_terms", "tag", "notes"}

var invoiceFields = []string{"customer_id", "currency", "prices_include_tax", "rounding", "exchange_rate", "payment_terms", "notes", "op",
	"line_description", "line_quantity", "line_unit_price", "line_discount", "line_tax_rate", "line_sku", "line_warehouse"}

var productFields = []string{"sku", "name", "unit", "sale_price", "currency", "tax_rate", "reorder_level", "description", "stocked", "tag"}

// oversize is longer than any field accepts, and easy to find if it lands anywhere.
var oversize = strings.Repeat("Ж", 20000)

// hostileValues break naive handlers: NUL and control bytes, invalid UTF-8, oversize text,
// numbers and ids where text is expected and the reverse, markup and SQL.
var hostileValues = []string{"\x00", "%00", "bad\x01value", "\x1b[31m", "\xff\xfe", "\xc0\x80", oversize, "-1", "1e309",
	"99999999999999999999", "NaN", "00000000-0000-0000-0000-000000000000", "<script>alert(1)</script>", "'; DROP TABLE customers; --",
	"../../etc/passwd", "javascript:alert(1)", "\u202e", "", " "}

// Every state-changing route answers hostile values in any of its fields, as a form or as JSON
// of the wrong type, with a 4xx or a success, never a 5xx, and none of them reaches the trail
// unvalidated.
func TestEveryFieldRefusesHostileValues(t *testing.T) {
	t.Parallel() // the slowest suites, each on its own database: they overlap each other
	e := newEnv(t)
	a := e.signUp("acme")
	attacked := 0
	for _, r := range classify(t, e.app) {
		if r.Method == "GET" {
			continue
		}
		names, ok := fields[r.key()]
		if !ok {
			t.Errorf("route %s has no field list: add it to fields in hostile_test.go", r.key())
			continue
		}
		attacked++
		t.Run(r.key(), func(t *testing.T) {
			c := e.client()
			c.signIn(a.Email, password)
			path := r.Path
			if r.class == record {
				path = fill(r.Path, e.record(r, a, c))
			}
			send := func(body string, headers ...string) {
				t.Helper()
				res, _ := c.do(r.Method, path, body, headers...)
				if res.StatusCode >= 500 {
					t.Errorf("%s %.80q: %d", r.key(), body, res.StatusCode)
				}
				if res.StatusCode == fiber.StatusForbidden && c.jar["moat_session"] == "" {
					c.signIn(a.Email, password) // the route signed us out
				}
			}
			for _, name := range append(names, "unknown_field") {
				for _, v := range hostileValues {
					send(c.form(name, v, name, v)) // twice: a list where one value is expected
				}
				for _, v := range []string{`12345`, `-1.5`, `true`, `null`, `{"a":1}`, `[1,2]`, `"` + strings.Repeat("x", 5000) + `"`} {
					send(`{"`+name+`":`+v+`}`, "Content-Type", "application/json", "X-CSRF-Token", c.csrf)
				}
			}
			send(`{"broken`, "Content-Type", "application/json", "X-CSRF-Token", c.csrf)
			send("%zz=%zz&" + url.Values{"_csrf": {c.csrf}}.Encode())
		})
	}
	if attacked < 20 {
		t.Fatalf("only %d state-changing routes attacked", attacked)
	}
	for key := range fields {
		if !strings.Contains(strings.Join(routeKeys(t, e), "\n"), key) {
			t.Errorf("fields lists %s, which the app no longer serves", key)
		}
	}
	// Nothing unvalidated reached the trail: no control bytes, no oversize text.
	rows, err := e.db.Superuser(t).Query(context.Background(),
		"SELECT action, entity_id, coalesce(details::text, '') FROM audit_events WHERE tenant_id = $1", a.Tenant.UUID())
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var action, entityID, details string
		if err := rows.Scan(&action, &entityID, &details); err != nil {
			t.Fatal(err)
		}
		var decoded any
		if details != "" && json.Unmarshal([]byte(details), &decoded) != nil {
			t.Fatalf("%s: details are not JSON", action)
		}
		for _, s := range []string{entityID, details} {
			if strings.Contains(s, oversize[:200]) || strings.Contains(s, `\u0001`) || strings.Contains(s, `\u001b`) ||
				strings.ContainsRune(s, '\x01') || strings.ContainsRune(s, '\x1b') || len(s) > 64*1024 {
				t.Errorf("%s: unvalidated input reached the trail: %.200q", action, s)
			}
		}
	}
}

func routeKeys(t *testing.T, e *env) []string {
	var keys []string
	for _, r := range classify(t, e.app) {
		keys = append(keys, r.key())
	}
	return keys
}
