package posture_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"moat/app/cluster"
	"moat/app/dbtest"
	"moat/app/posture"
	"moat/migrations"
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

// Each rule of the check, broken by the owner the way a careless (or hostile) migration would,
// is named: one mutation per rule.
func TestEveryWeaknessIsNamed(t *testing.T) {
	cases := []struct {
		name      string
		sql       string
		want      string
		superuser bool // only a superuser may make this change
	}{
		{name: "forgotten FORCE", sql: "ALTER TABLE customers NO FORCE ROW LEVEL SECURITY", want: "table customers: row level security is not forced"},
		{name: "RLS off", sql: "ALTER TABLE customers DISABLE ROW LEVEL SECURITY", want: "table customers: row level security is not enabled"},
		{name: "policy dropped", sql: "DROP POLICY tenant_isolation ON customers", want: "table customers: no policy limits it to the tenant"},
		{name: "new table without policy", sql: `CREATE TABLE untested_module (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
			ALTER TABLE untested_module ENABLE ROW LEVEL SECURITY; ALTER TABLE untested_module FORCE ROW LEVEL SECURITY;
			GRANT SELECT ON untested_module TO moat_app`, want: "table untested_module: no policy limits it to the tenant"},
		{name: "new table without RLS", sql: `CREATE TABLE other_module (tenant_id uuid NOT NULL, id uuid NOT NULL)`, want: "table other_module: row level security is not enabled"},
		{name: "policy with an OR", sql: `DROP POLICY tenant_isolation ON customers;
			CREATE POLICY tenant_isolation ON customers USING (tenant_id = current_tenant_id() OR true) WITH CHECK (tenant_id = current_tenant_id())`,
			want: "table customers: policy tenant_isolation reads through"},
		{name: "policy on another column", sql: `DROP POLICY tenant_isolation ON tags;
			CREATE POLICY tenant_isolation ON tags USING (tenant_id = tenant_id) WITH CHECK (tenant_id = current_tenant_id())`,
			want: "table tags: policy tenant_isolation reads through"},
		{name: "permissive escape hatch", sql: "CREATE POLICY everyone ON customers FOR SELECT USING (true)", want: "table customers: policy everyone reads through"},
		{name: "write policy without check", sql: "CREATE POLICY loose ON customers FOR INSERT TO moat_app WITH CHECK (true)", want: "table customers: policy loose writes through"},
		{name: "check left to USING", sql: `DROP POLICY tenant_isolation ON customer_notes;
			CREATE POLICY tenant_isolation ON customer_notes USING (tenant_id = current_tenant_id())`,
			want: "table customer_notes: policy tenant_isolation writes through"},
		{name: "shadowing function", sql: `CREATE SCHEMA shadow; CREATE FUNCTION shadow.current_tenant_id() RETURNS uuid LANGUAGE sql STABLE AS 'SELECT NULL::uuid'`,
			want: "function shadow.current_tenant_id: only public.current_tenant_id may have this name"},
		{name: "tenant function rewritten", sql: `CREATE OR REPLACE FUNCTION current_tenant_id() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting('app.other', true), '')::uuid $$`,
			want: "function public.current_tenant_id is not exactly"},
		{name: "enter function rewritten", sql: `CREATE OR REPLACE FUNCTION enter_tenant(t uuid) RETURNS void LANGUAGE plpgsql
			AS $$ BEGIN EXECUTE pg_catalog.format('SET LOCAL app.tenant_id = %L', '00000000-0000-0000-0000-000000000001'); END $$`,
			want: "function public.enter_tenant is not exactly"},
		{name: "enter function dropped", sql: "DROP FUNCTION enter_tenant(uuid)", want: "function public.enter_tenant is missing"},
		{name: "enter function shadowed", sql: `CREATE SCHEMA shadow; CREATE FUNCTION shadow.enter_tenant(t uuid) RETURNS void LANGUAGE sql AS 'SELECT'`,
			want: "function shadow.enter_tenant: only public.enter_tenant may have this name"},
		{name: "new global table", sql: "CREATE TABLE scratch (id int); GRANT SELECT ON scratch TO moat_app", want: "table scratch: it has no tenant_id and is not one of the allowed global tables"},
		{name: "evidence deletable", sql: "GRANT DELETE ON cross_tenant_attempts TO moat_app", want: "the app role may DELETE global table cross_tenant_attempts"},
		{name: "registry readable", sql: "GRANT SELECT (id) ON record_ids TO moat_app", want: "the app role may SELECT global table record_ids"},
		{name: "truncate", sql: "GRANT TRUNCATE ON customers TO moat_app", want: "the app role may TRUNCATE customers"},
		{name: "audit update grant", sql: "GRANT UPDATE ON audit_events TO moat_app", want: "the app role may UPDATE audit_events"},
		{name: "audit delete grant", sql: "GRANT DELETE ON audit_events TO moat_app", want: "the app role may DELETE audit_events"},
		{name: "audit partition grant", sql: "GRANT UPDATE ON audit_events_default TO moat_app", want: "the app role may UPDATE audit_events_default"},
		{name: "definer view", sql: "CREATE VIEW all_customers AS SELECT * FROM customers; GRANT SELECT ON all_customers TO moat_app", want: "view public.all_customers runs with its owner's rights"},
		{name: "definer function", sql: "CREATE FUNCTION peek() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM customers'", want: "function public.peek() is SECURITY DEFINER"},
		{name: "allowed name, other schema", sql: `CREATE SCHEMA shadow; CREATE FUNCTION shadow.sign_in_lookup(p_email text) RETURNS bigint LANGUAGE sql SECURITY DEFINER
			SET search_path = pg_catalog, public AS 'SELECT count(*) FROM customers'`, want: "function shadow.sign_in_lookup(text) is SECURITY DEFINER"},
		{name: "definer without its search_path", sql: "ALTER FUNCTION probe_record_id(uuid, text, uuid, uuid) RESET search_path",
			want: "function public.probe_record_id(uuid,text,uuid,uuid) is SECURITY DEFINER without SET search_path"},
		{name: "app owns a table", sql: "CREATE TABLE scratch (id int); ALTER TABLE scratch OWNER TO moat_app", want: "the app role owns public.scratch", superuser: true},
		{name: "app may create", sql: "GRANT CREATE ON SCHEMA public TO moat_app", want: "the app role may create objects in schema public"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := dbtest.New(t, 0)
			owner := d.Owner(t)
			if c.superuser {
				// Only a superuser may give a table to a role the owner is not a member of.
				owner = d.Superuser(t)
			}
			execAll(t, owner, c.sql)
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

// On Citus the check also names a tenant setting that would not reach the workers and a tenant
// table left on the coordinator; on plain PostgreSQL neither is a problem.
func TestCitusWeaknessesAreNamed(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx := context.Background()
	su := d.Superuser(t)
	if _, err := su.Exec(ctx, "ALTER ROLE moat_app IN DATABASE "+d.Name+" SET citus.propagate_set_commands = none"); err != nil {
		t.Fatal(err)
	}
	execAll(t, d.Owner(t), `CREATE TABLE local_module (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
		ALTER TABLE local_module ENABLE ROW LEVEL SECURITY; ALTER TABLE local_module FORCE ROW LEVEL SECURITY;
		CREATE POLICY tenant_isolation ON local_module USING (tenant_id = current_tenant_id()) WITH CHECK (tenant_id = current_tenant_id())`)
	problems := strings.Join(check(t, d.AppURL), "\n")
	want := []string{"citus.propagate_set_commands is none, not local", "table local_module is not distributed by tenant_id"}
	for _, w := range want {
		if d.Citus != strings.Contains(problems, w) {
			t.Errorf("on Citus %v, a problem containing %q: %v; got:\n%s", d.Citus, w, !d.Citus, problems)
		}
	}
	// moat migrate distributes the tenant tables a migration added after the Citus step.
	if err := migrations.Up(ctx, d.OwnerURL); err != nil {
		t.Fatal(err)
	}
	if problems := strings.Join(check(t, d.AppURL), "\n"); strings.Contains(problems, "local_module") {
		t.Errorf("after migrating again:\n%s", problems)
	}
}

// execAll runs the statements of sql one at a time: Citus sends a DDL statement's whole query
// string to the workers, so several in one string fail there. A semicolon inside $$ quotes
// does not end a statement.
func execAll(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	stmt := ""
	for _, part := range strings.SplitAfter(sql, ";") {
		if stmt += part; strings.Count(stmt, "$$")%2 == 1 {
			continue
		}
		if strings.TrimSpace(stmt) != "" {
			if _, err := conn.Exec(context.Background(), stmt); err != nil {
				t.Fatal(err)
			}
		}
		stmt = ""
	}
}
