// Package posture checks that the database Moat connects to keeps the second wall standing:
// row level security forced on every tenant table with a tenant policy, and an app role that
// cannot get around it. Moat refuses to serve when any check fails.
package posture

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SignInLookup is the one SECURITY DEFINER function allowed: it returns one user's row by email.
const SignInLookup = "sign_in_lookup"

// tenantSetting is what every tenant policy must compare with, directly or through
// current_tenant_id(), whose definition is checked too.
const tenantSetting = "current_setting('app.tenant_id'"

// Check inspects the database as the role pool connects with and returns every problem found,
// each naming what is wrong; none means the posture holds.
func Check(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	var problems []string
	for _, check := range []func(context.Context, *pgx.Conn) ([]string, error){
		checkRole, checkOwnership, checkTables, checkPolicies, checkAuditGrants, checkViews, checkFunctions,
	} {
		found, err := check(ctx, conn.Conn())
		if err != nil {
			return nil, fmt.Errorf("posture: %w", err)
		}
		problems = append(problems, found...)
	}
	return problems, nil
}

// rows runs a query returning one text column per problem.
func rows(ctx context.Context, conn *pgx.Conn, sql string, args ...any) ([]string, error) {
	r, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(r, pgx.RowTo[string])
}

func checkRole(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	return rows(ctx, conn, `
		SELECT 'the app role ' || rolname || ' is ' || attr FROM pg_roles,
		LATERAL (VALUES (rolsuper, 'a superuser, which always bypasses row level security'),
		                (rolbypassrls, 'allowed to bypass row level security (BYPASSRLS)')) AS a(bad, attr)
		WHERE rolname = current_user AND bad`)
}

func checkOwnership(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	return rows(ctx, conn, `
		SELECT 'the app role owns ' || n.nspname || '.' || c.relname || ': an owner can switch row level security off'
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE pg_has_role(current_user, c.relowner, 'USAGE')
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		UNION ALL
		SELECT 'the app role owns schema ' || nspname FROM pg_namespace
		WHERE pg_has_role(current_user, nspowner, 'USAGE') AND nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema'
		ORDER BY 1`)
}

// tenantTables are the tables that hold tenant data: every table with a tenant_id column, and
// tenants itself.
const tenantTables = `
	SELECT c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
	  AND (c.relname = 'tenants' OR EXISTS (
	      SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))`

func checkTables(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	return rows(ctx, conn, `
		WITH t AS (`+tenantTables+`)
		SELECT 'table ' || relname || ': row level security is not enabled' FROM t WHERE NOT relrowsecurity
		UNION ALL
		SELECT 'table ' || relname || ': row level security is not forced (FORCE ROW LEVEL SECURITY)' FROM t WHERE NOT relforcerowsecurity
		UNION ALL
		SELECT 'table ' || relname || ': no policy limits it to the tenant' FROM t
		WHERE NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t.oid AND p.polpermissive AND p.polcmd = '*'
		                  AND pg_get_expr(p.polqual, p.polrelid) IS NOT NULL AND pg_get_expr(p.polwithcheck, p.polrelid) IS NOT NULL)
		ORDER BY 1`)
}

// checkPolicies finds permissive policies that apply to the app role but do not compare with the
// tenant setting, in USING and, for commands that write, WITH CHECK. Permissive policies are
// ORed together, so one such policy opens the table.
func checkPolicies(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	r, err := conn.Query(ctx, `
		WITH t AS (`+tenantTables+`)
		SELECT t.relname, p.polname, p.polcmd::text,
		       coalesce(pg_get_expr(p.polqual, p.polrelid), ''), coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
		FROM t JOIN pg_policy p ON p.polrelid = t.oid
		WHERE p.polpermissive AND (0 = ANY (p.polroles) OR EXISTS (
		      SELECT 1 FROM unnest(p.polroles) r WHERE pg_has_role(current_user, r, 'USAGE')))
		ORDER BY 1, 2`)
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
	var fn string
	err = conn.QueryRow(ctx, `SELECT coalesce((SELECT prosrc FROM pg_proc WHERE proname = 'current_tenant_id' LIMIT 1), '')`).Scan(&fn)
	if err != nil {
		return nil, err
	}
	fnOK := strings.Contains(fn, "NULLIF("+tenantSetting+", true), '')")
	tenantBound := func(expr string) bool {
		return strings.Contains(expr, tenantSetting) || (fnOK && strings.Contains(expr, "current_tenant_id()"))
	}
	var problems []string
	for _, p := range policies {
		if p.cmd != "a" && !tenantBound(p.using) { // every command but INSERT reads through USING
			problems = append(problems, fmt.Sprintf("table %s: policy %s lets the app role read rows without comparing with the tenant setting", p.table, p.name))
		}
		if (p.cmd == "*" || p.cmd == "a" || p.cmd == "w") && !tenantBound(p.check) && !(p.check == "" && tenantBound(p.using)) {
			problems = append(problems, fmt.Sprintf("table %s: policy %s lets the app role write rows without a tenant WITH CHECK", p.table, p.name))
		}
	}
	return problems, nil
}

// checkAuditGrants covers the trail and each of its partitions: a partition named directly is
// a table of its own.
func checkAuditGrants(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	return rows(ctx, conn, `
		SELECT 'the app role may ' || priv || ' ' || t.relid::regclass::text || ': the trail must be append-only'
		FROM pg_partition_tree(to_regclass('public.audit_events')) t, unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS priv
		WHERE has_table_privilege(current_user, t.relid, priv)
		UNION ALL
		SELECT 'table audit_events is missing' WHERE to_regclass('public.audit_events') IS NULL`)
}

func checkViews(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	return rows(ctx, conn, `
		SELECT 'view ' || n.nspname || '.' || c.relname || ' runs with its owner''s rights: make it security_invoker'
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND has_table_privilege(current_user, c.oid, 'SELECT')
		  AND (c.relkind = 'm' OR NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
		       AND NOT coalesce('security_invoker=on' = ANY (c.reloptions), false))
		ORDER BY 1`)
}

func checkFunctions(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	return rows(ctx, conn, `
		SELECT 'function ' || n.nspname || '.' || p.proname || ' is SECURITY DEFINER: only ' || $1 || ' may be'
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.proname <> $1
		ORDER BY 1`, SignInLookup)
}
