package store_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/dbtest"
	"moat/app/money"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

// today is the real date: what the database dates itself (a void's stock movements, say) must
// not fall after it.
var today = time.Now().UTC().Truncate(24 * time.Hour).Add(9 * time.Hour)

func draftInput(customer string, lines ...models.LineInput) models.InvoiceInput {
	if len(lines) == 0 {
		lines = []models.LineInput{{Description: "Consulting", Quantity: "10", UnitPrice: "100", TaxRate: "20"}}
	}
	return models.InvoiceInput{CustomerID: customer, Currency: "EUR", PaymentTerms: "14", Lines: lines}
}

func mustDraft(t *testing.T, s *store.Invoices, ctx context.Context, customer string, lines ...models.LineInput) models.Invoice {
	t.Helper()
	inv, err := s.CreateDraft(ctx, draftInput(customer, lines...))
	if err != nil {
		t.Fatalf("draft: %v", err)
	}
	return inv
}

// eur is an amount in euros as the invoice shows it: 1200.0000 from the database is 1200.00.
func eur(s string) string { return money.Amount(s, "EUR").Number() }

func fieldErr(err error, field string) bool {
	var v *models.ValidationError
	return errors.As(err, &v) && v.Fields[field] != ""
}

// Draft → finalized → partly paid → paid; an overpayment is refused; credit and re-issue
// settles a second invoice and copies it as a new draft.
func TestInvoiceLifecycle(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	customers := store.NewCustomers(d.Gorm)
	c := mustCreate(t, customers, a, "Grace Hopper")
	s := store.NewInvoices(d.Gorm)

	inv := mustDraft(t, s, a, c.ID.String())
	if inv.Number != nil || inv.Status != models.StatusDraft || eur(inv.Total) != "1200.00" {
		t.Fatalf("draft: %+v", inv)
	}
	in := draftInput(c.ID.String(), models.LineInput{Description: "Design", Quantity: "2", UnitPrice: "250", TaxRate: "20"},
		models.LineInput{Description: "Hosting", Quantity: "12", UnitPrice: "9.99", Discount: "10", TaxRate: "20"})
	if inv, _ = s.UpdateDraft(a, inv.ID.String(), in); eur(inv.Total) != "729.47" {
		t.Fatalf("updated draft total %s, want 729.47 (500 + 107.89 net, 20 %% tax)", inv.Total)
	}
	inv, err := s.Finalize(a, inv.ID.String(), today)
	if err != nil {
		t.Fatal(err)
	}
	if *inv.Number != fmt.Sprintf("INV-%d-0001", today.Year()) || inv.Status != models.StatusOpen || !inv.DueDate.Equal(today.Truncate(24*time.Hour).AddDate(0, 0, 14)) ||
		inv.CustomerName != "Grace Hopper" || inv.SellerName != "acme" {
		t.Fatalf("finalized: number %v status %s due %v customer %q seller %q", *inv.Number, inv.Status, inv.DueDate, inv.CustomerName, inv.SellerName)
	}
	if _, err := s.UpdateDraft(a, inv.ID.String(), in); !fieldErr(err, "invoice") {
		t.Fatalf("editing a finalized invoice: %v", err)
	}
	if err := s.DeleteDraft(a, inv.ID.String()); !fieldErr(err, "invoice") {
		t.Fatalf("deleting a finalized invoice: %v", err)
	}
	pay := func(amount string) error {
		return s.RecordPayment(a, inv.ID.String(), models.PaymentInput{Amount: amount, PaidOn: today.Format(time.DateOnly), Method: "bank transfer"}, today)
	}
	if err := pay("729.48"); !fieldErr(err, "amount") {
		t.Fatalf("overpayment: %v", err)
	}
	if err := pay("100.001"); !fieldErr(err, "amount") {
		t.Fatalf("a payment in a tenth of a cent: %v", err)
	}
	if err := pay("500"); err != nil {
		t.Fatal(err)
	}
	if det, _ := s.Get(a, inv.ID.String()); det.Status != models.StatusOpen || eur(det.Due()) != "229.47" || len(det.Payments) != 1 {
		t.Fatalf("after a partial payment: status %s due %s", det.Status, det.Due())
	}
	if err := s.Void(a, inv.ID.String()); !fieldErr(err, "invoice") {
		t.Fatalf("voiding a paid-into invoice: %v", err)
	}
	if err := pay("229.47"); err != nil {
		t.Fatal(err)
	}
	det, _ := s.Get(a, inv.ID.String())
	if det.Status != models.StatusPaid || eur(det.Due()) != "0.00" || det.PaidAt == nil {
		t.Fatalf("paid in full: status %s due %s", det.Status, det.Due())
	}
	if err := pay("1"); !fieldErr(err, "amount") {
		t.Fatalf("paying a paid invoice: %v", err)
	}

	// Credit and re-issue an open invoice: the credit note settles it, a new draft copies it.
	second := mustDraft(t, s, a, c.ID.String())
	second, _ = s.Finalize(a, second.ID.String(), today)
	note, draft, err := s.Credit(a, second.ID.String(), true, true, today)
	if err != nil {
		t.Fatal(err)
	}
	if *note.Number != "CN-2026-0001" || note.Kind != models.KindCreditNote || eur(note.Total) != eur(second.Total) || *note.CreditsInvoiceID != second.ID {
		t.Fatalf("credit note %+v", note)
	}
	orig, _ := s.Get(a, second.ID.String())
	if orig.Status != models.StatusPaid || eur(orig.Due()) != "0.00" || eur(orig.AmountCredited) != "1200.00" || len(orig.Credits) != 1 {
		t.Fatalf("credited invoice: status %s due %s credited %s", orig.Status, orig.Due(), orig.AmountCredited)
	}
	copied, _ := s.Get(a, draft.ID.String())
	if copied.Status != models.StatusDraft || len(copied.Lines) != 1 || copied.Lines[0].Description != "Consulting" || eur(copied.Total) != "1200.00" {
		t.Fatalf("re-issued draft: %+v", copied.Invoice)
	}
	if _, _, err := s.Credit(a, second.ID.String(), false, false, today); !fieldErr(err, "invoice") {
		t.Fatalf("crediting twice: %v", err)
	}
	third, _ := s.Finalize(a, mustDraft(t, s, a, c.ID.String()).ID.String(), today)
	if *third.Number != "INV-2026-0003" {
		t.Fatalf("the next invoice is %s, want INV-2026-0003: credit notes have their own series", *third.Number)
	}
	if err := s.MarkUncollectible(a, third.ID.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.Void(a, third.ID.String()); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUncollectible(a, third.ID.String()); !fieldErr(err, "invoice") {
		t.Fatalf("a void invoice made uncollectible: %v", err)
	}
}

// Fifty drafts finalized at once get exactly 1 to 50; deleted drafts and a finalization that
// rolls back leave no hole.
func TestFinalizeNumbersHaveNoGapsUnderConcurrency(t *testing.T) {
	d := dbtest.New(t, 60)
	a, _ := d.Tenant(t, "acme")
	c := mustCreate(t, store.NewCustomers(d.Gorm), a, "Ada Lovelace")
	s := store.NewInvoices(d.Gorm)
	var drafts []models.Invoice
	for i := 0; i < 52; i++ {
		drafts = append(drafts, mustDraft(t, s, a, c.ID.String()))
	}
	for _, gone := range drafts[50:] {
		if err := s.DeleteDraft(a, gone.ID.String()); err != nil {
			t.Fatal(err)
		}
	}
	// A finalization that fails after taking its number gives it back.
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Raw("INSERT INTO invoice_series (tenant_id, kind, prefix) VALUES (current_tenant_id(), 'invoice', 'INV-{YYYY}-') ON CONFLICT DO NOTHING").Error; err != nil {
			return err
		}
		if err := tx.Raw("INSERT INTO invoice_counters AS c (tenant_id, kind, year, last) VALUES (current_tenant_id(), 'invoice', 2026, 1) ON CONFLICT (tenant_id, kind, year) DO UPDATE SET last = c.last + 1 RETURNING last").Scan(&n).Error; err != nil {
			return err
		}
		return errors.New("the finalization fails after numbering")
	})
	if err == nil {
		t.Fatal("the failing finalization committed")
	}
	var wg sync.WaitGroup
	numbers := make([]string, 50)
	errs := make([]error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inv, err := s.Finalize(a, drafts[i].ID.String(), today)
			if errs[i] = err; err == nil {
				numbers[i] = *inv.Number
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	sort.Strings(numbers)
	for i, n := range numbers {
		if want := fmt.Sprintf("INV-2026-%04d", i+1); n != want {
			t.Fatalf("number %d is %s, want %s (all: %v)", i+1, n, want, numbers)
		}
	}
}

// Once finalized, the database itself refuses to change what the customer received, whatever
// SQL the app role sends; only the status (along its transitions), payments, credits and notes
// move.
func TestFinalizedInvoicesAreFrozen(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	c := mustCreate(t, store.NewCustomers(d.Gorm), a, "Ada Lovelace")
	s := store.NewInvoices(d.Gorm)
	inv, err := s.Finalize(a, mustDraft(t, s, a, c.ID.String()).ID.String(), today)
	if err != nil {
		t.Fatal(err)
	}
	id := inv.ID
	exec := func(sql string, args ...any) error {
		return tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error { return tx.Exec(sql, args...).Error })
	}
	for name, sql := range map[string]string{
		"total":          "UPDATE invoices SET total = 1, net_total = 1, tax_total = 0 WHERE id = ?",
		"currency":       "UPDATE invoices SET currency = 'USD' WHERE id = ?",
		"exchange rate":  "UPDATE invoices SET exchange_rate = 2 WHERE id = ?",
		"customer":       "UPDATE invoices SET customer_name = 'Someone Else' WHERE id = ?",
		"number":         "UPDATE invoices SET number = 'INV-2026-9999' WHERE id = ?",
		"issue date":     "UPDATE invoices SET issue_date = issue_date - 30 WHERE id = ?",
		"back to draft":  "UPDATE invoices SET status = 'draft' WHERE id = ?",
		"paid to open":   "UPDATE invoices SET status = 'open' WHERE id = ? AND false",
		"a line's price": "UPDATE invoice_lines SET unit_price = 1 WHERE invoice_id = ?",
		"a new line":     "INSERT INTO invoice_lines (tenant_id, invoice_id, position, description, quantity, unit_price, net, tax) VALUES (current_tenant_id(), ?, 9, 'x', 1, 1, 1, 0)",
		"a line removed": "DELETE FROM invoice_lines WHERE invoice_id = ?",
		"the invoice":    "DELETE FROM invoices WHERE id = ?",
	} {
		if name == "paid to open" {
			continue // below, once paid
		}
		if err := exec(sql, id); err == nil || !strings.Contains(err.Error(), "invoice") {
			t.Errorf("%s changed on a finalized invoice: %v", name, err)
		}
	}
	if err := exec("UPDATE invoices SET notes = 'Thank you!' WHERE id = ?", id); err != nil {
		t.Errorf("the notes of a finalized invoice: %v", err)
	}
	if err := s.RecordPayment(a, id.String(), models.PaymentInput{Amount: inv.Total}, today); err != nil {
		t.Fatal(err)
	}
	if err := exec("UPDATE invoices SET status = 'open' WHERE id = ?", id); err == nil {
		t.Error("a paid invoice went back to open")
	}
	if err := exec("UPDATE invoices SET amount_paid = 0 WHERE id = ?", id); err == nil {
		t.Error("a payment was taken back")
	}
	if err := exec("DELETE FROM invoice_payments WHERE invoice_id = ?", id); err == nil {
		t.Error("the app role deleted a payment")
	}
	// The document is stored once and never replaced.
	if err := s.AttachDocument(a, id.String(), []byte("%PDF-1.4 first")); err != nil {
		t.Fatal(err)
	}
	if err := s.AttachDocument(a, id.String(), []byte("%PDF-1.4 second")); !fieldErr(err, "invoice") {
		t.Fatalf("a second document: %v", err)
	}
	if pdf, _, found, err := s.Document(a, id.String()); err != nil || !found || string(pdf) != "%PDF-1.4 first" {
		t.Fatalf("the stored document: %q %v %v", pdf, found, err)
	}
	if err := exec("UPDATE invoice_documents SET pdf = 'x' WHERE invoice_id = ?", id); err == nil {
		t.Error("the app role replaced a stored document")
	}
}

// What is stored is what the lines work out to: totals recompute exactly from stored lines.
func TestStoredTotalsRecomputeFromTheLines(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	c := mustCreate(t, store.NewCustomers(d.Gorm), a, "Ada Lovelace")
	s := store.NewInvoices(d.Gorm)
	for i, code := range []string{"EUR", "JPY", "BHD", "CAD"} {
		in := draftInput(c.ID.String(),
			models.LineInput{Description: "a", Quantity: "3", UnitPrice: "19.99", Discount: "12.5", TaxRate: "20"},
			models.LineInput{Description: "b", Quantity: "0.3333", UnitPrice: "8180", TaxRate: "9.975"},
			models.LineInput{Description: "c", Quantity: "7", UnitPrice: "0.0333", TaxRate: "5.5"})
		in.Currency, in.PricesIncludeTax = code, i%2 == 1
		if i >= 2 {
			in.Rounding = money.PerDocument
		}
		inv, err := s.CreateDraft(a, in)
		if err != nil {
			t.Fatal(err)
		}
		inv, err = s.Finalize(a, inv.ID.String(), today)
		if err != nil {
			t.Fatal(err)
		}
		det, err := s.Get(a, inv.ID.String())
		if err != nil {
			t.Fatal(err)
		}
		got := [3]string{money.Amount(det.NetTotal, code).Number(), money.Amount(det.TaxTotal, code).Number(), money.Amount(det.Total, code).Number()}
		want := [3]string{det.Totals.Net.Number(), det.Totals.Tax.Number(), det.Totals.Total.Number()}
		if got != want {
			t.Errorf("%s: stored %v, the stored lines work out to %v", code, got, want)
		}
		for j, l := range det.Lines {
			if money.Amount(l.Net, code).Number() != det.Totals.Lines[j].Net.Number() {
				t.Errorf("%s line %d: stored net %s, works out to %s", code, j+1, l.Net, det.Totals.Lines[j].Net.Number())
			}
		}
	}
}

// An invoice names only its own tenant's customers, and another tenant's invoices answer like
// unknown ones on every method.
func TestInvoicesStayInTheTenant(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	b, pb := d.Tenant(t, "globex")
	customers := store.NewCustomers(d.Gorm)
	mine := mustCreate(t, customers, a, "Ada Lovelace")
	theirs := mustCreate(t, customers, b, "Globex Client")
	s := store.NewInvoices(d.Gorm)
	_, foreignErr := s.CreateDraft(a, draftInput(theirs.ID.String()))
	_, unknownErr := s.CreateDraft(a, draftInput(uuid.NewString()))
	if !fieldErr(foreignErr, "customer") || fmt.Sprint(foreignErr) != fmt.Sprint(unknownErr) {
		t.Fatalf("a foreign customer: %v; an unknown one: %v", foreignErr, unknownErr)
	}
	trashed := mustCreate(t, customers, a, "Gone Away")
	if err := customers.Trash(a, trashed.ID.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateDraft(a, draftInput(trashed.ID.String())); !fieldErr(err, "customer") {
		t.Fatalf("a trashed customer: %v", err)
	}
	theirInvoice, err := s.Finalize(b, mustDraft(t, s, b, theirs.ID.String()).ID.String(), today)
	if err != nil {
		t.Fatal(err)
	}
	invoiceTables := []string{"invoices", "invoice_lines", "invoice_payments", "invoice_documents", "invoice_counters"}
	before := d.Checksum(t, pb.Tenant.String(), invoiceTables...)
	id := theirInvoice.ID.String()
	calls := map[string]func() error{
		"get":           func() error { _, err := s.Get(a, id); return err },
		"update":        func() error { _, err := s.UpdateDraft(a, id, draftInput(mine.ID.String())); return err },
		"delete":        func() error { return s.DeleteDraft(a, id) },
		"finalize":      func() error { _, err := s.Finalize(a, id, today); return err },
		"pay":           func() error { return s.RecordPayment(a, id, models.PaymentInput{Amount: "1"}, today) },
		"void":          func() error { return s.Void(a, id) },
		"uncollectible": func() error { return s.MarkUncollectible(a, id) },
		"credit":        func() error { _, _, err := s.Credit(a, id, true, true, today); return err },
		"document":      func() error { return s.AttachDocument(a, id, []byte("%PDF")) },
		"read document": func() error { _, _, _, err := s.Document(a, id); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("%s on another tenant's invoice: %v, want ErrNotFound", name, err)
		}
	}
	if mine, _ := s.ForCustomer(a, theirs.ID, 10); len(mine.Invoices) != 0 || len(mine.Outstanding) != 0 {
		t.Errorf("another tenant's customer's invoices: %+v", mine)
	}
	if after := d.Checksum(t, pb.Tenant.String(), invoiceTables...); after != before {
		t.Error("B's invoices changed under A's attack")
	}
}

// A customer with invoices stays in the trash when it is purged: invoices are kept for years and
// name their customer. The rest of the trash goes.
func TestPurgeKeepsInvoicedCustomers(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	customers := store.NewCustomers(d.Gorm)
	billed := mustCreate(t, customers, a, "Billed Customer")
	plain := mustCreate(t, customers, a, "Plain Customer")
	mustDraft(t, store.NewInvoices(d.Gorm), a, billed.ID.String())
	for _, c := range []models.Customer{billed, plain} {
		if err := customers.Trash(a, c.ID.String()); err != nil {
			t.Fatal(err)
		}
	}
	if n, kept, err := customers.Purge(a, []string{billed.ID.String()}); err != nil || n != 0 || kept != 1 {
		t.Fatalf("purge the billed customer: %d purged, %d kept, %v", n, kept, err)
	}
	if n, kept, err := customers.Purge(a, nil); err != nil || n != 1 || kept != 1 {
		t.Fatalf("empty the trash: %d purged, %d kept, %v", n, kept, err)
	}
	page, err := customers.Trashed(a, 1)
	if err != nil || len(page.Customers) != 1 || page.Customers[0].ID != billed.ID || !page.Customers[0].Invoiced {
		t.Fatalf("the trash after: %+v, %v", page.Customers, err)
	}
}
