package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"moat/app/dbtest"
	"moat/app/posture"
	"moat/app/store"
	"moat/models"
)

// A database taken from one node to many keeps working, its old rows and new writes alike. On
// Citus the functions made before the extension were on the coordinator alone, and a trigger
// on a shard calling one failed there: a new customer (its search terms, customer_words) and a
// draft's replaced lines (tenant_purging) answered 500.
func TestOneNodeTakenToManyKeepsWorking(t *testing.T) {
	ctx := context.Background()
	var acme context.Context
	var ada models.Customer
	d := dbtest.Grown(t, func(d *dbtest.DB) {
		acme, _ = d.Tenant(t, "acme")
		ada = mustCreate(t, store.NewCustomers(d.Gorm), acme, "Ada Lovelace")
	})
	if d.Citus != (len(d.Cluster.Workers()) > 0) {
		t.Fatalf("on Citus %v, the app in Citus mode %v", len(d.Cluster.Workers()) > 0, d.Citus)
	}

	pool, err := pgxpool.New(ctx, d.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if problems, err := posture.Check(ctx, pool); err != nil || len(problems) > 0 {
		t.Fatalf("posture after growing: %v %v", problems, err)
	}
	// Every function of the schema is on every worker.
	coordinator := functions(t, d.Cluster.URL("postgres", d.Name))
	for _, w := range d.Cluster.Workers() {
		on := functions(t, w.URL("postgres", d.Name))
		for f := range coordinator {
			if !on[f] {
				t.Errorf("%s is missing on the worker on port %d", f, w.Port)
			}
		}
	}

	customers, invoices := store.NewCustomers(d.Gorm), store.NewInvoices(d.Gorm)
	grace := mustCreate(t, customers, acme, "Grace Hopper")
	for _, c := range []models.Customer{ada, grace} {
		page, err := customers.List(acme, store.ListQuery{Filter: store.Filter{Search: c.Name}})
		if err != nil || len(page.Customers) != 1 || page.Customers[0].ID != c.ID {
			t.Fatalf("searching for %s: %+v, %v", c.Name, page.Customers, err)
		}
	}
	inv := mustDraft(t, invoices, acme, ada.ID.String())
	in := draftInput(ada.ID.String(), models.LineInput{Description: "Design", Quantity: "2", UnitPrice: "250", TaxRate: "20"})
	if inv, err = invoices.UpdateDraft(acme, inv.ID.String(), in); err != nil || eur(inv.Total) != "600.00" {
		t.Fatalf("replacing a draft's lines: %s, %v", inv.Total, err)
	}
	if err := customers.Erase(acme, grace.ID.String(), "asked to be forgotten"); err != nil {
		t.Fatalf("erasing: %v", err)
	}
}

// functions names the functions of the public schema in the database at url, those of
// extensions left out.
func functions(t *testing.T, url string) map[string]bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(context.Background(), `SELECT p.oid::regprocedure::text FROM pg_proc p
		WHERE p.pronamespace = 'public'::regnamespace
		  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	if len(set) == 0 {
		t.Fatalf("no functions in %s", url)
	}
	return set
}
