package store_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/encoding/charmap"
	"gorm.io/gorm"

	"moat/app/cluster"
	"moat/app/dbtest"
	"moat/app/money"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

// runImport uploads data, maps it as mapping says (column index → field) with mode and key,
// checks it, and unless dry imports it, as the job workers would. A file named *.products.csv
// holds products.
func runImport(t *testing.T, s *store.Imports, ctx context.Context, name string, data []byte, set store.ImportSettings, dry bool) models.ImportBatch {
	t.Helper()
	target := models.ImportCustomers
	if strings.HasSuffix(name, ".products.csv") {
		target = models.ImportProducts
	}
	b, err := s.Upload(ctx, name, target, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if set.Mapping == nil {
		set.Mapping = b.Mapping
	}
	if err := s.Configure(ctx, b.ID.String(), set); err != nil {
		t.Fatalf("configure: %v", err)
	}
	if err := s.Process(ctx, b.ID, true); err != nil {
		t.Fatalf("check: %v", err)
	}
	if !dry {
		if err := s.Start(ctx, b.ID.String()); err != nil {
			t.Fatalf("start: %v", err)
		}
		if err := s.Process(ctx, b.ID, false); err != nil {
			t.Fatalf("import: %v", err)
		}
	}
	b, _, err = s.Get(ctx, b.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func customerNames(t *testing.T, d *dbtest.DB, ctx context.Context) map[string]models.Customer {
	t.Helper()
	var cs []models.Customer
	if err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error { return tx.Where("deleted_at IS NULL").Find(&cs).Error }); err != nil {
		t.Fatal(err)
	}
	out := map[string]models.Customer{}
	for _, c := range cs {
		out[c.Name] = c
	}
	return out
}

func TestImportDetectsChecksImportsAndUndoes(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx, _ := d.Tenant(t, "Acme")
	s := store.NewImports(d.Gorm)
	customers := store.NewCustomers(d.Gorm)
	existing := mustCreate(t, customers, ctx, "Ada Lovelace")

	// Windows-1252, semicolons, a header the mapping recognises by itself.
	text := "Full name;E-mail;Company;Tags;Phone\r\n" +
		"Zoë Müller;zoe@example.com;Café Zürich;VIP, Wholesale;+41 44 000 00 00\r\n" +
		"Ada Lovelace;ada.lovelace@example.com;Analytical Engines;VIP;\r\n" +
		";nobody@example.com;No Name Ltd;;\r\n" +
		"Grace Hopper;not-an-email;Navy;;\r\n"
	latin, err := charmap.Windows1252.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	checked := runImport(t, s, ctx, "export.csv", []byte(latin), store.ImportSettings{Mode: "upsert", Key: "email"}, true)
	if checked.Encoding != "windows-1252" || checked.Delimiter != ";" || !checked.Header || checked.Columns[0] != "Full name" {
		t.Fatalf("format: %s %q header=%v %v", checked.Encoding, checked.Delimiter, checked.Header, checked.Columns)
	}
	if checked.Mapping["0"] != "name" || checked.Mapping["1"] != "email" || checked.Mapping["3"] != "tags" {
		t.Fatalf("automatic mapping: %v", checked.Mapping)
	}
	if !slices.Equal(checked.NewTags, []string{"VIP", "Wholesale"}) {
		t.Fatalf("the check lists the tags it will make as %v", checked.NewTags)
	}
	if checked.Status != models.ImportChecked || checked.ToCreate != 1 || checked.ToUpdate != 1 || checked.Rejected != 2 {
		t.Fatalf("dry run counted create %d update %d reject %d (%s)", checked.ToCreate, checked.ToUpdate, checked.Rejected, checked.Status)
	}
	if got := customerNames(t, d, ctx); len(got) != 1 {
		t.Fatalf("the dry run wrote customers: %v", got)
	}

	// The real run, then the error file.
	if err := s.Start(ctx, checked.ID.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.Process(ctx, checked.ID, false); err != nil {
		t.Fatal(err)
	}
	b, rejected, err := s.Get(ctx, checked.ID.String())
	if err != nil || b.Status != models.ImportImported || b.ToCreate != 1 || b.ToUpdate != 1 || len(rejected) != 2 {
		t.Fatalf("import: %v %s %+v %v", err, b.Status, b, rejected)
	}
	if rejected[0].Line != 4 || rejected[0].Field != "name" || rejected[1].Line != 5 || rejected[1].Field != "email" {
		t.Fatalf("rejections: %+v", rejected)
	}
	got := customerNames(t, d, ctx)
	zoe, ok := got["Zoë Müller"]
	if !ok || zoe.Company != "Café Zürich" || zoe.Email != "zoe@example.com" || zoe.Phone != "+41 44 000 00 00" {
		t.Fatalf("the new customer: %+v", zoe)
	}
	ada := got["Ada Lovelace"]
	if ada.ID != existing.ID || ada.Company != "Analytical Engines" {
		t.Fatalf("the upsert did not update the customer with that email: %+v", ada)
	}
	var errs bytes.Buffer
	if err := s.ErrorFile(ctx, b.ID.String(), &errs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(errs.String()), "\n")
	if len(lines) != 5 || !strings.HasSuffix(strings.TrimSpace(lines[0]), ";Error") || !strings.Contains(lines[3], "name:") ||
		!strings.Contains(lines[1], "Zoë") || strings.Contains(lines[1], "name:") {
		t.Fatalf("error file:\n%s", errs.String())
	}

	// Tags by name, created when missing.
	var tags []models.Tag
	if err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error { return tx.Order("name").Find(&tags).Error }); err != nil {
		t.Fatal(err)
	}
	if len(tags) != 2 || tags[0].Name != "VIP" || tags[1].Name != "Wholesale" {
		t.Fatalf("tags: %+v", tags)
	}

	// Someone edits Zoë after the import: the undo leaves her, trashes nothing else it should
	// not, and gives Ada her old company back.
	in := models.InputOf(zoe)
	in.Website = "zoe.example.com"
	if _, err := customers.Update(ctx, zoe.ID.String(), in); err != nil {
		t.Fatal(err)
	}
	if err := s.StartUndo(ctx, b.ID.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.Undo(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	b, _, _ = s.Get(ctx, b.ID.String())
	if b.Status != models.ImportReverted || b.Kept != 1 {
		t.Fatalf("undo: %s kept %d", b.Status, b.Kept)
	}
	got = customerNames(t, d, ctx)
	if got["Ada Lovelace"].Company != existing.Company || got["Zoë Müller"].ID != zoe.ID {
		t.Fatalf("after the undo: %+v", got)
	}
	kept, err := s.Kept(ctx, b)
	if err != nil || len(kept) != 1 || kept[0].Path != "/customers/"+zoe.ID.String() {
		t.Fatalf("kept: %v %v", kept, err)
	}
	if err := s.StartUndo(ctx, b.ID.String()); err == nil {
		t.Fatal("an import was undone twice")
	}
}

func TestImportModesNeverDuplicate(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx, _ := d.Tenant(t, "Acme")
	s := store.NewImports(d.Gorm)
	file := []byte("number,name,email\nC-100,First,first@example.com\nC-100,First again,first@example.com\nC-200,Second,second@example.com\n")
	b := runImport(t, s, ctx, "a.csv", file, store.ImportSettings{Mode: "upsert", Key: "number"}, false)
	if b.ToCreate != 2 || b.ToUpdate != 1 {
		t.Fatalf("first upsert: create %d update %d", b.ToCreate, b.ToUpdate)
	}
	b = runImport(t, s, ctx, "a.csv", file, store.ImportSettings{Mode: "upsert", Key: "number"}, false)
	if b.ToCreate != 0 || b.ToUpdate != 3 {
		t.Fatalf("the same file again: create %d update %d", b.ToCreate, b.ToUpdate)
	}
	b = runImport(t, s, ctx, "a.csv", file, store.ImportSettings{Mode: "create", Key: "number"}, false)
	if b.ToCreate != 0 || b.ToSkip != 3 {
		t.Fatalf("create only: create %d skip %d", b.ToCreate, b.ToSkip)
	}
	more := []byte("number,name\nC-300,Third\nC-200,Second renamed\n")
	b = runImport(t, s, ctx, "b.csv", more, store.ImportSettings{Mode: "update", Key: "number"}, false)
	if b.ToUpdate != 1 || b.ToSkip != 1 {
		t.Fatalf("update only: update %d skip %d", b.ToUpdate, b.ToSkip)
	}
	got := customerNames(t, d, ctx)
	if len(got) != 2 || got["Second renamed"].Number != "C-200" || got["First again"].Number != "C-100" {
		t.Fatalf("customers: %v", got)
	}
	// Undoing the first import, whose file named C-100 twice, takes both customers it created
	// away again: the second row's change was the import's own.
	var first models.ImportBatch
	if err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error { return tx.Order("created_at").Take(&first).Error }); err != nil {
		t.Fatal(err)
	}
	if err := s.StartUndo(ctx, first.ID.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.Undo(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	first, _, _ = s.Get(ctx, first.ID.String())
	if first.Kept != 2 {
		// Both were changed since by the later imports: kept, and listed.
		t.Fatalf("undo of the first import kept %d", first.Kept)
	}
	// Another tenant's customers are never matched: the same file creates there.
	other, _ := d.Tenant(t, "Globex")
	b = runImport(t, s, other, "a.csv", file, store.ImportSettings{Mode: "update", Key: "number"}, false)
	if b.ToUpdate != 0 || b.ToSkip != 3 {
		t.Fatalf("update only in another tenant: update %d skip %d", b.ToUpdate, b.ToSkip)
	}
}

// A file that names a customer twice creates it and then changes it; undoing the import takes
// it away, since both changes were the import's own.
func TestImportUndoesARowNamedTwice(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx, _ := d.Tenant(t, "Acme")
	s := store.NewImports(d.Gorm)
	b := runImport(t, s, ctx, "twice.csv", []byte("number,name\nC-7,Seven\nC-7,Seven again\n"), store.ImportSettings{Mode: "upsert", Key: "number"}, false)
	if b.ToCreate != 1 || b.ToUpdate != 1 {
		t.Fatalf("create %d update %d", b.ToCreate, b.ToUpdate)
	}
	if err := s.StartUndo(ctx, b.ID.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.Undo(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if b, _, _ = s.Get(ctx, b.ID.String()); b.Kept != 0 {
		t.Fatalf("kept %d", b.Kept)
	}
	if got := customerNames(t, d, ctx); len(got) != 0 {
		t.Fatalf("left after the undo: %v", got)
	}
}

// Products import like customers: matched by SKU, their numbers read as people write them,
// checked, imported and undone.
func TestProductImportMatchesBySKUAndUndoes(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx, _ := d.Tenant(t, "Acme")
	ctxB, _ := d.Tenant(t, "Globex")
	products := store.NewProducts(d.Gorm)
	chair := mustProduct(t, products, ctx, "CHAIR", true)
	mustProduct(t, products, ctxB, "DESK", true) // another tenant's SKU matches nothing here
	s := store.NewImports(d.Gorm)

	file := "Item code;Product name;Price;VAT %;Stock item;Category\n" +
		"chair;Office chair;1.234,50;20;yes;Furniture\n" +
		"DESK;Standing desk;€ 499,00;20%;yes;Furniture, New\n" +
		"INSTALL;Installation;80;0;no;\n" +
		"LAMP;Desk lamp;twelve;20;yes;\n" +
		"MUG;Mug;4.5;20;maybe;\n"
	checked := runImport(t, s, ctx, "stock.products.csv", []byte(file), store.ImportSettings{Mode: "upsert", Key: "sku"}, true)
	if checked.Target != models.ImportProducts || checked.Mapping["0"] != "sku" || checked.Mapping["2"] != "sale_price" || checked.Mapping["5"] != "tags" {
		t.Fatalf("the product file's mapping: %+v", checked)
	}
	if checked.ToCreate != 2 || checked.ToUpdate != 1 || checked.Rejected != 2 {
		t.Fatalf("check: create %d update %d reject %d", checked.ToCreate, checked.ToUpdate, checked.Rejected)
	}
	if err := s.Start(ctx, checked.ID.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.Process(ctx, checked.ID, false); err != nil {
		t.Fatal(err)
	}
	b, rejected, err := s.Get(ctx, checked.ID.String())
	if err != nil || b.Status != models.ImportImported || len(rejected) != 2 || rejected[0].Field != "sale_price" || rejected[1].Field != "stocked" {
		t.Fatalf("import: %v %+v %+v", err, b, rejected)
	}
	got, err := products.Get(ctx, chair.ID.String())
	if err != nil || got.Name != "Office chair" || money.Compare(got.SalePrice, "1234.5") != 0 || len(got.Tags) != 1 {
		t.Fatalf("the updated chair: %v %+v", err, got.Product)
	}
	list, err := products.List(ctx, store.ProductQuery{ProductFilter: store.ProductFilter{Search: "desk"}})
	if err != nil || len(list.Products) != 1 || list.Products[0].SKU != "DESK" || list.Products[0].Name != "Standing desk" ||
		money.Compare(list.Products[0].SalePrice, "499") != 0 {
		t.Fatalf("after the import, the desks: %v %+v", err, list.Products)
	}

	if err := s.StartUndo(ctx, b.ID.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.Undo(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	got, err = products.Get(ctx, chair.ID.String())
	if err != nil || got.Name != chair.Name || money.Compare(got.SalePrice, chair.SalePrice) != 0 || len(got.Tags) != 0 {
		t.Fatalf("the chair after the undo: %v %+v", err, got.Product)
	}
	list, err = products.List(ctx, store.ProductQuery{})
	if err != nil || len(list.Products) != 1 {
		t.Fatalf("the undo left %d products (%v)", len(list.Products), err)
	}
}

// Columns of typed emails and phones fill the customer's contacts with their types.
func TestImportTypedContacts(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx, _ := d.Tenant(t, "Acme")
	s := store.NewImports(d.Gorm)
	b := runImport(t, s, ctx, "people.csv", []byte("Name,Work email,Billing email,Mobile,Fax\nAda,ada@example.com,accounts@example.com,+44 7700 900001,+44 20 7946 0001\n"),
		store.ImportSettings{Mode: "create", Key: "email"}, false)
	if b.ToCreate != 1 || b.Mapping["2"] != "email_billing" || b.Mapping["3"] != "phone_mobile" || b.Mapping["4"] != "phone_fax" {
		t.Fatalf("import: %+v", b)
	}
	ada := customerNames(t, d, ctx)["Ada"]
	if ada.Email != "ada@example.com" || len(ada.Emails) != 2 || ada.Emails[1] != (models.Contact{Type: "billing", Value: "accounts@example.com"}) ||
		ada.Phone != "+44 7700 900001" || len(ada.Phones) != 2 || ada.Phones[0].Type != "mobile" || ada.Phones[1].Type != "fax" {
		t.Fatalf("contacts: %+v %+v", ada.Emails, ada.Phones)
	}
}

// A tag another request adds between the import's read and its insert is taken, not a failed
// import: the insert waits on the other's uncommitted row, then finds the name taken.
func TestImportTakesATagAddedMeanwhile(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx, _ := d.Tenant(t, "Acme")
	s := store.NewImports(d.Gorm)
	checked := runImport(t, s, ctx, "tags.csv", []byte("Name,Email,Tags\nZoe Muller,zoe@example.com,VIP\n"),
		store.ImportSettings{Mode: "create", Key: "email"}, true)
	if err := s.Start(ctx, checked.ID.String()); err != nil {
		t.Fatal(err)
	}
	held, release, added := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var vip models.Tag
	go func() {
		added <- tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
			vip = models.Tag{Name: "VIP", Color: "red"}
			if err := tx.Create(&vip).Error; err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	imported := make(chan error, 1)
	go func() { imported <- s.Process(ctx, checked.ID, false) }()
	// The insert waits where the tag's row is: on Citus, on a worker.
	nodes := append([]*cluster.Cluster{d.Cluster}, d.Cluster.Workers()...)
	for deadline, waiting := time.Now().Add(30*time.Second), false; !waiting; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the import never waited for the other request's tag")
		}
		for _, n := range nodes {
			conn, err := pgx.Connect(context.Background(), n.URL("postgres", d.Name))
			if err != nil {
				t.Fatal(err)
			}
			var w bool
			err = conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock')", d.Name).Scan(&w)
			conn.Close(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			waiting = waiting || w
		}
	}
	close(release)
	if err := <-added; err != nil {
		t.Fatal(err)
	}
	if err := <-imported; err != nil {
		t.Fatalf("import: %v", err)
	}
	zoe, ok := customerNames(t, d, ctx)["Zoe Muller"]
	var tags []string
	if err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
		return tx.Raw("SELECT tag_id::text FROM customer_tags WHERE customer_id = ?", zoe.ID).Scan(&tags).Error
	}); err != nil || !ok || !slices.Equal(tags, []string{vip.ID.String()}) {
		t.Fatalf("the imported customer %v has tags %v (%v), want the one added meanwhile, %s", ok, tags, err, vip.ID)
	}
}
