package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Citus says whether the database db has the citus extension, and whether its tenant tables
// are distributed already.
func Citus(ctx context.Context, db *sql.DB) (citus, distributed bool, err error) {
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").Scan(&citus); err != nil || !citus {
		return false, false, err
	}
	err = db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'public.users'::regclass)").Scan(&distributed)
	return citus, distributed, err
}

// distribute runs the Citus steps, each in its own transaction, where the database has the
// citus extension, until the second has committed. Goose runs them statement by statement:
// Citus forwards a DDL statement's whole query string to the workers, so one string of many
// statements fails. Migrations after them run on
// the distributed tables, which Citus propagates; the tenant tables they add are distributed
// on every run after the step (distributeNew).
func distribute(ctx context.Context, db *sql.DB) error {
	citus, done, err := Citus(ctx, db)
	if err != nil || !citus {
		return err
	}
	if done {
		return distributeNew(ctx, db)
	}
	// The Citus step, which shards the migrated schema by tenant (docs/citus.md).
	dir, err := fs.Sub(FS, "citus")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, dir, goose.WithDisableVersioning(true))
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("citus: distribute the tenant tables: %w", err)
	}
	return nil
}

// distributeNew distributes the tenant tables that migrations made after the Citus step, by
// tenant_id and colocated with users, as the step did the first ones. A table is meant to be
// new and empty: Citus would copy existing rows, which forced row level security refuses.
func distributeNew(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	if _, err := tx.ExecContext(ctx, "SET LOCAL citus.enable_unsafe_triggers = on"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `SELECT create_distributed_table(c.oid::regclass, 'tenant_id', colocate_with => 'users')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
		  AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)
		ORDER BY c.relname`); err != nil {
		return fmt.Errorf("citus: distribute new tenant tables: %w", err)
	}
	return tx.Commit()
}
