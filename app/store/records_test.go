package store_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"moat/app/audit"
	"moat/app/dbtest"
	"moat/app/store"
	"moat/models"
)

func create(t *testing.T, s *store.Customers, ctx context.Context, in models.CustomerInput) models.Customer {
	t.Helper()
	c, err := s.Create(ctx, in)
	if err != nil {
		t.Fatalf("create %s: %v", in.Name, err)
	}
	return c
}

func fieldError(err error, field string) string {
	var v *models.ValidationError
	if errors.As(err, &v) {
		return v.Fields[field]
	}
	return ""
}

// Numbers are unique within a tenant only: each tenant counts from C-00001, a blank number is
// the next free one (skipping numbers typed by hand), and a taken number is refused, also
// when two requests race for it.
func TestCustomerNumbersAreUniquePerTenant(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, pa := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	if n := create(t, s, a, models.CustomerInput{Name: "A one"}).Number; n != "C-00001" {
		t.Fatalf("first number in A: %q", n)
	}
	if n := create(t, s, b, models.CustomerInput{Name: "B one"}).Number; n != "C-00001" {
		t.Fatalf("first number in B: %q, want its own C-00001", n)
	}
	create(t, s, a, models.CustomerInput{Name: "A typed", Number: "C-00002"})
	if n := create(t, s, a, models.CustomerInput{Name: "A next"}).Number; n != "C-00003" {
		t.Fatalf("after a typed C-00002 the next is %q, want C-00003", n)
	}
	if _, err := s.Create(a, models.CustomerInput{Name: "A clash", Number: "c-00001"}); fieldError(err, "number") == "" {
		t.Fatalf("taken number (other case): err = %v, want a number error", err)
	}
	// Past five digits the numbers grow rather than wrap onto old ones.
	conn := d.Owner(t)
	if _, err := conn.Exec(context.Background(), "SELECT set_config('app.tenant_id', $1, false)", pa.Tenant.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "UPDATE customer_counters SET last = 99999"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"C-100000", "C-100001"} {
		if n := create(t, s, a, models.CustomerInput{Name: "Big " + want}).Number; n != want {
			t.Fatalf("after C-99999: %q, want %q", n, want)
		}
	}
	// B may use a number A has.
	create(t, s, b, models.CustomerInput{Name: "B typed", Number: "C-00002"})

	// Editing keeps the number unless a free one is typed.
	c := create(t, s, a, models.CustomerInput{Name: "Renumber me"})
	if _, err := s.Update(a, c.ID.String(), models.CustomerInput{Name: "Renumber me", Number: "C-00001"}); fieldError(err, "number") == "" {
		t.Fatalf("edit to a taken number: err = %v", err)
	}
	u, err := s.Update(a, c.ID.String(), models.CustomerInput{Name: "Renumbered"})
	if err != nil || u.Number != c.Number {
		t.Fatalf("edit with a blank number: %v, number %q, want %q kept", err, u.Number, c.Number)
	}

	// Concurrent creates with the same typed number: one wins, the others get the field error.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Create(a, models.CustomerInput{Name: fmt.Sprintf("Racer %d", i), Number: "RACE-1"})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case fieldError(err, "number") == "":
			t.Errorf("racing create: %v, want a number error", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d racing creates took RACE-1", won)
	}
	// Concurrent blank numbers never collide.
	numbers := make([]string, 8)
	for i := range numbers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.Create(a, models.CustomerInput{Name: fmt.Sprintf("Auto %d", i)})
			if err != nil {
				t.Error(err)
			}
			numbers[i] = c.Number
		}()
	}
	wg.Wait()
	slices.Sort(numbers)
	if len(slices.Compact(numbers)) != len(numbers) {
		t.Fatalf("concurrent automatic numbers collide: %v", numbers)
	}
}

// The full record round-trips: kind, typed emails and phones, website, tax id, addresses,
// currency and terms; bad values are field errors and nothing is written.
func TestCustomerRecordFields(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	in := models.CustomerInput{
		Kind: models.KindPerson, Name: "Grace Hopper", Company: "Navy",
		Emails: []string{" Grace@Navy.example ", "", "grace@home.example"}, EmailTypes: []string{"work", "work", "personal"},
		Phones: []string{"+1 555 0100", "+1 555 0199"}, PhoneTypes: []string{"mobile"},
		Website: "navy.example", TaxID: "de 123.456-789", BillingAddress: "1 Main St\nArlington",
		Currency: "usd", PaymentTerms: "14",
	}
	c := create(t, s, a, in)
	got, err := s.Get(a, c.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	want := models.Contacts{{Type: "work", Value: "grace@navy.example"}, {Type: "personal", Value: "grace@home.example"}}
	if !slices.Equal(got.Emails, want) || got.Email != "grace@navy.example" {
		t.Errorf("emails %v (first %q), want %v", got.Emails, got.Email, want)
	}
	if !slices.Equal(got.Phones, models.Contacts{{Type: "mobile", Value: "+1 555 0100"}, {Type: "work", Value: "+1 555 0199"}}) {
		t.Errorf("phones %v", got.Phones)
	}
	if got.Kind != models.KindPerson || got.Website != "https://navy.example" || got.TaxID != "DE123456789" ||
		got.Currency != "USD" || got.PaymentTerms != 14 || got.BillingAddress != "1 Main St\nArlington" {
		t.Errorf("record %+v", got)
	}
	bad := map[string]models.CustomerInput{
		"kind":          {Name: "X", Kind: "robot"},
		"website":       {Name: "X", Website: "javascript:alert(1)"},
		"currency":      {Name: "X", Currency: "EURO"},
		"payment_terms": {Name: "X", PaymentTerms: "400"},
		"email_type[0]": {Name: "X", Emails: []string{"x@example.com"}, EmailTypes: []string{"secret"}},
		"email[1]":      {Name: "X", Emails: []string{"x@example.com", "nope"}},
		"email":         {Name: "X", Emails: strings.Split(strings.Repeat("e@example.com,", 11)[:14*11-1], ",")},
		"number":        {Name: "X", Number: strings.Repeat("9", 31)},
	}
	for field, in := range bad {
		if _, err := s.Create(a, in); fieldError(err, field) == "" {
			t.Errorf("%s: err = %v, want an error on that field", field, err)
		}
	}
	page, _ := s.List(a, store.ListQuery{})
	if page.Total != 1 {
		t.Fatalf("invalid input wrote customers: %d in the list", page.Total)
	}
}

// Tags belong to one tenant: names are unique in it (any case) and free in another; a
// customer can only carry its own tenant's tags, whatever ids a request names.
func TestTagsArePerTenant(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	tags := store.NewTags(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	vip, err := tags.Create(a, models.TagInput{Name: "VIP", Color: "amber"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tags.Create(a, models.TagInput{Name: "vip", Color: "red"}); fieldError(err, "name") == "" {
		t.Fatalf("same name in another case: %v", err)
	}
	if _, err := tags.Create(a, models.TagInput{Name: "Nice", Color: "chartreuse"}); fieldError(err, "color") == "" {
		t.Fatalf("unknown colour: %v", err)
	}
	bVIP, err := tags.Create(b, models.TagInput{Name: "VIP", Color: "blue"})
	if err != nil {
		t.Fatalf("B's own VIP: %v", err)
	}
	// A names B's tag: refused like an unknown tag, and nothing is written.
	if _, err := s.Create(a, models.CustomerInput{Name: "Sneaky", TagIDs: []string{bVIP.ID.String()}}); fieldError(err, "tag") == "" {
		t.Fatalf("B's tag on A's customer: %v", err)
	}
	c := create(t, s, a, models.CustomerInput{Name: "Tagged", TagIDs: []string{vip.ID.String()}})
	got, _ := s.Get(a, c.ID.String())
	if len(got.Tags) != 1 || got.Tags[0].ID != vip.ID {
		t.Fatalf("tags %v", got.Tags)
	}
	if _, err := s.BulkTag(a, store.Selection{IDs: []string{c.ID.String()}}, bVIP.ID.String(), true); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("bulk tag with B's tag: %v, want ErrNotFound", err)
	}
	if err := tags.Delete(a, bVIP.ID.String()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("A deletes B's tag: %v", err)
	}
	list, _ := tags.List(b)
	if len(list) != 1 || list[0].Customers != 0 {
		t.Fatalf("B's tags: %+v", list)
	}
	if p, _ := s.List(b, store.ListQuery{}); len(p.Tags) != 1 || p.Tags[0].ID != bVIP.ID {
		t.Fatalf("B's list offers the tags %+v", p.Tags)
	}
	// Deleting a tag takes it off its customers.
	if err := tags.Delete(a, vip.ID.String()); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(a, c.ID.String()); len(got.Tags) != 0 {
		t.Fatalf("deleted tag still on the customer: %v", got.Tags)
	}
}

// The duplicate check finds the same email, the same tax id and similar names in the tenant,
// and never anything in another tenant, however exact the match there.
func TestDuplicatesStayInTheTenant(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	same := models.CustomerInput{Name: "Initech Corporation", Emails: []string{"billing@initech.example"}, TaxID: "GB999999973"}
	create(t, s, b, same)
	if dups, err := s.Duplicates(a, same, uuid.Nil); err != nil || len(dups) != 0 {
		t.Fatalf("A sees B's customers as duplicates: %v %+v", err, dups)
	}
	mine := create(t, s, a, models.CustomerInput{Name: "Initech Corp.", Emails: []string{"ap@initech.example", "BILLING@initech.example"}})
	other := create(t, s, a, models.CustomerInput{Name: "Unrelated Ltd", TaxID: "gb 999 999 973"})
	create(t, s, a, models.CustomerInput{Name: "Completely Different"})
	dups, err := s.Duplicates(a, same, uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[uuid.UUID]store.Duplicate{}
	for _, d := range dups {
		byID[d.ID] = d
	}
	if len(dups) != 2 || !byID[mine.ID].SameEmail || !byID[mine.ID].SimilarName || !byID[other.ID].SameTaxID {
		t.Fatalf("duplicates %+v", dups)
	}
	// A record is not its own duplicate, and trashed customers are not offered.
	if dups, _ := s.Duplicates(a, models.InputOf(mine), mine.ID); len(dups) != 0 {
		t.Fatalf("a record's own duplicates: %+v", dups)
	}
	if err := s.Trash(a, other.ID.String()); err != nil {
		t.Fatal(err)
	}
	if dups, _ := s.Duplicates(a, models.CustomerInput{TaxID: "GB999999973"}, uuid.Nil); len(dups) != 0 {
		t.Fatalf("trashed customer offered as a duplicate: %+v", dups)
	}
}

// Look-alikes are worked out when a customer is written and kept both ways round: a new
// customer shows on the page of the one it resembles, an edit drops pairs that no longer hold,
// trashed customers are hidden and compared again when restored, customers from before the
// pairs were kept are compared on their first view, and another tenant is never compared.
func TestKeptDuplicates(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	same := models.CustomerInput{Name: "Initech Corporation", Emails: []string{"billing@initech.example"}, TaxID: "GB999999973"}
	theirs := create(t, s, b, same)
	mine := create(t, s, a, models.CustomerInput{Name: "Initech Corp.", Emails: []string{"BILLING@initech.example"}})
	taxed := create(t, s, a, models.CustomerInput{Name: "Unrelated Ltd", TaxID: "gb 999 999 973"})
	create(t, s, a, models.CustomerInput{Name: "Completely Different"})
	copycat := create(t, s, a, same)

	kept := func(ctx context.Context, c models.Customer) map[uuid.UUID]store.Duplicate {
		t.Helper()
		c, err := s.Get(ctx, c.ID.String())
		if err != nil {
			t.Fatal(err)
		}
		dups, err := s.KeptDuplicates(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		out := map[uuid.UUID]store.Duplicate{}
		for _, d := range dups {
			out[d.ID] = d
		}
		return out
	}
	if got := kept(a, copycat); len(got) != 2 || !got[mine.ID].SameEmail || !got[mine.ID].SimilarName || !got[taxed.ID].SameTaxID {
		t.Fatalf("copycat's look-alikes: %+v", got)
	}
	if got := kept(a, mine); len(got) != 1 || !got[copycat.ID].SameEmail {
		t.Fatalf("the older customer does not show the new look-alike: %+v", got)
	}
	if got := kept(b, theirs); len(got) != 0 {
		t.Fatalf("another tenant's customers compared: %+v", got)
	}

	// An edit that makes the copycat different drops its pairs, both ways round.
	if _, err := s.Update(a, copycat.ID.String(), models.CustomerInput{Name: "Zebra Holdings"}); err != nil {
		t.Fatal(err)
	}
	if got := kept(a, mine); len(got) != 0 {
		t.Fatalf("stale pair after an edit: %+v", got)
	}

	// A customer written while the other was in the trash meets it when it is restored.
	if err := s.Trash(a, taxed.ID.String()); err != nil {
		t.Fatal(err)
	}
	late := create(t, s, a, models.CustomerInput{Name: "Late Arrival", TaxID: "GB999999973"})
	if got := kept(a, late); len(got) != 0 {
		t.Fatalf("trashed customer offered: %+v", got)
	}
	if _, err := s.Restore(a, []string{taxed.ID.String()}); err != nil {
		t.Fatal(err)
	}
	if got := kept(a, late); len(got) != 1 || !got[taxed.ID].SameTaxID {
		t.Fatalf("restored customer not compared again: %+v", got)
	}

	// Customers from before pairs were kept are compared on their first view.
	su := d.Superuser(t)
	if _, err := su.Exec(context.Background(), "DELETE FROM customer_duplicates; UPDATE customers SET duplicates_checked = false"); err != nil {
		t.Fatal(err)
	}
	if got := kept(a, taxed); len(got) != 1 || !got[late.ID].SameTaxID {
		t.Fatalf("unchecked customer not compared on view: %+v", got)
	}
	if got := kept(b, theirs); len(got) != 0 {
		t.Fatalf("another tenant's customers compared: %+v", got)
	}
	var foreign int
	if err := su.QueryRow(context.Background(), "SELECT count(*) FROM customer_duplicates d JOIN customers c ON c.id = d.other_id WHERE c.tenant_id <> d.tenant_id").Scan(&foreign); err != nil || foreign != 0 {
		t.Fatalf("pairs across tenants: %d %v", foreign, err)
	}

	// A customer purged for good takes its pairs, both ways round, with it.
	if err := s.Trash(a, late.ID.String()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Purge(a, []string{late.ID.String()}); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := su.QueryRow(context.Background(), "SELECT count(*) FROM customer_duplicates WHERE $1 IN (customer_id, other_id)", late.ID).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d pairs of a purged customer left: %v", left, err)
	}
	if got := kept(a, taxed); len(got) != 0 {
		t.Fatalf("look-alikes of a purged customer: %+v", got)
	}
}

// Trash hides a customer everywhere but the trash; restore and purge act only on the
// caller's own trash.
func TestTrashAndRestoreStayInTheTenant(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, pa := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	c := mustCreate(t, s, a, "Zelda Trashme")
	keep := mustCreate(t, s, a, "Kept Customer")
	bc := mustCreate(t, s, b, "Globex Trashed")
	if err := s.Trash(b, bc.ID.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.Trash(a, bc.ID.String()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("A trashes B's trashed customer: %v", err)
	}
	if err := s.Trash(a, c.ID.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(a, c.ID.String()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("trashed customer: %v, want ErrNotFound", err)
	}
	if err := s.Trash(a, c.ID.String()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("trashing twice: %v", err)
	}
	for _, q := range []string{"", "zelda"} {
		p, _ := s.List(a, store.ListQuery{Filter: store.Filter{Search: q}})
		for _, got := range p.Customers {
			if got.ID == c.ID {
				t.Fatalf("trashed customer listed (search %q)", q)
			}
		}
	}
	trash, err := s.Trashed(a, 1)
	if err != nil || len(trash.Customers) != 1 || trash.Customers[0].ID != c.ID || trash.Customers[0].DeletedBy != pa.Name {
		t.Fatalf("A's trash: %v %+v", err, trash.Customers)
	}
	// B's trashed id in A's restore and purge: not found, and B's row is untouched.
	if n, err := s.Restore(a, []string{bc.ID.String()}); !errors.Is(err, models.ErrNotFound) || n != 0 {
		t.Fatalf("A restores B's customer: %d %v", n, err)
	}
	if n, _, err := s.Purge(a, []string{bc.ID.String(), keep.ID.String()}); err == nil || n != 0 {
		t.Fatalf("A purges B's customer and a live one: %d %v", n, err)
	}
	if trash, _ := s.Trashed(b, 1); len(trash.Customers) != 1 {
		t.Fatal("B's trash changed")
	}
	if _, err := s.Get(a, keep.ID.String()); err != nil {
		t.Fatalf("purge took a customer not in the trash: %v", err)
	}
	if n, err := s.Restore(a, []string{c.ID.String()}); err != nil || n != 1 {
		t.Fatalf("restore: %d %v", n, err)
	}
	if p, _ := s.List(a, store.ListQuery{Filter: store.Filter{Search: "zelda"}}); len(p.Customers) != 1 {
		t.Fatal("restored customer is not found by search")
	}
	// Emptying A's trash leaves B's.
	if err := s.Trash(a, c.ID.String()); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.Purge(a, nil); err != nil || n != 1 {
		t.Fatalf("empty A's trash: %d %v", n, err)
	}
	if trash, _ := s.Trashed(b, 1); len(trash.Customers) != 1 {
		t.Fatal("emptying A's trash touched B's")
	}
}

// Bulk actions reach only the tenant's customers outside the trash: named ids of another
// tenant are skipped, and "all that match" is the tenant's filtered list.
func TestBulkActionsStayInTheTenant(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	tags := store.NewTags(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	b, pb := d.Tenant(t, "globex")
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, mustCreate(t, s, a, fmt.Sprintf("Bulk %d", i)).ID.String())
	}
	mustCreate(t, s, a, "Other One")
	foreign := mustCreate(t, s, b, "Bulk Globex").ID.String()
	bBefore := d.Checksum(t, pb.Tenant.String())
	vip, _ := tags.Create(a, models.TagInput{Name: "VIP", Color: "amber"})

	sel := store.Selection{IDs: append(ids[:2:2], foreign)}.Clean()
	if n, err := s.Count(a, sel, "tag"); err != nil || n != 2 {
		t.Fatalf("count with a foreign id: %d %v", n, err)
	}
	if n, err := s.BulkTag(a, sel, vip.ID.String(), true); err != nil || n != 2 {
		t.Fatalf("bulk tag: %d %v", n, err)
	}
	all := store.Selection{All: true, Filter: store.Filter{Search: "bulk"}}.Clean()
	if n, _ := s.Count(a, all, "tag"); n != 5 {
		t.Fatalf("all matching 'bulk': %d, want A's 5", n)
	}
	if n, err := s.BulkTag(a, all, vip.ID.String(), true); err != nil || n != 3 {
		t.Fatalf("bulk tag all: %d new, want 3", n)
	}
	tagged := store.Selection{All: true, Filter: store.Filter{Tag: vip.ID.String()}}.Clean()
	if n, _ := s.Count(a, tagged, "export"); n != 5 {
		t.Fatalf("tag filter: %d", n)
	}
	var buf bytes.Buffer
	if err := s.Export(a, tagged, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 6 || rows[1][1] != "Bulk 0" || rows[1][12] != "VIP" {
		t.Fatalf("export: %v %q", err, rows)
	}
	if n, err := s.BulkTag(a, store.Selection{IDs: ids[:1]}.Clean(), vip.ID.String(), false); err != nil || n != 1 {
		t.Fatalf("untag: %d %v", n, err)
	}
	if n, err := s.BulkTrash(a, all); err != nil || n != 5 {
		t.Fatalf("bulk trash: %d %v", n, err)
	}
	if p, _ := s.List(a, store.ListQuery{}); p.Total != 1 {
		t.Fatalf("after bulk trash A lists %d", p.Total)
	}
	if n, _ := s.Restore(a, ids); n != 5 {
		t.Fatalf("batch restore: %d", n)
	}
	if d.Checksum(t, pb.Tenant.String()) != bBefore {
		t.Fatal("B's rows changed")
	}
}

// Export cells that a spreadsheet would run as formulas are defused.
func TestExportDefusesFormulas(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	create(t, s, a, models.CustomerInput{Name: "=HYPERLINK(\"http://evil.example\")", Company: "+cmd"})
	var buf bytes.Buffer
	if err := s.Export(a, store.Selection{All: true}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(&buf).ReadAll()
	if rows[1][1] != `'=HYPERLINK("http://evil.example")` || rows[1][3] != "'+cmd" {
		t.Fatalf("export row %q", rows[1])
	}
}

// Keyset paging in every order, both directions, with and without filters: each customer
// appears once, in order, and a cursor made for one order is ignored by another.
func TestListSortsAndFiltersPageByKeyset(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	vip, _ := store.NewTags(d.Gorm).Create(a, models.TagInput{Name: "VIP", Color: "amber"})
	// Equal sort values across page boundaries: the id breaks ties.
	for i := 0; i < 60; i++ {
		in := models.CustomerInput{
			Name: fmt.Sprintf("Person %02d", i%7), Company: fmt.Sprintf("Co %d", i%3),
			Emails: []string{fmt.Sprintf("p%02d@example.com", i)}, Kind: models.KindPerson,
		}
		if i%4 == 0 {
			in.Kind, in.TagIDs = models.KindCompany, []string{vip.ID.String()}
		}
		create(t, s, a, in)
	}
	// A trashed match is neither listed nor counted.
	if err := s.Trash(a, create(t, s, a, models.CustomerInput{Name: "Person trashed", Company: "Co 1"}).ID.String()); err != nil {
		t.Fatal(err)
	}
	for _, sort := range []string{"name", "number", "email", "company", "created"} {
		for _, desc := range []bool{false, true} {
			for _, f := range []store.Filter{{}, {Kind: models.KindCompany}, {Tag: vip.ID.String()}, {Search: "person"}, {Search: "co", Kind: models.KindPerson}} {
				name := fmt.Sprintf("%s desc=%v %+v", sort, desc, f)
				first, err := s.List(a, store.ListQuery{Filter: f, Sort: sort, Desc: desc})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				seen := map[uuid.UUID]bool{}
				var keys []string
				p := first
				for page := 1; ; page++ {
					for _, c := range p.Customers {
						if seen[c.ID] {
							t.Fatalf("%s: %s twice", name, c.Name)
						}
						seen[c.ID] = true
						keys = append(keys, sortKey(c, sort))
					}
					if p.Next == "" {
						break
					}
					if p, err = s.List(a, store.ListQuery{Filter: f, Sort: sort, Desc: desc, Page: page + 1, After: p.Next}); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
				}
				if int64(len(seen)) != first.Total {
					t.Fatalf("%s: paged through %d, count says %d", name, len(seen), first.Total)
				}
				sorted := slices.IsSorted(keys)
				if desc {
					slices.Reverse(keys)
					sorted = slices.IsSorted(keys)
				}
				if !sorted {
					t.Fatalf("%s: out of order: %v", name, keys)
				}
			}
		}
	}
	// The default order is by name, either way; an unknown order falls back to A to Z.
	if p, _ := s.List(a, store.ListQuery{Desc: true}); p.Query.Sort != "name" || !p.Query.Desc || p.Customers[0].Name != "Person 06" {
		t.Fatalf("name descending by default: %+v first %q", p.Query, p.Customers[0].Name)
	}
	if p, _ := s.List(a, store.ListQuery{Sort: "password", Desc: true}); p.Query.Sort != "name" || p.Query.Desc {
		t.Fatalf("unknown order: %+v", p.Query)
	}
	byName, _ := s.List(a, store.ListQuery{})
	other, _ := s.List(a, store.ListQuery{Sort: "email", Page: 2, After: byName.Next})
	if other.Query.After != "" {
		t.Fatal("a name cursor was used for the email order")
	}
}

func sortKey(c models.Customer, sort string) string {
	switch sort {
	case "number":
		return strings.ToLower(c.Number)
	case "email":
		return strings.ToLower(c.Email)
	case "company":
		return strings.ToLower(c.Company)
	case "created":
		return c.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000")
	}
	return strings.ToLower(c.Name)
}

// The count stops at the cap, so a large tenant's list never counts all its rows.
func TestListCountIsCapped(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	conn := d.Owner(t)
	ctx := context.Background()
	// Loaded as the owner, past row level security, as the seed does.
	if _, err := conn.Exec(ctx, "ALTER TABLE customers NO FORCE ROW LEVEL SECURITY; ALTER TABLE customer_terms NO FORCE ROW LEVEL SECURITY; ALTER TABLE customer_counters NO FORCE ROW LEVEL SECURITY"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO customers (tenant_id, number, name) SELECT $1, 'N-' || g, 'Bulk ' || g FROM generate_series(1, 1005) g`, pa.Tenant.UUID()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "ALTER TABLE customers FORCE ROW LEVEL SECURITY; ALTER TABLE customer_terms FORCE ROW LEVEL SECURITY; ALTER TABLE customer_counters FORCE ROW LEVEL SECURITY"); err != nil {
		t.Fatal(err)
	}
	p, err := store.NewCustomers(d.Gorm).List(a, store.ListQuery{})
	if err != nil || p.Total != store.CountCap+1 || len(p.Customers) != store.PageSize {
		t.Fatalf("count %d (%v), want the cap %d+1", p.Total, err, store.CountCap)
	}
}

// Column choices are per person and only known columns are kept.
func TestColumnsArePerPerson(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	if p, _ := s.List(a, store.ListQuery{}); !slices.Equal(p.Columns, store.DefaultColumns) {
		t.Fatalf("default columns %v", p.Columns)
	}
	if err := s.SetColumns(a, []string{"tags", "phone", "password_hash", "phone"}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.List(a, store.ListQuery{}); !slices.Equal(p.Columns, []string{"phone", "tags"}) {
		t.Fatalf("chosen columns %v", p.Columns)
	}
	if p, _ := s.List(b, store.ListQuery{}); !slices.Equal(p.Columns, store.DefaultColumns) {
		t.Fatalf("B sees A's choice: %v", p.Columns)
	}
}

// Notes are added to the tenant's own customers only.
func TestNotesStayWithTheirCustomer(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, pa := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	c := mustCreate(t, s, a, "Noted")
	if err := s.AddNote(b, c.ID.String(), models.NoteInput{Body: "B was here"}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("B notes A's customer: %v", err)
	}
	if err := s.AddNote(a, c.ID.String(), models.NoteInput{Body: "  "}); fieldError(err, "body") == "" {
		t.Fatalf("empty note: %v", err)
	}
	if err := s.AddNote(a, c.ID.String(), models.NoteInput{Body: "Called; will order in May."}); err != nil {
		t.Fatal(err)
	}
	// A note given with the create is the timeline's first.
	first := create(t, s, a, models.CustomerInput{Name: "Noted at birth", Notes: " Met at the fair. "})
	if notes, _ := s.Notes(a, first.ID.String(), 10); len(notes) != 1 || notes[0].Body != "Met at the fair." {
		t.Fatalf("create's note: %+v", notes)
	}
	notes, err := s.Notes(a, c.ID.String(), 10)
	if err != nil || len(notes) != 1 || notes[0].Author != pa.Name || notes[0].Body != "Called; will order in May." {
		t.Fatalf("notes %v %+v", err, notes)
	}
	if notes, _ := s.Notes(b, c.ID.String(), 10); len(notes) != 0 {
		t.Fatalf("B reads A's notes: %+v", notes)
	}
}

// Review findings, each kept by a test.
func TestDuplicateCheckEdges(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	// Input that could not be saved is compared with nothing, without an error.
	many := make([]string, 25000)
	for i := range many {
		many[i] = fmt.Sprintf("e%d@example.com", i)
	}
	for _, in := range []models.CustomerInput{{Name: "X\x00Y"}, {Name: "X\xffY"}, {TaxID: "A\x00"}, {Emails: []string{"a\x00@example.com"}}, {Name: "Many", Emails: many}} {
		if dups, err := s.Duplicates(a, in, uuid.Nil); err != nil || len(dups) != 0 {
			t.Errorf("%.30q: %v %v", in.Name, dups, err)
		}
	}
	// An email typed before the name is checked.
	c := create(t, s, a, models.CustomerInput{Name: "Early Email", Emails: []string{"early@example.com"}})
	if dups, _ := s.Duplicates(a, models.CustomerInput{Emails: []string{"EARLY@example.com"}}, uuid.Nil); len(dups) != 1 || dups[0].ID != c.ID {
		t.Errorf("email alone: %+v", dups)
	}
	// A typo still finds the customer among many that share its words' first letters.
	target := create(t, s, a, models.CustomerInput{Name: "Acme Trading"})
	for i := 0; i < 300; i++ {
		create(t, s, a, models.CustomerInput{Name: fmt.Sprintf("Acme Transport %d", i)})
	}
	dups, err := s.Duplicates(a, models.CustomerInput{Name: "Acme Tradng"}, uuid.Nil)
	if err != nil || len(dups) == 0 || dups[0].ID != target.ID {
		t.Fatalf("typo: %v %+v", err, dups)
	}
}

func TestTrashMissesAndOddInput(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, pa := d.Tenant(t, "acme")
	c := mustCreate(t, s, a, "Restored Twice")
	// Restoring a customer that is not in the trash is a plain miss, not a cross-tenant attempt.
	for i := 0; i < 3; i++ {
		if _, err := s.Restore(a, []string{c.ID.String()}); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("restore a live customer: %v", err)
		}
	}
	var attempts int
	if err := d.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM cross_tenant_attempts WHERE user_id = $1", pa.UserID).Scan(&attempts); err != nil || attempts != 0 {
		t.Fatalf("cross-tenant attempts counted: %d %v", attempts, err)
	}
	// Ids that are not text at all are misses, audited.
	if _, err := s.Restore(a, []string{"\x00", "\xff"}); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("odd ids: %v", err)
	}
	// A year PostgreSQL does not have is no filter, not an error.
	if p, err := s.List(a, store.ListQuery{Filter: store.Filter{From: "0000-01-01", To: "0000-12-31"}}); err != nil || p.Total != 1 {
		t.Fatalf("year 0: %v %d", err, p.Total)
	}
	// The trail names a record in its canonical form, however the request spelled it.
	if _, err := s.Update(a, strings.ToUpper(c.ID.String()), models.CustomerInput{Name: "Upper Cased"}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range auditRows(t, d, a) {
		found = found || e.Action == "customer.update" && e.EntityID == c.ID.String()
	}
	if !found {
		t.Fatal("an edit through an upper-case id is missing from the record's history")
	}
}

// Racing creates of one tag name: one wins, the others are told the name is taken.
func TestTagNameRace(t *testing.T) {
	d := dbtest.New(t, 0)
	tags := store.NewTags(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = tags.Create(a, models.TagInput{Name: "Racing", Color: "red"})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case fieldError(err, "name") == "":
			t.Errorf("racing tag: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d racing creates won", won)
	}
}

// Numbers sort by length first: C-9 before C-10, C-99999 before C-100000.
func TestNumbersSortNaturally(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	for _, n := range []string{"C-100000", "C-10", "C-99999", "C-9"} {
		create(t, s, a, models.CustomerInput{Name: n, Number: n})
	}
	p, _ := s.List(a, store.ListQuery{Sort: "number"})
	var got []string
	for _, c := range p.Customers {
		got = append(got, c.Number)
	}
	if !slices.Equal(got, []string{"C-9", "C-10", "C-99999", "C-100000"}) {
		t.Fatalf("number order %v", got)
	}
}

// Each customer a bulk action changes gets its own audit row, so its history shows the change.
func TestBulkActionsReachEachHistory(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	reader := audit.NewReader(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	vip, _ := store.NewTags(d.Gorm).Create(a, models.TagInput{Name: "VIP", Color: "amber"})
	one, two := mustCreate(t, s, a, "Bulk One"), mustCreate(t, s, a, "Bulk Two")
	sel := store.Selection{IDs: []string{one.ID.String(), two.ID.String()}}.Clean()
	if _, err := s.BulkTag(a, sel, vip.ID.String(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BulkTrash(a, sel); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Restore(a, sel.IDs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []models.Customer{one, two} {
		h, err := reader.History(a, "customer", c.ID.String(), 20)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range h {
			actions = append(actions, e.Action)
		}
		for _, want := range []string{"customer.tag", "customer.trash", "customer.restore"} {
			if !slices.Contains(actions, want) {
				t.Errorf("%s's history %v lacks %s", c.Name, actions, want)
			}
		}
	}
}
