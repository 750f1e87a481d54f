// Package posture checks that the database Moat connects to keeps the second wall standing:
// row level security forced on every tenant table under exactly the tenant policy, global
// tables the app role reaches only as far as it must, no function that runs with the owner's
// rights but the few named here, and an app role that cannot get around any of it. Moat refuses
// to serve when any check fails. Ledger checks what the stock ledger promises: every balance is
// the sum of its movements and holds what its draft invoices reserve.
//
// The checks compare structure, not text found somewhere: a policy's expression must be exactly
// the tenant comparison, functions are looked up by schema and signature, and every table the
// app role could reach is either a tenant table or one of the global tables listed here.
package posture

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TenantPolicy is the only expression a policy on a tenant table may have, in USING and in WITH
// CHECK, as PostgreSQL prints it with an empty search_path (so every name is schema-qualified).
const TenantPolicy = "(tenant_id = public.current_tenant_id())"

// tenantsPolicy is TenantPolicy for the tenants table, whose own id is the tenant.
const tenantsPolicy = "(id = public.current_tenant_id())"

// TenantFunction is the body public.current_tenant_id() must have: the transaction's tenant
// setting, or NULL (no rows) when it is unset or empty.
const TenantFunction = "SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid"

// EnterFunction is the body public.enter_tenant(uuid) must have: the one way a transaction
// names its tenant, SET LOCAL with a value that can only be a canonical UUID.
const EnterFunction = "BEGIN EXECUTE pg_catalog.format('SET LOCAL app.tenant_id = %L', t); END"

// wallFunctions are the functions the tenant wall rests on, each exactly as it must be: in
// schema public, run as the caller, with this body, language, volatility and arity.
var wallFunctions = []struct {
	name, src, lang, volatility string
	args                        int
}{
	{"current_tenant_id", TenantFunction, "sql", "s", 0},
	{"enter_tenant", EnterFunction, "plpgsql", "v", 1},
}

// GlobalTables are the tables that hold no tenant's data, each with exactly the privileges the
// app role holds on it. Any other table without row level security is a problem, and so is any
// privilege beyond these (nobody may delete the record of cross-tenant attempts, say).
var GlobalTables = map[string][]string{
	"sessions":              {"SELECT", "INSERT", "UPDATE", "DELETE"}, // keyed by the SHA-256 of the cookie
	"csrf_tokens":           {"SELECT", "INSERT", "UPDATE", "DELETE"}, // keyed by the SHA-256 of the token
	"attempt_counts":        {"SELECT", "INSERT", "UPDATE", "DELETE"},
	"revoked_sessions":      {"SELECT", "INSERT", "DELETE"}, // tombstones of ended sessions, a day long
	"goose_db_version":      {"SELECT"},                     // /readyz compares the schema version
	"record_ids":            {},                             // through the trigger and probe_record_id only
	"cross_tenant_attempts": {},                             // through probe_record_id only
	"accounts":              {},                             // through the account functions in Definers only
	"signup_requests":       {"INSERT"},                     // taken back by claim_signup only
	"password_resets":       {"INSERT"},                     // taken back by reset_password only
	"outbox":                {"SELECT", "INSERT", "UPDATE"}, // mail waiting, and the development outbox page
	"sign_in_failures":      {},                             // through sign_in_failed and report_sign_in_failures only
	"closed_tenants":        {},                             // what purge_tenant keeps of a deleted organization
	// The job queue (schema river): jobs name a tenant, a person and a record by id, never
	// their data, which the work reads in the tenant's own transactions.
	"river_job":          {"SELECT", "INSERT", "UPDATE", "DELETE"},
	"river_leader":       {"SELECT", "INSERT", "UPDATE", "DELETE"},
	"river_queue":        {"SELECT", "INSERT", "UPDATE", "DELETE"},
	"river_notification": {"SELECT", "INSERT", "UPDATE", "DELETE"},
	"river_migration":    {"SELECT"}, // the client checks the schema's version
}

// Definers are the functions allowed to run with the owner's rights, by schema-qualified name
// and argument types. Each must pin its search_path.
var Definers = []string{
	"public.sign_in_lookup(text)",                                // an account and its memberships by email, for sign-in
	"public.sign_in_failed(text,text,text,text,text)",            // records a refused sign-in, for any address alike
	"public.report_sign_in_failures()",                           // copies them into the trails, after the response
	"public.claim_signup(text)",                                  // an emailed sign-up link's account
	"public.invitation_lookup(text)",                             // an emailed invitation link's invitation
	"public.claim_invitation(text,text)",                         // its invitation and account, in its tenant's transaction
	"public.change_password(uuid,text,text,uuid,text,text,text)", // the signed-in account's own password
	"public.reset_password(text,text,text,text,text)",            // an emailed reset link's account
	"public.register_record_id()",                                // the id registry's trigger
	"public.probe_record_id(uuid,text,uuid,uuid)",                // whether a missed id is another tenant's
	"public.stock_move()",                                        // applies a stock movement to its balance
	"public.stock_reserve()",                                     // keeps balances' reservations equal to draft lines
	"public.stock_invoice()",                                     // moves an invoice's stock as its status moves
	"public.lock_stock(uuid,uuid[],uuid[])",                      // locks balances in a fixed order before a stock check
	"public.stock_drift()",                                       // balances that differ from their ledger, for moat check
	"public.api_token_use(text,text,integer,integer)",            // an API token's tenant and person, before the tenant is known
	"public.purge_tenant()",                                      // deletes a closed organization once its grace period is over
	"public.close_tenant(uuid,uuid,interval)",                    // schedules that deletion, a week away at least
	"public.due_closures()",                                      // the ids of organizations whose deletion is due, for the sweep
	"public.erase_customer(uuid,uuid,uuid)",                      // erases a customer's personal data, in the trail too
	"public.count_record_view()",                                 // folds a read of a record into record_views
	"public.users_clear_authors()",                               // on Citus, clears a removed person's authorship (ON DELETE SET NULL elsewhere)
}

// privileges are the table privileges checked on every table.
var privileges = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}

// Check inspects the database as the role pool connects with and returns every problem found,
// each naming what is wrong; none means the posture holds.
func Check(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	// With no schema on the path, PostgreSQL prints every name it shows with its schema.
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO ''"); err != nil {
		return nil, err
	}
	var problems []string
	for _, check := range []func(context.Context, pgx.Tx) ([]string, error){
		checkRole, checkOwnership, checkSchemas, checkTables, checkPolicies, checkGlobalTables, checkTenantGrants,
		checkViews, checkTenantFunction, checkDefiners, checkCitus,
	} {
		found, err := check(ctx, tx)
		if err != nil {
			return nil, fmt.Errorf("posture: %w", err)
		}
		problems = append(problems, found...)
	}
	return problems, nil
}

// rows runs a query returning one text column per problem.
func rows(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]string, error) {
	r, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(r, pgx.RowTo[string])
}

func checkRole(ctx context.Context, tx pgx.Tx) ([]string, error) {
	return rows(ctx, tx, `
		SELECT 'the app role ' || rolname || ' is ' || attr FROM pg_roles,
		LATERAL (VALUES (rolsuper, 'a superuser, which always bypasses row level security'),
		                (rolbypassrls, 'allowed to bypass row level security (BYPASSRLS)')) AS a(bad, attr)
		WHERE rolname = current_user AND bad`)
}

func checkOwnership(ctx context.Context, tx pgx.Tx) ([]string, error) {
	return rows(ctx, tx, `
		SELECT 'the app role owns ' || n.nspname || '.' || c.relname || ': an owner can switch row level security off'
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE pg_has_role(current_user, c.relowner, 'USAGE')
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		UNION ALL
		SELECT 'the app role owns schema ' || nspname FROM pg_namespace
		WHERE pg_has_role(current_user, nspowner, 'USAGE') AND nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema'
		UNION ALL
		SELECT 'the app role owns function ' || n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE pg_has_role(current_user, p.proowner, 'USAGE') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		ORDER BY 1`)
}

// checkSchemas refuses CREATE on any schema: a role that can create objects can shadow the
// functions the policies call.
func checkSchemas(ctx context.Context, tx pgx.Tx) ([]string, error) {
	return rows(ctx, tx, `
		SELECT 'the app role may create objects in schema ' || nspname FROM pg_namespace
		WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema' AND has_schema_privilege(current_user, oid, 'CREATE')
		ORDER BY 1`)
}

// checkCitus, on a Citus coordinator: the app role's SET LOCAL of the tenant must reach the
// workers (Citus forwards it only with citus.propagate_set_commands = local; without, every
// tenant table answers nothing), and every tenant table must be sharded by tenant_id, but
// tenants, a copy on every node.
func checkCitus(ctx context.Context, tx pgx.Tx) ([]string, error) {
	var citus bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus')").Scan(&citus); err != nil || !citus {
		return nil, err
	}
	return rows(ctx, tx, `
		SELECT 'the app role''s citus.propagate_set_commands is ' || s || ', not local: its tenant would not reach the workers'
		FROM pg_catalog.current_setting('citus.propagate_set_commands') AS s WHERE s <> 'local'
		UNION ALL
		SELECT 'table ' || relname || ' is not ' || CASE WHEN relname = 'tenants' THEN 'a reference table' ELSE 'distributed by tenant_id' END
		FROM (`+userTables+`) t
		WHERE tenant AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = t.oid
		    AND CASE WHEN t.relname = 'tenants' THEN p.partmethod = 'n'
		             ELSE p.partmethod = 'h' AND pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) = 'tenant_id' END)
		ORDER BY 1`, globalNames())
}

// userTables are the tables of the database's own schemas, with whether each is a tenant table:
// every table with a tenant_id column but the global ones, and tenants itself.
const userTables = `
	SELECT c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity,
	       c.relname = 'tenants' OR (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
	                                  AND NOT c.relname = ANY ($1)) AS tenant
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`

func globalNames() []string {
	names := make([]string, 0, len(GlobalTables))
	for n := range GlobalTables {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func checkTables(ctx context.Context, tx pgx.Tx) ([]string, error) {
	return rows(ctx, tx, `
		WITH t AS (`+userTables+`)
		SELECT 'table ' || relname || ': row level security is not enabled' FROM t WHERE tenant AND NOT relrowsecurity
		UNION ALL
		SELECT 'table ' || relname || ': row level security is not forced (FORCE ROW LEVEL SECURITY)' FROM t WHERE tenant AND NOT relforcerowsecurity
		UNION ALL
		SELECT 'table ' || relname || ': no policy limits it to the tenant' FROM t
		WHERE tenant AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t.oid AND p.polpermissive AND p.polcmd = '*'
		        AND (0 = ANY (p.polroles) OR EXISTS (SELECT 1 FROM unnest(p.polroles) r WHERE pg_has_role(current_user, r, 'USAGE'))))
		UNION ALL
		SELECT 'table ' || relname || ': it has no tenant_id and is not one of the allowed global tables' FROM t
		WHERE NOT tenant AND NOT relname = ANY ($1)
		ORDER BY 1`, globalNames())
}

// checkPolicies compares every policy the app role is under, on every tenant table, with the
// tenant policy: USING for the commands that read (all but INSERT), WITH CHECK for those that
// write (ALL, INSERT, UPDATE). Policies for other roles (the owner's, which the sign-in lookup
// reads through) do not bind the app role and are not its concern.
func checkPolicies(ctx context.Context, tx pgx.Tx) ([]string, error) {
	r, err := tx.Query(ctx, `
		WITH t AS (`+userTables+`)
		SELECT t.relname, p.polname, p.polcmd::text,
		       coalesce(pg_get_expr(p.polqual, p.polrelid), ''), coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
		FROM t JOIN pg_policy p ON p.polrelid = t.oid
		WHERE t.tenant AND (0 = ANY (p.polroles) OR EXISTS (
		      SELECT 1 FROM unnest(p.polroles) r WHERE pg_has_role(current_user, r, 'USAGE')))
		ORDER BY 1, 2`, globalNames())
	if err != nil {
		return nil, err
	}
	type policy struct{ table, name, cmd, using, check string }
	policies, err := pgx.CollectRows(r, func(row pgx.CollectableRow) (policy, error) {
		var p policy
		return p, row.Scan(&p.table, &p.name, &p.cmd, &p.using, &p.check)
	})
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, p := range policies {
		want := TenantPolicy
		if p.table == "tenants" {
			want = tenantsPolicy
		}
		if p.cmd != "a" && p.using != want { // every command but INSERT reads through USING
			problems = append(problems, fmt.Sprintf("table %s: policy %s reads through %q, not exactly %s", p.table, p.name, p.using, want))
		}
		if (p.cmd == "*" || p.cmd == "a" || p.cmd == "w") && p.check != want {
			problems = append(problems, fmt.Sprintf("table %s: policy %s writes through WITH CHECK %q, not exactly %s", p.table, p.name, p.check, want))
		}
	}
	return problems, nil
}

// checkGlobalTables compares the app role's privileges on each global table with the list.
func checkGlobalTables(ctx context.Context, tx pgx.Tx) ([]string, error) {
	var problems []string
	for _, table := range globalNames() {
		var held []string
		err := tx.QueryRow(ctx, `
			SELECT coalesce(array_agg(priv ORDER BY priv), '{}') FROM unnest($2::text[]) AS priv
			WHERE to_regclass('public.' || $1) IS NOT NULL
			  AND (has_table_privilege(current_user, to_regclass('public.' || $1), priv)
			       OR priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
			          AND has_any_column_privilege(current_user, to_regclass('public.' || $1), priv))`,
			table, privileges).Scan(&held)
		if err != nil {
			return nil, err
		}
		for _, priv := range held {
			if !slices.Contains(GlobalTables[table], priv) {
				problems = append(problems, fmt.Sprintf("the app role may %s global table %s: it may only %s", priv, table, allowed(GlobalTables[table])))
			}
		}
	}
	return problems, nil
}

func allowed(privs []string) string {
	if len(privs) == 0 {
		return "reach it through the functions that own it"
	}
	return strings.Join(privs, ", ")
}

// checkTenantGrants refuses the privileges row level security does not cover or that no part
// of Moat needs: TRUNCATE empties a table whatever its policies, REFERENCES and TRIGGER are
// for owners. The audit trail, each partition included, is append-only.
func checkTenantGrants(ctx context.Context, tx pgx.Tx) ([]string, error) {
	return rows(ctx, tx, `
		WITH t AS (`+userTables+`)
		SELECT 'the app role may ' || priv || ' ' || relname || ': row level security does not cover it' FROM t, unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER']) AS priv
		WHERE tenant AND has_table_privilege(current_user, t.oid, priv)
		UNION ALL
		SELECT 'the app role may ' || priv || ' ' || c.relname || ': the trail must be append-only'
		FROM pg_partition_tree(to_regclass('public.audit_events')) t JOIN pg_class c ON c.oid = t.relid, unnest(ARRAY['UPDATE', 'DELETE']) AS priv
		WHERE has_table_privilege(current_user, t.relid, priv)
		UNION ALL
		SELECT 'table audit_events is missing' WHERE to_regclass('public.audit_events') IS NULL
		ORDER BY 1`, globalNames())
}

func checkViews(ctx context.Context, tx pgx.Tx) ([]string, error) {
	return rows(ctx, tx, `
		SELECT 'view ' || n.nspname || '.' || c.relname || ' runs with its owner''s rights: make it security_invoker'
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND has_table_privilege(current_user, c.oid, 'SELECT')
		  AND (c.relkind = 'm' OR NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
		       AND NOT coalesce('security_invoker=on' = ANY (c.reloptions), false))
		ORDER BY 1`)
}

// checkTenantFunction checks the functions that set and read the tenant (wallFunctions): each
// exactly as it must be, and none shadowed by a function of the same name elsewhere.
func checkTenantFunction(ctx context.Context, tx pgx.Tx) ([]string, error) {
	type fn struct {
		name, schema, src, lang string
		definer                 bool
		volatility              string
		args                    int
	}
	r, err := tx.Query(ctx, `
		SELECT p.proname, n.nspname, p.prosrc, l.lanname, p.prosecdef, p.provolatile::text, p.pronargs
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
		WHERE p.proname IN ('current_tenant_id', 'enter_tenant') ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	fns, err := pgx.CollectRows(r, func(row pgx.CollectableRow) (fn, error) {
		var f fn
		return f, row.Scan(&f.name, &f.schema, &f.src, &f.lang, &f.definer, &f.volatility, &f.args)
	})
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, want := range wallFunctions {
		found := false
		for _, f := range fns {
			switch {
			case f.name != want.name:
			case f.schema != "public" || f.args != want.args:
				problems = append(problems, fmt.Sprintf("function %s.%s: only public.%s may have this name", f.schema, f.name, want.name))
			default:
				found = true
				if strings.Join(strings.Fields(f.src), " ") != want.src || f.lang != want.lang || f.definer || f.volatility != want.volatility {
					problems = append(problems, fmt.Sprintf("function public.%s is not exactly the %s function %q run as the caller", want.name, want.lang, want.src))
				}
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("function public.%s is missing", want.name))
		}
	}
	return problems, nil
}

// checkDefiners allows SECURITY DEFINER only for the functions in Definers, each with its
// search_path pinned, so that no object the caller can name changes what it does.
func checkDefiners(ctx context.Context, tx pgx.Tx) ([]string, error) {
	r, err := tx.Query(ctx, `
		SELECT p.oid::regprocedure::text,
		       coalesce('search_path=pg_catalog, public' = ANY (p.proconfig), false)
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	type definer struct {
		name   string
		pinned bool
	}
	found, err := pgx.CollectRows(r, func(row pgx.CollectableRow) (definer, error) {
		var d definer
		return d, row.Scan(&d.name, &d.pinned)
	})
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, d := range found {
		switch {
		case !slices.Contains(Definers, d.name):
			problems = append(problems, fmt.Sprintf("function %s is SECURITY DEFINER: only %s may be", d.name, strings.Join(Definers, ", ")))
		case !d.pinned:
			problems = append(problems, fmt.Sprintf("function %s is SECURITY DEFINER without SET search_path = pg_catalog, public", d.name))
		}
	}
	return problems, nil
}

// Ledger reports stock balances, of any tenant, that differ from the sum of their ledger or
// from what their draft invoices reserve. stock_drift reads one tenant at a time under that
// tenant's own row level security and answers a count only; an operator finds the balances as
// the owner. It reads every tenant's ledger, so /readyz runs it less often than Check.
func Ledger(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	// In a transaction: stock_drift switches tenants with SET LOCAL, which Citus forwards to
	// the workers only inside a transaction block.
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	r, err := tx.Query(ctx, `
		SELECT n || ' stock balance(s) differ from their ledger or their drafts'' reservations'
		FROM public.stock_drift() AS n WHERE n > 0`)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return pgx.CollectRows(r, pgx.RowTo[string])
}
