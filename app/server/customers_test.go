package server_test

import (
	"encoding/csv"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// A bulk action first answers with a confirmation naming the count, acts only when confirmed,
// and then goes back to the list it came from (never elsewhere).
func TestBulkActionsConfirmThenAct(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	bc := e.client()
	bc.signIn(b.Email, password)
	foreign := bc.createCustomer("Globex Bulk")
	c := e.client()
	c.signIn(a.Email, password)
	one, two := c.createCustomer("Bulk One"), c.createCustomer("Bulk Two")
	c.createCustomer("Stays")
	tag := c.createTag("Chosen")

	form := []string{"id", one, "id", two, "id", foreign, "action", "tag", "bulk_tag", tag, "return", "//evil.example/customers"}
	res, body := c.do("POST", "/customers/bulk", c.form(form...))
	if res.StatusCode != 200 || !strings.Contains(body, "This applies to 2 customers.") || !strings.Contains(body, "Add the tag “Chosen”") {
		t.Fatalf("confirmation: %d\n%s", res.StatusCode, body)
	}
	if _, list := c.do("GET", "/customers?tag="+tag, ""); strings.Contains(list, "Bulk One") {
		t.Fatal("the tag was added before confirmation")
	}
	res, _ = c.do("POST", "/customers/bulk", c.form(append(form, "confirm", "yes")...))
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/customers" {
		t.Fatalf("confirmed: %d to %q, want the list", res.StatusCode, res.Header.Get("Location"))
	}
	_, list := c.do("GET", "/customers?tag="+tag, "")
	if !strings.Contains(list, "Bulk One") || !strings.Contains(list, "Bulk Two") || strings.Contains(list, "Stays") || !strings.Contains(list, "2 customers") {
		t.Fatalf("tagged list:\n%s", list)
	}

	// All that match a filter: the count is the filter's, inside the tenant.
	all := []string{"all", "1", "q", "bulk", "action", "trash"}
	if _, body := c.do("POST", "/customers/bulk", c.form(all...)); !strings.Contains(body, "Move 2 customers to the trash?") {
		t.Fatalf("all that match:\n%s", body)
	}
	res, _ = c.do("POST", "/customers/bulk", c.form(append(all, "confirm", "yes", "return", "/customers?q=bulk")...), "HX-Request", "true")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("HX-Location"), `"path":"/customers?q=bulk"`) || !strings.Contains(res.Header.Get("HX-Trigger"), "2 customers moved to the trash.") {
		t.Fatalf("htmx confirm: %d %q %q", res.StatusCode, res.Header.Get("HX-Location"), res.Header.Get("HX-Trigger"))
	}
	if _, body := c.do("GET", "/customers", ""); !strings.Contains(body, "1 customer<") {
		t.Fatalf("after bulk trash:\n%s", body)
	}

	// Nothing selected, or no action: 422 and nothing done.
	for _, f := range [][]string{{"action", "trash"}, {"id", one}, {"id", foreign, "action", "trash"}, {"id", two, "action", "tag", "bulk_tag", "not-a-tag"}} {
		if res, _ := c.do("POST", "/customers/bulk", c.form(append(f, "confirm", "yes")...)); res.StatusCode != fiber.StatusUnprocessableEntity {
			t.Errorf("%v: %d, want 422", f, res.StatusCode)
		}
	}
	if _, body := bc.do("GET", "/customers", ""); !strings.Contains(body, "Globex Bulk") {
		t.Fatal("B's customer was touched")
	}
}

// Export is CSV of the selection, inside the tenant.
func TestExportIsTheTenantsCSV(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	bc := e.client()
	bc.signIn(b.Email, password)
	foreign := bc.createCustomer("Globex Export")
	c := e.client()
	c.signIn(a.Email, password)
	mine := c.createCustomer("Acme Export")
	res, body := c.do("POST", "/customers/export", c.form("id", mine, "id", foreign))
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %q", res.StatusCode, res.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][1] != "Acme Export" {
		t.Fatalf("export rows %v %q", err, rows)
	}
	res, body = c.do("POST", "/customers/export", c.form("all", "1"))
	if res.StatusCode != 200 || strings.Contains(body, "Globex") {
		t.Fatalf("export all: %d\n%s", res.StatusCode, body)
	}
}

// Only owners delete from the trash for good; to anyone else the routes do not exist.
func TestOnlyOwnersEmptyTheTrash(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	owner := e.client()
	owner.signIn(a.Email, password)
	id := owner.trashedCustomer("In The Trash")
	e.addMember(a, "member@acme.test")
	m := e.client()
	m.signIn("member@acme.test", password)
	for _, path := range []string{"/customers/trash/empty", "/customers/trash/purge"} {
		if res, _ := m.do("POST", path, m.form("id", id)); res.StatusCode != fiber.StatusNotFound {
			t.Fatalf("member %s: %d, want 404", path, res.StatusCode)
		}
	}
	if _, body := m.do("GET", "/customers/trash", ""); !strings.Contains(body, "In The Trash") || strings.Contains(body, "Empty the trash") {
		t.Fatal("the member's trash view")
	}
	if res, _ := m.do("POST", "/customers/trash/restore", m.form("id", id)); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("member restores: %d", res.StatusCode)
	}
	if res, _ := owner.do("GET", "/customers/"+id, ""); res.StatusCode != 200 {
		t.Fatalf("restored customer: %d", res.StatusCode)
	}
	owner.do("POST", "/customers/"+id+"/delete", owner.form())
	if res, _ := owner.do("GET", "/customers/"+id, ""); res.StatusCode != fiber.StatusNotFound {
		t.Fatalf("trashed customer: %d, want 404", res.StatusCode)
	}
	// Without JavaScript a page asks first; nothing is deleted until the confirmed post.
	if res, body := owner.do("POST", "/customers/trash/empty", owner.form()); res.StatusCode != 200 || !strings.Contains(body, `data-testid="confirm"`) {
		t.Fatalf("owner empties unconfirmed: %d", res.StatusCode)
	}
	if _, body := owner.do("GET", "/customers/trash", ""); !strings.Contains(body, "In The Trash") {
		t.Fatal("the trash was emptied before confirmation")
	}
	if res, _ := owner.do("POST", "/customers/trash/empty", owner.form("confirm", "yes")); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("owner empties: %d", res.StatusCode)
	}
	if res, _ := owner.do("POST", "/customers/"+id+"/restore", owner.form()); res.StatusCode != fiber.StatusNotFound {
		t.Fatalf("restore after purge: %d, want 404", res.StatusCode)
	}
}

// The duplicate warning names the tenant's own look-alikes and nothing of another tenant.
func TestDuplicateWarningStaysInTheTenant(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	bc := e.client()
	bc.signIn(b.Email, password)
	bc.do("POST", "/customers", bc.form("name", "Hooli Holdings", "email", "x@hooli.example", "tax_id", "US123"))
	c := e.client()
	c.signIn(a.Email, password)
	probe := c.form("name", "Hooli Holdings", "email", "x@hooli.example", "tax_id", "US123")
	if _, body := c.do("POST", "/customers/duplicates", probe, "HX-Request", "true"); strings.Contains(body, "Hooli") || strings.Contains(body, `data-testid="duplicates"`) {
		t.Fatalf("B's customer offered as A's duplicate:\n%s", body)
	}
	c.do("POST", "/customers", c.form("name", "Hooli Holding", "email", "ar@hooli.example"))
	_, body := c.do("POST", "/customers/duplicates", probe, "HX-Request", "true")
	if !strings.Contains(body, "Hooli Holding<") || !strings.Contains(body, "similar name") {
		t.Fatalf("A's look-alike missing:\n%s", body)
	}
	// It warns, it does not block: the create goes through.
	if res, _ := c.do("POST", "/customers", probe); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("create despite the warning: %d", res.StatusCode)
	}
}

// The list's state lives in the URL: pager links keep filters and order.
func TestListLinksKeepTheirState(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	for i := 0; i < 30; i++ {
		c.do("POST", "/customers", c.form("name", "Kept "+string(rune('A'+i%26))+string(rune('a'+i/26)), "kind", "person"))
	}
	_, body := c.do("GET", "/customers?kind=person&sort=created&dir=desc&q=kept", "")
	i := strings.Index(body, `data-testid="pager-next"`)
	if i < 0 {
		t.Fatal("no next page")
	}
	href := body[strings.LastIndex(body[:i], `href="`)+6:]
	href = strings.ReplaceAll(href[:strings.Index(href, `"`)], "&amp;", "&")
	u, _ := url.Parse(href)
	q := u.Query()
	if q.Get("kind") != "person" || q.Get("sort") != "created" || q.Get("dir") != "desc" || q.Get("q") != "kept" || q.Get("after") == "" {
		t.Fatalf("next link %q loses the state", href)
	}
	if res, body := c.do("GET", href, ""); res.StatusCode != 200 || strings.Count(body, `data-testid="customer-row"`) != 5 {
		t.Fatalf("page 2: %d, %d rows", res.StatusCode, strings.Count(body, `data-testid="customer-row"`))
	}
}

// A customer's views fold into one line per person and day, and the timeline shows one part
// alone on request.
func TestTimelineFoldsViews(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	id := c.createCustomer("Grace Hopper")
	memberEmail := "member-" + suffix() + "@acme.test"
	e.addMember(a, memberEmail)
	m := e.client()
	m.signIn(memberEmail, password)
	for range 3 {
		m.do("GET", "/customers/"+id, "")
	}
	_, page := c.do("GET", "/customers/"+id, "")
	if !strings.Contains(page, "Member</span> <span class=\"text-slate-600\">viewed it 3 times on") {
		t.Fatalf("the member's three views are not one line:\n%s", page)
	}
	if strings.Count(page, `data-testid="timeline-views"`) != 1 { // the owner's own view is recorded after the page is read
		t.Fatalf("%d folded view lines, want 1", strings.Count(page, `data-testid="timeline-views"`))
	}
	if _, again := c.do("GET", "/customers/"+id, ""); strings.Count(again, `data-testid="timeline-views"`) != 2 {
		t.Fatal("the owner's view is not a line of its own")
	}
	_, views := c.do("GET", "/customers/"+id+"?timeline=views", "")
	if strings.Contains(views, `data-testid="history-entry"`) || !strings.Contains(views, `data-testid="timeline-views"`) {
		i := strings.Index(views, `id="history"`)
		t.Fatalf("the views part shows more than views:\n%s", views[i:min(len(views), i+3000)])
	}
	_, changes := c.do("GET", "/customers/"+id+"?timeline=changes", "")
	if strings.Contains(changes, `data-testid="timeline-views"`) || !strings.Contains(changes, "created it") {
		t.Fatal("the changes part shows views, or not the creation")
	}
}
