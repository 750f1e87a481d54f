package store_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"moat/app/dbtest"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

// buildExport asks for a full export as the owner in ctx, builds it as the job would, and
// downloads it.
func buildExport(t *testing.T, d *dbtest.DB, ctx context.Context) (models.Export, []byte) {
	t.Helper()
	s := store.NewExports(d.Gorm)
	e, _, err := s.Request(ctx)
	if err != nil {
		t.Fatalf("request export: %v", err)
	}
	if _, err := s.Build(ctx, e.ID); err != nil {
		t.Fatalf("build export: %v", err)
	}
	e, chunks, err := s.Open(ctx, e.ID.String())
	if err != nil {
		t.Fatalf("open export: %v", err)
	}
	var out bytes.Buffer
	for seq := range chunks {
		data, err := s.Chunk(ctx, e.ID, seq)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(data)
	}
	if int64(out.Len()) != e.Size || e.Status != models.ExportReady {
		t.Fatalf("export of %d bytes, %s; downloaded %d", e.Size, e.Status, out.Len())
	}
	return e, out.Bytes()
}

func unzip(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("the export is not a ZIP: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	return files
}

// seedRecords gives the tenant in ctx a customer of every shape, with tags and notes, one in
// the trash, and a product; it returns the customers by name.
func seedRecords(t *testing.T, d *dbtest.DB, ctx context.Context, prefix string) map[string]models.Customer {
	t.Helper()
	customers := store.NewCustomers(d.Gorm)
	vip, err := store.NewTags(d.Gorm).Create(ctx, models.TagInput{Name: prefix + " VIP", Color: "amber"})
	if err != nil {
		t.Fatal(err)
	}
	wholesale, err := store.NewTags(d.Gorm).Create(ctx, models.TagInput{Name: "Wholesale", Color: "green"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]models.Customer{}
	for _, in := range []models.CustomerInput{
		{Kind: models.KindCompany, Name: prefix + " Analytical Engines", Company: "Engines plc", Number: "C-0100",
			Emails: []string{"ada@" + prefix + ".test", "billing@" + prefix + ".test"}, EmailTypes: []string{"work", "billing"},
			Phones: []string{"+44 20 7946 0000", "+44 7700 900000"}, PhoneTypes: []string{"work", "mobile"},
			Website: "https://engines.example", TaxID: "GB123456789", BillingAddress: "1 Babbage Row\nLondon",
			ShippingAddress: "Dock 4\nLondon", Currency: "GBP", PaymentTerms: "14", TagIDs: []string{vip.ID.String(), wholesale.ID.String()},
			Notes: "First met at the " + prefix + " fair."},
		{Kind: models.KindPerson, Name: prefix + " Grace Hopper", Currency: "USD", PaymentTerms: "0", TagIDs: []string{wholesale.ID.String()}},
		{Name: prefix + " Trashed Ltd", Emails: []string{"gone@" + prefix + ".test"}, EmailTypes: []string{"other"}},
	} {
		c, err := customers.Create(ctx, in)
		if err != nil {
			t.Fatalf("create %s: %v", in.Name, err)
		}
		out[c.Name] = c
	}
	first := out[prefix+" Analytical Engines"]
	if err := customers.AddNote(ctx, first.ID.String(), models.NoteInput{Body: "Called " + prefix + ":\nwants a quote = 2 units"}); err != nil {
		t.Fatal(err)
	}
	if err := customers.Trash(ctx, out[prefix+" Trashed Ltd"].ID.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewProducts(d.Gorm).Create(ctx, models.ProductInput{SKU: prefix + "-SKU", Name: prefix + " Widget", Unit: "piece",
		SalePrice: "12.50", Currency: "EUR", TaxRate: "20", Stocked: true}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExportHoldsEverythingOfTheOrganizationAndNothingElse(t *testing.T) {
	d := dbtest.New(t, 0)
	ctxA, ownerA := d.Tenant(t, "Acme")
	ctxB, _ := d.Tenant(t, "Globex")
	seedRecords(t, d, ctxA, "Acme")
	seedRecords(t, d, ctxB, "Globex")

	e, data := buildExport(t, d, ctxA)
	files := unzip(t, data)
	want := []string{"README.txt", "manifest.json", "organization.json"}
	for _, f := range store.ExportFileNames {
		want = append(want, f+".csv", f+".json")
	}
	for _, name := range want {
		if _, ok := files[name]; !ok {
			t.Errorf("the export has no %s", name)
		}
	}
	for name, body := range files {
		if bytes.Contains(body, []byte("Globex")) || bytes.Contains(body, []byte("globex")) {
			t.Errorf("%s holds another organization's data", name)
		}
		if strings.HasSuffix(name, ".json") && !json.Valid(body) {
			t.Errorf("%s is not JSON", name)
		}
	}
	var manifest store.ExportManifest
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || manifest.Format != store.ExportFormat ||
		manifest.Organization != "Acme" || manifest.Records["customers"] != 3 || manifest.Records["customer_notes"] != 2 {
		t.Fatalf("manifest: %v %+v", err, manifest)
	}
	var customers []map[string]any
	if err := json.Unmarshal(files["customers.json"], &customers); err != nil || len(customers) != 3 {
		t.Fatalf("customers.json: %v %d", err, len(customers))
	}
	if tags := customers[0]["tags"].([]any); len(tags) != 2 || tags[0] != "Acme VIP" || customers[0]["payment_terms"] != float64(14) {
		t.Fatalf("the first customer as exported: %v", customers[0])
	}
	rows, err := csv.NewReader(bytes.NewReader(files["customers.csv"])).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][1] != "number" || rows[1][13] != "Acme VIP, Wholesale" {
		t.Fatalf("customers.csv: %v %q", err, rows)
	}
	notes, err := csv.NewReader(bytes.NewReader(files["customer_notes.csv"])).ReadAll()
	if err != nil || !slices.ContainsFunc(notes, func(r []string) bool { return r[3] == "Called Acme:\nwants a quote = 2 units" }) {
		t.Fatalf("customer_notes.csv keeps a note's lines: %v %q", err, notes)
	}
	if !bytes.Contains(files["README.txt"], []byte("customer_notes\n")) {
		t.Fatalf("the README does not describe the files:\n%s", files["README.txt"])
	}
	if !bytes.Contains(files["audit_trail.csv"], []byte("customer.create")) {
		t.Fatal("the audit trail is missing")
	}

	// Only the owner who asked may download it, only while it lasts; then it is deleted.
	s := store.NewExports(d.Gorm)
	var missed *models.MissError
	if _, _, err := s.Open(ctxB, e.ID.String()); !errors.As(err, &missed) {
		t.Fatalf("another organization's owner opened the export: %v", err)
	}
	other := ownerA
	other.UserID = uuid.New() // another owner of Acme, as far as the store sees
	if _, _, err := s.Open(dbtest.AsPrincipal(other), e.ID.String()); !errors.As(err, &missed) {
		t.Fatalf("an owner who did not ask for it opened the export: %v", err)
	}
	member := ownerA
	member.Role = models.RoleMember
	if _, _, err := s.Request(dbtest.AsPrincipal(member)); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("a member asked for a full export: %v", err)
	}
	if _, err := d.Superuser(t).Exec(context.Background(), "UPDATE exports SET expires_at = now() - interval '1 second' WHERE id = $1", e.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open(ctxA, e.ID.String()); !errors.As(err, &missed) {
		t.Fatalf("an expired export opened: %v", err)
	}
	if err := s.Expire(ctxA, e.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := d.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM export_chunks WHERE export_id = $1", e.ID).Scan(&left); err != nil || left != 0 {
		t.Fatalf("an expired export kept %d chunks (%v)", left, err)
	}
	trail := auditRows(t, d, ctxA)
	for _, action := range []string{"export.request", "export.built", "export.download", "export.expire"} {
		if !slices.ContainsFunc(trail, func(r models.AuditEvent) bool { return string(r.Action) == action }) {
			t.Errorf("the trail has no %s", action)
		}
	}
}

// Every table with a tenant_id column is in the export, or named as left out with a reason:
// a new table cannot be forgotten.
func TestEveryTenantTableIsExportedOrExplained(t *testing.T) {
	d := dbtest.New(t, 0)
	rows, err := d.Superuser(t).Query(context.Background(), `SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND a.attname = 'tenant_id' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND c.relname <> 'record_ids' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	covered := store.ExportCoverage
	for _, table := range tables {
		if covered[table] == "" {
			t.Errorf("table %s is neither exported nor named as left out", table)
		}
		delete(covered, table)
	}
	for table := range covered {
		t.Errorf("the export names %s, which is not a tenant table", table)
	}
}

func TestExportRestoresIntoAnEmptyOrganization(t *testing.T) {
	d := dbtest.New(t, 0)
	ctxA, _ := d.Tenant(t, "Acme")
	seedRecords(t, d, ctxA, "Acme")
	_, data := buildExport(t, d, ctxA)

	ctxC, _ := d.Tenant(t, "Newco")
	imports := store.NewImports(d.Gorm)
	b := runImport(t, imports, ctxC, "moat-export.zip", data, store.ImportSettings{}, false)
	if b.Kind != models.ImportRestore || b.Status != models.ImportImported || b.ToCreate != 3 || b.Rejected != 0 {
		t.Fatalf("restore: %+v", b)
	}
	if got, want := snapshot(t, d, ctxC), snapshot(t, d, ctxA); got != want {
		t.Fatalf("the restored organization differs:\n got %s\nwant %s", got, want)
	}

	// Only into an organization with no customers: restoring again is refused.
	again, err := imports.Upload(ctxC, "moat-export.zip", models.ImportCustomers, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var invalid *models.ValidationError
	if err := imports.Configure(ctxC, again.ID.String(), store.ImportSettings{}); !errors.As(err, &invalid) || invalid.Fields["import"] == "" {
		t.Fatalf("a restore into an organization with customers: %v", err)
	}
	// A ZIP that is not an export is refused with a message.
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, _ := z.Create("customers.csv")
	w.Write([]byte("name\nAda\n")) //nolint:errcheck // a bytes.Buffer
	z.Close()
	if _, err := imports.Upload(ctxC, "other.zip", models.ImportCustomers, &buf); !errors.As(err, &invalid) || !strings.Contains(invalid.Fields["file"], "not a Moat export") {
		t.Fatalf("a ZIP that is not an export: %v", err)
	}
}

// snapshot is every customer of the tenant in ctx as a string: its fields, its tags with their
// colours and its notes with their times, by number; ids and the times of the copy aside.
func snapshot(t *testing.T, d *dbtest.DB, ctx context.Context) string {
	t.Helper()
	var out []string
	err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT concat_ws(' | ', c.number, c.kind, c.name, c.company, c.emails::text, c.phones::text, c.website, c.tax_id,
				c.billing_address, c.shipping_address, c.currency, c.payment_terms, c.deleted_at IS NOT NULL,
				(SELECT string_agg(t.name || ':' || t.color, ',' ORDER BY t.name) FROM customer_tags ct JOIN tags t ON t.tenant_id = ct.tenant_id AND t.id = ct.tag_id
				 WHERE ct.tenant_id = c.tenant_id AND ct.customer_id = c.id),
				(SELECT string_agg(n.body || '@' || n.created_at::text, ',' ORDER BY n.created_at) FROM customer_notes n
				 WHERE n.tenant_id = c.tenant_id AND n.customer_id = c.id))
			FROM customers c WHERE c.tenant_id = current_tenant_id() ORDER BY c.number`).Scan(&out).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}
