package posture_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"moat/app/dbtest"
)

// The schema can be sharded by tenant (Citus, with tenant_id as the distribution column) only if
// a shard can check every key on its own: every primary key and unique index of a table with
// tenant_id holds tenant_id; every foreign key between such tables matches on tenant_id; and no
// table without tenant_id (a global one) points into them. This holds on plain PostgreSQL too,
// so a migration that would break sharding fails here first.
func TestEveryTenantKeyHoldsTheTenant(t *testing.T) {
	d := dbtest.New(t, 0)
	rows, err := d.Owner(t).Query(context.Background(), `
		WITH tenant_tables AS (
			SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
			  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)),
		tenant_col AS (
			SELECT a.attrelid, a.attnum FROM pg_attribute a JOIN tenant_tables t ON t.oid = a.attrelid WHERE a.attname = 'tenant_id')
		SELECT format('table %s: unique index %s does not hold tenant_id', t.relname, i.indexrelid::regclass)
		FROM tenant_tables t JOIN pg_index i ON i.indrelid = t.oid JOIN tenant_col c ON c.attrelid = t.oid
		WHERE i.indisunique AND NOT c.attnum = ANY (i.indkey)
		UNION ALL
		SELECT format('table %s: foreign key %s to %s does not match on tenant_id', t.relname, k.conname, k.confrelid::regclass)
		FROM tenant_tables t JOIN pg_constraint k ON k.conrelid = t.oid AND k.contype = 'f'
		JOIN tenant_col c ON c.attrelid = t.oid
		JOIN tenant_col fc ON fc.attrelid = k.confrelid
		WHERE NOT EXISTS (SELECT 1 FROM unnest(k.conkey, k.confkey) AS p (col, fcol) WHERE p.col = c.attnum AND p.fcol = fc.attnum)
		UNION ALL
		SELECT format('global table %s: foreign key %s points into tenant table %s', k.conrelid::regclass, k.conname, k.confrelid::regclass)
		FROM pg_constraint k JOIN tenant_tables t ON t.oid = k.confrelid
		WHERE k.contype = 'f' AND k.conrelid NOT IN (SELECT oid FROM tenant_tables)
		  AND NOT EXISTS (SELECT 1 FROM pg_class p WHERE p.oid = k.conrelid AND p.relispartition)
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("keys a shard could not check:\n%s", strings.Join(problems, "\n"))
	}
}
