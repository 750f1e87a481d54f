package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"moat/app/server"
	"moat/app/store"
	"moat/models"
)

func TestSignedOutVisitorsAreSentToSignIn(t *testing.T) {
	e := newEnv(t)
	for _, r := range classify(t, e.app) {
		if r.class == public {
			continue
		}
		t.Run(r.key(), func(t *testing.T) {
			c := e.client()
			c.do("GET", "/login", "") // a signed-out session with a CSRF token, so CSRF is not what stops us
			path := fill(r.Path, uuid.NewString())
			res, _ := c.do(r.Method, path, c.form("name", "x"))
			want := "/login"
			if r.Method == "GET" {
				want += "?next=" + url.QueryEscape(path) // back to the page after signing in
			}
			if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != want {
				t.Errorf("plain: %d %q, want 303 %s", res.StatusCode, res.Header.Get("Location"), want)
			}
			res, _ = c.do(r.Method, path, c.form("name", "x"), "HX-Request", "true")
			if res.Header.Get("HX-Redirect") != want {
				t.Errorf("htmx: %d, HX-Redirect %q, want %s", res.StatusCode, res.Header.Get("HX-Redirect"), want)
			}
		})
	}
}

// Every route with a record id, for every method, answers a foreign id exactly like an unknown
// or malformed one, and leaves the other tenant's rows as they were.
func TestForeignIDsAnswerLikeUnknownOnes(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	bc := e.client()
	bc.signIn(b.Email, password)
	ac := e.client()
	ac.signIn(a.Email, password)
	mine := ac.createCustomer("Acme Own")
	// B's records of the kind each route takes, made before B's rows are fingerprinted.
	foreignIDs := map[string]string{}
	for _, r := range classify(t, e.app) {
		if r.class == record {
			foreignIDs[r.key()] = e.record(r, b, bc)
		}
	}
	bc.signIn(b.Email, password) // a fixture may have ended bc's session
	before := e.db.Checksum(t, b.Tenant.String())

	attacked := 0
	for _, r := range classify(t, e.app) {
		if r.class != record {
			continue
		}
		attacked++
		for _, htmxReq := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s %s htmx=%v", r.Method, r.Path, htmxReq), func(t *testing.T) {
				var hdr []string
				if htmxReq {
					hdr = []string{"HX-Request", "true"}
				}
				var bodies []string
				var queries [][]string
				foreign := foreignIDs[r.key()]
				for _, id := range []string{foreign, uuid.NewString(), "not-a-uuid", foreign + "x", strings.ToUpper(foreign)} {
					var res *http.Response
					var body string
					queries = append(queries, e.statements(func() {
						res, body = ac.do(r.Method, fill(r.Path, id), ac.form("name", "Hijacked", "email", "h@example.com", "role", "member"), hdr...)
					}))
					if res.StatusCode != fiber.StatusNotFound {
						t.Fatalf("id %s: %d, want 404\n%s", id, res.StatusCode, body)
					}
					if strings.Contains(body, "Globex Secret") || strings.Contains(body, foreign) {
						t.Fatalf("id %s: the 404 mentions the foreign record", id)
					}
					bodies = append(bodies, normalize(res, body))
				}
				for i, body := range bodies[1:] {
					if body != bodies[0] {
						t.Fatalf("404 bodies differ between the foreign id and case %d:\n%s\n---\n%s", i+1, bodies[0], body)
					}
					if !slices.Equal(queries[i+1], queries[0]) {
						t.Fatalf("the statements sent differ between the foreign id and case %d:\n%s\n---\n%s", i+1,
							strings.Join(queries[0], "\n"), strings.Join(queries[i+1], "\n"))
					}
				}
			})
		}
	}
	if attacked < 6 {
		t.Fatalf("only %d routes with ids attacked; the route table lost some", attacked)
	}
	if after := e.db.Checksum(t, b.Tenant.String()); after != before {
		t.Fatal("B's rows changed under A's attack")
	}
	// A's own record still answers, so the 404s above were not a broken route.
	if res, _ := ac.do("GET", "/customers/"+mine, ""); res.StatusCode != 200 {
		t.Fatalf("own customer: %d", res.StatusCode)
	}
}

// A tenant named by the client, anywhere in the request, changes nothing.
func TestClientCannotNameTheTenant(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	bc := e.client()
	bc.signIn(b.Email, password)
	bc.createCustomer("Globex Secret")

	ac := e.client()
	ac.signIn(a.Email, password)
	bt := b.Tenant.String()
	ac.jar["tenant_id"] = bt
	ac.jar["tenant"] = bt
	injected := []string{"X-Tenant-ID", bt, "X-Tenant", bt, "Tenant-Id", bt}

	res, body := ac.do("GET", "/customers?tenant_id="+bt+"&tenantId="+bt+"&tenant="+bt, "", injected...)
	if res.StatusCode != 200 || strings.Contains(body, "Globex Secret") {
		t.Fatalf("list with injected tenant: %d, shows B's customer: %v", res.StatusCode, strings.Contains(body, "Globex Secret"))
	}
	form := ac.form("name", "Planted", "tenant_id", bt, "tenantId", bt, "tenant", bt, "TenantID", bt, "tenant_id[]", bt)
	res, _ = ac.do("POST", "/customers?tenant_id="+bt, form, injected...)
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("create with injected tenant: %d", res.StatusCode)
	}
	id := strings.TrimPrefix(res.Header.Get("Location"), "/customers/")
	res, _ = ac.do("POST", "/customers", fmt.Sprintf(`{"name":"Planted JSON","tenant_id":%q,"TenantID":%q}`, bt, bt),
		"Content-Type", "application/json", "X-CSRF-Token", ac.csrf)
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("JSON create with injected tenant: %d", res.StatusCode)
	}
	jsonID := strings.TrimPrefix(res.Header.Get("Location"), "/customers/")

	s := store.NewCustomers(e.db.Gorm)
	for _, cid := range []string{id, jsonID} {
		c, err := s.Get(a.Ctx, cid)
		if err != nil || c.TenantID != a.Tenant.UUID() {
			t.Fatalf("planted customer not in A: %v %+v", err, c)
		}
		if _, err := s.Get(b.Ctx, cid); err == nil {
			t.Fatal("planted customer visible to B")
		}
	}
	page, _ := s.List(b.Ctx, store.ListQuery{})
	if len(page.Customers) != 1 {
		t.Fatalf("B has %d customers, want its 1", len(page.Customers))
	}
}

func TestStateChangesNeedTheCSRFToken(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	id := c.createCustomer("Keep Me")
	// The refusals are audited; that is the only change they may make.
	data := []string{"tenants", "users", "customers"}
	before := e.db.Checksum(t, a.Tenant.String(), data...)

	checked := 0
	for _, r := range classify(t, e.app) {
		if r.Method == "GET" || r.Method == "HEAD" {
			continue
		}
		checked++
		path := fill(r.Path, id)
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			cases := map[string]func() (int, string){
				"missing": func() (int, string) {
					res, body := c.do(r.Method, path, "name=Changed")
					return res.StatusCode, body
				},
				"wrong field": func() (int, string) {
					res, body := c.do(r.Method, path, "name=Changed&_csrf="+uuid.NewString())
					return res.StatusCode, body
				},
				"wrong header": func() (int, string) {
					res, body := c.do(r.Method, path, "name=Changed", "X-CSRF-Token", uuid.NewString(), "HX-Request", "true")
					return res.StatusCode, body
				},
			}
			for name, try := range cases {
				if status, body := try(); status != fiber.StatusForbidden {
					t.Errorf("%s token: %d, want 403\n%s", name, status, body)
				}
			}
		})
	}
	if checked < 6 {
		t.Fatalf("only %d state-changing routes checked", checked)
	}
	if after := e.db.Checksum(t, a.Tenant.String(), data...); after != before {
		t.Fatal("a request refused for its CSRF token changed data")
	}
	var refusals int
	e.db.Superuser(t).QueryRow(context.Background(),
		"SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'request.csrf' AND outcome = 'denied'", a.Tenant.UUID()).Scan(&refusals)
	if refusals != checked*3 {
		t.Fatalf("%d CSRF refusals audited, want %d", refusals, checked*3)
	}
}

func TestCustomerPagesAndFragments(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)

	res, body := c.do("GET", "/customers", "")
	if res.StatusCode != 200 || !strings.Contains(body, "<!doctype html>") || !strings.Contains(body, `data-testid="empty-state"`) {
		t.Fatalf("empty list page: %d\n%s", res.StatusCode, body)
	}
	if !strings.Contains(res.Header.Get("Vary"), "HX-Request") {
		t.Errorf("Vary %q lacks HX-Request", res.Header.Get("Vary"))
	}

	// Invalid input: 422, the form again with each field's message, nothing created.
	res, body = c.do("POST", "/customers", c.form("name", "", "email", "nope", "phone", "call me"))
	if res.StatusCode != fiber.StatusUnprocessableEntity {
		t.Fatalf("invalid create: %d", res.StatusCode)
	}
	for _, f := range []string{"error-name", "error-email", "error-phone"} {
		if !strings.Contains(body, `data-testid="`+f+`"`) {
			t.Errorf("422 form lacks %s", f)
		}
	}
	if !strings.Contains(body, `value="nope"`) {
		t.Error("422 form lost the typed value")
	}
	res, body = c.do("POST", "/customers", c.form("name", ""), "HX-Request", "true")
	if res.StatusCode != fiber.StatusUnprocessableEntity || !strings.HasPrefix(body, `<section id="customer-form"`) {
		t.Fatalf("htmx invalid create: %d\n%s", res.StatusCode, body)
	}

	id := c.createCustomer("Ada Lovelace")
	res, body = c.do("GET", "/customers/"+id, "")
	if res.StatusCode != 200 || !strings.Contains(body, "Ada Lovelace") || !strings.Contains(body, "<!doctype html>") {
		t.Fatalf("show: %d", res.StatusCode)
	}
	res, body = c.do("GET", "/customers/"+id, "", "HX-Request", "true")
	if !strings.HasPrefix(body, `<section id="customer-detail"`) {
		t.Fatalf("show fragment: %s", body)
	}
	res, body = c.do("GET", "/customers/"+id+"/edit", "")
	if res.StatusCode != 200 || !strings.Contains(body, `value="Ada Lovelace"`) {
		t.Fatalf("edit form: %d", res.StatusCode)
	}

	// htmx create answers with HX-Location, plain PUT/POST updates with 303.
	res, _ = c.do("POST", "/customers", c.form("name", "Grace Hopper"), "HX-Request", "true")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("HX-Location"), `"path":"/customers/`) {
		t.Fatalf("htmx create: %d HX-Location %q", res.StatusCode, res.Header.Get("HX-Location"))
	}
	res, _ = c.do("PUT", "/customers/"+id, c.form("name", "Ada King"), "HX-Request", "true")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("HX-Location"), id) {
		t.Fatalf("htmx update: %d", res.StatusCode)
	}
	res, _ = c.do("POST", "/customers/"+id, c.form("name", "Ada King-Noel", "notes", "First programmer"))
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/customers/"+id {
		t.Fatalf("update: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = c.do("POST", "/customers/"+id, c.form("name", strings.Repeat("x", 201)))
	if res.StatusCode != fiber.StatusUnprocessableEntity {
		t.Fatalf("invalid update: %d", res.StatusCode)
	}

	// Search, as page and as fragment.
	res, body = c.do("GET", "/customers?q=king", "", "HX-Request", "true")
	if !strings.HasPrefix(body, `<div id="customer-results"`) || !strings.Contains(body, "Ada King-Noel") || strings.Contains(body, "Grace") {
		t.Fatalf("search fragment:\n%s", body)
	}

	// Delete: htmx DELETE empties the row; the plain form redirects to the list.
	res, body = c.do("DELETE", "/customers/"+id, "", "HX-Request", "true", "X-CSRF-Token", c.csrf)
	if res.StatusCode != 200 || body != "" {
		t.Fatalf("htmx delete: %d %q", res.StatusCode, body)
	}
	res, _ = c.do("GET", "/customers/"+id, "")
	if res.StatusCode != fiber.StatusNotFound {
		t.Fatalf("deleted customer: %d, want 404", res.StatusCode)
	}
	other := c.createCustomer("Linus")
	res, _ = c.do("POST", "/customers/"+other+"/delete", c.form())
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/customers" {
		t.Fatalf("form delete: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestListPaging(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	s := store.NewCustomers(e.db.Gorm)
	for i := 0; i < 30; i++ {
		if _, err := s.Create(a.Ctx, models.CustomerInput{Name: fmt.Sprintf("Customer %02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client()
	c.signIn(a.Email, password)
	_, body := c.do("GET", "/customers", "")
	if n := strings.Count(body, `data-testid="customer-row"`); n != 25 {
		t.Fatalf("first page has %d rows", n)
	}
	next := regexpFind(body, `href="(/customers\?[^"]*after=[^"]*)"`)
	if next == "" {
		t.Fatal("no next link")
	}
	_, body = c.do("GET", strings.ReplaceAll(next, "&amp;", "&"), "")
	if n := strings.Count(body, `data-testid="customer-row"`); n != 5 || !strings.Contains(body, "Customer 29") {
		t.Fatalf("second page has %d rows", n)
	}
	for _, q := range []string{"?page=0", "?page=-1", "?page=abc", "?after=%00%ff", "?page=99999999999999999999"} {
		res, body := c.do("GET", "/customers"+q, "")
		if res.StatusCode != 200 || !strings.Contains(body, "Customer 00") {
			t.Errorf("%s: %d, want the first page", q, res.StatusCode)
		}
	}
}

func TestSignUpSignInSignOut(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.do("GET", "/signup", "")
	preLogin := c.jar["moat_session"]
	res, body := c.do("POST", "/signup", c.form("organization", "Initech", "name", "Bill", "email", "bill@initech.test", "password", "short"))
	if res.StatusCode != fiber.StatusUnprocessableEntity || !strings.Contains(body, `data-testid="error-password"`) {
		t.Fatalf("short password: %d", res.StatusCode)
	}
	res, _ = c.do("POST", "/signup", c.form("organization", "Initech", "name", "Bill", "email", "bill@initech.test", "password", password))
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/signup/sent" {
		t.Fatalf("sign up: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, sent := c.do("GET", "/signup/sent", "")
	if !strings.Contains(sent, `data-testid="check-inbox"`) {
		t.Fatal("the answer does not say to check the inbox")
	}
	var tenants int
	e.db.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM tenants").Scan(&tenants)
	if tenants != 0 {
		t.Fatalf("%d tenants before the link was opened", tenants)
	}
	initech := e.mailedLink(t, "bill@initech.test", "/signup/confirm/")

	// The same address again, from another browser (a squatter, say): the same answer, and
	// nothing happens without the link, which goes to Bill.
	other := e.client()
	other.do("GET", "/signup", "")
	res, _ = other.do("POST", "/signup", other.form("organization", "Initrode", "name", "Bob", "email", "BILL@initech.test", "password", password))
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/signup/sent" {
		t.Fatalf("the same address again: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	initrode := e.mailedLink(t, "bill@initech.test", "/signup/confirm/")
	if initrode == initech {
		t.Fatal("both sign-ups mailed the same link")
	}

	res, body = c.do("GET", initech, "")
	if res.StatusCode != 200 || !strings.Contains(body, "Create organization") {
		t.Fatalf("the link's page: %d", res.StatusCode)
	}
	res, _ = c.do("POST", initech, c.form())
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/customers" {
		t.Fatalf("confirm: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	c.do("GET", "/customers", "") // as the browser follows the redirect
	if c.jar["moat_session"] == "" || c.jar["moat_session"] == preLogin {
		t.Fatal("sign-up kept the signed-out session id")
	}
	for _, h := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "moat_session=") && (!strings.Contains(h, "HttpOnly") || !strings.Contains(h, "SameSite=Lax")) {
			t.Errorf("session cookie %q lacks HttpOnly or SameSite=Lax", h)
		}
	}
	if res, _ := other.do("POST", initech, other.form()); res.StatusCode != fiber.StatusGone {
		t.Fatalf("a used link: %d, want 410", res.StatusCode)
	}
	e.db.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM tenants").Scan(&tenants)
	if tenants != 1 {
		t.Fatalf("%d tenants after one confirmed sign-up, want 1", tenants)
	}

	// Sign out ends the session on the server: the old cookie no longer works.
	session := c.jar["moat_session"]
	res, _ = c.do("POST", "/logout", c.form())
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	stale := e.client()
	stale.jar["moat_session"] = session
	res, _ = stale.do("GET", "/customers", "")
	if res.StatusCode != fiber.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("old session after sign-out: %d", res.StatusCode)
	}

	// Wrong password and unknown email: the same 401 page.
	c.do("GET", "/login", "")
	res1, body1 := c.do("POST", "/login", c.form("email", "bill@initech.test", "password", "wrong password!"))
	res2, body2 := c.do("POST", "/login", c.form("email", "nobody@initech.test", "password", "wrong password!"))
	if res1.StatusCode != 401 || res2.StatusCode != 401 {
		t.Fatalf("bad sign-ins: %d %d", res1.StatusCode, res2.StatusCode)
	}
	b1 := strings.ReplaceAll(normalize(res1, body1), "bill@initech.test", "<email>")
	b2 := strings.ReplaceAll(normalize(res2, body2), "nobody@initech.test", "<email>")
	if b1 != b2 {
		t.Fatalf("wrong password and unknown email answer differently:\n%s\n---\n%s", b1, b2)
	}
	before := c.jar["moat_session"]
	c.signIn("Bill@Initech.test", password)
	if c.jar["moat_session"] == before {
		t.Fatal("sign-in kept the session id")
	}

	// Bill opens the second link too: a second organization, owned by the same account, whose
	// password stays his. Signing in now asks which.
	res, _ = other.do("POST", initrode, other.form())
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("the second organization: %d", res.StatusCode)
	}
	c.do("POST", "/logout", c.form())
	c.do("GET", "/login", "")
	res, _ = c.do("POST", "/login", c.form("email", "bill@initech.test", "password", password))
	if res.Header.Get("Location") != "/login/organization" {
		t.Fatalf("an account in two organizations signs in to %q", res.Header.Get("Location"))
	}
}

func TestAuditPageIsForOwners(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	e.addMember(a, "member@acme.test")
	owner := e.client()
	owner.signIn(a.Email, password)
	owner.createCustomer("Audited Customer")

	member := e.client()
	member.signIn("member@acme.test", password)
	res, body := member.do("GET", "/audit", "")
	res2, body2 := member.do("GET", "/no-such-page", "")
	if res.StatusCode != 404 || normalize(res, body) != normalize(res2, body2) {
		t.Fatalf("member at /audit: %d, or a different page than an unknown URL's", res.StatusCode)
	}

	res, body = owner.do("GET", "/audit", "")
	if res.StatusCode != 200 {
		t.Fatalf("owner at /audit: %d", res.StatusCode)
	}
	for _, want := range []string{"customer.create", "page.view", "auth.sign_in", "acme Owner", "Member"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	res, body = owner.do("GET", "/audit?outcome=denied", "", "HX-Request", "true")
	if !strings.HasPrefix(body, `<div id="audit-results"`) || !strings.Contains(body, "page.view") || strings.Contains(body, "customer.create") {
		t.Fatalf("filtered audit fragment:\n%s", body)
	}
}

// Fiber's test harness reports an oversized body as an error instead of a response, so this
// one goes through a real listener.
func TestOversizedBodyIs413(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.app.Listener(ln)
	t.Cleanup(func() { e.app.Shutdown() })
	// Announce a body over the limit; the server must refuse before reading it.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /customers HTTP/1.1\r\nHost: moat\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nname=Big", server.BodyLimit+1)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != fiber.StatusRequestEntityTooLarge || !strings.Contains(string(raw), "Too much data") {
		t.Fatalf("oversized body: %d, want 413 with the error page\n%s", res.StatusCode, raw)
	}
}

func regexpFind(s, pattern string) string {
	m := regexpMust(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// A's request for B's record is a plain 404 to A and a denied view of an unknown record in A's
// trail; operators get a counter by route and a warning with request id, user and tenant.
func TestCrossTenantAttemptsReachOperatorsOnly(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	bc := e.client()
	bc.signIn(b.Email, password)
	foreign := bc.createCustomer("Globex Secret")
	ac := e.client()
	ac.signIn(a.Email, password)

	unknown := uuid.NewString()
	ac.do("GET", "/customers/"+unknown, "")
	// A's own customer in the trash is A's, not another tenant's.
	trashed := ac.trashedCustomer("Acme Trashed")
	ac.do("GET", "/customers/"+trashed, "")
	e.after.Wait()
	if got := testutil.ToFloat64(e.metrics.CrossTenant.WithLabelValues("/customers/:id")); got != 0 {
		t.Fatalf("an unknown id counted as cross-tenant: %v", got)
	}
	var ids []string
	for _, path := range []string{"/customers/" + foreign, "/customers/" + foreign + "/edit", "/customers/" + foreign} {
		res, _ := ac.do("GET", path, "")
		if res.StatusCode != 404 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		ids = append(ids, res.Header.Get("X-Request-ID"))
	}
	e.after.Wait()
	if got := testutil.ToFloat64(e.metrics.CrossTenant.WithLabelValues("/customers/:id")); got != 2 {
		t.Errorf("moat_cross_tenant_attempts_total{route=/customers/:id} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(e.metrics.CrossTenant.WithLabelValues("/customers/:id/edit")); got != 1 {
		t.Errorf("moat_cross_tenant_attempts_total{route=/customers/:id/edit} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(e.metrics.CrossTenantRepeats); got != 1 {
		t.Errorf("repeat attempts = %v, want 1 (the third within five minutes)", got)
	}

	warnings := 0
	for _, line := range strings.Split(e.log.String(), "\n") {
		if !strings.Contains(line, "cross-tenant access attempt") {
			continue
		}
		warnings++
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatal(err)
		}
		if entry["level"] != "WARN" || entry["user_id"] != a.UserID.String() || entry["tenant_id"] != a.Tenant.String() ||
			!slices.Contains(ids, entry["request_id"].(string)) {
			t.Errorf("warning lacks who and where: %s", line)
		}
	}
	if warnings != 3 {
		t.Errorf("%d cross-tenant warnings logged, want 3", warnings)
	}

	// A's trail: the same denied view for the foreign id as for the unknown one, nothing more.
	rows, err := e.db.Superuser(t).Query(context.Background(),
		"SELECT action, outcome, coalesce(details::text, '') FROM audit_events WHERE tenant_id = $1 AND entity_id IN ($2, $3) ORDER BY occurred_at",
		a.Tenant.UUID(), foreign, unknown)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for rows.Next() {
		var action, outcome, details string
		rows.Scan(&action, &outcome, &details)
		trail = append(trail, action+" "+outcome+" "+details)
	}
	want := []string{"customer.view denied ", "customer.view denied ", "customer.view denied ", "customer.view denied "}
	if !slices.Equal(trail, want) {
		t.Errorf("A's trail for the ids: %q, want %q", trail, want)
	}
	// B's trail does not learn of A's attempts.
	var inB int
	e.db.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND outcome = 'denied'", b.Tenant.UUID()).Scan(&inB)
	if inB != 0 {
		t.Errorf("B's trail shows %d denied rows", inB)
	}

	// No metric carries a tenant or user id.
	families, err := e.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	secret := []string{a.Tenant.String(), b.Tenant.String(), a.UserID.String(), b.UserID.String(), foreign}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				for _, s := range secret {
					if strings.Contains(l.GetValue(), s) {
						t.Errorf("metric %s label %s carries an id", f.GetName(), l.GetName())
					}
				}
			}
		}
	}
}
