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

// distribute runs the Citus step once, in one transaction, where the database has the citus
// extension. Goose runs it statement by statement: Citus forwards a DDL statement's whole query
// string to the workers, so one string of many statements fails. Migrations after it run on
// the distributed tables, which Citus propagates.
func distribute(ctx context.Context, db *sql.DB) error {
	citus, done, err := Citus(ctx, db)
	if err != nil || !citus || done {
		return err
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
