// Package dbtest gives each test its own migrated PostgreSQL database, copied from a template
// migrated once per migration set, in the private cluster (started on first use). Databases of
// failed tests are kept for inspection; the others are dropped.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/cluster"
	"moat/app/store"
	"moat/migrations"
	"moat/models"
)

// DB is one test's database.
type DB struct {
	*store.DB        // connected as the app role
	Name      string // database name
	AppURL    string // the app role's URL
	OwnerURL  string // the owner role's URL
	Cluster   *cluster.Cluster
}

var (
	setupOnce sync.Once
	shared    *cluster.Cluster
	template  string
	setupErr  error
)

// New returns a fresh migrated database whose app-role pool has at most maxConns connections
// (0 for pgx's default).
func New(t testing.TB, maxConns int32) *DB {
	return NewWith(t, store.Config{MaxConns: maxConns})
}

// NewWith is New with the pool's configuration (its URL is filled in).
func NewWith(t testing.TB, cfg store.Config) *DB {
	t.Helper()
	c, template := sharedCluster(t)
	return create(t, c, template, cfg)
}

// sharedCluster is the cluster every test's database is made in, and the migrated template
// they are copied from, both readied by the first test to ask.
func sharedCluster(t testing.TB) (*cluster.Cluster, string) {
	t.Helper()
	setupOnce.Do(func() { shared, template, setupErr = setup(context.Background()) })
	if setupErr != nil {
		t.Fatalf("dbtest: %v", setupErr)
	}
	return shared, template
}

// NewInCluster is NewWith in cluster c rather than the shared one, migrated from scratch: for
// tests that stop or restart their database.
func NewInCluster(t testing.TB, c *cluster.Cluster, cfg store.Config) *DB {
	t.Helper()
	return create(t, c, "", cfg)
}

// Grown is a fresh database migrated on one node and given data there by fill, then taken to
// the whole cluster as an operator takes one node to many (docs/citus.md): on Citus, the
// workers' databases and extensions, and moat migrate again, which distributes what fill
// wrote. On plain PostgreSQL the one node is the cluster, and migrating again changes nothing.
func Grown(t testing.TB, fill func(d *DB)) *DB {
	t.Helper()
	ctx := context.Background()
	c, _ := sharedCluster(t)
	one := create(t, c.Coordinator(), "", store.Config{})
	fill(one)
	one.DB.Close()
	if err := c.CreateDatabase(ctx, one.Name, ""); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	if err := migrations.Up(ctx, one.OwnerURL); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	if err := c.AfterMigrate(ctx, one.Name); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	grown := &DB{Name: one.Name, AppURL: one.AppURL, OwnerURL: one.OwnerURL, Cluster: c}
	var err error
	if grown.DB, err = store.Open(ctx, store.Config{URL: grown.AppURL}); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		grown.DB.Close()
		if !t.Failed() {
			if err := c.DropDatabase(context.Background(), one.Name); err != nil {
				t.Logf("dbtest: drop %s: %v", one.Name, err)
			}
		}
	})
	return grown
}

// create makes a database in c, a copy of template or else migrated, and connects to it as the
// app role. It is dropped when the test ends, or kept, and named, if the test failed.
func create(t testing.TB, c *cluster.Cluster, template string, cfg store.Config) *DB {
	t.Helper()
	ctx := context.Background()
	name := "t_" + randomHex(8)
	if err := c.CreateDatabase(ctx, name, template); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	d := &DB{Name: name, AppURL: c.URL(cluster.AppRole, name), OwnerURL: c.URL(cluster.OwnerRole, name), Cluster: c}
	if template == "" {
		if err := migrations.Up(ctx, d.OwnerURL); err != nil {
			t.Fatalf("dbtest: %v", err)
		}
	}
	var err error
	cfg.URL = d.AppURL
	if d.DB, err = store.Open(ctx, cfg); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		d.DB.Close()
		if t.Failed() {
			t.Logf("dbtest: kept database %s for inspection (owner URL %s)", name, d.OwnerURL)
			return
		}
		if err := c.DropDatabase(context.Background(), name); err != nil {
			t.Logf("dbtest: drop %s: %v", name, err)
		}
	})
	return d
}

// Owner opens a connection as the owner role, closed when the test ends.
func (d *DB) Owner(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), d.OwnerURL)
	if err != nil {
		t.Fatalf("dbtest: owner connection: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Password is the password of every person Tenant signs up.
const Password = "correct horse battery"

// Tenant signs up a new organization, through its emailed link, and returns a context acting as
// its owner, as the session middleware would build it.
func (d *DB) Tenant(t testing.TB, org string) (context.Context, auth.Principal) {
	t.Helper()
	svc := auth.NewService(d.Gorm, slog.New(slog.DiscardHandler), "http://moat.test", nil)
	tok, err := svc.RequestSignUp(context.Background(), models.SignUpInput{
		Organization: org, Name: org + " Owner", Email: "owner-" + randomHex(6) + "@" + org + ".test", Password: Password,
	})
	if err != nil {
		t.Fatalf("dbtest: sign up %s: %v", org, err)
	}
	su, err := svc.ConfirmSignUp(context.Background(), tok)
	if err != nil {
		t.Fatalf("dbtest: confirm sign-up of %s: %v", org, err)
	}
	return AsPrincipal(su.Principal), su.Principal
}

// AsPrincipal returns a context acting as p.
func AsPrincipal(p auth.Principal) context.Context {
	ctx := auth.NewContext(context.Background(), p)
	return audit.NewContext(ctx, audit.Request{UserID: p.UserID, RequestID: "test-" + randomHex(4), IP: "127.0.0.1", UserAgent: "dbtest"})
}

// setup starts the cluster and makes sure the template for the current migrations exists.
func setup(ctx context.Context) (*cluster.Cluster, string, error) {
	c, err := cluster.Local(ctx)
	if err != nil {
		return nil, "", err
	}
	sum, err := migrationsHash()
	if err != nil {
		return nil, "", err
	}
	name := "moat_template_" + sum[:12]
	conn, err := pgx.Connect(ctx, c.URL("postgres", "postgres"))
	if err != nil {
		return nil, "", err
	}
	defer conn.Close(ctx)
	// Test binaries run in parallel: one builds the template, the others wait for it.
	key := int64(binary.BigEndian.Uint64([]byte(sum[:8])))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return nil, "", err
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key) //nolint:errcheck
	var ready bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&ready); err != nil || ready {
		return c, name, err
	}
	if err := c.DropDatabase(ctx, name); err != nil {
		return nil, "", err
	}
	if err := c.CreateDatabase(ctx, name, ""); err != nil {
		return nil, "", err
	}
	if err := migrations.Up(ctx, c.URL(cluster.OwnerRole, name)); err != nil {
		return nil, "", fmt.Errorf("migrate template: %w", err)
	}
	if err := c.AfterMigrate(ctx, name); err != nil {
		return nil, "", err
	}
	if err := c.SealTemplate(ctx, name); err != nil {
		return nil, "", err
	}
	return c, name, nil
}

func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(raw)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// Superuser opens a connection that bypasses row level security, for tests that must look at
// every tenant's rows. It is closed when the test ends.
func (d *DB) Superuser(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), d.Cluster.URL("postgres", d.Name))
	if err != nil {
		t.Fatalf("dbtest: superuser connection: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Checksum returns a digest of every row of tenant tid in the given tables (when none are named,
// every table with a tenant_id column, and the tenant's own row), to prove an attack changed
// nothing.
func (d *DB) Checksum(t testing.TB, tid string, tables ...string) string {
	t.Helper()
	conn := d.Superuser(t)
	if len(tables) == 0 {
		tables = append(tables, "tenants")
		rows, err := conn.Query(context.Background(), `SELECT table_name FROM information_schema.columns
			WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`)
		if err != nil {
			t.Fatalf("dbtest: tenant tables: %v", err)
		}
		named, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("dbtest: tenant tables: %v", err)
		}
		tables = append(tables, named...)
	}
	h := sha256.New()
	for _, table := range tables {
		col := "tenant_id"
		if table == "tenants" {
			col = "id"
		}
		var rows string
		q := fmt.Sprintf("SELECT coalesce(string_agg(x::text, '|' ORDER BY x::text), '') FROM %s x WHERE %s = $1",
			pgx.Identifier{table}.Sanitize(), col)
		if err := conn.QueryRow(context.Background(), q, tid).Scan(&rows); err != nil {
			t.Fatalf("dbtest: checksum %s: %v", table, err)
		}
		h.Write([]byte(table + ":" + rows + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}
