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

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
	"github.com/pressly/goose/v3"
)

// FS holds every migration file.
//
//go:embed *.sql
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
	return nil
}
