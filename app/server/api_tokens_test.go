package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"moat/app/server"
	"moat/app/token"
)

var tokenSecret = regexp.MustCompile(`value="(moat_[0-9A-Za-z]+)"`)

// An owner makes a token on the settings page, sees its secret once, and Moat keeps only its
// hash; its use shows as last used; revoking it, its expiry and its person's deactivation each
// stop it at once, and each refused use lands in the trail.
func TestAPITokenLifecycle(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	c.do("GET", "/settings/api-tokens", "")
	res, body := c.do("POST", "/settings/api-tokens", c.form("name", "Shop sync", "scope_customers", "write", "scope_invoices", "read",
		"scope_products", "none", "expires_in", "30"))
	m := tokenSecret.FindStringSubmatch(body)
	if res.StatusCode != 201 || m == nil || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("make a token: %d, secret shown: %v", res.StatusCode, m != nil)
	}
	secret := m[1]
	if !token.ValidAPI(secret) {
		t.Fatalf("the page shows %q, not a token", secret)
	}
	_, list := c.do("GET", "/settings/api-tokens", "")
	if strings.Contains(list, secret) || !strings.Contains(list, secret[:9]) || !strings.Contains(list, "never") {
		t.Fatal("the list shows the secret, or not its prefix and that it was never used")
	}
	var row string
	if err := e.db.Superuser(t).QueryRow(context.Background(), "SELECT t::text FROM api_tokens t WHERE tenant_id = $1", a.Tenant.UUID()).Scan(&row); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row, secret[9:]) || !strings.Contains(row, token.Hash(secret)) {
		t.Fatalf("the stored token holds its secret, or not its hash: %s", row)
	}

	e.api(t, "GET", "/api/v1/customers", secret, "", "X-Forwarded-For", "203.0.113.9").must(t, 200)
	e.api(t, "GET", "/api/v1/invoices", secret, "").must(t, 200)
	e.api(t, "GET", "/api/v1/products", secret, "").must(t, 403)
	e.api(t, "POST", "/api/v1/invoices", secret, `{"customer_id":"x","lines":[]}`).must(t, 403)
	if _, list = c.do("GET", "/settings/api-tokens", ""); !strings.Contains(list, "from 0.0.0.0") && !strings.Contains(list, " UTC") {
		t.Fatal("the list does not show the token's last use")
	}

	// Revoked on the page: the next call is refused, and the refusal is in the trail.
	var id string
	if err := e.db.Superuser(t).QueryRow(context.Background(), "SELECT id::text FROM api_tokens WHERE tenant_id = $1", a.Tenant.UUID()).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.do("POST", "/settings/api-tokens/"+id+"/revoke", c.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	got := e.api(t, "GET", "/api/v1/customers", secret, "").must(t, 401)
	if !strings.Contains(got.Raw, "revoked") || got.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("a revoked token: %s %v", got.Raw, got.Header)
	}

	// Expired.
	expiring := e.apiToken(a, "read", "none", "none")
	e.api(t, "GET", "/api/v1/customers", expiring, "").must(t, 200)
	if _, err := e.db.Superuser(t).Exec(context.Background(),
		"UPDATE api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE token_hash = $1", token.Hash(expiring)); err != nil {
		t.Fatal(err)
	}
	if got := e.api(t, "GET", "/api/v1/customers", expiring, "").must(t, 401); !strings.Contains(got.Raw, "expired") {
		t.Fatalf("an expired token: %s", got.Raw)
	}

	// Its person deactivated: their tokens stop, and stay stopped when they come back.
	memberID := e.addMember(a, "member@acme.test")
	if _, err := e.db.Superuser(t).Exec(context.Background(), "UPDATE users SET role = 'admin' WHERE id = $1", memberID); err != nil {
		t.Fatal(err)
	}
	mc := e.client()
	mc.signIn("member@acme.test", password)
	mc.do("GET", "/settings/api-tokens", "")
	_, body = mc.do("POST", "/settings/api-tokens", mc.form("name", "Admin script", "scope_customers", "read", "expires_in", "0"))
	adminToken := tokenSecret.FindStringSubmatch(body)[1]
	e.api(t, "GET", "/api/v1/customers", adminToken, "").must(t, 200)
	c.do("GET", "/team", "")
	if res, _ := c.do("POST", "/team/"+memberID+"/deactivate", c.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	e.api(t, "GET", "/api/v1/customers", adminToken, "").must(t, 401)
	c.do("GET", "/team", "")
	c.do("POST", "/team/"+memberID+"/reactivate", c.form())
	e.api(t, "GET", "/api/v1/customers", adminToken, "").must(t, 401)

	var refused int
	if err := e.db.Superuser(t).QueryRow(context.Background(),
		"SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'api_token.use' AND outcome = 'denied'", a.Tenant.UUID()).Scan(&refused); err != nil {
		t.Fatal(err)
	}
	if refused != 4 {
		t.Fatalf("%d refused uses in the trail, want 4", refused)
	}
	for _, action := range []string{"api_token.create", "api_token.revoke"} {
		var n int
		if err := e.db.Superuser(t).QueryRow(context.Background(),
			"SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = $2 AND outcome = 'allowed'", a.Tenant.UUID(), action).Scan(&n); err != nil || n == 0 {
			t.Fatalf("%s is not in the trail: %v", action, err)
		}
	}
}

// A member cannot see or use the token page: it answers like a page that does not exist.
func TestAPITokensAreForOwnersAndAdmins(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	e.addMember(a, "member@acme.test")
	c := e.client()
	c.signIn("member@acme.test", password)
	for _, r := range []struct{ method, path string }{{"GET", "/settings/api-tokens"}, {"POST", "/settings/api-tokens"}} {
		if res, _ := c.do(r.method, r.path, c.form("name", "Mine", "scope_customers", "write")); res.StatusCode != 404 {
			t.Fatalf("%s %s as a member: %d", r.method, r.path, res.StatusCode)
		}
	}
}

// Only a token authenticates the API, and a token authenticates nothing else: a signed-in
// browser's cookies reach no API data, a token opens no page, and a mistyped token is refused
// before the database is asked.
func TestAPIAndPagesKeepTheirOwnCredentials(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	c.createCustomer("Cookie Monster")
	if res, body := c.do("GET", "/api/v1/customers", ""); res.StatusCode != 401 || strings.Contains(body, "Cookie Monster") {
		t.Fatalf("a session cookie on the API: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", "/api/v1/customers", `{"name":"Via cookie"}`, "Content-Type", "application/json", "X-CSRF-Token", c.csrf); res.StatusCode != 401 {
		t.Fatalf("a session cookie writing through the API: %d", res.StatusCode)
	}
	tok := e.apiToken(a, "write", "write", "write")
	page := e.client()
	for _, path := range []string{"/customers", "/invoices", "/settings/api-tokens"} {
		if res, _ := page.do("GET", path, "", "Authorization", "Bearer "+tok); res.StatusCode != fiber.StatusSeeOther {
			t.Fatalf("a token on %s: %d, want the sign-in redirect", path, res.StatusCode)
		}
	}
	// Mistyped, truncated, another scheme, none: 401, and only a well-formed token costs a lookup.
	typo := []byte(tok)
	typo[10] ^= 1
	for _, bad := range []string{string(typo), tok[:len(tok)-1], "moat_" + strings.Repeat("0", 36), ""} {
		var got apiCall
		stmts := e.statements(func() { got = e.api(t, "GET", "/api/v1/customers", bad, "") })
		got.must(t, 401)
		if got.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("a 401 that is not a problem: %v", got.Header)
		}
		if len(stmts) > 0 {
			t.Fatalf("token %.12q: the database was asked: %v", bad, stmts)
		}
	}
	if got := e.api(t, "GET", "/api/v1/customers", "", "", "Authorization", "Basic "+tok); got.Status != 401 {
		t.Fatalf("Basic auth: %d", got.Status)
	}
	if got := testutil.ToFloat64(e.metrics.APIRefused.WithLabelValues("unknown")); got < 5 {
		t.Fatalf("refused tokens counted %v times", got)
	}
	// The API's own unknown paths answer JSON, and its document is public.
	if got := e.api(t, "GET", "/api/v1/nothing-here", tok, ""); got.Status != 404 || got.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unknown API path: %d %v", got.Status, got.Header)
	}
	if got := e.api(t, "GET", "/api/v1/openapi.json", "", ""); got.Status != 200 || !strings.Contains(got.Raw, `"openapi":"3.1`) {
		t.Fatalf("the OpenAPI document: %d", got.Status)
	}
	if got := e.api(t, "GET", "/api/v1/docs", "", ""); got.Status != 200 || !strings.Contains(got.Raw, "/static/swagger-ui/swagger-ui-bundle.js") {
		t.Fatalf("the docs page: %d", got.Status)
	}
}

// A POST with an Idempotency-Key runs once: a retry gets the first answer again, the same key
// with another request is refused, and a key whose request still runs is a conflict. Keys are
// each token's own.
func TestAPIIdempotencyKeys(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	tok := e.apiToken(a, "write", "none", "none")
	other := e.apiToken(a, "write", "none", "none")
	count := func() int {
		var n int
		if err := e.db.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM customers WHERE tenant_id = $1", a.Tenant.UUID()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	body := `{"name":"Once Only"}`
	first := e.api(t, "POST", "/api/v1/customers", tok, body, "Idempotency-Key", "k-1").must(t, 201)
	retry := e.api(t, "POST", "/api/v1/customers", tok, body, "Idempotency-Key", "k-1").must(t, 201)
	if retry.Raw != first.Raw || retry.Header.Get("Location") != first.Header.Get("Location") || retry.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the retry answered otherwise:\n%s\n%s", first.Raw, retry.Raw)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d customers after a retry", n)
	}
	if got := e.api(t, "POST", "/api/v1/customers", tok, `{"name":"Another"}`, "Idempotency-Key", "k-1"); got.Status != 422 ||
		!strings.Contains(got.Raw, "header.Idempotency-Key") {
		t.Fatalf("the key with another body: %d %s", got.Status, got.Raw)
	}
	e.api(t, "POST", "/api/v1/customers", other, body, "Idempotency-Key", "k-1").must(t, 201)
	if n := count(); n != 2 {
		t.Fatalf("another token's key ran %d times", n-1)
	}
	// A refusal is an answer too: replayed, not run again.
	bad := e.api(t, "POST", "/api/v1/customers", tok, `{"name":""}`, "Idempotency-Key", "k-2").must(t, 422)
	if again := e.api(t, "POST", "/api/v1/customers", tok, `{"name":""}`, "Idempotency-Key", "k-2").must(t, 422); again.Raw != bad.Raw ||
		again.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("a replayed refusal: %s", again.Raw)
	}
	// A request still running: simulated by a claim without an answer.
	if _, err := e.db.Superuser(t).Exec(context.Background(), `INSERT INTO api_idempotency (tenant_id, token_id, key, request, created_at)
		SELECT tenant_id, id, 'k-3', $2, now() FROM api_tokens WHERE token_hash = $1`, token.Hash(tok), strings.Repeat("0", 64)); err != nil {
		t.Fatal(err)
	}
	if got := e.api(t, "POST", "/api/v1/customers", tok, `{"name":"Racing"}`, "Idempotency-Key", "k-3"); got.Status != 422 {
		t.Fatalf("a running key with another body: %d", got.Status)
	}
	if _, err := e.db.Superuser(t).Exec(context.Background(), `UPDATE api_idempotency SET request = encode(sha256(convert_to('POST /api/v1/customers'
		|| chr(10) || '{"name":"Racing"}', 'UTF8')), 'hex') WHERE key = 'k-3'`); err != nil {
		t.Fatal(err)
	}
	if got := e.api(t, "POST", "/api/v1/customers", tok, `{"name":"Racing"}`, "Idempotency-Key", "k-3"); got.Status != 409 {
		t.Fatalf("a running key: %d %s", got.Status, got.Raw)
	}
	// Concurrent retries: one runs, the others wait for it or are told it runs.
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.api(t, "POST", "/api/v1/customers", tok, `{"name":"Stampede"}`, "Idempotency-Key", "k-4").Status
		}()
	}
	wg.Wait()
	var stampede int
	if err := e.db.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM customers WHERE tenant_id = $1 AND name = 'Stampede'", a.Tenant.UUID()).Scan(&stampede); err != nil {
		t.Fatal(err)
	}
	if stampede != 1 || !slices.Contains(statuses, 201) || slices.ContainsFunc(statuses, func(s int) bool { return s != 201 && s != 409 }) {
		t.Fatalf("six concurrent tries made %d customers, answered %v", stampede, statuses)
	}
	if got := e.api(t, "POST", "/api/v1/customers", tok, body, "Idempotency-Key", strings.Repeat("k", 256)); got.Status != 422 {
		t.Fatalf("an oversized key: %d", got.Status)
	}
}

// Paging by cursor visits every customer exactly once, in every order and direction, while
// the limit holds; a cursor of another order, or a limit out of range, is refused.
func TestAPIPagingIsStableInEveryOrder(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	tok := e.apiToken(a, "write", "none", "none")
	var ids []string
	for i := range 11 {
		// Equal names and companies: the id breaks ties.
		ids = append(ids, e.api(t, "POST", "/api/v1/customers", tok, fmt.Sprintf(`{"name":"Same Name","company":"Co %d","emails":[{"type":"work","value":"p%d@x.test"}]}`, i%3, i)).must(t, 201).str("id"))
	}
	for _, sort := range []string{"name", "number", "email", "company", "created"} {
		for _, order := range []string{"asc", "desc"} {
			var seen []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatalf("%s %s: paging does not end", sort, order)
				}
				path := "/api/v1/customers?limit=4&sort=" + sort + "&order=" + order
				if cursor != "" {
					path += "&starting_after=" + cursor
				}
				got := e.api(t, "GET", path, tok, "").must(t, 200)
				data, _ := got.Body["data"].([]any)
				if len(data) > 4 {
					t.Fatalf("%d rows with limit 4", len(data))
				}
				for _, row := range data {
					seen = append(seen, row.(map[string]any)["id"].(string))
				}
				if got.Body["has_more"] != true {
					break
				}
				cursor = got.str("next_cursor")
			}
			sorted := slices.Sorted(slices.Values(seen))
			if !slices.Equal(sorted, slices.Sorted(slices.Values(ids))) {
				t.Fatalf("%s %s: visited %d customers, %d distinct, want each of %d once", sort, order, len(seen), len(slices.Compact(sorted)), len(ids))
			}
		}
	}
	first := e.api(t, "GET", "/api/v1/customers?limit=2&sort=name", tok, "").must(t, 200)
	for _, bad := range []string{"?sort=email&starting_after=" + first.str("next_cursor"), "?sort=name&order=desc&starting_after=" + first.str("next_cursor"),
		"?starting_after=garbage", "?limit=0", "?limit=101", "?sort=tenant_id"} {
		if got := e.api(t, "GET", "/api/v1/customers"+bad, tok, ""); got.Status != 422 {
			t.Fatalf("%s: %d, want 422", bad, got.Status)
		}
	}
}

// Each token may make so many requests a minute, counted in PostgreSQL, so that two app
// servers count together; beyond it the API answers 429 with Retry-After.
func TestAPIRateLimitIsPerTokenAcrossServers(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	var tok string
	other := e.apiToken(a, "read", "none", "none")
	servers := []*fiber.App{}
	for range 2 {
		servers = append(servers, server.New(e.db.DB, server.Options{Log: slog.New(slog.DiscardHandler), After: e.after, Metrics: e.metrics, SessionIdle: time.Hour, SessionAbsolute: time.Hour,
			Now: e.clock.Now, Printer: printer, APIRate: 5}))
	}
	var statuses []int
	withinOneMinute(t, func() {
		tok, statuses = e.apiToken(a, "read", "none", "none"), nil
		for i := range 7 {
			e.app = servers[i%2]
			got := e.api(t, "GET", "/api/v1/customers", tok, "")
			statuses = append(statuses, got.Status)
			if got.Status == 200 && got.Header.Get("X-RateLimit-Remaining") != fmt.Sprint(4-i) {
				t.Fatalf("request %d: %v remaining", i+1, got.Header.Get("X-RateLimit-Remaining"))
			}
			if got.Status == 429 && (got.Header.Get("Retry-After") == "" || got.Header.Get("Content-Type") != "application/problem+json") {
				t.Fatalf("a 429 without Retry-After: %v", got.Header)
			}
		}
	})
	if !slices.Equal(statuses, []int{200, 200, 200, 200, 200, 429, 429}) {
		t.Fatalf("statuses %v: two servers did not count together", statuses)
	}
	e.api(t, "GET", "/api/v1/customers", other, "").must(t, 200)

	// A larger limit is leased a few requests at a time: the servers together never pass it,
	// and hold a token back early by at most a lease each.
	var busy string
	servers = servers[:0]
	for range 2 {
		servers = append(servers, server.New(e.db.DB, server.Options{Log: slog.New(slog.DiscardHandler), After: e.after, Metrics: e.metrics,
			SessionIdle: time.Hour, SessionAbsolute: time.Hour, Now: e.clock.Now, Printer: printer, APIRate: 100}))
	}
	ok := 0
	withinOneMinute(t, func() {
		busy, ok = e.apiToken(a, "read", "none", "none"), 0
		for i := range 120 {
			e.app = servers[i%2]
			if e.api(t, "GET", "/api/v1/tags", busy, "").Status == 200 {
				ok++
			}
		}
	})
	if ok > 100 || ok < 100-2 {
		t.Fatalf("%d of 120 requests passed a limit of 100 across two servers", ok)
	}
}

// withinOneMinute runs f again, up to three times, until one run starts and ends in the same
// minute of the clock: rate limits count by the minute.
func withinOneMinute(t *testing.T, f func()) {
	t.Helper()
	for range 3 {
		start := time.Now().Truncate(time.Minute)
		f()
		if time.Now().Truncate(time.Minute).Equal(start) {
			return
		}
	}
	t.Fatal("three runs in a row straddled a minute")
}

// A token hash is unique within its tenant only, so that a shard can check it (migration
// 00030). Should two tenants' tokens ever share one, neither authenticates: the lookup never
// picks one of them.
func TestASharedTokenHashAuthenticatesNobody(t *testing.T) {
	e := newEnv(t)
	a, g := e.signUp("acme"), e.signUp("globex")
	tok := e.apiToken(a, "read", "none", "none")
	e.apiToken(g, "read", "none", "none")
	e.api(t, "GET", "/api/v1/customers", tok, "").must(t, 200)
	// Read, then written: Citus plans no subquery across two tenants' shards.
	su, ctx := e.db.Superuser(t), context.Background()
	var hash string
	if err := su.QueryRow(ctx, "SELECT token_hash FROM api_tokens WHERE tenant_id = $1", a.Tenant.UUID()).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if _, err := su.Exec(ctx, "UPDATE api_tokens SET token_hash = $1 WHERE tenant_id = $2", hash, g.Tenant.UUID()); err != nil {
		t.Fatal(err)
	}
	e.api(t, "GET", "/api/v1/customers", tok, "").must(t, 401)
}
