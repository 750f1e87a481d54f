package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/seed"
	"moat/app/server"
	"moat/app/store"
)

// capture records the statements sent to PostgreSQL, with their arguments.
type capture struct {
	mu               sync.Mutex
	on               bool
	stmts            []statement
	batches, batched int // pipelined batches, and the statements they carried
}

type statement struct {
	sql   string
	args  []any
	batch int // which pipelined batch carried it (1, 2, ...); 0 when sent alone
}

func (c *capture) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.stmts = append(c.stmts, statement{d.SQL, d.Args, 0})
	}
	return ctx
}

func (c *capture) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A pipelined batch is one round trip however many statements it carries.
func (c *capture) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.batches++
	}
	return ctx
}

func (c *capture) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.stmts = append(c.stmts, statement{d.SQL, d.Args, c.batches})
		c.batched++
	}
}

func (c *capture) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (c *capture) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on, c.stmts, c.batches, c.batched = true, nil, 0, 0
}

func (c *capture) stop() []statement {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return c.stmts
}

// captureList runs the store's list page (with search q) as the owner with email and returns
// the transaction it sent, as a pgbench script with the arguments written in: what Moat sent in
// one round trip, pgbench sends in one pipeline.
func captureList(ctx context.Context, appURL, email, q string) string {
	c := &capture{}
	db, err := store.Open(ctx, store.Config{URL: appURL, MaxConns: 2, Tracer: c})
	check(err)
	defer db.Close()
	svc := auth.NewService(db.Gorm, slog.New(slog.DiscardHandler), "http://127.0.0.1", nil)
	acc, err := svc.SignIn(ctx, email, seed.Password)
	check(err)
	p, _, err := svc.Enter(ctx, acc, acc.Memberships[0])
	check(err)
	actx := audit.NewContext(auth.NewContext(ctx, p), audit.Request{UserID: p.UserID, RequestID: "bench", IP: "127.0.0.1", UserAgent: "bench"})
	c.start()
	_, err = store.NewCustomers(db.Gorm).List(actx, store.ListQuery{Filter: store.Filter{Search: q}})
	check(err)
	var script []string
	stmts := c.stop()
	for i, s := range stmts {
		if s.batch > 0 && (i == 0 || stmts[i-1].batch != s.batch) {
			script = append(script, `\startpipeline`)
		}
		script = append(script, strings.Join(strings.Fields(literal(s)), " ")+";") // a statement a line
		if s.batch > 0 && (i == len(stmts)-1 || stmts[i+1].batch != s.batch) {
			script = append(script, `\endpipeline`)
		}
	}
	// pgbench takes :alnum in '[^[:alnum:]]+' for a variable, even in a literal; (\W|_)+
	// matches the same runs (\w is [:alnum:] and the underscore).
	return strings.ReplaceAll(strings.Join(script, "\n")+"\n", `'[^[:alnum:]]+'`, `'(\W|_)+'`)
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// literal writes a statement's arguments into its SQL. database/sql passes pgx its query
// options as leading arguments; they are not parameters.
func literal(s statement) string {
	var args []any
	for _, a := range s.args {
		switch a.(type) {
		case pgx.QueryResultFormatsByOID, pgx.QueryResultFormats, pgx.QueryExecMode:
			continue
		}
		args = append(args, a)
	}
	return placeholder.ReplaceAllStringFunc(s.sql, func(m string) string {
		var n int
		fmt.Sscanf(m, "$%d", &n)
		if n < 1 || n > len(args) {
			return m
		}
		switch v := args[n-1].(type) {
		case nil:
			return "NULL"
		case int, int32, int64, float64, bool:
			return fmt.Sprint(v)
		case []byte:
			return quote(string(v))
		case time.Time:
			return quote(v.Format(time.RFC3339Nano))
		default:
			return quote(fmt.Sprint(v))
		}
	})
}

// quote writes s as an SQL literal for a pgbench script. pgbench reads :name, :'name' and
// :"name" as its own variables even inside literals, so a colon before a letter or a quote
// (JSON's "sort":"name" in the audit details) gets a space after it: the same JSON.
func quote(s string) string {
	s = pgbenchVariable.ReplaceAllString(s, ": $1")
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

var pgbenchVariable = regexp.MustCompile(`:([A-Za-z_"'])`)

// statementsPerGet signs in through an in-process server and counts the round trips one GET of
// the list page makes, and how many statements write (besides the audit row).
func statementsPerGet(ctx context.Context, appURL string) (roundTrips, writes int) {
	c := &capture{}
	db, err := store.Open(ctx, store.Config{URL: appURL, MaxConns: 4, Tracer: c})
	check(err)
	defer db.Close()
	app := server.New(db, server.Options{Log: slog.New(slog.DiscardHandler), SessionIdle: time.Hour, SessionAbsolute: time.Hour})
	jar := map[string]string{}
	do := func(method, target, body string) string {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range jar {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		res, err := app.Test(req, -1)
		check(err)
		raw, _ := io.ReadAll(res.Body)
		for _, ck := range res.Cookies() {
			jar[ck.Name] = ck.Value
		}
		return string(raw)
	}
	page := do("GET", "/login", "")
	token := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	do("POST", "/login", url.Values{"email": {seed.OwnerEmail(1)}, "password": {seed.Password}, "_csrf": {token}}.Encode())
	do("GET", "/customers", "")
	time.Sleep(10 * time.Millisecond)
	c.start()
	do("GET", "/customers", "")
	stmts := c.stop()
	roundTrips = len(stmts) - c.batched + c.batches
	seen := map[string]int{}
	for _, s := range stmts {
		verb := strings.ToUpper(strings.Fields(strings.TrimSpace(s.sql))[0])
		seen[verb]++
		if (verb == "INSERT" || verb == "UPDATE" || verb == "DELETE") && !strings.Contains(s.sql, "audit_events") {
			writes++
		}
	}
	var verbs []string
	for v, n := range seen {
		verbs = append(verbs, fmt.Sprintf("%s×%d", v, n))
	}
	sort.Strings(verbs)
	fmt.Printf("one signed-in GET /customers: %d round trips, statements %s:\n", roundTrips, strings.Join(verbs, " "))
	for _, s := range stmts {
		line := strings.Join(strings.Fields(s.sql), " ")
		fmt.Println("  ", line[:min(100, len(line))])
	}
	return roundTrips, writes
}
