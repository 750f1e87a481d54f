package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"moat/app/cluster"
	"moat/app/dbtest"
	"moat/app/middleware"
	"moat/app/store"
)

// faultCluster is a private PostgreSQL cluster these tests may restart without disturbing the
// other tests, which share the main one.
func faultCluster(t *testing.T) *cluster.Cluster {
	t.Helper()
	dir, err := cluster.DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.Ensure(context.Background(), dir+"-faults")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// served starts e's app on a real listener and returns its address.
func (e *env) served(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.app.Listener(ln)                                            //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { e.app.ShutdownWithTimeout(5 * time.Second) }) //nolint:errcheck
	return "http://" + ln.Addr().String()
}

// browser is an HTTP client with its own cookies, signed in as email.
func browser(t *testing.T, base, email string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func() string {
		res, err := c.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return csrfMeta.FindStringSubmatch(string(body))[1]
	}
	res, err := c.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}, "_csrf": {page()}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v %v", res, err)
	}
	res.Body.Close()
	res, err = c.Get(base + "/customers")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return c, csrfMeta.FindStringSubmatch(string(body))[1]
}

// load sends requests from workers browsers until stop closes: a list, a customer page, a
// search and a new customer in turn. It counts the answers that are not what a healthy server
// gives (a server error, a dropped connection) in failed, and all of them in done.
func load(t *testing.T, base, email, customer string, workers int, stop <-chan struct{}, done, failed *atomic.Int64, firstErr *atomic.Value) *sync.WaitGroup {
	type signedIn struct {
		c     *http.Client
		token string
	}
	browsers := make([]signedIn, workers)
	for i := range browsers {
		browsers[i].c, browsers[i].token = browser(t, base, email)
	}
	var wg sync.WaitGroup
	for _, b := range browsers {
		c, token := b.c, b.token
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var res *http.Response
				var err error
				switch i % 4 {
				case 0:
					res, err = c.Get(base + "/customers")
				case 1:
					res, err = c.Get(base + "/customers/" + customer)
				case 2:
					res, err = c.Get(base + "/customers?q=ada")
				case 3:
					res, err = c.PostForm(base+"/customers", url.Values{"name": {fmt.Sprintf("Load %d", i)}, "_csrf": {token}})
				}
				done.Add(1)
				if err == nil {
					io.Copy(io.Discard, res.Body) //nolint:errcheck
					res.Body.Close()
					if res.StatusCode >= 500 {
						err = fmt.Errorf("%s %s: %d", res.Request.Method, res.Request.URL.Path, res.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	return &wg
}

// A PostgreSQL restart under load fails at most the requests in flight when it happens: the
// others wait for the database to come back, and a transaction that had not reached COMMIT when
// its connection died runs again.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	c := faultCluster(t)
	e := newEnvOver(t, middleware.Limits{PerIP: 100000, PerEmail: 100000, Window: time.Minute}, dbtest.NewInCluster(t, c, store.Config{MaxConns: 20}), nil)
	a := e.signUp("acme")
	ac := e.client()
	ac.signIn(a.Email, password)
	customer := ac.createCustomer("Ada Lovelace")
	base := e.served(t)

	const workers = 8
	var done, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	wg := load(t, base, a.Email, customer, workers, stop, &done, &failed, &firstErr)
	time.Sleep(time.Second)
	before := done.Load()
	if before == 0 || failed.Load() != 0 {
		t.Fatalf("before the restart: %d requests, %d failed (%v)", before, failed.Load(), firstErr.Load())
	}
	start := time.Now()
	if err := c.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	restart := time.Since(start)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d failed, a restart of %v (first failure: %v)", done.Load(), failed.Load(), restart.Round(time.Millisecond), firstErr.Load())
	if failed.Load() > workers {
		t.Fatalf("%d requests failed, more than the %d that could be in flight", failed.Load(), workers)
	}
	if done.Load() < before+int64(workers) {
		t.Fatalf("no requests were served after the restart: %d before, %d in all", before, done.Load())
	}
}

// SIGTERM lets the requests in flight finish, refuses new connections meanwhile, then the
// server exits cleanly. The moat binary itself is run and signalled.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	d := dbtest.New(t, 0)
	_, owner := d.Tenant(t, "acme")
	dir := t.TempDir()
	bin := filepath.Join(dir, "moat")
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs strings.Builder
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+d.AppURL, "MIGRATION_DATABASE_URL="+d.OwnerURL, "APP_ENV=development",
		"ADDR="+addr, "METRICS_ADDR=127.0.0.1:0", "LOG_LEVEL=warn")
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() }) //nolint:errcheck
	base := "http://" + addr
	for i := 0; ; i++ {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		if i == 100 {
			t.Fatalf("the server did not start:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	c, _ := browser(t, base, owner.Email)

	// Hold the customers table, so that a list request is in flight when the signal comes.
	su := d.Superuser(t)
	ctx := context.Background()
	lock, err := su.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, "LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	answer := make(chan string, 1)
	go func() {
		res, err := c.Get(base + "/customers")
		if err != nil {
			answer <- err.Error()
			return
		}
		res.Body.Close()
		answer <- res.Status
	}()
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if res, err := http.Get(base + "/healthz"); err == nil {
		res.Body.Close()
		t.Error("a new connection was accepted while draining")
	}
	select {
	case got := <-answer:
		t.Fatalf("the request in flight ended before the table was released: %s", got)
	default:
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-answer; got != "200 OK" {
		t.Fatalf("the request in flight answered %s, want 200 OK\n%s", got, logs.String())
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the server exited with %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the server did not exit after draining\n%s", logs.String())
	}
}

// soakFor is how long TestSoak runs: $MOAT_SOAK (make soak: 10m), or a short run.
func soakFor() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("MOAT_SOAK")); err == nil {
		return d
	}
	return 8 * time.Second
}

// A soak at 64 connections ends with no errors, the heap where it levelled off and the
// goroutines back where they were. make soak runs it for ten minutes; make test briefly.
func TestSoak(t *testing.T) {
	e := newEnvWith(t, middleware.Limits{PerIP: 1 << 30, PerEmail: 1 << 30, Window: time.Minute})
	a := e.signUp("acme")
	ac := e.client()
	ac.signIn(a.Email, password)
	customer := ac.createCustomer("Ada Lovelace")
	base := e.served(t)
	runtime.GC()
	goroutines := runtime.NumGoroutine()

	var done, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	began := time.Now()
	wg := load(t, base, a.Email, customer, 64, stop, &done, &failed, &firstErr)
	t.Logf("64 browsers signed in in %v", time.Since(began).Round(time.Millisecond))
	duration := soakFor()
	warm := min(duration/4, 30*time.Second)
	time.Sleep(warm)
	warmHeap := heapInUse()
	time.Sleep(duration - warm)
	close(stop)
	wg.Wait()
	endHeap := heapInUse()
	http.DefaultClient.CloseIdleConnections()
	e.after.Wait()
	var left int
	for i := 0; i < 50; i++ { // idle keep-alive connections close on the server's timer
		if left = runtime.NumGoroutine(); left <= goroutines+70 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d requests in %v at 64 connections, %d failed; heap %.1f MB after warm-up, %.1f MB at the end; goroutines %d before, %d after",
		done.Load(), duration, failed.Load(), warmHeap, endHeap, goroutines, left)
	if failed.Load() != 0 {
		t.Errorf("%d requests failed (first: %v)", failed.Load(), firstErr.Load())
	}
	if endHeap > warmHeap*1.5+16 {
		t.Errorf("the heap grew from %.1f MB to %.1f MB", warmHeap, endHeap)
	}
	// Each browser's client keeps its connections: 64 server goroutines may wait on them.
	if left > goroutines+70 {
		t.Errorf("%d goroutines after the soak, %d before: some leaked", left, goroutines)
	}
}

func heapInUse() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}
