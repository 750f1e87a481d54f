// Package migrations embeds the goose SQL migrations: the only source of Moat's schema.
//
// Migrations run as the owner role. They grant the app role, named moat_app, only what it
// needs; the role itself is created outside the schema (by the private cluster, or by the
// operator in production) as NOSUPERUSER NOBYPASSRLS.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// FS holds every migration file.
//
//go:embed *.sql citus/*.sql
var FS embed.FS

// Up applies every pending migration as the owner role at url.
func Up(ctx context.Context, url string) error {
	if url == "" {
		return errors.New("migrate: MIGRATION_DATABASE_URL is not set")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, FS)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := upJobs(ctx, url); err != nil {
		return fmt.Errorf("migrate: the job queue: %w", err)
	}
	if err := distribute(ctx, db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Keep the audit trail's monthly partitions ready: last month to three months ahead.
	if _, err := db.ExecContext(ctx, `SELECT audit_partition((date_trunc('month', now()) + make_interval(months => m))::date)
		FROM generate_series(-1, 3) m`); err != nil {
		return fmt.Errorf("migrate: audit partitions: %w", err)
	}
	return nil
}

// JobSchema is the schema of the job queue's tables (00021_jobs.sql).
const JobSchema = "river"

// upJobs applies River's own migrations to the job queue's schema.
func upJobs(ctx context.Context, url string) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: JobSchema})
	if err != nil {
		return err
	}
	if _, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return err
	}
	// The app role reads the queue's version, and may not change it.
	_, err = pool.Exec(ctx, "REVOKE INSERT, UPDATE, DELETE ON "+JobSchema+".river_migration FROM moat_app")
	return err
}

// Latest is the version of the newest migration embedded in the binary.
func Latest() (int64, error) {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			continue
		}
		if v, err := strconv.ParseInt(prefix, 10, 64); err == nil && v > latest {
			latest = v
		}
	}
	return latest, nil
}

// PruneAudit drops the audit trail's monthly partitions that ended more than months whole
// months ago, and the cross-tenant attempts as old, as the owner role at url, and returns the
// partitions' names. Archive them first (pg_dump
// -t) if they must be kept.
func PruneAudit(ctx context.Context, url string, months int) ([]string, error) {
	if months < 1 {
		return nil, errors.New("prune: the retention must be at least one month")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `
		SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'public.audit_events'::regclass AND c.relname ~ '^audit_events_[0-9]{4}_[0-9]{2}$'
		  AND to_date(substr(c.relname, 14), 'YYYY_MM') + interval '1 month'
		      <= date_trunc('month', now()) - make_interval(months => $1)
		ORDER BY 1`, months)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		// n is the partition's own regclass text: schema-qualified wherever it is needed.
		if _, err := db.ExecContext(ctx, "DROP TABLE "+n); err != nil {
			return nil, fmt.Errorf("prune %s: %w", n, err)
		}
	}
	// The operators' record of cross-tenant attempts follows the same retention.
	if _, err := db.ExecContext(ctx, "DELETE FROM public.cross_tenant_attempts WHERE at < date_trunc('month', now()) - make_interval(months => $1)", months); err != nil {
		return nil, fmt.Errorf("prune cross-tenant attempts: %w", err)
	}
	return names, nil
}
