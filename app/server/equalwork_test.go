package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// pair is two requests on either side of a secret: an email Moat knows (in another
// organization, even) and one it does not; a member deactivated or not.
type pair struct {
	name        string
	path        string
	known, none []string // form fields
	signedIn    bool     // as A's owner
}

// Every form that names an email address sends the database the same statements, in the same
// order, whether or not the address belongs to an account, and answers with the same status
// and page: there is nothing to time and nothing to read.
func TestEqualWorkOnBothSidesOfEverySecret(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	gone := e.addMember(a, "gone@acme.test")
	owner := e.client()
	owner.signIn(a.Email, password)
	owner.do("GET", "/team", "")
	if res, _ := owner.do("POST", "/team/"+gone+"/deactivate", owner.form()); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	unknown := "nobody-" + suffix() + "@example.net"
	pairs := []pair{
		{name: "sign-in, wrong password", path: "/login",
			known: []string{"email", b.Email, "password", "not the password"}, none: []string{"email", unknown, "password", "not the password"}},
		{name: "sign-in, deactivated", path: "/login",
			known: []string{"email", "gone@acme.test", "password", password}, none: []string{"email", unknown, "password", password}},
		{name: "sign-up", path: "/signup",
			known: []string{"organization", "Initech", "name", "Bill", "email", b.Email, "password", password},
			none:  []string{"organization", "Initech", "name", "Bill", "email", unknown, "password", password}},
		{name: "password reset", path: "/password/forgot", known: []string{"email", b.Email}, none: []string{"email", unknown}},
		{name: "invitation", path: "/team", signedIn: true,
			known: []string{"name", "Rival", "email", b.Email, "role", "member"}, none: []string{"name", "Rival", "email", unknown, "role", "member"}},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			var sqls [2][]string
			var answers [2]string
			for i, fields := range [][]string{p.known, p.none} {
				c := e.client()
				if p.signedIn {
					c.signIn(a.Email, password)
				}
				c.do("GET", "/login", "") // a CSRF token, read once so both sides find it cached
				var res *http.Response
				var body string
				sqls[i] = e.statements(func() { res, body = c.do("POST", p.path, c.form(fields...)) })
				body = strings.NewReplacer(b.Email, "<email>", unknown, "<email>", "gone@acme.test", "<email>").Replace(normalize(res, body))
				answers[i] = res.Status + " " + res.Header.Get("Location") + "\n" + body
			}
			if len(sqls[0]) == 0 {
				t.Fatal("no statements recorded")
			}
			if !slices.Equal(sqls[0], sqls[1]) {
				t.Errorf("the statements differ:\n%s\n--- for an unknown address ---\n%s", strings.Join(sqls[0], "\n"), strings.Join(sqls[1], "\n"))
			}
			if answers[0] != answers[1] {
				t.Errorf("the answers differ:\n%s\n--- for an unknown address ---\n%s", answers[0], answers[1])
			}
		})
	}
}

// A miss on an id asks nothing about other tenants before the response: the probe runs after
// it, held here behind a job that blocks the background queue.
func TestCrossTenantProbeRunsAfterTheResponse(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	bc := e.client()
	bc.signIn(b.Email, password)
	foreign := bc.createCustomer("Globex Secret")
	ac := e.client()
	ac.signIn(a.Email, password)

	hold := make(chan struct{})
	e.after.Do(func(context.Context) { <-hold })
	var res *http.Response
	during := e.queries.record(func() { res, _ = ac.do("GET", "/customers/"+foreign, "") })
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("another tenant's customer: %d", res.StatusCode)
	}
	for _, sql := range during {
		if strings.Contains(sql, "record_ids") || strings.Contains(sql, "cross_tenant_attempts") || strings.Contains(sql, "probe_record_id") {
			t.Errorf("the request itself asked about other tenants: %s", sql)
		}
	}
	after := e.queries.record(func() {
		close(hold)
		e.after.Wait()
	})
	if !slices.ContainsFunc(after, func(sql string) bool { return strings.Contains(sql, "probe_record_id") }) {
		t.Errorf("no probe after the response: %q", after)
	}
	if got := testutil.ToFloat64(e.metrics.CrossTenant.WithLabelValues("/customers/:id")); got != 1 {
		t.Errorf("cross-tenant attempts counted: %v, want 1", got)
	}
}
