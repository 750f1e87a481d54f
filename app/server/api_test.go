package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"moat/app/store"
	"moat/models"
)

// apiToken makes a token for u with scopes (customers, invoices, products: none, read or write).
func (e *env) apiToken(u tenantUser, customers, invoices, products string) string {
	e.t.Helper()
	secret, _, err := store.NewAPITokens(e.db.DB).Create(u.Ctx, models.APITokenInput{Name: "test " + customers + invoices + products,
		Customers: customers, Invoices: invoices, Products: products}, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// apiCall is one answer of the API.
type apiCall struct {
	Status int
	Header http.Header
	Raw    string
	Body   map[string]any
}

// api sends a request to the API with token (none when empty) and a JSON body (none when empty).
func (e *env) api(t testing.TB, method, target, token, body string, headers ...string) apiCall {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	out := apiCall{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// must fails t unless the call answered want.
func (c apiCall) must(t testing.TB, want int) apiCall {
	t.Helper()
	if c.Status != want {
		t.Fatalf("status %d, want %d: %s", c.Status, want, c.Raw)
	}
	return c
}

func (c apiCall) str(key string) string {
	s, _ := c.Body[key].(string)
	return s
}

func TestAPICustomersRoundTrip(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("Acme")
	tok := e.apiToken(a, "write", "none", "none")

	created := e.api(t, "POST", "/api/v1/customers", tok, `{"name":"Grace Hopper","kind":"person","emails":[{"type":"work","value":"Grace@Navy.mil"}],"note":"met at a conference"}`).must(t, 201)
	id := created.str("id")
	if created.Header.Get("Location") != "/api/v1/customers/"+id || created.str("number") == "" {
		t.Fatalf("create answered %v %s", created.Header, created.Raw)
	}
	got := e.api(t, "GET", "/api/v1/customers/"+id, tok, "").must(t, 200)
	if got.str("name") != "Grace Hopper" || !strings.Contains(got.Raw, `"value":"grace@navy.mil"`) {
		t.Fatalf("get answered %s", got.Raw)
	}
	patched := e.api(t, "PATCH", "/api/v1/customers/"+id, tok, `{"company":"US Navy"}`).must(t, 200)
	if patched.str("company") != "US Navy" || patched.str("name") != "Grace Hopper" || !strings.Contains(patched.Raw, "grace@navy.mil") {
		t.Fatalf("a patch of one field changed others: %s", patched.Raw)
	}
	notes := e.api(t, "GET", "/api/v1/customers/"+id+"/notes", tok, "").must(t, 200)
	if !strings.Contains(notes.Raw, "met at a conference") {
		t.Fatalf("notes: %s", notes.Raw)
	}
	e.api(t, "POST", "/api/v1/customers/"+id+"/notes", tok, `{"body":"called back"}`).must(t, 204)
	list := e.api(t, "GET", "/api/v1/customers?q=grace", tok, "").must(t, 200)
	if !strings.Contains(list.Raw, id) || list.Body["has_more"] != false {
		t.Fatalf("list: %s", list.Raw)
	}
	e.api(t, "DELETE", "/api/v1/customers/"+id, tok, "").must(t, 204)
	e.api(t, "GET", "/api/v1/customers/"+id, tok, "").must(t, 404)
	e.api(t, "POST", "/api/v1/customers/"+id+"/restore", tok, "").must(t, 204)
	e.api(t, "GET", "/api/v1/customers/"+id, tok, "").must(t, 200)

	bad := e.api(t, "POST", "/api/v1/customers", tok, `{"name":"","emails":[{"type":"work","value":"not-an-email"}]}`).must(t, 422)
	if bad.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(bad.Raw, `"location":"body.name"`) ||
		!strings.Contains(bad.Raw, `"location":"body.emails[0].value"`) {
		t.Fatalf("invalid create: %v %s", bad.Header, bad.Raw)
	}

	// The trail names the token.
	var marked int
	if err := e.db.Superuser(t).QueryRow(context.Background(),
		"SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND api_token LIKE 'test write%'", a.Tenant.UUID()).Scan(&marked); err != nil {
		t.Fatal(err)
	}
	if marked < 8 {
		t.Fatalf("%d audit rows name the token, want every call's", marked)
	}
	c := e.client()
	c.signIn(a.Email, password)
	if _, body := c.do("GET", "/audit", ""); !strings.Contains(body, "via API token test writenonenone (moat_") {
		t.Fatal("the audit page does not say which token made the calls")
	}
	if _, body := c.do("GET", "/audit/export", ""); !strings.Contains(body, ",api_token") || !strings.Contains(body, "test writenonenone") {
		t.Fatal("the trail's CSV does not name the token")
	}
}

func TestAPIInvoicesAndProducts(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("Acme")
	tok := e.apiToken(a, "write", "write", "write")
	cust := e.api(t, "POST", "/api/v1/customers", tok, `{"name":"Ada"}`).must(t, 201).str("id")
	prod := e.api(t, "POST", "/api/v1/products", tok, `{"sku":"W-1","name":"Widget","sale_price":"12.50","tax_rate":"20"}`).must(t, 201)
	pid := prod.str("id")
	e.api(t, "POST", "/api/v1/products/"+pid+"/movements", tok, `{"kind":"receipt","quantity":"10","unit_cost":"5"}`).must(t, 201)
	got := e.api(t, "GET", "/api/v1/products/"+pid, tok, "").must(t, 200)
	if got.str("on_hand") != "10" || got.str("sale_price") != "12.5" {
		t.Fatalf("product: %s", got.Raw)
	}
	e.api(t, "PATCH", "/api/v1/products/"+pid, tok, `{"name":"Blue widget"}`).must(t, 200)
	inv := e.api(t, "POST", "/api/v1/invoices", tok, `{"customer_id":"`+cust+`","lines":[{"sku":"W-1","quantity":"3"}]}`).must(t, 201)
	iid := inv.str("id")
	if inv.str("total") != "45.00" || inv.str("status") != "draft" {
		t.Fatalf("draft: %s", inv.Raw)
	}
	fin := e.api(t, "POST", "/api/v1/invoices/"+iid+"/finalize", tok, "").must(t, 200)
	if fin.str("status") != "open" || fin.str("number") == "" {
		t.Fatalf("finalized: %s", fin.Raw)
	}
	paid := e.api(t, "POST", "/api/v1/invoices/"+iid+"/payments", tok, `{"amount":"45"}`).must(t, 201)
	if paid.str("status") != "paid" || paid.str("amount_due") != "0.00" {
		t.Fatalf("paid: %s", paid.Raw)
	}
	if got := e.api(t, "GET", "/api/v1/products/"+pid, tok, "").must(t, 200); got.str("on_hand") != "7" {
		t.Fatalf("the sale moved no stock: %s", got.Raw)
	}
	bad := e.api(t, "POST", "/api/v1/invoices", tok, `{"customer_id":"`+cust+`","lines":[{"description":"x","quantity":"-1","unit_price":"1"}]}`).must(t, 422)
	if !strings.Contains(bad.Raw, `"location":"body.lines[0].quantity"`) {
		t.Fatalf("invalid line: %s", bad.Raw)
	}
	list := e.api(t, "GET", "/api/v1/invoices?status=paid", tok, "").must(t, 200)
	if !strings.Contains(list.Raw, iid) {
		t.Fatalf("invoice list: %s", list.Raw)
	}
	e.api(t, "GET", "/api/v1/warehouses", tok, "").must(t, 200)
	e.api(t, "GET", "/api/v1/products?q=W-", tok, "").must(t, 200)
}
