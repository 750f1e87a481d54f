package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"moat/app/store"
	"moat/models"
)

// waitImport waits until the import with id has one of statuses, and returns it.
func (e *env) waitImport(t *testing.T, id string, statuses ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var status, failure string
	su := e.db.Superuser(t)
	for time.Now().Before(deadline) {
		if err := su.QueryRow(context.Background(), "SELECT status, failure FROM import_batches WHERE id = $1", id).Scan(&status, &failure); err != nil {
			t.Fatal(err)
		}
		for _, s := range statuses {
			if status == s {
				return status
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("import %s is %s (%s), want one of %v", id, status, failure, statuses)
	return ""
}

// A file uploaded in parts is previewed, mapped, checked and imported in the background, its
// refused rows come back as a file, and the import is undone; each step answers a page.
func TestImportThroughThePages(t *testing.T) {
	e := newEnv(t)
	e.work()
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	c.createCustomer("Already Here")

	var rows strings.Builder
	rows.WriteString("Name,E-mail,Company\n")
	for i := range 400 {
		fmt.Fprintf(&rows, "Person %d,person%d@example.com,Company %d of the long-named kind that fills files with words and more words\n", i, i, i%7)
	}
	rows.WriteString(",nameless@example.com,Nobody\n")
	file := []byte(rows.String())
	const part = 16 * 1024 // the page's script sends 192 KiB; smaller parts keep the test quick
	if len(file) <= 2*part {
		t.Fatalf("the file is %d bytes: too small to come in parts", len(file))
	}
	c.do("GET", "/imports", "")
	id := c.beginImport()
	if res, body := c.do("POST", "/imports/"+id+"/parts/1", "x", "Content-Type", "application/octet-stream", "X-CSRF-Token", c.csrf); res.StatusCode != 422 ||
		!strings.Contains(body, "part 0 was expected") {
		t.Fatalf("a part out of order: %d %s", res.StatusCode, body)
	}
	for seq, at := 0, 0; at < len(file); seq, at = seq+1, at+part {
		if res, body := c.do("POST", fmt.Sprintf("/imports/%s/parts/%d", id, seq), string(file[at:min(at+part, len(file))]), "Content-Type", "application/octet-stream", "X-CSRF-Token", c.csrf); res.StatusCode != 204 {
			t.Fatalf("part %d: %d %s", seq, res.StatusCode, body)
		}
	}
	res, _ := c.do("POST", "/imports/"+id+"/finish", c.form())
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/imports/"+id {
		t.Fatalf("finish: %d %v", res.StatusCode, res.Header.Get("Location"))
	}
	_, page := c.do("GET", "/imports/"+id, "")
	if !strings.Contains(page, "401 rows") || !strings.Contains(page, "Person 0") || !strings.Contains(page, `<option value="email" selected`) {
		t.Fatal("the import page does not show the file's rows and their mapping")
	}
	// Mapping nothing to the name is refused on the page.
	if res, body := c.do("POST", "/imports/"+id+"/check", c.form("column_0", "", "column_1", "email", "mode", "upsert", "key", "email")); res.StatusCode != 422 ||
		!strings.Contains(body, "Map a column to the name") {
		t.Fatalf("a mapping without the name: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", "/imports/"+id+"/check", c.form("column_0", "name", "column_1", "email", "column_2", "company", "mode", "upsert", "key", "email")); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("check: %d", res.StatusCode)
	}
	e.waitImport(t, id, "checked")
	_, page = c.do("GET", "/imports/"+id, "")
	if !strings.Contains(page, `data-testid="count-create">400<`) || !strings.Contains(page, `data-testid="count-reject">1<`) ||
		!strings.Contains(page, "Line 402, name") {
		t.Fatal("the check's counts or refusal are not on the page")
	}
	if res, _ := c.do("POST", "/imports/"+id+"/run", c.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("run: %d", res.StatusCode)
	}
	e.waitImport(t, id, "imported")
	res, csv := c.do("GET", "/imports/"+id+"/errors.csv", "")
	if res.StatusCode != 200 || !strings.HasPrefix(csv, "Name,E-mail,Company,Error\n") || !strings.Contains(csv, ",nameless@example.com,Nobody,name: ") {
		t.Fatalf("error file: %d %.200s", res.StatusCode, csv)
	}
	var count int
	if err := e.db.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM customers WHERE tenant_id = $1 AND deleted_at IS NULL", a.Tenant.UUID()).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 401 {
		t.Fatalf("%d customers after importing 400", count)
	}
	// The trail names the import as the request of every customer it wrote (and of the row it
	// refused, recorded as rejected).
	var rowsOfImport int
	if err := e.db.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'customer.create' AND outcome = 'allowed' AND request_id = $2",
		a.Tenant.UUID(), "import "+id).Scan(&rowsOfImport); err != nil {
		t.Fatal(err)
	}
	if rowsOfImport != 400 {
		t.Fatalf("%d customer.create rows carry the import's id", rowsOfImport)
	}
	if res, _ := c.do("POST", "/imports/"+id+"/run", c.form()); res.StatusCode != 422 {
		t.Fatalf("running an import twice: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", "/imports/"+id+"/undo", c.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("undo: %d", res.StatusCode)
	}
	e.waitImport(t, id, "reverted")
	if err := e.db.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM customers WHERE tenant_id = $1 AND deleted_at IS NULL", a.Tenant.UUID()).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 1 {
		t.Fatalf("%d customers after the undo, want the one added by hand", count)
	}
	if _, page = c.do("GET", "/imports", ""); !strings.Contains(page, "Undone") {
		t.Fatal("the imports list does not say the import was undone")
	}
}

// The API imports as the page does: the file in parts, its description and proposed mapping,
// a check and the import in the background with progress to poll, and the undo.
func TestImportThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	e.work()
	a := e.signUp("acme")
	tok := e.apiToken(a, "write", "none", "none")
	reader := e.apiToken(a, "read", "none", "none")

	begun := e.api(t, "POST", "/api/v1/imports", tok, `{"file_name":"crm.csv"}`).must(t, 201)
	id := begun.str("id")
	if begun.str("status") != "receiving" {
		t.Fatalf("begin: %s", begun.Raw)
	}
	file := "Name,E-mail,Company\n"
	for i := range 300 {
		file += fmt.Sprintf("API Person %d,api%d@example.com,Co %d\n", i, i, i%5)
	}
	file += ",nameless@example.com,Nobody\n"
	for seq, at := 0, 0; at < len(file); seq, at = seq+1, at+4096 {
		e.api(t, "POST", fmt.Sprintf("/api/v1/imports/%s/parts/%d", id, seq), tok, file[at:min(at+4096, len(file))],
			"Content-Type", "application/octet-stream").must(t, 204)
	}
	e.api(t, "POST", "/api/v1/imports/"+id+"/parts/0", tok, "late", "Content-Type", "application/octet-stream").must(t, 422)
	described := e.api(t, "POST", "/api/v1/imports/"+id+"/finish", tok, "").must(t, 200)
	if described.str("status") != "uploaded" || described.Body["rows_total"] != float64(301) || !strings.Contains(described.Raw, `"mapping":{"0":"name","1":"email","2":"company"}`) {
		t.Fatalf("finish: %s", described.Raw)
	}
	e.api(t, "POST", "/api/v1/imports/"+id+"/check", reader, `{"mapping":{"0":"name"}}`).must(t, 403)
	e.api(t, "POST", "/api/v1/imports/"+id+"/check", tok, `{"mapping":{"1":"email"},"mode":"create","key":"email"}`).must(t, 422)
	e.api(t, "POST", "/api/v1/imports/"+id+"/check", tok, `{"mapping":{"0":"name","1":"email","2":"company"},"mode":"create","key":"email"}`).must(t, 202)
	poll := func(status string) apiCall {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			got := e.api(t, "GET", "/api/v1/imports/"+id, reader, "").must(t, 200)
			if got.str("status") == status {
				return got
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("the import never became %s", status)
		return apiCall{}
	}
	checked := poll("checked")
	if checked.Body["created"] != float64(300) || checked.Body["rejected"] != float64(1) || !strings.Contains(checked.Raw, `"line":302,"field":"name"`) {
		t.Fatalf("check: %s", checked.Raw)
	}
	e.api(t, "POST", "/api/v1/imports/"+id+"/run", tok, "").must(t, 202)
	imported := poll("imported")
	if imported.Body["created"] != float64(300) || imported.Body["rows_done"] != float64(301) {
		t.Fatalf("import: %s", imported.Raw)
	}
	if list := e.api(t, "GET", "/api/v1/customers?q=API+Person+299", reader, "").must(t, 200); !strings.Contains(list.Raw, "api299@example.com") {
		t.Fatalf("the imported customer is not listed: %s", list.Raw)
	}
	e.api(t, "POST", "/api/v1/imports/"+id+"/undo", tok, "").must(t, 202)
	poll("reverted")
	if list := e.api(t, "GET", "/api/v1/customers?q=API+Person", reader, "").must(t, 200); strings.Contains(list.Raw, "api299@example.com") {
		t.Fatal("the undone import's customers are still listed")
	}
	// A product import is for tokens with products scope, which the API does not offer for
	// imports: to a customers token it is like an unknown id.
	products, err := store.NewImports(e.db.Gorm).Upload(a.Ctx, "stock.csv", models.ImportProducts, strings.NewReader("sku,name\nA-1,Chair\n"))
	if err != nil {
		t.Fatal(err)
	}
	unknown := e.api(t, "GET", "/api/v1/imports/"+uuid.NewString(), reader, "").must(t, 404)
	if got := e.api(t, "GET", "/api/v1/imports/"+products.ID.String(), reader, "").must(t, 404); got.Raw != unknown.Raw {
		t.Fatalf("a product import answers %s, an unknown one %s", got.Raw, unknown.Raw)
	}
	e.api(t, "POST", "/api/v1/imports/"+products.ID.String()+"/check", tok, `{"mapping":{"1":"name"},"mode":"create","key":"email"}`).must(t, 404)
	if all := e.api(t, "GET", "/api/v1/imports", reader, "").must(t, 200); !strings.Contains(all.Raw, id) || strings.Contains(all.Raw, products.ID.String()) {
		t.Fatalf("list: %s", all.Raw)
	}
}
