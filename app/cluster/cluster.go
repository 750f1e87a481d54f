// Package cluster runs Moat's private PostgreSQL cluster, used by development and tests when
// no DATABASE_URL is given. It lives in a git-ignored folder, listens on 127.0.0.1 only,
// authenticates with generated passwords and trades durability for speed (fsync off): it is
// never for production data.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Role names the migrations and the app rely on.
const (
	OwnerRole = "moat_owner"
	AppRole   = "moat_app"
)

const defaultPort = 54329

// Cluster is a running private cluster.
type Cluster struct {
	dir     string
	Port    int
	creds   credentials
	workers []int // a Citus cluster's workers' ports (see Citus)
}

type credentials struct {
	Superuser string `json:"superuser"`
	Owner     string `json:"owner"`
	App       string `json:"app"`
}

// DefaultDir is the cluster folder: $MOAT_CLUSTER_DIR, or .db at the root of the module that
// contains the working directory.
func DefaultDir() (string, error) {
	if d := os.Getenv("MOAT_CLUSTER_DIR"); d != "" {
		return filepath.Abs(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return reachable(filepath.Join(d, ".db")), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("cluster: no go.mod above the working directory; set MOAT_CLUSTER_DIR")
		}
	}
}

// reachable returns dir, or, when running as root in a checkout the postgres user cannot
// traverse (a home folder with mode 700, say), a folder of the system's temporary directory
// named after dir.
func reachable(dir string) string {
	if os.Geteuid() != 0 {
		return dir
	}
	if exec.Command("runuser", "-u", "postgres", "--", "test", "-x", filepath.Dir(dir)).Run() == nil {
		return dir
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "moat-db-"+hex.EncodeToString(sum[:6]))
}

// Ensure initialises the cluster in dir if it does not exist, starts it if it is not running
// and makes sure the owner and app roles exist. Concurrent callers (parallel test binaries)
// are serialised with a file lock.
func Ensure(ctx context.Context, dir string) (*Cluster, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	unlock, err := lock(filepath.Join(dir, "lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()

	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err != nil {
		if err := c.initdb(ctx, bin); err != nil {
			return nil, err
		}
	}
	if err := c.loadCredentials(); err != nil {
		return nil, err
	}
	if c.running(ctx, bin) {
		if c.Port, err = c.savedPort(); err != nil {
			return nil, err
		}
	} else if err := c.start(ctx, bin); err != nil {
		return nil, err
	}
	if err := c.ensureRoles(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Stop stops the cluster in dir if it runs.
func Stop(ctx context.Context, dir string) error {
	bin, err := binDir()
	if err != nil {
		return err
	}
	c := &Cluster{dir: dir}
	if !c.running(ctx, bin) {
		return nil
	}
	return c.pg(ctx, filepath.Join(bin, "pg_ctl"), "-D", c.dataDir(), "-m", "fast", "-w", "stop")
}

// Restart restarts the cluster the fast way, as an operator would: open connections are ended,
// and it accepts new ones again once it is up.
func (c *Cluster) Restart(ctx context.Context) error {
	bin, err := binDir()
	if err != nil {
		return err
	}
	// With its log file: otherwise the server would hold pg_ctl's output open.
	return c.pg(ctx, filepath.Join(bin, "pg_ctl"), "-D", c.dataDir(), "-l", filepath.Join(c.dir, "postgres.log"), "-m", "fast", "-w", "-t", "60", "restart")
}

// Reset stops the cluster in dir and deletes it with all its data.
func Reset(ctx context.Context, dir string) error {
	if err := Stop(ctx, dir); err != nil {
		return err
	}
	for _, name := range []string{"data", "credentials.json", "port", "postgres.log"} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// URL returns a connection URL for role (OwnerRole, AppRole or "postgres") to database db.
func (c *Cluster) URL(role, db string) string {
	pw := map[string]string{"postgres": c.creds.Superuser, OwnerRole: c.creds.Owner, AppRole: c.creds.App}[role]
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(role, pw),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates db owned by the owner role unless it exists, optionally as a copy
// of template (on every node, on Citus).
func (c *Cluster) CreateDatabase(ctx context.Context, db, template string) error {
	if len(c.workers) == 0 {
		return c.createDatabase(ctx, db, template)
	}
	for _, node := range c.nodes() {
		if err := node.createDatabase(ctx, db, template); err != nil {
			return err
		}
	}
	if template != "" {
		return nil
	}
	return c.citusDatabase(ctx, db)
}

func (c *Cluster) createDatabase(ctx context.Context, db, template string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres", "postgres"))
	if err != nil {
		return fmt.Errorf("cluster: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil || exists {
		return err
	}
	sql := "CREATE DATABASE " + pgx.Identifier{db}.Sanitize() + " OWNER " + OwnerRole
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("cluster: create database %s: %w", db, err)
	}
	return nil
}

// DropDatabase drops db if it exists, ending its connections (on every node, on Citus).
func (c *Cluster) DropDatabase(ctx context.Context, db string) error {
	for _, node := range c.nodes() {
		if err := node.exec(ctx, "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) initdb(ctx context.Context, bin string) error {
	if err := os.RemoveAll(c.dataDir()); err != nil {
		return err
	}
	c.creds = credentials{Superuser: secret(), Owner: secret(), App: secret()}
	raw, _ := json.Marshal(c.creds)
	if err := os.WriteFile(filepath.Join(c.dir, "credentials.json"), raw, 0o600); err != nil {
		return err
	}
	pwfile := filepath.Join(c.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(c.creds.Superuser+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if err := os.Mkdir(c.dataDir(), 0o700); err != nil {
		return err
	}
	if err := c.giveToPostgres(c.dataDir(), pwfile); err != nil {
		return err
	}
	return c.pg(ctx, filepath.Join(bin, "initdb"), "-D", c.dataDir(), "-U", "postgres",
		"--pwfile", pwfile, "-A", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8")
}

func (c *Cluster) start(ctx context.Context, bin string) error {
	port, err := c.pickPort()
	if err != nil {
		return err
	}
	logFile := filepath.Join(c.dir, "postgres.log")
	if f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		f.Close()
		if err := c.giveToPostgres(logFile); err != nil {
			return err
		}
	}
	opts := strings.Join([]string{
		"-p", strconv.Itoa(port),
		"-c listen_addresses=127.0.0.1",
		"-c unix_socket_directories=''",
		"-c max_connections=300",
		"-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
		// The data sits in memory or on SSD: random reads cost about what sequential ones do.
		"-c random_page_cost=1.1",
	}, " ")
	if err := c.pg(ctx, filepath.Join(bin, "pg_ctl"), "-D", c.dataDir(), "-l", logFile, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		return err
	}
	c.Port = port
	return os.WriteFile(filepath.Join(c.dir, "port"), []byte(strconv.Itoa(port)), 0o644)
}

func (c *Cluster) running(ctx context.Context, bin string) bool {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "postmaster.pid")); err != nil {
		return false
	}
	return c.pg(ctx, filepath.Join(bin, "pg_ctl"), "-D", c.dataDir(), "status") == nil
}

func (c *Cluster) ensureRoles(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres", "postgres"))
	if err != nil {
		return fmt.Errorf("cluster: connect as superuser: %w", err)
	}
	defer conn.Close(ctx)
	roles := []struct{ name, attrs, password string }{
		{OwnerRole, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE", c.creds.Owner},
		{AppRole, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB", c.creds.App},
	}
	for _, r := range roles {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", r.name).Scan(&exists); err != nil {
			return err
		}
		verb := "CREATE"
		if exists {
			verb = "ALTER"
		}
		// Passwords are hex, so quoting them is safe.
		if _, err := conn.Exec(ctx, fmt.Sprintf("%s ROLE %s %s PASSWORD '%s'", verb, r.name, r.attrs, r.password)); err != nil {
			return fmt.Errorf("cluster: role %s: %w", r.name, err)
		}
	}
	return nil
}

func (c *Cluster) loadCredentials() error {
	raw, err := os.ReadFile(filepath.Join(c.dir, "credentials.json"))
	if err != nil {
		return fmt.Errorf("cluster: credentials missing, run `make db-reset`: %w", err)
	}
	return json.Unmarshal(raw, &c.creds)
}

func (c *Cluster) savedPort() (int, error) {
	raw, err := os.ReadFile(filepath.Join(c.dir, "port"))
	if err != nil {
		return 0, fmt.Errorf("cluster: running but its port is unknown: %w", err)
	}
	return strconv.Atoi(strings.TrimSpace(string(raw)))
}

// pickPort prefers $MOAT_PG_PORT, then the port used last time, then the first free port
// from 54329 up: another cluster may hold one.
func (c *Cluster) pickPort() (int, error) {
	if p := os.Getenv("MOAT_PG_PORT"); p != "" {
		return strconv.Atoi(p)
	}
	candidates := []int{}
	if p, err := c.savedPort(); err == nil {
		candidates = append(candidates, p)
	}
	for p := defaultPort; p < defaultPort+100; p++ {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, errors.New("cluster: no free port in 54329-54428; set MOAT_PG_PORT")
}

// pg runs a PostgreSQL program. initdb and pg_ctl refuse root, so as root they run as the
// postgres user.
func (c *Cluster) pg(ctx context.Context, prog string, args ...string) error {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", prog}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, prog, args...)
	}
	cmd.Dir = c.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("cluster: %s %s: %w\n%s", filepath.Base(prog), strings.Join(args, " "), err, out)
	}
	return nil
}

// giveToPostgres hands paths to the postgres user when running as root, and checks that
// user can reach them.
func (c *Cluster) giveToPostgres(paths ...string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return errors.New("cluster: running as root needs a 'postgres' user; install Debian's postgresql package")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range paths {
		if err := os.Chown(p, uid, gid); err != nil {
			return err
		}
	}
	if err := exec.Command("runuser", "-u", "postgres", "--", "test", "-w", paths[0]).Run(); err != nil {
		return fmt.Errorf("cluster: the postgres user cannot reach %s (a parent folder is not traversable); set MOAT_CLUSTER_DIR to a folder it can reach", paths[0])
	}
	return nil
}

// binDir finds the newest installed PostgreSQL's programs.
func binDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", errors.New("cluster: PostgreSQL server programs not found; install them (Debian: apt-get install postgresql) or set DATABASE_URL")
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) < version(found[j]) })
	return filepath.Dir(found[len(found)-1]), nil
}

func version(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func secret() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cluster: lock: %w", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			f.Close()
			return nil, errors.New("cluster: another process holds " + path)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
