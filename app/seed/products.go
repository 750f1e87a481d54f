package seed

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// productTables are the tables loadProducts fills.
var productTables = []string{"warehouses", "products", "stock_movements", "stock_balances"}

// loadProducts gives each seeded tenant that has none perTenant products, nine in ten stocked,
// each stocked one with a receipt a month or two ago and one in five with a later adjustment:
// about 1.1 movements per stocked product. Balances are written as the ledger sums them, so
// moat check finds nothing to report.
func loadProducts(ctx context.Context, conn *pgx.Conn, emails []string, perTenant int, today time.Time, log io.Writer) error {
	if perTenant == 0 {
		return nil
	}
	start := time.Now()
	total := 0
	const perTx = 20 // tenants per transaction
	for i := 0; i < len(emails); i += perTx {
		batch := emails[i:min(i+perTx, len(emails))]
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// Lifted only now, and forced again before this transaction commits.
			for _, t := range productTables {
				if _, err := tx.Exec(ctx, "ALTER TABLE "+t+" NO FORCE ROW LEVEL SECURITY"); err != nil {
					return err
				}
			}
			// The ledger's trigger computes balances row by row; here they are computed first,
			// and ids registered in bulk.
			if _, err := tx.Exec(ctx, `ALTER TABLE stock_movements DISABLE TRIGGER stock_move, DISABLE TRIGGER stock_movements_record_ids;
				ALTER TABLE products DISABLE TRIGGER products_record_ids`); err != nil {
				return err
			}
			for _, email := range batch {
				n, err := tenantProducts(ctx, tx, email, perTenant, today)
				if err != nil {
					return fmt.Errorf("products of %s: %w", email, err)
				}
				total += n
			}
			if _, err := tx.Exec(ctx, `ALTER TABLE stock_movements ENABLE TRIGGER stock_move, ENABLE TRIGGER stock_movements_record_ids;
				ALTER TABLE products ENABLE TRIGGER products_record_ids`); err != nil {
				return err
			}
			for _, t := range productTables {
				if _, err := tx.Exec(ctx, "ALTER TABLE "+t+" FORCE ROW LEVEL SECURITY"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed products: %w", err)
		}
		fmt.Fprintf(log, "\rseeded products of %d of %d tenants, %d movements (%.0fs)", min(i+perTx, len(emails)), len(emails), total, time.Since(start).Seconds())
	}
	fmt.Fprintln(log)
	return nil
}

// tenantProducts loads the products and ledger of the tenant whose owner signs in with email,
// unless it has products, and says how many movements it loaded.
func tenantProducts(ctx context.Context, tx pgx.Tx, email string, perTenant int, today time.Time) (int, error) {
	var tid uuid.UUID
	var has bool
	err := tx.QueryRow(ctx, `SELECT t.id, EXISTS (SELECT 1 FROM products p WHERE p.tenant_id = t.id)
		FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = $1 AND u.role = 'owner'`, email).Scan(&tid, &has)
	if err != nil || has {
		return 0, err
	}
	var warehouse uuid.UUID
	err = tx.QueryRow(ctx, `INSERT INTO warehouses (tenant_id, name, is_default) VALUES ($1, 'Main warehouse', true)
		ON CONFLICT (tenant_id) WHERE is_default DO UPDATE SET is_default = true RETURNING id`, tid).Scan(&warehouse)
	if err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(uint64(tid.ID()), 13))
	var products, movements, balances, ids [][]any
	for k := 1; k <= perTenant; k++ {
		id := uuid.New()
		stocked := rng.IntN(10) > 0
		item := lineItems[rng.IntN(len(lineItems))]
		products = append(products, []any{tid, id, fmt.Sprintf("P-%05d", k), fmt.Sprintf("%s %d", item, k), "pc",
			cents(int64(500 + rng.IntN(50000))), "EUR", "20", stocked, "10"})
		ids = append(ids, []any{id, "products", tid})
		if !stocked {
			continue
		}
		onHand := int64(1 + rng.IntN(500))
		cost := int64(200 + rng.IntN(20000)) // cents
		received := today.AddDate(0, 0, -30-rng.IntN(30))
		receipt := uuid.New()
		movements = append(movements, []any{tid, receipt, id, warehouse, fmt.Sprint(onHand), cents(cost), "receipt", "PO-seed", received,
			fmt.Sprint(onHand), cents(cost)})
		ids = append(ids, []any{receipt, "stock_movements", tid})
		if rng.IntN(5) == 0 && onHand > 1 {
			out := int64(1 + rng.IntN(int(onHand/2)))
			onHand -= out
			adjustment := uuid.New()
			movements = append(movements, []any{tid, adjustment, id, warehouse, fmt.Sprint(-out), cents(cost), "adjustment", "damaged",
				received.AddDate(0, 0, 1+rng.IntN(20)), fmt.Sprint(onHand), cents(cost)})
			ids = append(ids, []any{adjustment, "stock_movements", tid})
		}
		balances = append(balances, []any{tid, id, warehouse, fmt.Sprint(onHand), "0", cents(cost)})
	}
	copies := []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"products", []string{"tenant_id", "id", "sku", "name", "unit", "sale_price", "currency", "tax_rate", "stocked", "reorder_level"}, products},
		{"stock_movements", []string{"tenant_id", "id", "product_id", "warehouse_id", "quantity", "unit_cost", "reason", "note", "occurred_on",
			"on_hand_after", "avg_cost_after"}, movements},
		{"stock_balances", []string{"tenant_id", "product_id", "warehouse_id", "on_hand", "reserved", "avg_cost"}, balances},
		{"record_ids", []string{"id", "entity", "tenant_id"}, ids},
	}
	for _, c := range copies {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			return 0, fmt.Errorf("%s: %w", c.table, err)
		}
	}
	return len(movements), nil
}
