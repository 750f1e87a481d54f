package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"moat/app/auth"
	"moat/app/background"
	"moat/app/dbtest"
	"moat/app/jobs"
	"moat/app/metrics"
	"moat/app/middleware"
	"moat/app/pdf"
	"moat/app/server"
	"moat/app/store"
	"moat/app/workers"
	"moat/models"
)

const password = "correct horse battery"

// env is a Moat app over a fresh database, with its log, metrics and statement count at hand.
type env struct {
	clock   *clock
	t       testing.TB
	db      *dbtest.DB
	app     *fiber.App
	log     *syncBuffer
	metrics *metrics.Metrics
	after   *background.Queue // work after responses: probes, refused sign-ins' trail rows
	queries *queryCounter
	// queuePool is the job queue's own pool (see work).
	queuePool *pgxpool.Pool
}

// printer is the one Chromium every test app prints invoices with.
var printer = pdf.New("/usr/bin/chromium")

func TestMain(m *testing.M) {
	code := m.Run()
	printer.Close()
	os.Exit(code)
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, middleware.Limits{PerIP: 10000, PerEmail: 10000, Window: time.Minute})
}

func newEnvWith(t testing.TB, limits middleware.Limits) *env {
	t.Helper()
	queries := &queryCounter{}
	return newEnvOver(t, limits, dbtest.NewWith(t, store.Config{Tracer: queries}), queries)
}

// newEnvOver is a Moat app over database d, whose statements queries counts (nil: none); tune
// changes its options.
func newEnvOver(t testing.TB, limits middleware.Limits, d *dbtest.DB, queries *queryCounter, tune ...func(*server.Options)) *env {
	t.Helper()
	if queries == nil {
		queries = &queryCounter{}
	}
	e := &env{t: t, log: &syncBuffer{}, metrics: metrics.New(), queries: queries, clock: &clock{now: time.Now()}, db: d}
	e.after = background.New(1024, 5*time.Second)
	t.Cleanup(e.after.Close) // before the database closes: cleanups run last first
	// Jobs are queued through a pool of their own, so that statement counts see only requests;
	// only tests that need them work them (e.work).
	queuePool, err := pgxpool.New(context.Background(), d.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(queuePool.Close)
	queue, err := jobs.New(queuePool, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.queuePool = queuePool
	opts := server.Options{
		After: e.after,
		// Tests read warnings and errors; a line per request would grow for as long as a soak.
		Log:             slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Metrics:         e.metrics,
		SessionIdle:     30 * time.Minute,
		SessionAbsolute: 12 * time.Hour,
		Limits:          limits,
		Outbox:          true,
		Now:             e.clock.Now,
		Printer:         printer,
		Jobs:            queue,
	}
	for _, f := range tune {
		f(&opts)
	}
	e.app = server.New(e.db.DB, opts)
	t.Cleanup(func() {
		if t.Failed() {
			for _, line := range strings.Split(e.log.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) {
					t.Log(line)
				}
			}
		}
	})
	return e
}

// work starts working the queued jobs (imports), as moat serve does, until the test ends.
func (e *env) work() {
	e.t.Helper()
	w, periodic := workers.All(e.db.Gorm)
	queue, err := jobs.New(e.queuePool, slog.New(slog.DiscardHandler), w, periodic...)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := queue.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		stopping, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = queue.Stop(stopping)
	})
}

// clock is the app's time, moved by tests. Each reading ticks a microsecond, so that events
// keep their order in the database.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Microsecond)
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// queryCounter counts the statements sent to PostgreSQL and, while recording, keeps their SQL.
type queryCounter struct {
	n         atomic.Int64
	mu        sync.Mutex
	recording bool
	sql       []string
}

func (q *queryCounter) saw(sql string) {
	q.n.Add(1)
	q.mu.Lock()
	if q.recording {
		q.sql = append(q.sql, sql)
	}
	q.mu.Unlock()
}

// record runs f and returns the SQL of every statement sent meanwhile, in order.
func (q *queryCounter) record(f func()) []string {
	q.mu.Lock()
	q.recording, q.sql = true, nil
	q.mu.Unlock()
	f()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.recording = false
	return q.sql
}

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	q.saw(d.SQL)
	return ctx
}

func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Statements sent in a pipelined batch count one by one too.
func (q *queryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (q *queryCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	q.saw(d.SQL)
}

func (q *queryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// statements returns the SQL a request sends, and what it leaves to run after the response.
func (e *env) statements(f func()) []string {
	return e.queries.record(func() {
		f()
		e.after.Wait()
	})
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tenantUser is a signed-up organization's owner.
type tenantUser struct {
	auth.Principal
	Email string
	Ctx   context.Context
}

func (e *env) signUp(org string) tenantUser {
	e.t.Helper()
	ctx, p := e.db.Tenant(e.t, org)
	return tenantUser{Principal: p, Email: p.Email, Ctx: ctx}
}

// addMember invites email to u's tenant as a member, accepts through the emailed link with the
// test password (or the account's, if it has one) and returns the membership's id.
func (e *env) addMember(u tenantUser, email string) string {
	e.t.Helper()
	svc := auth.NewService(e.db.Gorm, slog.New(slog.DiscardHandler), "http://moat.test", nil)
	tok, err := store.NewUsers(e.db.Gorm, svc.Links()).Invite(u.Ctx, models.InviteInput{Name: "Member", Email: email, Role: models.RoleMember})
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := svc.AcceptInvitation(context.Background(), tok, password, models.NewPasswordInput{New: password, Confirm: password})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.UserID.String()
}

// invite invites email to u's tenant and returns the invitation's id.
func (e *env) invite(u tenantUser, email string) string {
	e.t.Helper()
	svc := auth.NewService(e.db.Gorm, slog.New(slog.DiscardHandler), "http://moat.test", nil)
	if _, err := store.NewUsers(e.db.Gorm, svc.Links()).Invite(u.Ctx, models.InviteInput{Name: "Invitee", Email: email, Role: models.RoleMember}); err != nil {
		e.t.Fatal(err)
	}
	var id string
	if err := e.db.Superuser(e.t).QueryRow(context.Background(), "SELECT id::text FROM invitations WHERE email = $1 AND tenant_id = $2", email, u.Tenant.UUID()).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

var mailLink = regexp.MustCompile(`https?://[^/\s]+(/[^\s]+)`)

// mailedLink returns the path of the newest link under prefix mailed to address.
func (e *env) mailedLink(t testing.TB, address, prefix string) string {
	t.Helper()
	var body string
	err := e.db.Superuser(t).QueryRow(context.Background(),
		"SELECT body FROM outbox WHERE lower(recipient) = lower($1) AND body LIKE '%' || $2 || '%' ORDER BY created_at DESC LIMIT 1", address, prefix).Scan(&body)
	if err != nil {
		t.Fatalf("no mail to %s with a %s link: %v", address, prefix, err)
	}
	return mailLink.FindStringSubmatch(body)[1]
}

// lastSession returns the id of the newest listed session of user id.
func (e *env) lastSession(userID string) string {
	e.t.Helper()
	var id string
	err := e.db.Superuser(e.t).QueryRow(context.Background(),
		"SELECT id::text FROM user_sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1", userID).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// client is a browser: it keeps cookies and the last CSRF token it was given.
type client struct {
	t    testing.TB
	app  *fiber.App
	base string // when set, requests go over HTTP to this address instead of to app
	jar  map[string]string
	csrf string
}

// overHTTP sends requests as a browser would, and leaves redirects to the caller.
var overHTTP = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (e *env) client() *client {
	return &client{t: e.t, app: e.app, jar: map[string]string{}}
}

// as returns the same browser reporting to t (a fuzz input's own test).
func (c *client) as(t testing.TB) *client {
	jar := make(map[string]string, len(c.jar))
	for k, v := range c.jar {
		jar[k] = v
	}
	return &client{t: t, app: c.app, jar: jar, csrf: c.csrf}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)"`)

// do sends a request. body is a form unless a Content-Type header says otherwise.
func (c *client) do(method, target string, body string, headers ...string) (*http.Response, string) {
	c.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for k, v := range c.jar {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	var res *http.Response
	var err error
	if c.base != "" {
		if req.URL, err = url.Parse(c.base + target); err != nil {
			c.t.Fatal(err)
		}
		req.RequestURI, req.Host = "", req.URL.Host
		res, err = overHTTP.Do(req)
	} else {
		res, err = c.app.Test(req, -1)
	}
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, target, err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || (!ck.Expires.IsZero() && ck.Expires.Before(time.Now())) {
			delete(c.jar, ck.Name)
		} else {
			c.jar[ck.Name] = ck.Value
		}
	}
	// A page refused for its token carries none; the browser keeps the one it has.
	if m := csrfMeta.FindSubmatch(raw); m != nil && len(m[1]) > 0 {
		c.csrf = string(m[1])
	}
	return res, string(raw)
}

// form encodes key, value pairs, adding the client's CSRF token.
func (c *client) form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	v.Set("_csrf", c.csrf)
	return v.Encode()
}

// signIn signs in through the login form.
func (c *client) signIn(email, pw string) {
	c.t.Helper()
	c.do("GET", "/login", "")
	res, body := c.do("POST", "/login", c.form("email", email, "password", pw))
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/customers" {
		c.t.Fatalf("sign in %s: %d %s\n%s", email, res.StatusCode, res.Header.Get("Location"), body)
	}
	c.do("GET", "/customers", "")
}

// signInTo signs in as email, choosing organization org when the account has several.
func (c *client) signInTo(email, org string, headers ...string) {
	c.t.Helper()
	c.do("GET", "/login", "", headers...)
	res, _ := c.do("POST", "/login", c.form("email", email, "password", password), headers...)
	if res.Header.Get("Location") == "/login/organization" {
		_, body := c.do("GET", "/login/organization", "", headers...)
		m := regexp.MustCompile(`value="([0-9a-f-]{36})"[^>]*>\s*<button[^>]*>\s*<span[^>]*>` + regexp.QuoteMeta(org) + `<`).FindStringSubmatch(body)
		if m == nil {
			c.t.Fatalf("sign in %s: no choice of %s", email, org)
		}
		res, _ = c.do("POST", "/login/organization", c.form("membership", m[1]), headers...)
	}
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/customers" {
		c.t.Fatalf("sign in %s to %s: %d %s", email, org, res.StatusCode, res.Header.Get("Location"))
	}
	c.do("GET", "/customers", "", headers...)
}

// createCustomer creates a customer through the form and returns its id.
func (c *client) createCustomer(name string) string {
	c.t.Helper()
	res, body := c.do("POST", "/customers", c.form("name", name, "email", "x@example.com"))
	loc := res.Header.Get("Location")
	if res.StatusCode != fiber.StatusSeeOther || !strings.HasPrefix(loc, "/customers/") {
		c.t.Fatalf("create %s: %d %q\n%s", name, res.StatusCode, loc, body)
	}
	return strings.TrimPrefix(loc, "/customers/")
}

// createTag adds a tag named name (unique in its tenant) and returns its id.
func (c *client) createTag(name string) string {
	c.t.Helper()
	res, body := c.do("POST", "/tags", c.form("name", name, "color", "blue"))
	if res.StatusCode != fiber.StatusSeeOther {
		c.t.Fatalf("create tag %s: %d\n%s", name, res.StatusCode, body)
	}
	_, body = c.do("GET", "/tags", "")
	m := regexp.MustCompile(`/customers\?tag=([0-9a-f-]{36})"[^>]*>` + regexp.QuoteMeta(name) + `<`).FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("tag %s is not listed", name)
	}
	return m[1]
}

// trashedCustomer adds a customer and moves it to the trash.
func (c *client) trashedCustomer(name string) string {
	c.t.Helper()
	id := c.createCustomer(name)
	if res, _ := c.do("POST", "/customers/"+id+"/delete", c.form()); res.StatusCode != fiber.StatusSeeOther {
		c.t.Fatalf("trash %s: %d", name, res.StatusCode)
	}
	return id
}

// invoiceForm is a valid draft for customer: two lines at two tax rates.
func (c *client) invoiceForm(customer string, extra ...string) string {
	return c.form(append([]string{"customer_id", customer, "currency", "EUR", "payment_terms", "30", "rounding", "line", "exchange_rate", "1",
		"line_description", "Consulting", "line_quantity", "2", "line_unit_price", "100.00", "line_discount", "0", "line_tax_rate", "20",
		"line_description", "Books", "line_quantity", "1", "line_unit_price", "19.99", "line_discount", "0", "line_tax_rate", "7"}, extra...)...)
}

// draftInvoice creates a draft invoice for a new customer and returns its id.
func (c *client) draftInvoice() string {
	c.t.Helper()
	res, body := c.do("POST", "/invoices", c.invoiceForm(c.createCustomer("Billed "+suffix())))
	loc := res.Header.Get("Location")
	if res.StatusCode != fiber.StatusSeeOther || !strings.HasPrefix(loc, "/invoices/") {
		c.t.Fatalf("create invoice: %d %q\n%s", res.StatusCode, loc, body)
	}
	return strings.TrimPrefix(loc, "/invoices/")
}

// issuedInvoice creates an invoice and finalizes it.
func (c *client) issuedInvoice() string {
	c.t.Helper()
	id := c.draftInvoice()
	if res, body := c.do("POST", "/invoices/"+id+"/finalize", c.form("confirm", "yes")); res.StatusCode != fiber.StatusSeeOther {
		c.t.Fatalf("finalize %s: %d\n%s", id, res.StatusCode, body)
	}
	return id
}

var csrfValues = regexp.MustCompile(`(name="csrf-token" content|name="_csrf" value)="[^"]*"`)

// normalize blanks the per-request tokens in a body: the CSRF token and the request id. Nothing
// else, so an echoed id would still make two bodies differ.
func normalize(res *http.Response, body string) string {
	if id := res.Header.Get("X-Request-ID"); id != "" {
		body = strings.ReplaceAll(body, id, "<request-id>")
	}
	return csrfValues.ReplaceAllString(body, `$1="<csrf>"`)
}

func regexpMust(p string) *regexp.Regexp { return regexp.MustCompile(p) }

// uploadImport uploads csv as pasted rows and returns the import's id.
func (c *client) uploadImport(csv string) string {
	c.t.Helper()
	res, body := c.do("POST", "/imports", c.form("text", csv))
	loc := res.Header.Get("Location")
	if res.StatusCode != fiber.StatusSeeOther || !strings.HasPrefix(loc, "/imports/") {
		c.t.Fatalf("upload an import: %d %q\n%s", res.StatusCode, loc, body)
	}
	return strings.TrimPrefix(loc, "/imports/")
}

// beginImport starts an import whose file is to come in parts and returns its id.
func (c *client) beginImport() string {
	c.t.Helper()
	res, body := c.do("POST", "/imports/parts", c.form("name", "parts.csv"))
	var got struct{ ID string }
	if res.StatusCode != fiber.StatusCreated || json.Unmarshal([]byte(body), &got) != nil || got.ID == "" {
		c.t.Fatalf("begin an import: %d %s", res.StatusCode, body)
	}
	return got.ID
}
