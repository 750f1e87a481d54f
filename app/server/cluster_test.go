package server_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"moat/app/dbtest"
	"moat/app/middleware"
	"moat/app/server"
	"moat/app/store"
)

// Two app servers over one database, as behind haproxy (make run-cluster): neither keeps in
// memory anything another request needs, so whichever answers, the answer is the same.
func TestTwoAppServersShareState(t *testing.T) {
	d := dbtest.NewWith(t, store.Config{})
	limits := middleware.Limits{PerIP: 1000, PerEmail: 3, Window: time.Minute}
	one, two := newEnvOver(t, limits, d, nil), newEnvOver(t, limits, d, nil)
	on := func(c *client, e *env) *client { c.app = e.app; return c }
	a := one.signUp("acme")
	melID := one.addMember(a, "mel@acme.test")

	// Signed in on one, signed in on two, and a form from one's page posts on two: the session
	// and its CSRF token are in PostgreSQL.
	owner := one.client()
	owner.signIn(a.Email, password)
	id := on(owner, two).createCustomer("Grace Hopper")
	if res, _ := on(owner, one).do("GET", "/customers/"+id, ""); res.StatusCode != fiber.StatusOK {
		t.Fatalf("the customer made on two, read on one: %d", res.StatusCode)
	}

	// Deactivated on one: refused on two at once, though two read the session a moment ago.
	mel := two.client()
	mel.signIn("mel@acme.test", password)
	if res, _ := on(owner, one).do("POST", "/team/"+melID+"/deactivate", owner.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	if res, _ := mel.do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("a deactivated person on the other server: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// Signed out on two: signed out on one.
	if res, _ := on(owner, two).do("POST", "/logout", owner.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("sign out: %d", res.StatusCode)
	}
	if res, _ := on(owner, one).do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("signed out on two, on one: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// Sign-in attempts count on both: three failures spread over the two, then either refuses.
	guess := one.client()
	guess.do("GET", "/login", "")
	for i, e := range []*env{one, two, one} {
		if res, _ := on(guess, e).do("POST", "/login", guess.form("email", "nobody@acme.test", "password", "wrong password!")); res.StatusCode != fiber.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, res.StatusCode)
		}
	}
	if res, _ := on(guess, two).do("POST", "/login", guess.form("email", "nobody@acme.test", "password", "wrong password!")); res.StatusCode != fiber.StatusTooManyRequests {
		t.Fatalf("a fourth attempt, on the other server: %d", res.StatusCode)
	}

	// A burst at the same moment on both servers: each attempt counts from the others' number, so
	// exactly three of twelve get as far as checking the password.
	burst := make([]*client, 12)
	for i := range burst {
		burst[i] = []*env{one, two}[i%2].client()
		burst[i].do("GET", "/login", "")
	}
	statuses := make([]int, len(burst))
	var wg sync.WaitGroup
	for i, c := range burst {
		wg.Go(func() {
			res, _ := c.do("POST", "/login", c.form("email", "burst@acme.test", "password", "wrong password!"))
			statuses[i] = res.StatusCode
		})
	}
	wg.Wait()
	if tried := len(burst) - countOf(statuses, fiber.StatusTooManyRequests); tried != 3 || countOf(statuses, fiber.StatusUnauthorized) != 3 {
		t.Fatalf("a burst of %d on two servers: statuses %v, want 3 tried and the rest 429", len(burst), statuses)
	}

	// Cross-tenant attempts count in the database: the third within five minutes is a repeat,
	// though each server saw fewer.
	g := one.signUp("globex")
	rival := two.client()
	rival.signIn(g.Email, password)
	foreign := rival.createCustomer("Globex Secret")
	owner.signIn(a.Email, password)
	for _, e := range []*env{one, two, one} {
		if res, _ := on(owner, e).do("GET", "/customers/"+foreign, ""); res.StatusCode != fiber.StatusNotFound {
			t.Fatalf("another tenant's customer: %d", res.StatusCode)
		}
		e.after.Wait() // each attempt is counted after its response: keep them in order
	}
	if got := []float64{testutil.ToFloat64(one.metrics.CrossTenantRepeats), testutil.ToFloat64(two.metrics.CrossTenantRepeats)}; !slices.Equal(got, []float64{1, 0}) {
		t.Fatalf("repeats counted %v on the two servers, want the third attempt's server to count one", got)
	}
}

// The same, through the real thing: haproxy with deploy/haproxy.cfg in front of two servers on
// real ports, taking turns. A person signs in, adds a customer, reads it and signs out, with
// requests landing on both; a forged X-Forwarded-For never reaches the trail.
func TestBehindHAProxy(t *testing.T) {
	haproxy := haproxyBinary(t)
	d := dbtest.NewWith(t, store.Config{})
	limits := middleware.Limits{PerIP: 1000, PerEmail: 1000, Window: time.Minute}
	trust := func(o *server.Options) { o.TrustedProxies = []string{"127.0.0.1"} }
	envs := []*env{newEnvOver(t, limits, d, nil, trust), newEnvOver(t, limits, d, nil, trust)}
	var addrs []string
	for _, e := range envs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = e.app.Listener(ln) }()
		t.Cleanup(func() { _ = e.app.Shutdown() })
		addrs = append(addrs, ln.Addr().String())
	}
	front := freeAddr(t)
	cmd := exec.Command(haproxy, "-db", "-f", filepath.Join(moduleRoot(t), "deploy", "haproxy.cfg"))
	cmd.Env = append(os.Environ(), "MOAT_FRONT="+front, "MOAT_APP1="+addrs[0], "MOAT_APP2="+addrs[1])
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, front)

	a := envs[0].signUp("acme")
	c := envs[0].client()
	c.base = "http://" + front
	served := map[string]bool{}
	do := func(method, target, body string, want int) string {
		t.Helper()
		res, _ := c.do(method, target, body, "X-Forwarded-For", "6.6.6.6")
		if res.StatusCode != want {
			t.Fatalf("%s %s through haproxy: %d, want %d", method, target, res.StatusCode, want)
		}
		served[res.Header.Get("X-Served-By")] = true
		return res.Header.Get("Location")
	}
	do("GET", "/login", "", fiber.StatusOK)
	if loc := do("POST", "/login", c.form("email", a.Email, "password", password), fiber.StatusSeeOther); loc != "/customers" {
		t.Fatalf("sign in through haproxy: to %q", loc)
	}
	do("GET", "/customers", "", fiber.StatusOK)
	do("GET", "/customers/new", "", fiber.StatusOK)
	id := do("POST", "/customers", c.form("name", "Grace Hopper", "email", "grace@example.com"), fiber.StatusSeeOther)
	do("GET", id, "", fiber.StatusOK)
	do("GET", id, "", fiber.StatusOK)
	do("POST", "/logout", c.form(), fiber.StatusSeeOther)
	if loc := do("GET", "/customers", "", fiber.StatusSeeOther); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("signed out, /customers sends to %q", loc)
	}
	if !served["app1"] || !served["app2"] || len(served) != 2 {
		t.Fatalf("answered by %v, want both servers", served)
	}
	var forged int
	if err := d.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM audit_events WHERE ip = '6.6.6.6'").Scan(&forged); err != nil || forged != 0 {
		t.Fatalf("%d trail rows carry the forged address (%v)", forged, err)
	}
}

// haproxyBinary is Debian's haproxy; make test installs it (make haproxy).
func haproxyBinary(t *testing.T) string {
	for _, p := range []string{os.Getenv("MOAT_HAPROXY"), "haproxy", "/usr/sbin/haproxy"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("haproxy is missing: make haproxy installs Debian's, or set MOAT_HAPROXY")
	return ""
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor waits until addr accepts connections and haproxy has checked both servers healthy.
func waitFor(t *testing.T, addr string) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		res, err := overHTTP.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("haproxy on %s did not come up", addr)
}

func moduleRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// countOf is how many of xs are x.
func countOf[T comparable](xs []T, x T) (n int) {
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}
