// Package seed loads synthetic tenants, customers and invoices for benchmarks, through COPY: owner
// o@tNNNN.example style accounts sharing one development password, and realistic customers.
// Development only; safe to re-run (tenants that exist are skipped).
package seed

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"moat/app/auth"
	"moat/models"
)

// Password is every synthetic owner's password.
const Password = "moat-bench-password"

// Plan says what to load.
type Plan struct {
	Tenants   int // synthetic tenants t0001 ... tNNNN
	Customers int // customers per synthetic tenant
	Whale     int // customers of one extra tenant, "whale"; 0 for none
	Invoices  int // invoices per customer of every tenant above
	Products  int // products of every tenant above, with their stock ledger
}

// OwnerEmail is the sign-in of synthetic tenant n (from 1), or of the whale for n = 0.
func OwnerEmail(n int) string {
	if n == 0 {
		return "owner@whale.example"
	}
	return fmt.Sprintf("owner@t%04d.example", n)
}

// Load seeds p as the owner role at ownerURL. It lifts FORCE ROW LEVEL SECURITY on the tables it
// fills inside its own transaction only (COPY cannot run under row level security), so the app
// never sees the tables unforced.
func Load(ctx context.Context, ownerURL string, p Plan, log io.Writer) error {
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return err
	}
	type job struct {
		n         int
		name      string
		customers int
	}
	var jobs []job
	for n := 1; n <= p.Tenants; n++ {
		jobs = append(jobs, job{n, fmt.Sprintf("Tenant %04d", n), p.Customers})
	}
	if p.Whale > 0 {
		jobs = append(jobs, job{0, "Whale", p.Whale})
	}
	start := time.Now()
	total := 0
	const perTx = 100 // tenants per transaction
	for i := 0; i < len(jobs); i += perTx {
		batch := jobs[i:min(i+perTx, len(jobs))]
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var tenants, accounts, users [][]any
			var owners = map[int]uuid.UUID{}
			for _, j := range batch {
				var exists bool
				if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM accounts WHERE email = $1)", OwnerEmail(j.n)).Scan(&exists); err != nil {
					return err
				}
				if exists {
					continue
				}
				tid, uid, aid := uuid.New(), uuid.New(), uuid.New()
				owners[j.n] = tid
				tenants = append(tenants, []any{tid, j.name})
				accounts = append(accounts, []any{aid, OwnerEmail(j.n), hash})
				users = append(users, []any{tid, uid, aid, OwnerEmail(j.n), j.name + " Owner", "owner"})
			}
			if len(tenants) == 0 {
				return nil
			}
			// Lifted only now, and forced again before this transaction commits.
			for _, t := range []string{"tenants", "users", "customers", "customer_terms", "customer_counters"} {
				if _, err := tx.Exec(ctx, "ALTER TABLE "+t+" NO FORCE ROW LEVEL SECURITY"); err != nil {
					return err
				}
			}
			// The id registry, the search terms and the counts are filled below in bulk rather
			// than by triggers.
			if _, err := tx.Exec(ctx, "ALTER TABLE customers DISABLE TRIGGER customers_record_ids, DISABLE TRIGGER customers_terms, DISABLE TRIGGER customers_count_insert"); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"tenants"}, []string{"id", "name"}, pgx.CopyFromRows(tenants)); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"accounts"}, []string{"id", "email", "password_hash"}, pgx.CopyFromRows(accounts)); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"tenant_id", "id", "account_id", "email", "name", "role"}, pgx.CopyFromRows(users)); err != nil {
				return err
			}
			var counters [][]any
			for _, j := range batch {
				tid, ok := owners[j.n]
				if !ok {
					continue
				}
				rng := rand.New(rand.NewPCG(uint64(j.n), 7))
				ids := make([][]any, 0, j.customers)
				k := 0
				src := pgx.CopyFromFunc(func() ([]any, error) {
					if k == j.customers {
						return nil, nil
					}
					k++
					row := customer(rng, tid, k)
					ids = append(ids, []any{row[1], "customers", tid})
					return row, nil
				})
				n, err := tx.CopyFrom(ctx, pgx.Identifier{"customers"}, []string{"tenant_id", "id", "number", "kind", "name", "email", "phone", "emails", "phones", "company"}, src)
				if err != nil {
					return err
				}
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{"record_ids"}, []string{"id", "entity", "tenant_id"}, pgx.CopyFromRows(ids)); err != nil {
					return err
				}
				counters = append(counters, []any{tid, int64(j.customers), int64(j.customers)})
				total += int(n)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"customer_counters"}, []string{"tenant_id", "last", "live"}, pgx.CopyFromRows(counters)); err != nil {
				return err
			}
			var fresh []uuid.UUID
			for _, tid := range owners {
				fresh = append(fresh, tid)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO customer_terms (tenant_id, customer_id, term, sort_key)
				SELECT c.tenant_id, c.id, w, lower(c.name) FROM customers c, customer_words(c.name, c.email, c.company) w
				WHERE c.tenant_id = ANY($1) ON CONFLICT DO NOTHING`, fresh); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "ALTER TABLE customers ENABLE TRIGGER customers_record_ids, ENABLE TRIGGER customers_terms, ENABLE TRIGGER customers_count_insert"); err != nil {
				return err
			}
			for _, t := range []string{"tenants", "users", "customers", "customer_terms", "customer_counters"} {
				if _, err := tx.Exec(ctx, "ALTER TABLE "+t+" FORCE ROW LEVEL SECURITY"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		fmt.Fprintf(log, "\rseeded %d of %d tenants, %d customers (%.0fs)", min(i+perTx, len(jobs)), len(jobs), total, time.Since(start).Seconds())
	}
	fmt.Fprintln(log)
	emails := make([]string, len(jobs))
	for i, j := range jobs {
		emails[i] = OwnerEmail(j.n)
	}
	if err := loadInvoices(ctx, conn, emails, p.Invoices, time.Now().UTC().Truncate(24*time.Hour), log); err != nil {
		return err
	}
	if err := loadProducts(ctx, conn, emails, p.Products, time.Now().UTC().Truncate(24*time.Hour), log); err != nil {
		return err
	}
	// VACUUM sets the visibility map, so searches read the terms index alone.
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE tenants, users, customers, record_ids, customer_terms, customer_counters, invoices, invoice_lines, invoice_payments, products, stock_movements, stock_balances"); err != nil {
		return err
	}
	return nil
}

var (
	firstNames = strings.Fields("Ada Bruno Chloe Dmitri Elena Farah Gustav Hana Ivan Julia Kofi Lena Mara Nikhil Olga Pedro Quinn Rosa Sven Tara Umar Vera Wei Yusuf Zoe Amir Bea Carlos Dana Emil")
	lastNames  = strings.Fields("Byrne Costa Dubois Orlov Ruiz Haddad Lind Sato Petrov Novak Mensah Fischer Jensen Rao Ivanova Alves Murphy Marino Olsen Walsh Farouk Kovac Zhang Demir Moreau Silva Kim Nakamura Berg Okafor")
	companies  = strings.Fields("Anvil Rocket Desert Cypress Hammock Scorpio Granite Harbor Meadow Summit Beacon Cobalt Juniper Lumen Orchard Pioneer Quarry Riverside Sterling Timber")
	suffixes   = []string{"Works", "Supply", "Logistics", "Holdings", "Labs", "Trading", "Studio", "Group"}
)

func customer(rng *rand.Rand, tenant uuid.UUID, k int) []any {
	first := firstNames[rng.IntN(len(firstNames))]
	last := lastNames[rng.IntN(len(lastNames))]
	company := companies[rng.IntN(len(companies))] + " " + suffixes[rng.IntN(len(suffixes))]
	domain := strings.ToLower(strings.Fields(company)[0]) + ".example"
	email := fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), k, domain)
	phone := fmt.Sprintf("+1 555 %03d %04d", rng.IntN(1000), rng.IntN(10000))
	return []any{
		tenant, uuid.New(), fmt.Sprintf("C-%05d", k), "person",
		fmt.Sprintf("%s %s %d", first, last, k), email, phone,
		models.Contacts{{Type: "work", Value: email}}, models.Contacts{{Type: "work", Value: phone}},
		company,
	}
}
