package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/dbtest"
	"moat/app/money"
	"moat/app/posture"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

func mustProduct(t *testing.T, s *store.Products, ctx context.Context, sku string, stocked bool) models.Product {
	t.Helper()
	p, err := s.Create(ctx, models.ProductInput{SKU: sku, Name: "Product " + sku, SalePrice: "10", TaxRate: "20", Stocked: stocked})
	if err != nil {
		t.Fatalf("product %s: %v", sku, err)
	}
	return p
}

func defaultWarehouse(t *testing.T, s *store.Products, ctx context.Context) models.Warehouse {
	t.Helper()
	r, err := s.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r.Warehouses[0].Warehouse
}

func mustMove(t *testing.T, s *store.Products, ctx context.Context, p models.Product, in models.StockInput) {
	t.Helper()
	if err := s.Move(ctx, p.ID.String(), in, today); err != nil {
		t.Fatalf("%s %s of %s: %v", in.Kind, in.Quantity, p.SKU, err)
	}
}

// balance is the product's balance in warehouse w, trimmed: on hand, reserved, average cost.
func balance(t *testing.T, s *store.Products, ctx context.Context, p models.Product, w models.Warehouse) string {
	t.Helper()
	d, err := s.Get(ctx, p.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range d.Balances {
		if b.WarehouseID == w.ID {
			return money.Trim(b.OnHand) + "/" + money.Trim(b.Reserved) + "@" + money.Trim(b.AvgCost)
		}
	}
	return "none"
}

// drift is what moat check says of the stock ledger.
func drift(t *testing.T, d *dbtest.DB) []string {
	t.Helper()
	problems, err := posture.Ledger(context.Background(), d.Pool)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range problems {
		if strings.Contains(p, "stock balance(s) differ") {
			out = append(out, p)
		}
	}
	return out
}

func noDrift(t *testing.T, d *dbtest.DB) {
	t.Helper()
	if found := drift(t, d); len(found) > 0 {
		t.Fatalf("balances differ from their ledger: %v", found)
	}
}

// Receipts average their costs; adjustments and counts say why; a transfer moves the value with
// the goods; a movement dated before the product's latest is refused; a reversal undoes a
// receipt once; and every balance is the sum of its ledger throughout.
func TestStockLedger(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	s := store.NewProducts(d.Gorm)
	p := mustProduct(t, s, a, "BOLT-1", true)
	main := defaultWarehouse(t, s, a)
	if main.Name != "Main warehouse" || !main.IsDefault {
		t.Fatalf("sign-up's default warehouse: %+v", main)
	}
	annex, err := s.CreateWarehouse(a, "Annex")
	if err != nil {
		t.Fatal(err)
	}
	w := main.ID.String()
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w, Quantity: "10", UnitCost: "5", OccurredOn: "2026-11-20"})
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w, Quantity: "10", UnitCost: "7", OccurredOn: "2026-11-25"})
	if got := balance(t, s, a, p, main); got != "20/0@6" {
		t.Fatalf("after two receipts: %s, want 20/0@6", got)
	}
	err = s.Move(a, p.ID.String(), models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w, Quantity: "1", UnitCost: "1", OccurredOn: "2026-11-24"}, today)
	if !fieldErr(err, "occurred_on") {
		t.Fatalf("a receipt dated before the latest movement: %v", err)
	}
	if err := s.Move(a, p.ID.String(), models.StockInput{Kind: models.ReasonAdjustment, WarehouseID: w, Quantity: "-2"}, today); !fieldErr(err, "note") {
		t.Fatalf("an adjustment without a reason: %v", err)
	}
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonAdjustment, WarehouseID: w, Quantity: "-2", Note: "damaged"})
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonCount, WarehouseID: w, Quantity: "15", Note: "year-end count"})
	if err := s.Move(a, p.ID.String(), models.StockInput{Kind: models.ReasonAdjustment, WarehouseID: w, Quantity: "-16", Note: "lost"}, today); !fieldErr(err, "quantity") {
		t.Fatalf("taking out more than is there: %v", err)
	}
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonTransfer, WarehouseID: w, ToWarehouse: annex.ID.String(), Quantity: "5"})
	if got, want := balance(t, s, a, p, main)+" "+balance(t, s, a, p, annex), "10/0@6 5/0@6"; got != want {
		t.Fatalf("after adjusting, counting and transferring: %s, want %s", got, want)
	}
	noDrift(t, d)

	detail, err := s.Get(a, p.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(detail.Movements) != 6 || detail.OnHand != "15" {
		t.Fatalf("ledger of %d movements, %s on hand; want 6 and 15", len(detail.Movements), detail.OnHand)
	}
	var transfer, receipt models.StockMovement
	for _, m := range detail.Movements {
		switch {
		case m.Reason == models.ReasonTransfer && m.WarehouseID == annex.ID:
			transfer = m.StockMovement
		case m.Reason == models.ReasonReceipt && money.Trim(m.UnitCost) == "7":
			receipt = m.StockMovement
		}
	}
	if _, err := s.Reverse(a, transfer.ID.String(), "", today); !fieldErr(err, "note") {
		t.Fatalf("a reversal without a reason: %v", err)
	}
	if _, err := s.Reverse(a, transfer.ID.String(), "wrong shelf", today); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, s, a, p, main) + " " + balance(t, s, a, p, annex); got != "15/0@6 none" {
		t.Fatalf("after reversing the transfer: %s", got)
	}
	if _, err := s.Reverse(a, receipt.ID.String(), "supplier's invoice was wrong", today); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reverse(a, receipt.ID.String(), "again", today); !fieldErr(err, "movement") {
		t.Fatalf("reversing twice: %v", err)
	}
	// The 10 received at 7 leave at 7, and the average is what the other 5 were worth:
	// (15 × 6 − 10 × 7) / 5 = 4.
	if got := balance(t, s, a, p, main); got != "5/0@4" {
		t.Fatalf("after reversing a receipt: %s, want 5/0@4", got)
	}
	noDrift(t, d)

	// A refusal leaves nothing behind: not even the empty balance a lock would have made.
	before := d.Checksum(t, pa.Tenant.String(), "stock_balances", "stock_movements", "warehouses")
	for _, in := range []models.StockInput{
		{Kind: models.ReasonAdjustment, WarehouseID: annex.ID.String(), Quantity: "-1", Note: "lost"},
		{Kind: models.ReasonCount, WarehouseID: annex.ID.String(), Quantity: "1", UnitCost: "NaN", Note: "found"},
		{Kind: models.ReasonReceipt, WarehouseID: annex.ID.String(), Quantity: "99999999999999", UnitCost: "1"},
	} {
		if in.Kind == models.ReasonReceipt {
			mustMove(t, s, a, p, in) // the most a balance holds, and then one more is refused
			before = d.Checksum(t, pa.Tenant.String(), "stock_balances", "stock_movements", "warehouses")
			in.Quantity = "1"
		}
		if err := s.Move(a, p.ID.String(), in, today); !fieldErr(err, "quantity") && !fieldErr(err, "unit_cost") {
			t.Fatalf("%+v: %v, want a refusal", in, err)
		}
		if d.Checksum(t, pa.Tenant.String(), "stock_balances", "stock_movements", "warehouses") != before {
			t.Fatalf("the refused %s left a change behind", in.Kind)
		}
	}
}

// The ledger is append-only for every role, and only the database writes balances: the app role
// may not, and anyone else's raw changes to the ledger are refused by the trigger.
func TestStockLedgerIsAppendOnly(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	s := store.NewProducts(d.Gorm)
	p := mustProduct(t, s, a, "NUT-1", true)
	w := defaultWarehouse(t, s, a)
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w.ID.String(), Quantity: "4", UnitCost: "2"})
	for _, sql := range []string{
		"UPDATE stock_movements SET quantity = 400",
		"DELETE FROM stock_movements",
		"UPDATE stock_balances SET on_hand = 400",
		"INSERT INTO stock_balances (tenant_id, product_id, warehouse_id, on_hand) VALUES (current_tenant_id(), '" + p.ID.String() + "', '" + w.ID.String() + "', 9)",
		"TRUNCATE stock_movements",
	} {
		err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error { return tx.Exec(sql).Error })
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("the app role ran %q: %v", sql, err)
		}
	}
	// Even a role that bypasses row level security meets the trigger.
	su := d.Superuser(t)
	for _, sql := range []string{"UPDATE stock_movements SET quantity = 400", "DELETE FROM stock_movements", "TRUNCATE stock_movements"} {
		_, err := su.Exec(context.Background(), sql)
		if err == nil || !strings.Contains(err.Error(), "never changed or deleted") {
			t.Errorf("a superuser ran %q: %v", sql, err)
		}
	}
	if got := balance(t, s, a, p, w); got != "4/0@2" {
		t.Fatalf("balance after the attempts: %s", got)
	}
}

// Raw SQL that skips the store's check still cannot take stock that is not there: the balance's
// trigger refuses it, for a movement and for a draft's line alike.
func TestRawSQLCannotOversell(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	s := store.NewProducts(d.Gorm)
	p := mustProduct(t, s, a, "RAW-1", true)
	w := defaultWarehouse(t, s, a)
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w.ID.String(), Quantity: "2", UnitCost: "1"})
	c := mustCreate(t, store.NewCustomers(d.Gorm), a, "Ada Lovelace")
	draft := mustDraftOf(t, store.NewInvoices(d.Gorm), a, draftInput(c.ID.String()))
	for _, sql := range []string{
		fmt.Sprintf("INSERT INTO stock_movements (tenant_id, product_id, warehouse_id, quantity, reason, note) VALUES (current_tenant_id(), '%s', '%s', -3, 'adjustment', 'raw')", p.ID, w.ID),
		fmt.Sprintf("INSERT INTO invoice_lines (tenant_id, invoice_id, position, description, quantity, unit_price, net, tax, product_id, warehouse_id) VALUES (current_tenant_id(), '%s', 9, 'raw', 3, 1, 3, 0, '%s', '%s')", draft.ID, p.ID, w.ID),
	} {
		err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error { return tx.Exec(sql).Error })
		if err == nil || !strings.Contains(err.Error(), "only 2.0000 available") {
			t.Errorf("%s: %v", sql, err)
		}
	}
	if got := balance(t, s, a, p, w); got != "2/0@1" {
		t.Fatalf("balance after the attempts: %s", got)
	}
}

// moat check finds a balance that no longer equals its ledger (here changed behind the
// triggers' back by the owner, who alone could), and one whose reservations differ from its
// drafts' lines.
func TestDriftFindsBalancesThatDisagreeWithTheLedger(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	s := store.NewProducts(d.Gorm)
	p := mustProduct(t, s, a, "GEAR-1", true)
	w := defaultWarehouse(t, s, a)
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w.ID.String(), Quantity: "3", UnitCost: "1"})
	noDrift(t, d)
	su := d.Superuser(t)
	for _, sql := range []string{"UPDATE stock_balances SET on_hand = on_hand + 1", "UPDATE stock_balances SET on_hand = on_hand - 1, reserved = 1"} {
		if _, err := su.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
		if found := drift(t, d); len(found) != 1 || !strings.HasPrefix(found[0], "1 stock balance(s) differ") {
			t.Fatalf("after %q: moat check says %v, want one balance reported", sql, found)
		}
	}
}

// Twenty drafts race for ten units: exactly ten reserve them, each with two lines of the same
// product, and the others are refused on a line's quantity. Drafts that take two products in
// opposite orders never deadlock.
func TestReservationsNeverOversell(t *testing.T) {
	d := dbtest.New(t, 40)
	a, _ := d.Tenant(t, "acme")
	s := store.NewProducts(d.Gorm)
	invoices := store.NewInvoices(d.Gorm)
	c := mustCreate(t, store.NewCustomers(d.Gorm), a, "Ada Lovelace")
	x, y := mustProduct(t, s, a, "X", true), mustProduct(t, s, a, "Y", true)
	w := defaultWarehouse(t, s, a)
	for _, p := range []models.Product{x, y} {
		mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w.ID.String(), Quantity: "10", UnitCost: "1"})
	}
	line := func(sku, q string) models.LineInput { return models.LineInput{SKU: sku, Quantity: q} }
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lines := []models.LineInput{line("X", "0.5"), line("Y", "1"), line("X", "0.5")}
			if i%2 == 1 {
				lines = []models.LineInput{line("Y", "1"), line("X", "0.5"), line("X", "0.5")}
			}
			_, errs[i] = invoices.CreateDraft(a, draftInput(c.ID.String(), lines...))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var v *models.ValidationError
		switch {
		case err == nil:
			ok++
		case !errors.As(err, &v) || !strings.HasPrefix(fmt.Sprint(v.Fields), "map[line_quantity["):
			t.Errorf("a refused draft: %v (%v), want a line's quantity refused", err, v)
		}
	}
	if ok != 10 {
		t.Fatalf("%d drafts reserved, want exactly 10", ok)
	}
	if got := balance(t, s, a, x, w) + " " + balance(t, s, a, y, w); got != "10/10@1 10/10@1" {
		t.Fatalf("balances after the race: %s", got)
	}
	noDrift(t, d)
}

// A draft's goods are reserved as it is saved and changed, released when it is deleted, taken
// out when it is finalized (at the average cost), brought back when it is voided, and returned
// by a credit note that says so. Services move nothing.
func TestInvoicesMoveStock(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	s := store.NewProducts(d.Gorm)
	invoices := store.NewInvoices(d.Gorm)
	c := mustCreate(t, store.NewCustomers(d.Gorm), a, "Ada Lovelace")
	p, service := mustProduct(t, s, a, "CHAIR", true), mustProduct(t, s, a, "INSTALL", false)
	w := defaultWarehouse(t, s, a)
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w.ID.String(), Quantity: "10", UnitCost: "40"})
	sell := func(q string) models.InvoiceInput {
		return draftInput(c.ID.String(), models.LineInput{SKU: "chair", Quantity: q}, models.LineInput{SKU: "INSTALL", Quantity: "2", UnitPrice: "30"})
	}
	draft, err := invoices.CreateDraft(a, sell("3"))
	if err != nil {
		t.Fatal(err)
	}
	if got := balance(t, s, a, p, w); got != "10/3@40" {
		t.Fatalf("after a draft of 3: %s", got)
	}
	if eur(draft.Total) != "108.00" {
		t.Fatalf("a draft priced from its products: total %s, want 108.00 (3 × 10 + 2 × 30, 20 %% tax)", draft.Total)
	}
	if _, err := invoices.UpdateDraft(a, draft.ID.String(), sell("11")); !fieldErr(err, "line_quantity[1]") {
		t.Fatalf("a draft asking for 11 of 10: %v", err)
	}
	if _, err := invoices.UpdateDraft(a, draft.ID.String(), sell("10")); err != nil {
		t.Fatalf("a draft taking all 10, 3 of them its own already: %v", err)
	}
	if err := invoices.DeleteDraft(a, draft.ID.String()); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, s, a, p, w); got != "10/0@40" {
		t.Fatalf("after deleting the draft: %s", got)
	}
	sale, err := invoices.Finalize(a, mustDraftOf(t, invoices, a, sell("4")).ID.String(), today)
	if err != nil {
		t.Fatal(err)
	}
	if got := balance(t, s, a, p, w); got != "6/0@40" {
		t.Fatalf("after finalizing 4: %s", got)
	}
	if err := invoices.Void(a, sale.ID.String()); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, s, a, p, w); got != "10/0@40" {
		t.Fatalf("after voiding it: %s", got)
	}
	kept, err := invoices.Finalize(a, mustDraftOf(t, invoices, a, sell("2")).ID.String(), today)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := invoices.Credit(a, kept.ID.String(), false, true, today); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, s, a, p, w); got != "10/0@40" {
		t.Fatalf("after a credit note returning 2: %s", got)
	}
	kept, err = invoices.Finalize(a, mustDraftOf(t, invoices, a, sell("1")).ID.String(), today)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := invoices.Credit(a, kept.ID.String(), false, false, today); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, s, a, p, w); got != "9/0@40" {
		t.Fatalf("after a credit note keeping the goods with the customer: %s", got)
	}
	// A paid invoice has nothing due, so only its credit notes say it was credited: a second
	// credit (and a second return of its goods) is refused.
	paid, err := invoices.Finalize(a, mustDraftOf(t, invoices, a, sell("1")).ID.String(), today)
	if err != nil {
		t.Fatal(err)
	}
	if err := invoices.RecordPayment(a, paid.ID.String(), models.PaymentInput{Amount: paid.Total}, today); err != nil {
		t.Fatal(err)
	}
	if _, _, err := invoices.Credit(a, paid.ID.String(), false, true, today); err != nil {
		t.Fatal(err)
	}
	if _, _, err := invoices.Credit(a, paid.ID.String(), false, true, today); !fieldErr(err, "invoice") {
		t.Fatalf("crediting a paid invoice twice: %v", err)
	}
	if got := balance(t, s, a, p, w); got != "9/0@40" {
		t.Fatalf("after selling one and taking it back once: %s", got)
	}
	detail, err := s.Get(a, service.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(detail.Movements) != 0 || len(detail.Balances) != 0 {
		t.Fatalf("a service's stock: %+v", detail)
	}
	noDrift(t, d)
}

func mustDraftOf(t *testing.T, s *store.Invoices, ctx context.Context, in models.InvoiceInput) models.Invoice {
	t.Helper()
	inv, err := s.CreateDraft(ctx, in)
	if err != nil {
		t.Fatalf("draft: %v", err)
	}
	return inv
}

// A tenant that allows negative stock reserves nothing and may sell what it does not have; once
// it no longer allows it, a draft written meanwhile is finalized only if its stock is there.
func TestNegativeStockIsTheTenantsChoice(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	s := store.NewProducts(d.Gorm)
	invoices := store.NewInvoices(d.Gorm)
	c := mustCreate(t, store.NewCustomers(d.Gorm), a, "Ada Lovelace")
	p := mustProduct(t, s, a, "LAMP", true)
	w := defaultWarehouse(t, s, a)
	in := draftInput(c.ID.String(), models.LineInput{SKU: "LAMP", Quantity: "2"})
	if _, err := invoices.CreateDraft(a, in); !fieldErr(err, "line_quantity[1]") {
		t.Fatalf("a draft of stock not there: %v", err)
	}
	if err := s.SetNegativeStock(a, true); err != nil {
		t.Fatal(err)
	}
	first := mustDraftOf(t, invoices, a, in)
	second := mustDraftOf(t, invoices, a, in)
	if _, err := invoices.Finalize(a, first.ID.String(), today); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, s, a, p, w); got != "-2/0@0" {
		t.Fatalf("sold without stock: %s", got)
	}
	if err := s.SetNegativeStock(a, false); err != nil {
		t.Fatal(err)
	}
	if _, err := invoices.Finalize(a, second.ID.String(), today); !fieldErr(err, "lines") {
		t.Fatalf("finalizing an unreserved draft without stock: %v", err)
	}
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w.ID.String(), Quantity: "4", UnitCost: "3"})
	if _, err := invoices.Finalize(a, second.ID.String(), today); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, s, a, p, w); got != "none" { // nothing on hand, nothing reserved
		t.Fatalf("after receiving and selling: %s", got)
	}
	noDrift(t, d)
}

// Every product, warehouse and movement call on another tenant's ids answers like an unknown
// id and changes nothing of theirs; their SKUs and warehouses are unknown on invoice lines.
func TestInventoryStaysInTheTenant(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	b, pb := d.Tenant(t, "globex")
	s := store.NewProducts(d.Gorm)
	invoices := store.NewInvoices(d.Gorm)
	mine := mustProduct(t, s, a, "MINE", true)
	theirs := mustProduct(t, s, b, "THEIRS", true)
	theirWarehouse := defaultWarehouse(t, s, b)
	mustMove(t, s, b, theirs, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: theirWarehouse.ID.String(), Quantity: "5", UnitCost: "1"})
	gone := mustProduct(t, s, b, "GONE", true)
	if err := s.Trash(b, gone.ID.String()); err != nil {
		t.Fatal(err)
	}
	theirMove, err := s.Get(b, theirs.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	tables := []string{"products", "warehouses", "stock_balances", "stock_movements", "tenants"}
	before := d.Checksum(t, pb.Tenant.String(), tables...)
	receipt := models.StockInput{Kind: models.ReasonReceipt, WarehouseID: theirWarehouse.ID.String(), Quantity: "1", UnitCost: "1"}
	for _, id := range []string{theirs.ID.String(), gone.ID.String(), theirWarehouse.ID.String(), theirMove.Movements[0].ID.String()} {
		calls := map[string]func() error{
			"get":       func() error { _, err := s.Get(a, id); return err },
			"update":    func() error { _, err := s.Update(a, id, models.ProductInput{SKU: "X", Name: "X"}); return err },
			"trash":     func() error { return s.Trash(a, id) },
			"restore":   func() error { return s.Restore(a, id) },
			"move":      func() error { return s.Move(a, id, receipt, today) },
			"reverse":   func() error { _, err := s.Reverse(a, id, "why", today); return err },
			"warehouse": func() error { return s.UpdateWarehouse(a, id, "Mine now", true) },
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("%s on another tenant's id %s: %v, want ErrNotFound", name, id, err)
			}
		}
	}
	foreign := s.Move(a, mine.ID.String(), receipt, today)
	unknown := s.Move(a, mine.ID.String(), models.StockInput{Kind: models.ReasonReceipt, WarehouseID: uuid.NewString(), Quantity: "1", UnitCost: "1"}, today)
	if !fieldErr(foreign, "warehouse") || fmt.Sprint(foreign) != fmt.Sprint(unknown) {
		t.Errorf("another tenant's warehouse: %v; an unknown one: %v", foreign, unknown)
	}
	c := mustCreate(t, store.NewCustomers(d.Gorm), a, "Ada Lovelace")
	for _, l := range []models.LineInput{{SKU: "THEIRS", Quantity: "1"}, {SKU: "MINE", Quantity: "1", Warehouse: theirWarehouse.ID.String()}} {
		if _, err := invoices.CreateDraft(a, draftInput(c.ID.String(), l)); err == nil {
			t.Errorf("a line naming another tenant's product or warehouse was saved: %+v", l)
		}
	}
	if page, err := s.List(a, store.ProductQuery{ProductFilter: store.ProductFilter{Search: "THEIRS"}}); err != nil || len(page.Products) != 0 {
		t.Errorf("searching for another tenant's SKU: %v %+v", err, page.Products)
	}
	if after := d.Checksum(t, pb.Tenant.String(), tables...); after != before {
		t.Error("B's inventory changed under A's attack")
	}
}

// SKUs are unique per tenant among products outside the trash; a restore whose SKU was taken
// since is refused; a product with stock stays stocked and stays out of the trash.
func TestProductRules(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	s := store.NewProducts(d.Gorm)
	old := mustProduct(t, s, a, "SKU-1", true)
	if _, err := s.Create(a, models.ProductInput{SKU: "sku-1", Name: "Again"}); !fieldErr(err, "sku") {
		t.Fatalf("a second product with the SKU (in another case): %v", err)
	}
	mustProduct(t, s, b, "SKU-1", true) // another tenant's SKUs are theirs
	if err := s.Trash(a, old.ID.String()); err != nil {
		t.Fatal(err)
	}
	fresh := mustProduct(t, s, a, "SKU-1", true)
	if err := s.Restore(a, old.ID.String()); !fieldErr(err, "sku") {
		t.Fatalf("restoring onto a taken SKU: %v", err)
	}
	w := defaultWarehouse(t, s, a)
	mustMove(t, s, a, fresh, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w.ID.String(), Quantity: "1", UnitCost: "1"})
	if _, err := s.Update(a, fresh.ID.String(), models.ProductInput{SKU: "SKU-1", Name: "Now a service", Stocked: false}); !fieldErr(err, "stocked") {
		t.Fatalf("making a stocked product a service: %v", err)
	}
	if err := s.Trash(a, fresh.ID.String()); !fieldErr(err, "product") {
		t.Fatalf("trashing a product with stock: %v", err)
	}
	if _, err := s.Create(a, models.ProductInput{SKU: "has space", Name: "X", SalePrice: "-1"}); !fieldErr(err, "sku") || !fieldErr(err, "sale_price") {
		t.Fatalf("a bad SKU and price: %v", err)
	}
	low, err := s.List(a, store.ProductQuery{ProductFilter: store.ProductFilter{Low: true}})
	if err != nil || len(low.Products) != 0 {
		t.Fatalf("low stock with 1 on hand and reorder level 0: %v %+v", err, low.Products)
	}
	if _, err := s.Update(a, fresh.ID.String(), models.ProductInput{SKU: "SKU-1", Name: "Reordered", Stocked: true, ReorderLevel: "1"}); err != nil {
		t.Fatal(err)
	}
	if low, _ = s.List(a, store.ProductQuery{ProductFilter: store.ProductFilter{Low: true}}); len(low.Products) != 1 || !low.Products[0].Low() {
		t.Fatalf("low stock at the reorder level: %+v", low.Products)
	}

	// Tags: the tenant's own, shared with customers; another tenant's tag is refused like an
	// unknown id; the list filters by one; deleting the tag takes it off.
	tags := store.NewTags(d.Gorm)
	seasonal, err := tags.Create(a, models.TagInput{Name: "Seasonal", Color: "amber"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := tags.Create(b, models.TagInput{Name: "Theirs", Color: "blue"})
	if err != nil {
		t.Fatal(err)
	}
	in := models.ProductInput{SKU: "SKU-1", Name: "Reordered", Stocked: true, ReorderLevel: "1"}
	for _, bad := range [][]string{{theirs.ID.String()}, {uuid.NewString()}, {"not-an-id"}} {
		in.TagIDs = bad
		if _, err := s.Update(a, fresh.ID.String(), in); !fieldErr(err, "tag") {
			t.Fatalf("tags %v: %v", bad, err)
		}
	}
	in.TagIDs = []string{seasonal.ID.String()}
	if _, err := s.Update(a, fresh.ID.String(), in); err != nil {
		t.Fatal(err)
	}
	tagged, err := s.List(a, store.ProductQuery{ProductFilter: store.ProductFilter{Tag: seasonal.ID.String()}})
	if err != nil || len(tagged.Products) != 1 || len(tagged.Products[0].Tags) != 1 || tagged.Products[0].Tags[0].Name != "Seasonal" {
		t.Fatalf("filtered by tag: %v %+v", err, tagged.Products)
	}
	if other, _ := s.List(a, store.ProductQuery{ProductFilter: store.ProductFilter{Tag: theirs.ID.String()}}); len(other.Products) != 0 {
		t.Fatalf("filtered by another tenant's tag: %+v", other.Products)
	}
	if err := tags.Delete(a, seasonal.ID.String()); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Get(a, fresh.ID.String()); err != nil || len(d.Tags) != 0 {
		t.Fatalf("after deleting the tag: %v %+v", err, d.Tags)
	}
}

// The product list pages by keyset in each order, filters included, and sees every product once.
func TestProductListPages(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	s := store.NewProducts(d.Gorm)
	for i := range 2*store.PageSize + 3 {
		mustProduct(t, s, a, fmt.Sprintf("SKU-%03d", 100-i), i%2 == 0)
	}
	for _, q := range []store.ProductQuery{{Sort: "sku"}, {Sort: "name"}, {Sort: "updated"}, {Sort: "name", ProductFilter: store.ProductFilter{Low: true}}} {
		seen := map[string]bool{}
		want := 2*store.PageSize + 3
		if q.Low {
			want = store.PageSize + 2 // the stocked ones, none with stock
		}
		for page := 0; ; page++ {
			p, err := s.List(a, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Products {
				if seen[r.SKU] {
					t.Fatalf("%+v: %s twice", q, r.SKU)
				}
				seen[r.SKU] = true
			}
			if p.Next == "" {
				break
			}
			q.After = p.Next
		}
		if len(seen) != want {
			t.Fatalf("%+v: %d products seen, want %d", q, len(seen), want)
		}
	}
}

// A receipt reversed after goods have left since leaves at the average when its own cost would
// value what stays oddly: never above what anything cost, never below zero.
func TestReversalAfterSalesLeavesAtTheAverage(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	s := store.NewProducts(d.Gorm)
	p := mustProduct(t, s, a, "REV-1", true)
	w := defaultWarehouse(t, s, a)
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w.ID.String(), Quantity: "10", UnitCost: "1"})
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: w.ID.String(), Quantity: "10", UnitCost: "9"})
	mustMove(t, s, a, p, models.StockInput{Kind: models.ReasonAdjustment, WarehouseID: w.ID.String(), Quantity: "-9", Note: "broken"})
	detail, err := s.Get(a, p.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	var cheap string
	for _, m := range detail.Movements {
		if m.Reason == models.ReasonReceipt && money.Trim(m.UnitCost) == "1" {
			cheap = m.ID.String()
		}
	}
	// Undone exactly, the last unit would be worth (11 × 5 − 10 × 1) / 1 = 45.
	if _, err := s.Reverse(a, cheap, "wrong supplier", today); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, s, a, p, w); got != "1/0@5" {
		t.Fatalf("after reversing the cheap receipt: %s, want 1/0@5", got)
	}
	noDrift(t, d)
}
