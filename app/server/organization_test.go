package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

var exportLink = regexp.MustCompile(`href="(/settings/exports/[0-9a-f-]{36})"`)

// An owner exports everything through the page: asked for, built in the background while the
// page polls, downloaded as a ZIP by that owner alone.
func TestFullExportThroughThePage(t *testing.T) {
	e := newEnv(t)
	e.work()
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	c.createCustomer("Ada Lovelace")
	memberEmail := "member-" + suffix() + "@acme.test"
	e.addMember(a, memberEmail)

	if _, page := c.do("GET", "/settings/organization", ""); !strings.Contains(page, "Export everything") || !strings.Contains(page, "Close the organization") {
		t.Fatal("the organization page lacks its export and its closing")
	}
	if res, _ := c.do("POST", "/settings/exports", c.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("asking for an export: %d", res.StatusCode)
	}
	var link string
	deadline := time.Now().Add(30 * time.Second)
	for link == "" && time.Now().Before(deadline) {
		_, list := c.do("GET", "/settings/exports", "", "HX-Request", "true")
		if m := exportLink.FindStringSubmatch(list); m != nil {
			link = m[1]
		} else if !strings.Contains(list, `hx-trigger="every 2s"`) {
			t.Fatalf("the list stopped polling with no download:\n%s", list)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if link == "" {
		t.Fatal("the export was never ready")
	}
	res, body := c.do("GET", link, "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("download: %d %v", res.StatusCode, res.Header)
	}
	z, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
	if err != nil {
		t.Fatalf("the download is not a ZIP: %v", err)
	}
	found := false
	for _, f := range z.File {
		found = found || f.Name == "customers.csv"
	}
	if !found {
		t.Fatal("the ZIP has no customers.csv")
	}

	// A member sees neither the page nor the file; another tenant's owner gets the same 404.
	m := e.client()
	m.signIn(memberEmail, password)
	for _, path := range []string{"/settings/organization", link} {
		if res, _ := m.do("GET", path, ""); res.StatusCode != fiber.StatusNotFound {
			t.Fatalf("a member's GET %s: %d", path, res.StatusCode)
		}
	}
	b := e.signUp("globex")
	o := e.client()
	o.signIn(b.Email, password)
	_, unknown := o.do("GET", "/settings/exports/"+suffix()+"-0000-4000-8000-000000000000", "")
	if res, foreign := o.do("GET", link, ""); res.StatusCode != fiber.StatusNotFound || scrub(foreign) != scrub(unknown) {
		t.Fatalf("another tenant's export: %d", res.StatusCode)
	}
}

// scrub takes out what differs between any two answers: request ids and CSRF tokens.
func scrub(page string) string {
	return regexp.MustCompile(`(content|value)="[A-Za-z0-9_-]{20,}"|[0-9a-f]{8}-[0-9a-f-]{27}`).ReplaceAllString(page, "")
}

// Closing signs everyone out at once; then only an owner may sign in, and lands where the
// closing is cancelled.
func TestClosingTheOrganizationThroughThePage(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	memberEmail := "member-" + suffix() + "@acme.test"
	e.addMember(a, memberEmail)
	m := e.client()
	m.signIn(memberEmail, password)

	c.do("GET", "/settings/organization", "")
	if res, body := c.do("POST", "/settings/close", c.form("confirm_name", "ACME")); res.StatusCode != fiber.StatusUnprocessableEntity ||
		!strings.Contains(body, "exactly as it is shown") {
		t.Fatalf("closing with a mistyped name: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", "/settings/close", c.form("confirm_name", "acme")); res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("closing: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	for _, who := range []*client{c, m} {
		if res, _ := who.do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther {
			t.Fatalf("a session outlived the closing: %d", res.StatusCode)
		}
	}
	var jobs int
	if err := e.db.Superuser(t).QueryRow(context.Background(), `SELECT count(*) FROM river.river_job WHERE kind = 'organization.purge'
		AND args->>'tenant' = $1 AND scheduled_at > now() + interval '29 days'`, a.Tenant.String()).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("the deletion is not scheduled 30 days out: %d (%v)", jobs, err)
	}

	m.do("GET", "/login", "")
	if res, body := m.do("POST", "/login", m.form("email", memberEmail, "password", password)); res.StatusCode != fiber.StatusForbidden ||
		!strings.Contains(body, "is closing") {
		t.Fatalf("a member signing in to a closing organization: %d", res.StatusCode)
	}
	c.do("GET", "/login", "")
	if res, _ := c.do("POST", "/login", c.form("email", a.Email, "password", password)); res.StatusCode != fiber.StatusSeeOther ||
		res.Header.Get("Location") != "/settings/organization" {
		t.Fatalf("an owner signing in to a closing organization: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if _, page := c.do("GET", "/settings/organization", ""); !strings.Contains(page, "This organization is closing") {
		t.Fatal("the page does not say the organization is closing")
	}
	if res, _ := c.do("POST", "/settings/reopen", c.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("reopening: %d", res.StatusCode)
	}
	m.signIn(memberEmail, password)
}

// Erasing a customer's personal data from its page: owners and admins only, with a reason.
func TestErasingACustomerThroughThePage(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	id := c.createCustomer("Grace Hopper")
	memberEmail := "member-" + suffix() + "@acme.test"
	e.addMember(a, memberEmail)
	m := e.client()
	m.signIn(memberEmail, password)
	if _, page := m.do("GET", "/customers/"+id, ""); strings.Contains(page, "Erase personal data") {
		t.Fatal("a member is offered the erasure")
	}
	if res, _ := m.do("POST", "/customers/"+id+"/erase", m.form("reason", "asked")); res.StatusCode != fiber.StatusNotFound {
		t.Fatalf("a member's erasure: %d", res.StatusCode)
	}
	if res, body := c.do("POST", "/customers/"+id+"/erase", c.form("reason", "")); res.StatusCode != fiber.StatusUnprocessableEntity || !strings.Contains(body, "Say why") {
		t.Fatalf("an erasure without a reason: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", "/customers/"+id+"/erase", c.form("reason", "Asked by email")); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("the erasure: %d", res.StatusCode)
	}
	if _, page := c.do("GET", "/customers/"+id, ""); strings.Contains(page, "Grace Hopper") || !strings.Contains(page, "Personal data erased") {
		t.Fatal("the customer page still shows the erased name")
	}
}

// When its time comes a closed organization is deleted by the job its closing scheduled, or
// else by the hourly sweep, which also runs when the workers start.
func TestAClosedOrganizationIsDeletedWhenItsTimeComes(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	c.createCustomer("Ada Lovelace")
	c.do("GET", "/settings/organization", "")
	if res, _ := c.do("POST", "/settings/close", c.form("confirm_name", "acme")); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("closing: %d", res.StatusCode)
	}
	su := e.db.Superuser(t)
	// The scheduled job is lost; the closing's week has passed.
	if _, err := su.Exec(context.Background(), "DELETE FROM river.river_job WHERE kind = 'organization.purge'"); err != nil {
		t.Fatal(err)
	}
	// The new times are worked out here: Citus computes no time from a column in an UPDATE.
	var requested, deleteAfter time.Time
	if err := su.QueryRow(context.Background(), "SELECT requested_at, delete_after FROM tenant_closures WHERE tenant_id = $1",
		a.Tenant.UUID()).Scan(&requested, &deleteAfter); err != nil {
		t.Fatal(err)
	}
	month := 31 * 24 * time.Hour
	if _, err := su.Exec(context.Background(), "UPDATE tenant_closures SET requested_at = $1, delete_after = $2 WHERE tenant_id = $3",
		requested.Add(-month), deleteAfter.Add(-month), a.Tenant.UUID()); err != nil {
		t.Fatal(err)
	}
	e.work()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left, closed int
		if err := su.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM tenants WHERE id = $1), (SELECT count(*) FROM closed_tenants WHERE id = $1)",
			a.Tenant.String()).Scan(&left, &closed); err != nil {
			t.Fatal(err)
		}
		if left == 0 && closed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweep never deleted the organization")
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.do("GET", "/login", "")
	if res, _ := c.do("POST", "/login", c.form("email", a.Email, "password", password)); res.StatusCode != fiber.StatusUnauthorized {
		t.Fatalf("signing in to a deleted organization: %d", res.StatusCode)
	}
}
