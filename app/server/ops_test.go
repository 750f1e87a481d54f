package server_test

import (
	"context"
	"encoding/csv"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	if res, body := c.do("GET", "/healthz", ""); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("/healthz: %d %q", res.StatusCode, body)
	}
	if res, body := c.do("GET", "/readyz", ""); res.StatusCode != 200 || body != "ready" {
		t.Fatalf("/readyz: %d %q", res.StatusCode, body)
	}
	// A database behind the binary's migrations is not ready.
	if _, err := e.db.Superuser(t).Exec(context.Background(),
		"INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)"); err != nil {
		t.Fatal(err)
	}
	res, body := c.do("GET", "/readyz", "")
	if res.StatusCode != fiber.StatusServiceUnavailable || body != "not ready" || !strings.Contains(e.log.String(), "run moat migrate") {
		t.Fatalf("/readyz with a newer schema: %d %q, or the reason is not logged", res.StatusCode, body)
	}
	if res, _ := c.do("GET", "/healthz", ""); res.StatusCode != 200 {
		t.Fatal("/healthz depends on the database")
	}
}

func TestMetricsExposure(t *testing.T) {
	e := newEnv(t)
	e.metrics.RegisterPool(e.db.Pool)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	c.do("GET", "/customers", "")
	// Profiles live on the private metrics listener, when asked for, never on the public app.
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/profile", "/metrics"} {
		if res, _ := c.do("GET", path, ""); res.StatusCode != fiber.StatusNotFound {
			t.Errorf("the public app answers %s: %d", path, res.StatusCode)
		}
	}
	rec := httptest.NewRecorder()
	e.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`moat_http_requests_total{method="GET",route="/customers",status="200"}`,
		`moat_http_request_duration_seconds_bucket{method="GET",route="/customers"`,
		"moat_db_pool_connections_in_use", "moat_db_pool_waits_total", "go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, id := range []string{a.Tenant.String(), a.UserID.String()} {
		if strings.Contains(body, id) {
			t.Errorf("/metrics carries id %s", id)
		}
	}
}

func TestAuditTrailFiltersExportAndHistory(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	e.addMember(a, "mel@acme.test")
	owner := e.client()
	owner.signIn(a.Email, password)
	id := owner.createCustomer("Ada Lovelace")
	member := e.client()
	member.signIn("mel@acme.test", password)
	member.do("GET", "/customers/"+id+"/edit", "")
	if res, _ := member.do("POST", "/customers/"+id, member.form("name", "Ada King", "email", "ada@example.com")); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("member edit: %d", res.StatusCode)
	}

	// The customer's page shows who changed it, with before and after; views, which would crowd
	// the changes out, are folded into a line per person and day; managers are linked to the
	// trail of both.
	_, body := owner.do("GET", "/customers/"+id, "")
	for _, want := range []string{`data-testid="history-entry"`, "Member", "changed", "Ada Lovelace", "Ada King", "created", `data-testid="customer-trail"`} {
		if !strings.Contains(body, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	if strings.Count(body, `data-testid="timeline-views"`) != strings.Count(body, "viewed it") || strings.Contains(body, "viewed it</span>") {
		t.Error("the timeline lists views one by one")
	}
	if _, body := member.do("GET", "/customers/"+id, ""); strings.Contains(body, `data-testid="customer-trail"`) {
		t.Error("a member is linked to the trail")
	}
	_, body = owner.do("GET", "/audit?entity=customer&record="+id, "", "HX-Request", "true")
	if n := strings.Count(body, `data-testid="audit-row"`); n < 5 || !strings.Contains(body, "customer.view") || !strings.Contains(body, "Member") {
		t.Errorf("the record's trail: %d rows", n)
	}
	// Another tenant's owner asking for this record's trail gets what an unknown id gets.
	g := e.signUp("globex")
	rival := e.client()
	rival.signIn(g.Email, password)
	var answers []string
	for _, rec := range []string{id, uuid.NewString()} {
		res, body := rival.do("GET", "/audit?record="+rec, "", "HX-Request", "true")
		if res.StatusCode != 200 || strings.Count(body, `data-testid="audit-row"`) != 0 || !strings.Contains(body, `data-testid="empty-state"`) {
			t.Errorf("another tenant's trail for record %s: %d", rec, res.StatusCode)
		}
		answers = append(answers, strings.ReplaceAll(body, rec, "RECORD")) // links keep the filter asked for
	}
	if answers[0] != answers[1] {
		t.Error("another tenant's record answers unlike an unknown id")
	}
	other := owner.createCustomer("Someone Else")
	if _, body := owner.do("GET", "/audit?record="+id, "", "HX-Request", "true"); strings.Contains(body, other) {
		t.Error("the record's trail shows another record")
	}

	// Filters, all in the URL.
	_, body = owner.do("GET", "/audit?action=customer.update&outcome=allowed", "", "HX-Request", "true")
	if n := strings.Count(body, `data-testid="audit-row"`); n != 1 || !strings.Contains(body, "Member") {
		t.Fatalf("filtered trail: %d rows", n)
	}
	_, body = owner.do("GET", "/audit?entity=customer&from=2000-01-01&to=2000-01-31", "", "HX-Request", "true")
	if !strings.Contains(body, `data-testid="empty-state"`) {
		t.Fatal("a date range in the past shows events")
	}

	// Export: CSV of the filtered trail, itself audited.
	res, body := owner.do("GET", "/audit/export?entity=customer", "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) < 4 || records[0][3] != "action" {
		t.Fatalf("export has %d lines", len(records))
	}
	for _, r := range records[1:] {
		if r[4] != "customer" {
			t.Fatalf("export ignored the filter: %v", r)
		}
	}
	if !contains(e.trail(a.Tenant.String()), "audit.export allowed") {
		t.Fatal("the export is not audited")
	}
}

// The trail reads as sentences naming the tenant's records, and finds a customer's events by
// its name or number; another tenant's customer, by name or by id, reads like one that never
// existed. Owners see who viewed a customer, and who keeps being refused.
func TestTrailReadsAsSentences(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	mel := e.addMember(a, "mel@acme.test")
	owner := e.client()
	owner.signIn(a.Email, password)
	id := owner.createCustomer("Grace Hopper")
	member := e.client()
	member.signIn("mel@acme.test", password)
	member.do("GET", "/customers/"+id, "")
	member.do("GET", "/customers/"+id+"/edit", "")
	member.do("POST", "/customers/"+id, member.form("name", "Grace Brewster Hopper", "email", "grace@example.com"))
	g := e.signUp("globex")
	rival := e.client()
	rival.signIn(g.Email, password)
	theirs := rival.createCustomer("Secret Rival")
	for _, foreign := range []string{theirs, uuid.NewString()} {
		if res, _ := member.do("GET", "/customers/"+foreign, ""); res.StatusCode != fiber.StatusNotFound {
			t.Fatalf("member opened %s: %d", foreign, res.StatusCode)
		}
	}

	_, body := owner.do("GET", "/audit?person="+mel, "", "HX-Request", "true")
	body = strings.Join(strings.Fields(body), " ")
	for _, want := range []string{
		`Member</span> changed <a href="/customers/` + id + `"`, "name Grace Hopper → Grace Brewster Hopper",
		"tried to view <span class=\"font-medium\">an unknown record</span>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the trail lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Secret Rival") {
		t.Error("the trail names another tenant's customer")
	}

	// By a customer's name or number; another tenant's name matches nothing, like a made-up one.
	for _, words := range []string{"grace", "C-00001"} {
		_, body = owner.do("GET", "/audit?action=customer.view&customer="+url.QueryEscape(words), "", "HX-Request", "true")
		if n := strings.Count(body, `data-testid="audit-row"`); n != 2 || !strings.Contains(body, "the one customer that matches") { // the page and the edit form
			t.Errorf("customer %q: %d views\n%s", words, n, body)
		}
	}
	var answers []string
	for _, words := range []string{"Secret Rival", "Nobody At All"} {
		_, body = owner.do("GET", "/audit?customer="+url.QueryEscape(words), "", "HX-Request", "true")
		if !strings.Contains(body, `data-testid="empty-state"`) || !strings.Contains(body, "No customer’s name or number matches") {
			t.Errorf("customer %q matched:\n%s", words, body)
		}
		answers = append(answers, strings.ReplaceAll(body, url.QueryEscape(words), "WORDS"))
		answers[len(answers)-1] = strings.ReplaceAll(answers[len(answers)-1], words, "WORDS")
	}
	if answers[0] != answers[1] {
		t.Error("another tenant's customer name answers unlike a made-up one")
	}

	// Words PostgreSQL could not take (a NUL, a byte that is not UTF-8) are dropped, not a 500.
	for _, words := range []string{"%00", "%ff", "gr%00ace"} {
		if res, _ := owner.do("GET", "/audit?customer="+words, "", "HX-Request", "true"); res.StatusCode != fiber.StatusOK {
			t.Errorf("customer words %s: %d", words, res.StatusCode)
		}
	}

	// Refused only, with who was refused how often.
	_, body = owner.do("GET", "/audit?what=refused", "", "HX-Request", "true")
	if !strings.Contains(body, `data-testid="audit-refusals"`) || !strings.Contains(body, "2 refusals") || strings.Contains(body, "changed <a") {
		t.Errorf("refusals:\n%s", body)
	}

	// Owners see who viewed the customer; members do not.
	_, body = owner.do("GET", "/customers/"+id, "")
	if !strings.Contains(body, `data-testid="viewed-by"`) || !strings.Contains(body, "Member</a>") {
		t.Error("the owner does not see who viewed the customer")
	}
	if _, body = member.do("GET", "/customers/"+id, ""); strings.Contains(body, `data-testid="viewed-by"`) {
		t.Error("a member sees who viewed the customer")
	}
}

// /readyz fails when a stock balance differs from its ledger, and says why in the log only.
func TestReadinessChecksTheStockLedger(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	c.receive(c.createProduct("READY-1"), "2")
	if _, err := e.db.Superuser(t).Exec(context.Background(), "UPDATE stock_balances SET on_hand = on_hand + 1"); err != nil {
		t.Fatal(err)
	}
	// The ledger's check runs in the background, started by a probe: a later probe reports it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, body := c.do("GET", "/readyz", "")
		if res.StatusCode == fiber.StatusServiceUnavailable && body == "not ready" && strings.Contains(e.log.String(), "1 stock balance(s) differ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with a balance off its ledger: %d %q, or the reason is not logged", res.StatusCode, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
