package posture_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"moat/app/cluster"
	"moat/app/dbtest"
	"moat/app/posture"
)

func check(t *testing.T, url string) []string {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	problems, err := posture.Check(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	return problems
}

func TestMigratedDatabasePasses(t *testing.T) {
	d := dbtest.New(t, 0)
	if problems := check(t, d.AppURL); len(problems) != 0 {
		t.Fatalf("fresh database has posture problems:\n%s", strings.Join(problems, "\n"))
	}
}

// Each broken posture, made by the owner the way a careless migration would, is named.
func TestEveryWeaknessIsNamed(t *testing.T) {
	cases := []struct {
		name string
		sql  string
		want string
	}{
		{"forgotten FORCE", "ALTER TABLE customers NO FORCE ROW LEVEL SECURITY", "table customers: row level security is not forced"},
		{"RLS off", "ALTER TABLE customers DISABLE ROW LEVEL SECURITY", "table customers: row level security is not enabled"},
		{"policy dropped", "DROP POLICY tenant_isolation ON customers", "table customers: no policy limits it to the tenant"},
		{"new table without policy", `CREATE TABLE invoices (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
			ALTER TABLE invoices ENABLE ROW LEVEL SECURITY; ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
			GRANT SELECT ON invoices TO moat_app`, "table invoices: no policy limits it to the tenant"},
		{"new table without RLS", `CREATE TABLE products (tenant_id uuid NOT NULL, id uuid NOT NULL)`, "table products: row level security is not enabled"},
		{"permissive escape hatch", "CREATE POLICY everyone ON customers FOR SELECT USING (true)", "table customers: policy everyone lets the app role read rows"},
		{"write policy without check", "CREATE POLICY loose ON customers FOR INSERT TO moat_app WITH CHECK (true)", "table customers: policy loose lets the app role write rows"},
		{"audit update grant", "GRANT UPDATE ON audit_events TO moat_app", "the app role may UPDATE audit_events"},
		{"audit delete grant", "GRANT DELETE, TRUNCATE ON audit_events TO moat_app", "the app role may DELETE audit_events"},
		{"audit partition grant", "GRANT UPDATE ON audit_events_default TO moat_app", "the app role may UPDATE audit_events_default"},
		{"definer view", "CREATE VIEW all_customers AS SELECT * FROM customers; GRANT SELECT ON all_customers TO moat_app", "view public.all_customers runs with its owner's rights"},
		{"definer function", "CREATE FUNCTION peek() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM customers'", "function public.peek is SECURITY DEFINER"},
		{"app owns a table", "CREATE TABLE scratch (id int); ALTER TABLE scratch OWNER TO moat_app", "the app role owns public.scratch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := dbtest.New(t, 0)
			owner := d.Owner(t)
			ctx := context.Background()
			if c.name == "app owns a table" {
				// Only a superuser may give a table to a role the owner is not a member of.
				owner = d.Superuser(t)
			}
			if _, err := owner.Exec(ctx, c.sql); err != nil {
				t.Fatal(err)
			}
			problems := check(t, d.AppURL)
			for _, p := range problems {
				if strings.Contains(p, c.want) {
					return
				}
			}
			t.Fatalf("want a problem containing %q, got:\n%s", c.want, strings.Join(problems, "\n"))
		})
	}
}

func TestConnectingAsOwnerOrSuperuserIsRefused(t *testing.T) {
	d := dbtest.New(t, 0)
	for role, want := range map[string]string{
		cluster.OwnerRole: "the app role owns public.customers",
		"postgres":        "the app role postgres is a superuser",
	} {
		problems := check(t, d.Cluster.URL(role, d.Name))
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, want)
		}
		if !found {
			t.Errorf("connecting as %s: want %q, got:\n%s", role, want, strings.Join(problems, "\n"))
		}
	}
}
