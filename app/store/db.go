// Package store holds Moat's stores, one per aggregate. Every method takes the request's
// context first, works inside one tenant transaction (tenant.Tx), writes its audit row in that
// same transaction and returns domain errors from models, never GORM's.
package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"moat/app/tenant"
)

// DB is the app's database: one pgx pool shared by GORM (with the tenant plugin registered)
// and the session storage.
type DB struct {
	Pool  *pgxpool.Pool
	Gorm  *gorm.DB
	Citus bool // a Citus coordinator: tenant tables are sharded by tenant
	sql   *sql.DB
}

// Config says how to connect.
type Config struct {
	URL      string
	MaxConns int32           // 0: pgx's default
	Tracer   pgx.QueryTracer // optional: sees every statement (tests count them)
}

// Open connects as c says.
func Open(ctx context.Context, c Config) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(c.URL)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	if c.MaxConns > 0 {
		cfg.MaxConns = c.MaxConns
	}
	cfg.ConnConfig.Tracer = c.Tracer
	citus, err := isCitus(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	// Plan each prepared statement once per connection. With the tenant and the filters as
	// parameters, PostgreSQL's default kept planning the list's statement on every execution
	// (0.9 ms, more than running it): a generic plan took the list from 1,100 to 1,450
	// requests a second. Every tenant gets the same plan anyway, as every index leads with
	// tenant_id. The price: a common word in the 100,000-customer tenant searches 12% slower.
	// On Citus the opposite: it routes a statement to the tenant's worker by the value of its
	// tenant_id, which a generic plan hides. PostgreSQL's default turns generic after five runs,
	// and then a correlated subquery (the customer's tags) or FOR UPDATE is refused.
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	if citus {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		encodeUUIDs(conn.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database pool: %w", err)
	}
	sqlDB := tenant.OpenDB(pool, citus)
	gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // stores open their own tenant transactions
		TranslateError:         true,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("gorm: %w", err)
	}
	if err := gdb.Use(tenant.Plugin{Citus: citus}); err != nil {
		pool.Close()
		return nil, fmt.Errorf("tenant plugin: %w", err)
	}
	return &DB{Pool: pool, Gorm: gdb, sql: sqlDB, Citus: citus}, nil
}

// isCitus says whether the database cfg names is a Citus coordinator (docs/citus.md).
func isCitus(ctx context.Context, cfg *pgx.ConnConfig) (bool, error) {
	var citus bool
	err := tenant.Retry(ctx, func() error {
		conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		return conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").Scan(&citus)
	})
	return citus, err
}

// Within runs fn in one tenant transaction that every store call made with fn's context joins:
// the reads of one page, with their audit rows, commit together (tenant.Within).
func (d *DB) Within(ctx context.Context, fn func(ctx context.Context) error) error {
	return tenant.Within(ctx, d.Gorm, fn)
}

// Read runs queue and then the reads it queued in one tenant transaction: see tenant.Read.
func (d *DB) Read(ctx context.Context, queue func(ctx context.Context, r *tenant.Reads) error) error {
	return tenant.Read(ctx, d.Gorm, queue)
}

// Ping reports whether the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.Pool.Ping(ctx) }

// Close closes every connection.
func (d *DB) Close() {
	d.sql.Close()
	d.Pool.Close()
}

// encodeUUIDs has pgx encode google/uuid's UUID, the type of every id GORM sends, as the 16
// bytes it is. Left alone, pgx takes it for a driver.Valuer: it asks for the text form, fails
// to encode that as binary (building an error each time), parses the text back and encodes
// that: 8% of the server's CPU on the customer page, for every tenant_id of every statement.
func encodeUUIDs(m *pgtype.Map) {
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{func(v any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
		if u, ok := v.(uuid.UUID); ok {
			return &uuidPlan{}, pgtype.UUID{Bytes: u, Valid: true}, true
		}
		return nil, nil, false
	}}, m.TryWrapEncodePlanFuncs...)
}

// uuidPlan hands a uuid.UUID to the plan for pgx's own UUID.
type uuidPlan struct{ next pgtype.EncodePlan }

func (p *uuidPlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidPlan) Encode(v any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgtype.UUID{Bytes: v.(uuid.UUID), Valid: true}, buf)
}
