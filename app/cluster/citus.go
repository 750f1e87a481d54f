package cluster

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// Local is the Citus cluster on $MOAT_CITUS_PORT if that is set, else the private cluster,
// started if need be.
func Local(ctx context.Context) (*Cluster, error) {
	port, err := CitusPort()
	if err != nil {
		return nil, err
	}
	if port != 0 {
		return Citus(ctx, port)
	}
	dir, err := DefaultDir()
	if err != nil {
		return nil, err
	}
	return Ensure(ctx, dir)
}

// CitusPort is the coordinator's port of a running Citus cluster on this machine, from
// $MOAT_CITUS_PORT, or 0. With it set, the commands and the tests use that cluster instead of
// the private one (make test-citus).
func CitusPort() (int, error) {
	v := os.Getenv("MOAT_CITUS_PORT")
	if v == "" {
		return 0, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > 65533 {
		return 0, fmt.Errorf("MOAT_CITUS_PORT: want the coordinator's port, not %q", v)
	}
	return p, nil
}

// Citus returns the Citus cluster whose coordinator listens on port of 127.0.0.1 and whose two
// workers listen on the next two ports, as ../shared/citus/citus.sh starts it: every node
// trusts 127.0.0.1, so no password is needed. It makes sure the owner and app roles exist,
// and that the app role's SET LOCAL of the tenant reaches the workers: Citus forwards it only
// with citus.propagate_set_commands = local (the posture check insists).
func Citus(ctx context.Context, port int) (*Cluster, error) {
	c := &Cluster{Port: port, workers: []int{port + 1, port + 2}}
	conn, err := pgx.Connect(ctx, c.URL("postgres", "postgres"))
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to the Citus coordinator on port %d: %w", port, err)
	}
	defer conn.Close(ctx)
	// Test binaries run in parallel: one at a time (a role's row changed twice at once fails).
	// The statements go one by one, from the coordinator's postgres database, which has the
	// extension: Citus propagates them to the workers.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(5441)"); err != nil {
		return nil, err
	}
	steps := []struct{ missing, sql string }{
		{"SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + OwnerRole + "')",
			"CREATE ROLE " + OwnerRole + " LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE"},
		{"SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + AppRole + "')",
			"CREATE ROLE " + AppRole + " LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB"},
		{`SELECT NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
			WHERE r.rolname = '` + AppRole + `' AND s.setdatabase = 0 AND 'citus.propagate_set_commands=local' = ANY (s.setconfig))`,
			"ALTER ROLE " + AppRole + " SET citus.propagate_set_commands = local"},
	}
	for _, s := range steps {
		var missing bool
		if err := conn.QueryRow(ctx, s.missing).Scan(&missing); err != nil {
			return nil, err
		}
		if !missing {
			continue
		}
		if _, err := conn.Exec(ctx, s.sql); err != nil {
			return nil, fmt.Errorf("cluster: %s: %w", s.sql, err)
		}
	}
	return c, nil
}

// Coordinator is c's coordinator alone, as a plain PostgreSQL server: a database made through
// it has no Citus until CreateDatabase on c adds the workers' databases and the extension.
func (c *Cluster) Coordinator() *Cluster { return &Cluster{Port: c.Port, creds: c.creds} }

// Workers are c's workers, each as a plain server: none off Citus.
func (c *Cluster) Workers() []*Cluster { return c.nodes()[1:] }

// nodes are c itself and, on Citus, one Cluster for each worker.
func (c *Cluster) nodes() []*Cluster {
	nodes := []*Cluster{c}
	for _, p := range c.workers {
		nodes = append(nodes, &Cluster{Port: p, creds: c.creds})
	}
	return nodes
}

// citusDatabase readies database db of every node for Citus, which propagates neither CREATE
// DATABASE nor the extensions made before it: the extension on each node, the coordinator's
// other extensions (pg_trgm, once migrated) on the workers, the workers added to the
// coordinator. Once done, it is not done again: a worker refuses extension commands.
func (c *Cluster) citusDatabase(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres", db))
	if err != nil {
		return fmt.Errorf("cluster: connect to %s on port %d: %w", db, c.Port, err)
	}
	defer conn.Close(ctx)
	var ready bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").Scan(&ready); err != nil || ready {
		return err
	}
	rows, err := conn.Query(ctx, `SELECT format('CREATE EXTENSION IF NOT EXISTS %I SCHEMA %I', extname, extnamespace::regnamespace)
		FROM pg_extension WHERE extname NOT IN ('plpgsql', 'citus', 'citus_columnar') ORDER BY oid`)
	if err != nil {
		return err
	}
	others, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for i, node := range c.nodes() {
		stmts := []string{"CREATE EXTENSION IF NOT EXISTS citus"}
		if i > 0 {
			stmts = append(stmts, others...)
		}
		if err := node.exec(ctx, db, stmts...); err != nil {
			return err
		}
	}
	add := []string{fmt.Sprintf("SELECT citus_set_coordinator_host('127.0.0.1', %d)", c.Port)}
	for _, p := range c.workers {
		add = append(add, fmt.Sprintf("SELECT citus_add_node('127.0.0.1', %d)", p))
	}
	return c.exec(ctx, db, add...)
}

// AfterMigrate does what only the superuser may, once db is migrated. On Citus: the extension
// puts two views in public that run with their owner's rights and tell every tenant's shard
// sizes; the app role must not read them (the posture check refuses). Revoked before the
// migrations, they fail the first one's REVOKE ALL ON ALL TABLES.
func (c *Cluster) AfterMigrate(ctx context.Context, db string) error {
	if len(c.workers) == 0 {
		return nil
	}
	return c.exec(ctx, db, "REVOKE SELECT ON public.citus_tables, public.citus_schemas FROM PUBLIC")
}

// SealTemplate makes db a template to copy test databases from. On Citus the copies must be
// made while nobody is connected, and Citus keeps connections to every database it has: they
// are ended and refused.
func (c *Cluster) SealTemplate(ctx context.Context, db string) error {
	alter := "ALTER DATABASE " + pgx.Identifier{db}.Sanitize()
	for _, node := range c.nodes() {
		stmts := []string{alter + " IS_TEMPLATE true"}
		if len(c.workers) > 0 {
			stmts = append(stmts, alter+" ALLOW_CONNECTIONS false",
				"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"+db+"' AND pid <> pg_backend_pid()")
		}
		if err := node.exec(ctx, "postgres", stmts...); err != nil {
			return err
		}
	}
	return nil
}

// exec runs stmts in db as the superuser.
func (c *Cluster) exec(ctx context.Context, db string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres", db))
	if err != nil {
		return fmt.Errorf("cluster: connect to %s on port %d: %w", db, c.Port, err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("cluster: %s on port %d: %w", s, c.Port, err)
		}
	}
	return nil
}
