package seed

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// invoiceTables are the tables loadInvoices fills.
var invoiceTables = []string{"customers", "invoice_series", "invoice_counters", "invoices", "invoice_lines", "invoice_payments"}

// loadInvoices gives each seeded tenant that has none perCustomer invoices per customer, issued
// over the last two years: mostly paid, some open (a few overdue), some drafts and voids, with
// one to three lines each, numbered INV-yyyy-nnnn without gaps.
func loadInvoices(ctx context.Context, conn *pgx.Conn, emails []string, perCustomer int, today time.Time, log io.Writer) error {
	if perCustomer == 0 {
		return nil
	}
	start := time.Now()
	total := 0
	const perTx = 20 // tenants per transaction
	for i := 0; i < len(emails); i += perTx {
		batch := emails[i:min(i+perTx, len(emails))]
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// Lifted only now, and forced again before this transaction commits.
			for _, t := range invoiceTables {
				if _, err := tx.Exec(ctx, "ALTER TABLE "+t+" NO FORCE ROW LEVEL SECURITY"); err != nil {
					return err
				}
			}
			// Lines are loaded with their finalized invoices, and ids registered in bulk.
			if _, err := tx.Exec(ctx, "ALTER TABLE invoice_lines DISABLE TRIGGER invoice_lines_guard; ALTER TABLE invoices DISABLE TRIGGER invoices_record_ids"); err != nil {
				return err
			}
			for _, email := range batch {
				n, err := tenantInvoices(ctx, tx, email, perCustomer, today)
				if err != nil {
					return fmt.Errorf("invoices of %s: %w", email, err)
				}
				total += n
			}
			if _, err := tx.Exec(ctx, "ALTER TABLE invoice_lines ENABLE TRIGGER invoice_lines_guard; ALTER TABLE invoices ENABLE TRIGGER invoices_record_ids"); err != nil {
				return err
			}
			for _, t := range invoiceTables {
				if _, err := tx.Exec(ctx, "ALTER TABLE "+t+" FORCE ROW LEVEL SECURITY"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed invoices: %w", err)
		}
		fmt.Fprintf(log, "\rseeded invoices of %d of %d tenants, %d invoices (%.0fs)", min(i+perTx, len(emails)), len(emails), total, time.Since(start).Seconds())
	}
	fmt.Fprintln(log)
	return nil
}

type seedCustomer struct {
	id           uuid.UUID
	number, name string
}

type seedInvoice struct {
	id       uuid.UUID
	customer seedCustomer
	status   string
	issued   time.Time
	lines    [][]any
	net, tax int64 // cents
}

// tenantInvoices loads the invoices of the tenant whose owner signs in with email, unless it has
// some, and says how many it loaded.
func tenantInvoices(ctx context.Context, tx pgx.Tx, email string, perCustomer int, today time.Time) (int, error) {
	var tid uuid.UUID
	var seller string
	var has bool
	err := tx.QueryRow(ctx, `SELECT t.id, t.name, EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = t.id)
		FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = $1 AND u.role = 'owner'`, email).Scan(&tid, &seller, &has)
	if err != nil || has {
		return 0, err
	}
	rows, err := tx.Query(ctx, "SELECT id, number, name FROM customers WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY number", tid)
	if err != nil {
		return 0, err
	}
	customers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (c seedCustomer, err error) {
		return c, r.Scan(&c.id, &c.number, &c.name)
	})
	if err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(uint64(tid.ID()), 11))
	invoices := make([]seedInvoice, 0, len(customers)*perCustomer)
	for _, c := range customers {
		for range perCustomer {
			inv := seedInvoice{id: uuid.New(), customer: c, issued: today.AddDate(0, 0, -rng.IntN(730))}
			switch r := rng.IntN(100); {
			case r < 60:
				inv.status = "paid"
			case r < 85:
				inv.status = "open"
			case r < 90:
				inv.status = "void"
			default:
				inv.status = "draft"
			}
			for pos := 1; pos <= 1+rng.IntN(3); pos++ {
				qty := int64(1 + rng.IntN(20))
				price := int64(500 + rng.IntN(50000)) // cents
				rate := []int64{20, 7, 0}[rng.IntN(3)]
				net := qty * price
				tax := (net*rate + 50) / 100 // half away from zero: these are never negative
				inv.net, inv.tax = inv.net+net, inv.tax+tax
				inv.lines = append(inv.lines, []any{tid, inv.id, uuid.New(), pos, lineItems[rng.IntN(len(lineItems))],
					fmt.Sprint(qty), cents(price), "0", fmt.Sprint(rate), cents(net), cents(tax)})
			}
			invoices = append(invoices, inv)
		}
	}
	// Numbers follow the order of issue, each year from 1.
	slices.SortFunc(invoices, func(a, b seedInvoice) int { return a.issued.Compare(b.issued) })
	last := map[int]int64{}
	var invoiceRows, lineRows, paymentRows, idRows, counterRows [][]any
	for _, inv := range invoices {
		total := inv.net + inv.tax
		row := []any{tid, inv.id, inv.status, inv.customer.id, nil, nil, nil, "EUR", 30, nil, nil, inv.customer.name, inv.customer.number,
			seller, cents(inv.net), cents(inv.tax), cents(total), "0", inv.issued, nil, nil, nil}
		if inv.status != "draft" {
			year := inv.issued.Year()
			last[year]++
			due := inv.issued.AddDate(0, 0, 30)
			row[4], row[5], row[6], row[9], row[10], row[19] = fmt.Sprintf("INV-%04d-%04d", year, last[year]), year, last[year], inv.issued, due, inv.issued
			switch inv.status {
			case "paid":
				paid := inv.issued.AddDate(0, 0, rng.IntN(45))
				row[17], row[20] = cents(total), paid
				paymentRows = append(paymentRows, []any{tid, inv.id, cents(total), paid, "bank transfer"})
			case "void":
				row[21] = inv.issued.AddDate(0, 0, 3)
			}
		}
		invoiceRows = append(invoiceRows, row)
		lineRows = append(lineRows, inv.lines...)
		idRows = append(idRows, []any{inv.id, "invoices", tid})
	}
	for year, n := range last {
		counterRows = append(counterRows, []any{tid, "invoice", year, n})
	}
	if _, err := tx.Exec(ctx, "INSERT INTO invoice_series (tenant_id, kind, prefix) VALUES ($1, 'invoice', 'INV-{YYYY}-')", tid); err != nil {
		return 0, err
	}
	copies := []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"invoice_counters", []string{"tenant_id", "kind", "year", "last"}, counterRows},
		{"invoices", []string{"tenant_id", "id", "status", "customer_id", "number", "number_year", "number_seq", "currency", "payment_terms",
			"issue_date", "due_date", "customer_name", "customer_number", "seller_name", "net_total", "tax_total", "total", "amount_paid",
			"created_at", "finalized_at", "paid_at", "voided_at"}, invoiceRows},
		{"invoice_lines", []string{"tenant_id", "invoice_id", "id", "position", "description", "quantity", "unit_price", "discount",
			"tax_rate", "net", "tax"}, lineRows},
		{"invoice_payments", []string{"tenant_id", "invoice_id", "amount", "paid_on", "method"}, paymentRows},
		{"record_ids", []string{"id", "entity", "tenant_id"}, idRows},
	}
	for _, c := range copies {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			return 0, fmt.Errorf("%s: %w", c.table, err)
		}
	}
	return len(invoices), nil
}

// cents writes an amount in cents as a decimal.
func cents(n int64) string { return fmt.Sprintf("%d.%02d", n/100, n%100) }

var lineItems = []string{"Consulting", "Support plan", "Installation", "Training day", "Licence", "Hosting", "Spare parts",
	"Maintenance visit", "Design work", "Shipping"}
