// Command bench measures Moat against the physical limit on this machine, in one run, and
// prints ratios: Moat under wrk against pgbench replaying the exact SQL Moat sends, the cost of
// row level security and of auditing reads, and what one signed-in GET costs in statements.
// It asserts nothing; `make bench` runs it after the Go benchmarks.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"moat/app/cluster"
	"moat/app/seed"
	"moat/migrations"
)

type result struct {
	Name     string  `json:"name"`
	ReqPerS  float64 `json:"req_per_s,omitempty"`
	P50ms    float64 `json:"p50_ms,omitempty"`
	P99ms    float64 `json:"p99_ms,omitempty"`
	Errors   int     `json:"errors"`
	Note     string  `json:"note,omitempty"`
	LimitTPS float64 `json:"limit_tps,omitempty"`
}

type report struct {
	When        time.Time          `json:"when"`
	Machine     string             `json:"machine"`
	Connections int                `json:"connections"`
	Duration    string             `json:"duration"`
	Results     []result           `json:"results"`
	Ratios      map[string]float64 `json:"ratios"`
	Figures     map[string]float64 `json:"figures"`
	Skipped     []string           `json:"skipped,omitempty"`
}

func main() {
	tenants := flag.Int("tenants", 1000, "synthetic tenants")
	customers := flag.Int("customers", 1000, "customers per tenant")
	whale := flag.Int("whale", 100000, "customers of the whale tenant")
	invoices := flag.Int("invoices", 10, "invoices per customer")
	products := flag.Int("products", 1000, "products per tenant")
	conns := flag.Int("c", 16, "connections for the main runs")
	importRows := flag.Int("import", 100000, "rows of the timed customer import; 0 skips it")
	dur := flag.Duration("d", 10*time.Second, "duration of each run")
	out := flag.String("out", "bench/results", "folder for the JSON results")
	growth := flag.String("growth", "", "totals of customers (in tenants of 1,000) of the databases whose list latency is compared with the first's, comma-separated; empty skips")
	citusPort := flag.Int("citus", 0, "only compare one node with the Citus cluster whose coordinator listens on this port, over -tenants x -customers with -invoices and -products, and an import of -import rows")
	rounds := flag.Int("rounds", 2, "rounds of the Citus comparison")
	flag.Parse()
	ctx := context.Background()
	log.SetFlags(0)
	if *citusPort != 0 {
		citusRun(ctx, *citusPort, seed.Plan{Tenants: *tenants, Customers: *customers, Invoices: *invoices, Products: *products}, *conns, *dur, *rounds, *importRows)
		return
	}

	dir, err := cluster.DefaultDir()
	check(err)
	cl, err := cluster.Ensure(ctx, dir)
	check(err)
	db := "moat_bench"
	check(cl.CreateDatabase(ctx, db, ""))
	check(migrations.Up(ctx, cl.URL(cluster.OwnerRole, db)))
	log.Printf("seeding (skips what exists): %d tenants x %d customers, whale %d, %d invoices per customer, %d products per tenant", *tenants, *customers, *whale, *invoices, *products)
	check(seed.Load(ctx, cl.URL(cluster.OwnerRole, db), seed.Plan{Tenants: *tenants, Customers: *customers, Whale: *whale, Invoices: *invoices, Products: *products}, io.Discard))

	rep := report{When: time.Now().UTC(), Machine: machine(), Connections: *conns, Duration: dur.String(),
		Ratios: map[string]float64{}, Figures: map[string]float64{}}

	// What one signed-in GET costs, counted statement by statement in-process.
	stmts, writes := statementsPerGet(ctx, cl.URL(cluster.AppRole, db))
	rep.Figures["round trips per signed-in GET /customers"] = float64(stmts)
	rep.Figures["writes per signed-in GET besides the audit row"] = float64(writes)

	// The SQL Moat sends for a page, captured from the store itself, for pgbench.
	small, whaleT := seed.OwnerEmail(1), seed.OwnerEmail(0)
	listSQL := captureList(ctx, cl.URL(cluster.AppRole, db), small, "")
	searchSQL := captureList(ctx, cl.URL(cluster.AppRole, db), whaleT, "ada")

	// Whatever seeding and migrating left dirty is written out now, not during a run.
	psql(cl.URL("postgres", db), "CHECKPOINT")

	addr := "127.0.0.1:3200"
	srv := startServer(addr, db)
	base := "http://" + addr
	cookie, csrf := signIn(base, small)
	whaleCookie, _ := signIn(base, whaleT)
	page := get(base+"/customers", cookie)
	id := regexp.MustCompile(`customer-row-([0-9a-f-]{36})`).FindStringSubmatch(page)[1]
	foreign := regexp.MustCompile(`customer-row-([0-9a-f-]{36})`).FindStringSubmatch(get(base+"/customers", whaleCookie))[1]
	deep := deepPage(base, cookie, 20)
	bearer := "Authorization: Bearer " + apiToken(base, cookie)
	invoice := regexp.MustCompile(`href="/invoices/([0-9a-f-]{36})"`).FindStringSubmatch(get(base+"/invoices", cookie))[1]
	goods := regexp.MustCompile(`href="/products/([0-9a-f-]{36})"[^>]*>([^<]+)</a>`).FindStringSubmatch(get(base+"/products?type=goods", cookie))
	contended, sku := goods[1], goods[2]
	// A fresh server prepares its statements on each pooled connection and grows its heap in
	// its first seconds: not what the first run should measure.
	wrk("warm-up", base+"/customers", cookie, "", *conns, 5*time.Second)

	// Each limit is measured right after Moat's run it divides, so both meet the machine in
	// the same state.
	appURL := cl.URL(cluster.AppRole, db)
	runs := []struct {
		name, url, cookie, limitSQL string
	}{
		{"list page", base + "/customers", cookie, listSQL},
		{"deep page (20th, keyset)", deep, cookie, ""},
		{"search, 1k-customer tenant", base + "/customers?q=ada", cookie, ""},
		{"search, whale tenant", base + "/customers?q=ada", whaleCookie, searchSQL},
		{"customer page", base + "/customers/" + id, cookie, ""},
		{"foreign id (404)", base + "/customers/" + foreign, cookie, ""},
		{"invoice list", base + "/invoices", cookie, ""},
		{"invoice list, overdue", base + "/invoices?overdue=1", cookie, ""},
		{"invoice page", base + "/invoices/" + invoice, cookie, ""},
		{"product list", base + "/products", cookie, ""},
		{"product list, low stock", base + "/products?low=1", cookie, ""},
		{"product page", base + "/products/" + contended, cookie, ""},
		{"API list", base + "/api/v1/customers", bearer, ""},
		{"API customer", base + "/api/v1/customers/" + id, bearer, ""},
	}
	for _, r := range runs {
		res := wrk(r.name, r.url, r.cookie, "", *conns, *dur)
		if r.limitSQL != "" {
			res.LimitTPS, _ = pgbench(appURL, r.limitSQL, *conns, *dur)
			rep.Ratios[r.name+": Moat / pgbench limit"] = res.ReqPerS / res.LimitTPS
		}
		rep.Results = append(rep.Results, res)
	}
	rate := func(name string) float64 {
		for _, r := range rep.Results {
			if r.Name == name {
				return r.ReqPerS
			}
		}
		return 0
	}
	rep.Ratios["API list / list page (throughput)"] = rate("API list") / rate("list page")
	rep.Ratios["API customer / customer page (throughput)"] = rate("API customer") / rate("customer page")

	// 64 connections: latency and the server's memory.
	r64 := wrk("list page, 64 connections", base+"/customers", cookie, "", 64, *dur)
	r64.Note = fmt.Sprintf("server RSS %.1f MB", rss(srv.Process.Pid))
	rep.Figures["server RSS at 64 connections (MB)"] = rss(srv.Process.Pid)
	rep.Results = append(rep.Results, r64)
	// wrk cannot hold a rate; a light load stands in for "half the peak".
	light := wrk(fmt.Sprintf("list page, light load (%d connections)", max(1, *conns/8)), base+"/customers", cookie, "", *conns, *dur, true)
	light.Note = fmt.Sprintf("%.0f%% of the peak rate", 100*light.ReqPerS/rep.Results[0].ReqPerS)
	rep.Results = append(rep.Results, light)
	// Create last: it adds customers to the small tenant.
	rep.Results = append(rep.Results, wrk("create (with CSRF)", base+"/customers", cookie,
		`"name=Bench+Customer+" .. counter .. "&email=bench%40example.com&_csrf=`+string(csrf)+`"`, *conns, *dur))
	// Drafts reserving one unit each of the same product: every request waits for the balance's
	// lock, so this is the ledger's throughput under contention. The product is given stock
	// enough first: a receipt through the ledger's trigger, which (running as the owner) sees
	// only the tenant named in the session.
	psql(cl.URL("postgres", db), `SELECT set_config('app.tenant_id', (SELECT tenant_id::text FROM products WHERE id = '`+contended+`'), false);
		INSERT INTO stock_movements (tenant_id, product_id, warehouse_id, quantity, unit_cost, reason, note)
		SELECT p.tenant_id, p.id, w.id, 100000000, 1, 'receipt', 'bench' FROM products p JOIN warehouses w ON w.tenant_id = p.tenant_id AND w.is_default
		WHERE p.id = '`+contended+`'`)
	reserve := wrk("reserve on a draft, one product", base+"/invoices", cookie,
		`"customer_id=`+id+`&currency=EUR&payment_terms=30&exchange_rate=1&line_sku=`+sku+`&line_quantity=1&_csrf=`+string(csrf)+`"`, *conns, *dur)
	rep.Results = append(rep.Results, reserve)
	if *importRows > 0 {
		timeImport(&rep, base, cookie, string(csrf), *importRows)
	}
	check(srv.Process.Kill())
	srv.Wait() //nolint:errcheck // killed

	// Isolation cost: the same SQL with and without row level security, in a scratch copy
	// (made now that no server holds connections to the original).
	scratch := db + "_norls"
	check(cl.DropDatabase(ctx, scratch))
	check(cl.CreateDatabase(ctx, scratch, db))
	psql(cl.URL("postgres", scratch), `DO $$ DECLARE t regclass; BEGIN
		FOR t IN SELECT oid FROM pg_class WHERE relrowsecurity AND relkind IN ('r', 'p') LOOP
			EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t);
		END LOOP; END $$`)
	psql(cl.URL("postgres", scratch), "CHECKPOINT")
	rlsOn, _ := pgbench(appURL, listSQL, *conns, *dur)
	rlsOff, _ := pgbench(cl.URL(cluster.AppRole, scratch), listSQL, *conns, *dur)
	rep.Ratios["list SQL: RLS on / RLS off (throughput)"] = rlsOn / rlsOff
	check(cl.DropDatabase(ctx, scratch))
	// Audit cost: the same transaction without its audit row.
	audited, _ := pgbench(appURL, listSQL, *conns, *dur)
	bare, _ := pgbench(appURL, withoutAudit(listSQL), *conns, *dur)
	rep.Ratios["list SQL: with audit row / without (throughput)"] = audited / bare

	// Growth: the same tenant's list SQL alone (one connection, database time) in databases of
	// other sizes and in this one, each divided by the first size's; with its audit row, and
	// without (this database's trail also holds every earlier run's rows).
	type point struct {
		total int
		url   string
		sql   string
	}
	points := []point{{*tenants**customers + *whale, appURL, listSQL}}
	for _, f := range strings.FieldsFunc(*growth, func(r rune) bool { return r == ',' }) {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		check(err)
		name := fmt.Sprintf("%s_%d", db, n)
		check(cl.CreateDatabase(ctx, name, ""))
		check(migrations.Up(ctx, cl.URL(cluster.OwnerRole, name)))
		if need, free := seedBytes(ctx, cl, name, n), freeBytes(dir); need > free {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("growth at %d customers: loading them needs about %.0f GB, %.0f GB free", n, need/1e9, free/1e9))
			continue
		}
		log.Printf("seeding %s (skips what exists)", name)
		check(seed.Load(ctx, cl.URL(cluster.OwnerRole, name), seed.Plan{Tenants: n / *customers, Customers: *customers}, io.Discard))
		psql(cl.URL("postgres", name), "ANALYZE; CHECKPOINT")
		url := cl.URL(cluster.AppRole, name)
		points = append(points, point{n, url, captureList(ctx, url, seed.OwnerEmail(1), "")})
	}
	if len(points) > 1 {
		base := points[1]
		for _, audited := range []bool{true, false} {
			label := "with its audit row"
			if !audited {
				label = "without its audit row"
			}
			latency := map[int]float64{}
			for _, p := range points {
				script := p.sql
				if !audited {
					script = withoutAudit(script)
				}
				_, latency[p.total] = pgbench(p.url, script, 1, *dur)
				rep.Figures[fmt.Sprintf("list SQL %s, one connection, %d customers in total (ms)", label, p.total)] = latency[p.total]
			}
			for _, p := range points {
				if p.total != base.total {
					rep.Ratios[fmt.Sprintf("list latency %s: %d / %d customers in total", label, p.total, base.total)] = latency[p.total] / latency[base.total]
				}
			}
		}
	}

	print(rep)
	check(os.MkdirAll(*out, 0o755))
	raw, _ := json.MarshalIndent(rep, "", "  ")
	path := filepath.Join(*out, rep.When.Format("20060102-150405")+".json")
	check(os.WriteFile(path, raw, 0o644))
	fmt.Println("\nwritten to", path)
}

// running is the server under test, stopped on any fatal error.
var running *exec.Cmd

func check(err error) {
	if err != nil {
		fatalf("bench: %v", err)
	}
}

func fatalf(format string, args ...any) {
	if running != nil {
		running.Process.Kill()
	}
	log.Fatalf(format, args...)
}

func machine() string {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	model := regexp.MustCompile(`model name\s*:\s*(.*)`).FindStringSubmatch(string(raw))
	name := "unknown CPU"
	if model != nil {
		name = model[1]
	}
	return fmt.Sprintf("%d cores, %s", strings.Count(string(raw), "processor\t:"), name)
}

func psql(url, sql string) {
	cmd := exec.Command("psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql)
	if out, err := cmd.CombinedOutput(); err != nil {
		fatalf("bench: psql: %v\n%s", err, out)
	}
}

func startServer(addr, db string, env ...string) *exec.Cmd {
	cmd := exec.Command("bin/moat", "serve")
	cmd.Env = append(os.Environ(), "ADDR="+addr, "METRICS_ADDR=127.0.0.1:0", "APP_ENV=development", "MOAT_DB_NAME="+db,
		"LOG_LEVEL=error", "SIGNIN_LIMIT_PER_IP=100000", "SIGNIN_LIMIT_PER_EMAIL=100000", "API_RATE_PER_MINUTE=100000000")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	check(cmd.Start())
	running = cmd
	for i := 0; i < 100; i++ {
		if res, err := http.Get("http://" + addr + "/readyz"); err == nil && res.StatusCode == 200 {
			res.Body.Close()
			return cmd
		}
		time.Sleep(100 * time.Millisecond)
	}
	fatalf("bench: the server did not become ready")
	return nil
}

// timeImport uploads a file of rows customers in parts, as the import page's script does, then
// times the check and the import, which run in the server's background workers.
func timeImport(rep *report, base, cookie, csrf string, rows int) {
	var file bytes.Buffer
	file.WriteString("Name,Email,Company,Phone\n")
	for i := range rows {
		fmt.Fprintf(&file, "Imported Customer %d,imported%d@bench.example,Bench Import Co %d,+44 20 7946 %04d\n", i, i, i%97, i%10000)
	}
	post := func(path, contentType string, body []byte) *http.Response {
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("X-CSRF-Token", csrf)
		res, err := noRedirect.Do(req)
		check(err)
		io.Copy(io.Discard, res.Body) //nolint:errcheck // drained
		res.Body.Close()
		return res
	}
	req, _ := http.NewRequest("POST", base+"/imports/parts", strings.NewReader("name=bench.csv"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", cookie)
	req.Header.Set("X-CSRF-Token", csrf)
	res, err := noRedirect.Do(req)
	check(err)
	var begun struct{ ID string }
	check(json.NewDecoder(res.Body).Decode(&begun))
	res.Body.Close()
	start := time.Now()
	data := file.Bytes()
	for seq, at := 0, 0; at < len(data); seq, at = seq+1, at+192*1024 {
		if r := post(fmt.Sprintf("/imports/%s/parts/%d", begun.ID, seq), "application/octet-stream", data[at:min(at+192*1024, len(data))]); r.StatusCode != 204 {
			fatalf("bench: import part %d: %d", seq, r.StatusCode)
		}
	}
	if r := post("/imports/"+begun.ID+"/finish", "application/x-www-form-urlencoded", nil); r.StatusCode != http.StatusSeeOther {
		fatalf("bench: finish the upload: %d", r.StatusCode)
	}
	rep.Figures[fmt.Sprintf("import: upload of %d rows, %.1f MB, in parts (s)", rows, float64(len(data))/(1<<20))] = time.Since(start).Seconds()
	wait := func(status string) float64 {
		start := time.Now()
		for {
			page := get(base+"/imports/"+begun.ID, cookie)
			if strings.Contains(page, `data-status="`+status+`"`) {
				return time.Since(start).Seconds()
			}
			if strings.Contains(page, `data-status="failed"`) {
				fatalf("bench: the import failed")
			}
			time.Sleep(time.Second)
		}
	}
	form := "column_0=name&column_1=email&column_2=company&column_3=phone&mode=create&key=email"
	if r := post("/imports/"+begun.ID+"/check", "application/x-www-form-urlencoded", []byte(form)); r.StatusCode != http.StatusSeeOther {
		fatalf("bench: check the import: %d", r.StatusCode)
	}
	checked := wait("checked")
	if r := post("/imports/"+begun.ID+"/run", "application/x-www-form-urlencoded", nil); r.StatusCode != http.StatusSeeOther {
		fatalf("bench: run the import: %d", r.StatusCode)
	}
	imported := wait("imported")
	rep.Figures[fmt.Sprintf("import: check of %d rows in the background (s)", rows)] = checked
	rep.Figures[fmt.Sprintf("import: import of %d rows in the background (s)", rows)] = imported
	rep.Figures["import: rows imported a second"] = float64(rows) / imported
	log.Printf("import of %d rows: checked in %.0f s, imported in %.0f s (%.0f rows/s)", rows, checked, imported, float64(rows)/imported)
}

// apiToken makes an API token with read access to everything, through the token page, as the
// owner signed in with cookie.
func apiToken(base, cookie string) string {
	page := get(base+"/settings/api-tokens", cookie)
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	form := url.Values{"_csrf": {csrf}, "name": {"bench"}, "scope_customers": {"read"}, "scope_invoices": {"read"},
		"scope_products": {"read"}, "expires_in": {"7"}}
	req, _ := http.NewRequest("POST", base+"/settings/api-tokens", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", cookie)
	res, err := noRedirect.Do(req)
	check(err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`value="(moat_[0-9A-Za-z]+)"`).FindSubmatch(body)
	if res.StatusCode != http.StatusCreated || m == nil {
		fatalf("bench: make an API token: %d", res.StatusCode)
	}
	return string(m[1])
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func signIn(base, email string) (cookie string, csrf []byte) {
	res, err := noRedirect.Get(base + "/login")
	check(err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	jar := map[string]string{}
	for _, c := range res.Cookies() {
		jar[c.Name] = c.Value
	}
	token := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(body)[1]
	form := url.Values{"email": {email}, "password": {seed.Password}, "_csrf": {string(token)}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "moat_session="+jar["moat_session"]+"; moat_csrf="+jar["moat_csrf"])
	res, err = noRedirect.Do(req)
	check(err)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		fatalf("bench: sign in %s: %d", email, res.StatusCode)
	}
	for _, c := range res.Cookies() {
		jar[c.Name] = c.Value
	}
	// Signing in starts a new session; its first page issues the CSRF token and its cookie.
	req, _ = http.NewRequest("GET", base+"/customers", nil)
	req.Header.Set("Cookie", "moat_session="+jar["moat_session"])
	res, err = noRedirect.Do(req)
	check(err)
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, c := range res.Cookies() {
		jar[c.Name] = c.Value
	}
	cookie = "moat_session=" + jar["moat_session"] + "; moat_csrf=" + jar["moat_csrf"]
	return cookie, regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`).FindSubmatch(page)[1]
}

func get(u, cookie string) string {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Cookie", cookie)
	res, err := noRedirect.Do(req)
	check(err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		fatalf("bench: GET %s: %d", u, res.StatusCode)
	}
	return string(body)
}

func deepPage(base, cookie string, n int) string {
	u := base + "/customers"
	next := regexp.MustCompile(`href="(/customers\?[^"]*after=[^"]*)"`)
	for i := 1; i < n; i++ {
		m := next.FindStringSubmatch(get(u, cookie))
		if m == nil {
			break
		}
		u = base + strings.ReplaceAll(m[1], "&amp;", "&")
	}
	return u
}

// wrk runs the load generator; with rate > 0 it still runs open-loop at full speed (wrk has no
// rate limit), so the half-peak run uses fewer connections instead.
// wrk runs wrk against u as the signed-in cookie; with post (a Lua expression for the form body,
// in which counter counts the requests) it POSTs.
// wrk runs wrk against u; who is the session cookie, or an API token's "Authorization: …" header.
func wrk(name, u, who string, post string, conns int, dur time.Duration, few ...bool) result {
	header := "Cookie: " + who
	if strings.HasPrefix(who, "Authorization:") {
		header = who
	}
	args := []string{"-t2", fmt.Sprintf("-c%d", conns), "-d" + dur.String(), "--latency", "-H", header}
	if len(few) > 0 && few[0] {
		args[1] = fmt.Sprintf("-c%d", max(1, conns/8))
	}
	if post != "" {
		script := filepath.Join(os.TempDir(), "moat-bench-post.lua")
		check(os.WriteFile(script, []byte(`wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, `+post+`)
end
`), 0o644))
		args = append(args, "-s", script)
	}
	out, err := exec.Command("wrk", append(args, u)...).CombinedOutput()
	if err != nil {
		fatalf("bench: wrk: %v\n%s", err, out)
	}
	s := string(out)
	r := result{Name: name}
	r.ReqPerS = num(`Requests/sec:\s+([\d.]+)`, s)
	r.P50ms = latency(`50%\s+([\d.]+)(us|ms|s)`, s)
	r.P99ms = latency(`99%\s+([\d.]+)(us|ms|s)`, s)
	r.Errors = int(num(`Non-2xx or 3xx responses:\s+(\d+)`, s) + num(`Socket errors: connect (\d+)`, s))
	if strings.Contains(name, "404") {
		r.Note = "404 expected: not counted as errors"
		r.Errors = 0
	}
	return r
}

func num(pattern, s string) float64 {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func latency(pattern, s string) float64 {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "us":
		return v / 1000
	case "s":
		return v * 1000
	}
	return v
}

// pgbench replays script (one transaction) on conns connections and returns transactions per
// second and their mean latency in ms.
func pgbench(dbURL, script string, conns int, dur time.Duration) (tps, latencyMs float64) {
	f := filepath.Join(os.TempDir(), fmt.Sprintf("moat-bench-%d.sql", time.Now().UnixNano()))
	check(os.WriteFile(f, []byte(script), 0o644))
	defer os.Remove(f)
	out, err := exec.Command("pgbench", "-n", "-M", "prepared", "-f", f, "-c", strconv.Itoa(conns), "-j", strconv.Itoa(min(conns, 2)),
		"-T", strconv.Itoa(int(dur.Seconds())), dbURL).CombinedOutput()
	if err != nil {
		fatalf("bench: pgbench: %v\n%s", err, out)
	}
	return num(`tps = ([\d.]+)`, string(out)), num(`latency average = ([\d.]+) ms`, string(out))
}

// withoutAudit is script (a statement a line) without its audit row.
// seedBytes estimates the disk that loading db up to total customers still takes: about 3.5 KB
// a customer with its search terms and indexes (measured: 31 GB for 10 million).
func seedBytes(ctx context.Context, cl *cluster.Cluster, db string, total int) float64 {
	conn, err := pgx.Connect(ctx, cl.URL("postgres", db))
	check(err)
	defer conn.Close(ctx)
	var have int
	// The planner's estimate: counting 10 million rows would take longer than it is worth.
	if err := conn.QueryRow(ctx, "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'customers'::regclass").Scan(&have); err != nil {
		fatalf("bench: %s: %v", db, err)
	}
	return float64(max(0, total-have)) * 3500
}

// freeBytes is the disk free to unprivileged users where dir lives.
func freeBytes(dir string) float64 {
	var st syscall.Statfs_t
	check(syscall.Statfs(dir, &st))
	return float64(st.Bavail) * float64(st.Bsize)
}

// withoutAudit is script (a statement a line) without its audit row.
func withoutAudit(script string) string {
	lines := strings.Split(script, "\n")
	var keep []string
	for _, line := range lines {
		if !strings.HasPrefix(line, "INSERT INTO audit_events ") {
			keep = append(keep, line)
		}
	}
	if len(keep) == len(lines) {
		fatalf("bench: the script has no audit row to leave out:\n%s", script)
	}
	return strings.Join(keep, "\n")
}

func rss(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return num(`VmRSS:\s+(\d+) kB`, string(raw)) / 1024
}

func print(rep report) {
	fmt.Printf("\nMoat benchmark, %s, %s; %d connections, %s per run\n\n", rep.When.Format(time.RFC3339), rep.Machine, rep.Connections, rep.Duration)
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "run\treq/s\tp50 ms\tp99 ms\terrors\tpgbench limit tps\tnote")
	for _, r := range rep.Results {
		limit := ""
		if r.LimitTPS > 0 {
			limit = fmt.Sprintf("%.0f", r.LimitTPS)
		}
		fmt.Fprintf(w, "%s\t%.0f\t%.2f\t%.2f\t%d\t%s\t%s\n", r.Name, r.ReqPerS, r.P50ms, r.P99ms, r.Errors, limit, r.Note)
	}
	w.Flush()
	fmt.Println()
	for _, skipped := range rep.Skipped {
		fmt.Println("skipped:", skipped)
	}
	for _, m := range []map[string]float64{rep.Ratios, rep.Figures} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Printf("%-70s %.2f\n", k, m[k])
		}
	}
}
