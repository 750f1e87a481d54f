package seed_test

import (
	"context"
	"strings"
	"testing"

	"moat/app/dbtest"
	"moat/app/posture"
	"moat/app/seed"
)

// Seeding twice loads each tenant once and leaves the second wall as it found it.
func TestSeedIsRepeatableAndLeavesRLSForced(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx := context.Background()
	plan := seed.Plan{Tenants: 3, Customers: 40, Whale: 100, Invoices: 3, Products: 50}
	for i := 0; i < 2; i++ {
		if err := seed.Load(ctx, d.OwnerURL, plan, &strings.Builder{}); err != nil {
			t.Fatal(err)
		}
		if problems, err := posture.Check(ctx, d.Pool); err != nil || len(problems) > 0 {
			t.Fatalf("after seeding %d times: %v %v", i+1, err, problems)
		}
		// Every seeded balance is the sum of its movements.
		if problems, err := posture.Ledger(ctx, d.Pool); err != nil || len(problems) > 0 {
			t.Fatalf("the seeded ledger: %v %v", err, problems)
		}
	}
	var customers, ids int
	su := d.Superuser(t)
	su.QueryRow(ctx, "SELECT count(*) FROM customers").Scan(&customers)
	su.QueryRow(ctx, "SELECT count(*) FROM record_ids WHERE entity = 'customers'").Scan(&ids)
	if customers != 3*40+100 || ids != customers {
		t.Fatalf("%d customers, %d registered ids; want 220 of each", customers, ids)
	}
	// Every invoice adds up from its lines, and numbers run 1..n in each year without a gap.
	var invoices, wrong, gaps int
	su.QueryRow(ctx, "SELECT count(*) FROM invoices").Scan(&invoices)
	su.QueryRow(ctx, `SELECT count(*) FROM invoices i WHERE (i.net_total, i.tax_total, i.total) IS DISTINCT FROM
		(SELECT sum(l.net), sum(l.tax), sum(l.net + l.tax) FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id)`).Scan(&wrong)
	su.QueryRow(ctx, `SELECT count(*) FROM (SELECT tenant_id, number_year, max(number_seq) AS top, count(*) AS n FROM invoices
		WHERE number IS NOT NULL GROUP BY 1, 2) s WHERE top <> n OR top <> (SELECT last FROM invoice_counters c
		WHERE c.tenant_id = s.tenant_id AND c.kind = 'invoice' AND c.year = s.number_year)`).Scan(&gaps)
	if invoices != customers*3 || wrong != 0 || gaps != 0 {
		t.Fatalf("%d invoices (want %d), %d whose totals differ from their lines, %d years with gaps", invoices, customers*3, wrong, gaps)
	}
	var miscounted int
	su.QueryRow(ctx, `SELECT count(*) FROM customer_counters c WHERE live <> (SELECT count(*) FROM customers x
		WHERE x.tenant_id = c.tenant_id AND x.deleted_at IS NULL)`).Scan(&miscounted)
	if miscounted != 0 {
		t.Fatalf("%d tenants' live counts differ from their customers", miscounted)
	}
	var products, productIDs, movements, movementIDs int
	su.QueryRow(ctx, "SELECT count(*) FROM products").Scan(&products)
	su.QueryRow(ctx, "SELECT count(*) FROM record_ids WHERE entity = 'products'").Scan(&productIDs)
	su.QueryRow(ctx, "SELECT count(*) FROM stock_movements").Scan(&movements)
	su.QueryRow(ctx, "SELECT count(*) FROM record_ids WHERE entity = 'stock_movements'").Scan(&movementIDs)
	if products != 4*50 || productIDs != products || movements < products/2 || movementIDs != movements {
		t.Fatalf("%d products (%d registered), %d movements (%d registered); want 200 products, about 1.1 movements each", products, productIDs, movements, movementIDs)
	}
	var unsearchable int
	su.QueryRow(ctx, "SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM customer_terms t WHERE t.customer_id = c.id)").Scan(&unsearchable)
	if unsearchable != 0 {
		t.Fatalf("%d seeded customers have no search terms", unsearchable)
	}
}
