package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"mime/multipart"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"moat/app/token"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"moat/app/middleware"
	"moat/app/server"
)

// trail returns the actions of tenant tid's audit rows, oldest first, as "action outcome", once
// what requests left for after their response has run.
func (e *env) trail(tid string) []string {
	e.t.Helper()
	e.after.Wait()
	rows, err := e.db.Superuser(e.t).Query(context.Background(),
		"SELECT action || ' ' || outcome FROM audit_events WHERE tenant_id = $1 ORDER BY occurred_at, id", tid)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func contains(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

// An owner invites a person by email; the invitee chooses their own password through the
// emailed link. A second organization inviting the same address gets exactly the same answer,
// and the person, now in both, chooses which to enter when signing in: neither organization
// learns of the other.
func TestInvitationsRevealNothing(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	owner := e.client()
	owner.signIn(a.Email, password)
	owner.do("GET", "/team", "")
	bo := e.client()
	bo.signIn(b.Email, password)
	bo.do("GET", "/team", "")

	invite := func(c *client, email string) (int, string, string) {
		t.Helper()
		res, body := c.do("POST", "/team", c.form("name", "Mia Member", "email", email, "role", "member"))
		return res.StatusCode, res.Header.Get("Location"), body
	}
	// Acme invites an address no one has; Globex then invites the same address, now Acme's
	// member's too (in another case): the same answer, the same page.
	s1, loc1, _ := invite(owner, "mia@example.net")
	acmeLink := e.mailedLink(t, "mia@example.net", "/invitations/")
	acceptNew := e.client()
	res, body := acceptNew.do("GET", acmeLink, "")
	if res.StatusCode != 200 || !strings.Contains(body, "Join acme") || !strings.Contains(body, `name="new_password"`) {
		t.Fatalf("invitation page: %d\n%s", res.StatusCode, body)
	}
	res, _ = acceptNew.do("POST", acmeLink, acceptNew.form("new_password", "passwordpassword", "confirm_password", "passwordpassword"))
	if res.StatusCode != fiber.StatusUnprocessableEntity {
		t.Fatalf("a common password: %d", res.StatusCode)
	}
	res, _ = acceptNew.do("POST", acmeLink, acceptNew.form("new_password", "mias-own-password", "confirm_password", "mias-own-password"))
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/customers" {
		t.Fatalf("accept: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	s2, loc2, _ := invite(bo, "MIA@example.net")
	s3, loc3, _ := invite(bo, "nobody-"+strings.ToLower(b.Tenant.String()[:8])+"@acme.test")
	if s1 != fiber.StatusSeeOther || s2 != s1 || s3 != s1 || loc1 != loc2 || loc2 != loc3 {
		t.Fatalf("inviting answers %d %q, %d %q (address known elsewhere), %d %q (unknown)", s1, loc1, s2, loc2, s3, loc3)
	}
	_, p1 := bo.do("GET", loc2, "")
	for _, secret := range []string{a.Tenant.String(), a.Email, "acme Owner", acmeLink} {
		if strings.Contains(p1, secret) {
			t.Fatalf("Globex's team page shows Acme's %q", secret)
		}
	}

	// Mia accepts Globex's invitation with the password she has: no new password asked.
	globexLink := e.mailedLink(t, "mia@example.net", "/invitations/")
	m := e.client()
	res, body = m.do("GET", globexLink, "")
	if res.StatusCode != 200 || !strings.Contains(body, `name="password"`) || strings.Contains(body, `name="new_password"`) {
		t.Fatalf("the invitation of an existing account: %d", res.StatusCode)
	}
	if res, _ := m.do("POST", globexLink, m.form("password", "not her password")); res.StatusCode != fiber.StatusUnprocessableEntity {
		t.Fatalf("accept with a wrong password: %d", res.StatusCode)
	}
	if res, _ := m.do("POST", globexLink, m.form("password", "mias-own-password")); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("accept with her password: %d", res.StatusCode)
	}
	if res, _ := m.do("GET", globexLink, ""); res.StatusCode != fiber.StatusGone {
		t.Fatalf("a used link: %d, want 410", res.StatusCode)
	}

	// Signing in asks which organization; each shows only itself.
	mia := e.client()
	mia.do("GET", "/login", "")
	res, _ = mia.do("POST", "/login", mia.form("email", "mia@example.net", "password", "mias-own-password"))
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/login/organization" {
		t.Fatalf("sign in with two organizations: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body = mia.do("GET", "/login/organization", "")
	choices := regexp.MustCompile(`name="membership" value="([0-9a-f-]{36})"`).FindAllStringSubmatch(body, -1)
	if res.StatusCode != 200 || len(choices) != 2 || !strings.Contains(body, "acme") || !strings.Contains(body, "globex") {
		t.Fatalf("the choice: %d, %d choices", res.StatusCode, len(choices))
	}
	// A membership the session was not offered (Acme's owner's) is refused.
	if res, _ := mia.do("POST", "/login/organization", mia.form("membership", a.UserID.String())); res.StatusCode != fiber.StatusUnprocessableEntity {
		t.Fatalf("choosing a membership not offered: %d", res.StatusCode)
	}
	entered := map[string]bool{}
	for _, ch := range choices {
		c := e.client()
		c.do("GET", "/login", "")
		c.do("POST", "/login", c.form("email", "mia@example.net", "password", "mias-own-password"))
		c.do("GET", "/login/organization", "")
		res, _ := c.do("POST", "/login/organization", c.form("membership", ch[1]))
		if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/customers" {
			t.Fatalf("choose: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		c.do("GET", "/customers", "")
		id := c.createCustomer("Made by Mia")
		var tid string
		e.db.Superuser(t).QueryRow(context.Background(), "SELECT tenant_id::text FROM customers WHERE id = $1", id).Scan(&tid)
		entered[tid] = true
		other := map[bool]tenantUser{true: b, false: a}[tid == a.Tenant.String()]
		for _, path := range []string{"/customers", "/account", "/tags"} {
			if _, page := c.do("GET", path, ""); strings.Contains(page, other.Email) || strings.Contains(page, other.Tenant.String()) {
				t.Errorf("%s in one organization shows the other's data", path)
			}
		}
	}
	if !entered[a.Tenant.String()] || !entered[b.Tenant.String()] {
		t.Fatalf("the two choices entered %v", entered)
	}

	// A member sees neither the team nor the trail: the plain 404.
	for _, page := range []string{"/team", "/audit"} {
		res, body := acceptNew.do("GET", page, "")
		res2, body2 := acceptNew.do("GET", "/no-such-page", "")
		if res.StatusCode != 404 || normalize(res, body) != normalize(res2, body2) {
			t.Errorf("member at %s: %d, or not the plain 404 page", page, res.StatusCode)
		}
	}
	trail := e.trail(a.Tenant.String())
	for _, want := range []string{"user.invite allowed", "user.join allowed", "auth.sign_in allowed", "page.view denied"} {
		if !contains(trail, want) {
			t.Errorf("Acme's trail lacks %q: %v", want, trail)
		}
	}
	var leaks int
	e.db.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND (details::text LIKE '%' || $2 || '%' OR entity_id = $2)",
		b.Tenant.UUID(), a.Tenant.String()).Scan(&leaks)
	if leaks > 0 {
		t.Errorf("Globex's trail names Acme %d times", leaks)
	}

	// A withdrawn invitation's link no longer works.
	invite(owner, "late@acme.test")
	late := e.mailedLink(t, "late@acme.test", "/invitations/")
	_, team := owner.do("GET", "/team", "")
	id := regexp.MustCompile(`/team/invitations/([0-9a-f-]{36})/revoke`).FindStringSubmatch(team)
	if id == nil {
		t.Fatal("the team page lists no invitation to withdraw")
	}
	if res, _ := owner.do("POST", "/team/invitations/"+id[1]+"/revoke", owner.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("withdraw: %d", res.StatusCode)
	}
	if res, _ := e.client().do("GET", late, ""); res.StatusCode != fiber.StatusGone {
		t.Fatalf("a withdrawn invitation: %d, want 410", res.StatusCode)
	}
}

func TestRoleRules(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	owner := e.client()
	owner.signIn(a.Email, password)
	adminID := e.addMember(a, "adam@acme.test")
	owner.do("GET", "/team", "")
	res, _ := owner.do("POST", "/team/"+adminID+"/role", owner.form("role", "admin"))
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("make admin: %d", res.StatusCode)
	}

	admin := e.client()
	admin.signIn("adam@acme.test", password)
	for _, page := range []string{"/team", "/audit"} {
		if res, _ := admin.do("GET", page, ""); res.StatusCode != 200 {
			t.Errorf("admin at %s: %d", page, res.StatusCode)
		}
	}
	admin.do("GET", "/team", "")
	res, body := admin.do("POST", "/team", admin.form("name", "Olga", "email", "olga@acme.test", "role", "owner"))
	if res.StatusCode != fiber.StatusUnprocessableEntity || !strings.Contains(body, "Only an owner can invite an owner") {
		t.Errorf("admin adds an owner: %d", res.StatusCode)
	}
	for _, try := range []struct{ path, form string }{
		{"/team/" + a.UserID.String() + "/role", admin.form("role", "member")},
		{"/team/" + a.UserID.String() + "/deactivate", admin.form()},
		{"/team/" + a.UserID.String() + "/remove", admin.form()},
		{"/team/" + adminID + "/role", admin.form("role", "owner")},
	} {
		res, body := admin.do("POST", try.path, try.form)
		if res.StatusCode != fiber.StatusUnprocessableEntity || !strings.Contains(body, "Only an owner") {
			t.Errorf("admin %s: %d", try.path, res.StatusCode)
		}
	}

	// The last owner stays: no demotion, deactivation or removal, even by themselves.
	owner.do("GET", "/team", "")
	for _, action := range []string{"role", "deactivate", "remove"} {
		res, body := owner.do("POST", "/team/"+a.UserID.String()+"/"+action, owner.form("role", "member"))
		if res.StatusCode != fiber.StatusUnprocessableEntity || !strings.Contains(body, "needs an active owner") {
			t.Errorf("last owner %s: %d", action, res.StatusCode)
		}
	}
	// With a second owner, the first may step down, which ends their own sessions.
	res, _ = owner.do("POST", "/team/"+adminID+"/role", owner.form("role", "owner"))
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("second owner: %d", res.StatusCode)
	}
	res, _ = owner.do("POST", "/team/"+a.UserID.String()+"/role", owner.form("role", "member"))
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("step down: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	trail := e.trail(a.Tenant.String())
	if !contains(trail, "user.role_change allowed") || !contains(trail, "user.role_change denied") {
		t.Errorf("trail lacks role changes: %v", trail)
	}
}

// A role change or deactivation ends the person's sessions: their next request signs them out.
func TestAccessChangesTakeEffectOnTheNextRequest(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	memberID := e.addMember(a, "mo@acme.test")
	member := e.client()
	member.signIn("mo@acme.test", password)
	owner := e.client()
	owner.signIn(a.Email, password)
	owner.do("GET", "/team", "")

	res, _ := owner.do("POST", "/team/"+memberID+"/role", owner.form("role", "admin"))
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("role change: %d", res.StatusCode)
	}
	res, _ = member.do("GET", "/customers", "", "HX-Request", "true")
	if !strings.HasPrefix(res.Header.Get("HX-Redirect"), "/login") {
		t.Fatalf("after a role change the member's htmx request got %d %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
	member.signIn("mo@acme.test", password)
	if res, _ := member.do("GET", "/team", ""); res.StatusCode != 200 {
		t.Fatalf("the new role does not apply after signing in again: %d", res.StatusCode)
	}

	res, _ = owner.do("POST", "/team/"+memberID+"/deactivate", owner.form())
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	res, _ = member.do("GET", "/customers", "")
	if !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("deactivated member's next request: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	// A deactivated person's sign-in looks exactly like a wrong password.
	member.do("GET", "/login", "")
	res1, body1 := member.do("POST", "/login", member.form("email", "mo@acme.test", "password", password))
	res2, body2 := member.do("POST", "/login", member.form("email", "mo@acme.test", "password", "wrong password!"))
	if res1.StatusCode != 401 || normalize(res1, body1) != normalize(res2, body2) {
		t.Fatalf("deactivated sign-in: %d, differs from a wrong password", res1.StatusCode)
	}
	res, _ = owner.do("POST", "/team/"+memberID+"/reactivate", owner.form())
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("reactivate: %d", res.StatusCode)
	}
	member.signIn("mo@acme.test", password)
	res, _ = owner.do("POST", "/team/"+memberID+"/remove", owner.form())
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	if res, _ := member.do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("removed member's next request: %d", res.StatusCode)
	}
	trail := e.trail(a.Tenant.String())
	for _, want := range []string{"user.deactivate allowed", "user.reactivate allowed", "user.remove allowed", "auth.sign_in denied"} {
		if !contains(trail, want) {
			t.Errorf("trail lacks %q", want)
		}
	}
}

func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	count := func(table string) int {
		var n int
		e.db.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n)
		return n
	}
	seen := func() time.Time {
		var at time.Time
		e.db.Superuser(t).QueryRow(context.Background(), "SELECT last_seen_at FROM user_sessions").Scan(&at)
		return at
	}

	// Requests within a minute of the last one write nothing to keep the session alive.
	first := seen()
	e.clock.Advance(30 * time.Second)
	c.do("GET", "/customers", "")
	if !seen().Equal(first) {
		t.Error("a request within a minute moved last-seen")
	}
	e.clock.Advance(2 * time.Minute)
	c.do("GET", "/customers", "")
	if !seen().After(first) {
		t.Error("a request after two minutes did not move last-seen")
	}

	// Idle past 30 minutes: ended on the server, and the next request goes to sign-in with a
	// notice, keeping the page.
	e.clock.Advance(31 * time.Minute)
	res, _ := c.do("GET", "/customers?q=ada", "")
	loc := res.Header.Get("Location")
	want := "/login?" + url.Values{"expired": {"1"}, "next": {"/customers?q=ada"}}.Encode()
	if res.StatusCode != fiber.StatusSeeOther || loc != want {
		t.Fatalf("idle session: %d %q", res.StatusCode, loc)
	}
	if n := count("user_sessions"); n != 0 {
		t.Errorf("%d listed sessions remain after the idle timeout", n)
	}
	_, body := c.do("GET", loc, "")
	if !strings.Contains(body, "Your session expired") || !strings.Contains(body, `name="next" value="/customers?q=ada"`) {
		t.Fatal("sign-in page lacks the notice or the page to return to")
	}
	res, _ = c.do("POST", "/login", c.form("email", a.Email, "password", password, "next", "/customers?q=ada"))
	if res.Header.Get("Location") != "/customers?q=ada" {
		t.Fatalf("after sign-in: %q, want the page asked for", res.Header.Get("Location"))
	}

	// Active all along, the session still ends at 12 hours.
	for i := 0; i < 35; i++ {
		e.clock.Advance(20 * time.Minute)
		if res, _ := c.do("GET", "/customers", ""); res.StatusCode != 200 {
			t.Fatalf("active session ended early, after %d minutes", (i+1)*20)
		}
	}
	e.clock.Advance(21 * time.Minute) // 12 h 1 min since sign-in
	res, _ = c.do("GET", "/customers", "")
	if res.StatusCode != fiber.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "expired=1") {
		t.Fatalf("session past 12 hours: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	trail := e.trail(a.Tenant.String())
	if !contains(trail, "session.end allowed") {
		t.Errorf("trail lacks the session ends: %v", trail)
	}
}

func TestOnlySameSitePathsAfterSignIn(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	for next, want := range map[string]string{
		"/customers?q=x":       "/customers?q=x",
		"//evil.example/x":     "/customers",
		"https://evil.example": "/customers",
		`/\evil.example`:       "/customers",
		"javascript:alert(1)":  "/customers",
		"/%0d%0aSet-Cookie:x":  "/%0d%0aSet-Cookie:x",
		"":                     "/customers",
	} {
		c := e.client()
		c.do("GET", "/login?next="+url.QueryEscape(next), "")
		res, _ := c.do("POST", "/login", c.form("email", a.Email, "password", password, "next", next))
		if got := res.Header.Get("Location"); got != want {
			t.Errorf("next %q: went to %q, want %q", next, got, want)
		}
	}
}

func TestAccountSessionsAndPasswordChange(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	e.addMember(tenantUser{Principal: b.Principal, Email: b.Email, Ctx: b.Ctx}, a.Email) // the same person, in Globex too
	inGlobex := e.client()
	inGlobex.do("GET", "/login", "")
	inGlobex.do("POST", "/login", inGlobex.form("email", a.Email, "password", password))
	_, choice := inGlobex.do("GET", "/login/organization", "")
	globexMembership := regexp.MustCompile(`value="([0-9a-f-]{36})"[^>]*>\s*<button[^>]*>\s*<span[^>]*>globex`).FindStringSubmatch(choice)
	if globexMembership == nil {
		t.Fatalf("no Globex choice:\n%s", choice)
	}
	if res, _ := inGlobex.do("POST", "/login/organization", inGlobex.form("membership", globexMembership[1])); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("enter Globex: %d", res.StatusCode)
	}
	laptop := e.client()
	laptop.signInTo(a.Email, "acme")
	phone := e.client()
	phone.signInTo(a.Email, "acme", "User-Agent", "Mozilla/5.0 (iPhone) Safari/605")
	tablet := e.client()
	tablet.signInTo(a.Email, "acme")

	_, body := laptop.do("GET", "/account", "")
	if n := strings.Count(body, `data-testid="session-row"`); n != 3 || !strings.Contains(body, "Safari on iPhone") {
		t.Fatalf("account lists %d sessions", n)
	}
	tabletSession := e.lastSession(a.UserID.String())
	res, _ := laptop.do("POST", "/account/sessions/"+tabletSession+"/end", laptop.form())
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("end a session: %d", res.StatusCode)
	}
	if res, _ := tablet.do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther {
		t.Fatal("the ended session still works")
	}
	if res, _ := phone.do("GET", "/customers", ""); res.StatusCode != 200 {
		t.Fatal("ending one session ended another")
	}

	// Changing the password ends every other session and gives this one a new id.
	laptop.do("GET", "/account", "")
	res, body = laptop.do("POST", "/account/password", laptop.form("current_password", "not my password", "new_password", "a brand new secret", "confirm_password", "a brand new secret"))
	if res.StatusCode != fiber.StatusUnprocessableEntity || !strings.Contains(body, "not your current password") {
		t.Fatalf("wrong current password: %d", res.StatusCode)
	}
	res, body = laptop.do("POST", "/account/password", laptop.form("current_password", password, "new_password", "a brand new secret", "confirm_password", "another secret!!"))
	if res.StatusCode != fiber.StatusUnprocessableEntity || !strings.Contains(body, "The two passwords differ") {
		t.Fatalf("mismatched confirmation: %d", res.StatusCode)
	}
	old := laptop.jar["moat_session"]
	res, _ = laptop.do("POST", "/account/password", laptop.form("current_password", password, "new_password", "a brand new secret", "confirm_password", "a brand new secret"))
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("change password: %d", res.StatusCode)
	}
	if laptop.jar["moat_session"] == old {
		t.Error("the session kept its id across a password change")
	}
	if res, _ := laptop.do("GET", "/customers", ""); res.StatusCode != 200 {
		t.Fatal("the changing session was signed out")
	}
	if res, _ := phone.do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther {
		t.Fatal("another session survived the password change")
	}
	if res, _ := inGlobex.do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther {
		t.Fatal("the account's session in its other organization survived the password change")
	}
	stale := e.client()
	stale.jar["moat_session"] = old
	if res, _ := stale.do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther {
		t.Fatal("the old session id still works")
	}
	trail := e.trail(a.Tenant.String())
	for _, want := range []string{"session.end allowed", "user.password_change denied", "user.password_change allowed"} {
		if !contains(trail, want) {
			t.Errorf("trail lacks %q: %v", want, trail)
		}
	}
	if !contains(e.trail(b.Tenant.String()), "user.password_change allowed") {
		t.Error("Globex's trail lacks its member's password change")
	}
}

func TestSignInIsRateLimited(t *testing.T) {
	e := newEnvWith(t, middleware.Limits{PerIP: 6, PerEmail: 3, Window: time.Minute})
	a := e.signUp("acme")
	c := e.client()
	c.do("GET", "/login", "")
	for i := 0; i < 3; i++ {
		if res, _ := c.do("POST", "/login", c.form("email", a.Email, "password", "wrong password!")); res.StatusCode != 401 {
			t.Fatalf("attempt %d: %d", i+1, res.StatusCode)
		}
	}
	res, body := c.do("POST", "/login", c.form("email", strings.ToUpper(a.Email), "password", password))
	if res.StatusCode != fiber.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many attempts") {
		t.Fatalf("fourth attempt on one email: %d Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Per IP: other emails from the same address run out too.
	for i := 0; i < 2; i++ {
		c.do("POST", "/login", c.form("email", "other"+string(rune('a'+i))+"@acme.test", "password", "wrong password!"))
	}
	res, _ = c.do("POST", "/signup", c.form("organization", "X", "name", "X", "email", "fresh@x.test", "password", "a long password!"))
	if res.StatusCode != fiber.StatusTooManyRequests {
		t.Fatalf("seventh attempt from one IP: %d", res.StatusCode)
	}
	if got := testutil.ToFloat64(e.metrics.RateLimited.WithLabelValues("/login")); got < 1 {
		t.Errorf("rate-limited requests not counted: %v", got)
	}
	if got := testutil.ToFloat64(e.metrics.SignInFailures); got != 5 {
		t.Errorf("sign-in failures = %v, want 5", got)
	}
}

// Security headers, on a whole page and on an htmx fragment.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	for _, hx := range []string{"false", "true"} {
		res, _ := c.do("GET", "/customers", "", "HX-Request", hx)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("HX-Request %s: CSP %q", hx, csp)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "same-origin"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("HX-Request %s: %s = %q, want %q", hx, h, got, want)
			}
		}
	}
}

// Outside development the cookies are Secure and carry the __Host- prefix: the CSRF cookie from
// the first page, the session cookie from signing in.
func TestCookiesOutsideDevelopment(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	app := server.New(e.db.DB, server.Options{Secure: true, SessionIdle: time.Hour, SessionAbsolute: time.Hour, Log: slog.New(slog.DiscardHandler)})
	c := &client{t: t, app: app, jar: map[string]string{}}
	res, _ := c.do("GET", "/login", "")
	headers := res.Header.Values("Set-Cookie")
	res, _ = c.do("POST", "/login", c.form("email", a.Email, "password", password))
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	headers = append(headers, res.Header.Values("Set-Cookie")...)
	found := map[string]bool{}
	for _, h := range headers {
		name, _, _ := strings.Cut(h, "=")
		lower := strings.ToLower(h)
		if strings.Contains(lower, "expires=tue, 10 nov 2009") || strings.Contains(lower, "max-age=0") {
			continue // a cookie being removed
		}
		if name == "__Host-moat_session" || name == "__Host-moat_csrf" {
			found[name] = true
			for _, attr := range []string{"secure", "httponly", "path=/", "samesite=lax"} {
				if !strings.Contains(lower, attr) {
					t.Errorf("%q lacks %s", h, attr)
				}
			}
			if strings.Contains(lower, "domain=") {
				t.Errorf("%q names a domain", h)
			}
		}
	}
	if !found["__Host-moat_session"] || !found["__Host-moat_csrf"] {
		t.Fatalf("Set-Cookie: %v", headers)
	}
}

// Signing in and out retires the CSRF token: a token from before is refused after, and the
// next page carries a new one.
func TestSigningInAndOutReplacesTheCSRFToken(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.do("GET", "/login", "")
	before := c.csrf
	c.signIn(a.Email, password)
	if c.csrf == "" || c.csrf == before {
		t.Fatalf("token before signing in %q, after %q", before, c.csrf)
	}
	stale := c.as(t)
	stale.csrf, stale.jar["moat_csrf"] = before, before
	if res, _ := stale.do("POST", "/customers", stale.form("name", "Planted")); res.StatusCode != fiber.StatusForbidden {
		t.Fatalf("the token from before signing in: %d, want 403", res.StatusCode)
	}
	signedIn := c.csrf
	if res, _ := c.do("POST", "/logout", c.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("sign out: %d", res.StatusCode)
	}
	c.do("GET", "/login", "")
	if c.csrf == "" || c.csrf == signedIn {
		t.Fatalf("token while signed in %q, after signing out %q", signedIn, c.csrf)
	}
}

// A request in flight when its session ends saves the session back with an upsert; the ended
// session must not come back.
func TestEndedSessionsStayEnded(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	key := c.jar["moat_session"]
	var saved []byte
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT v FROM sessions WHERE k = $1", token.Hash(key)).Scan(&saved); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.do("POST", "/logout", c.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	// The late save of a request that read the session before the sign-out.
	_, err := e.db.Pool.Exec(context.Background(),
		"INSERT INTO sessions (k, v, e) VALUES ($1, $2, $3) ON CONFLICT (k) DO UPDATE SET v = $2, e = $3",
		token.Hash(key), saved, time.Now().Add(time.Hour).Unix())
	if err != nil {
		t.Fatal(err)
	}
	stale := e.client()
	stale.jar["moat_session"] = key
	if res, _ := stale.do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("a session saved back after sign-out works again: %d", res.StatusCode)
	}
}

// The database, not the stored session, decides on every request: a session whose listing is
// gone, or whose person changed role behind its back, follows the database at once.
func TestEveryRequestFollowsTheDatabase(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	su := e.db.Superuser(t)
	ctx := context.Background()
	if _, err := su.Exec(ctx, "UPDATE users SET role = 'member' WHERE id = $1", a.UserID); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.do("GET", "/team", ""); res.StatusCode != 404 {
		t.Fatalf("demoted in the database, still sees /team: %d", res.StatusCode)
	}
	if _, err := su.Exec(ctx, "DELETE FROM user_sessions WHERE user_id = $1", a.UserID); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("a session no longer listed still works: %d", res.StatusCode)
	}
}

// A user agent PostgreSQL cannot store is cleaned, not a server error. (A NUL or other control
// character but the tab never gets this far: the HTTP server refuses the request.)
func TestOddUserAgentAtSignIn(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.do("GET", "/login", "")
	res, _ := c.do("POST", "/login", c.form("email", a.Email, "password", password), "User-Agent", "bad\tagent\xff")
	if res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("sign-in with an odd user agent: %d", res.StatusCode)
	}
}

// No table holds a cookie's secret itself: whoever reads the database (as the app role, or a
// backup) finds only SHA-256 hashes, which open nothing.
func TestSecretsAreHashedAtRest(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	other := e.client()
	other.signIn(a.Email, password)
	ended := other.jar["moat_session"]
	if res, _ := other.do("POST", "/logout", other.form()); res.StatusCode != fiber.StatusSeeOther { // a revoked key
		t.Fatalf("logout: %d", res.StatusCode)
	}
	secrets := map[string]string{"session cookie": c.jar["moat_session"], "CSRF token": c.csrf, "ended session": ended}
	su := e.db.Superuser(t)
	ctx := context.Background()
	tables, err := su.Query(ctx, `SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(tables, pgx.RowTo[string])
	if err != nil || len(names) < 10 {
		t.Fatalf("tables: %v %v", names, err)
	}
	for what, secret := range secrets {
		if len(secret) < 20 {
			t.Fatalf("%s %q is too short to be a secret", what, secret)
		}
		for _, table := range names {
			var n int
			if err := su.QueryRow(ctx, "SELECT count(*) FROM "+table+" x WHERE strpos(x::text, $1) > 0", secret).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				t.Errorf("table %s holds the %s itself", table, what)
			}
		}
	}
	// The hashes are there: they are how the session and the token are found.
	for table, key := range map[string]string{"sessions": c.jar["moat_session"], "csrf_tokens": c.csrf, "revoked_sessions": ended} {
		var n int
		su.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE k = $1", token.Hash(key)).Scan(&n)
		if n != 1 {
			t.Errorf("%s has %d rows under the hash, want 1", table, n)
		}
	}
	var listed int
	su.QueryRow(ctx, "SELECT count(*) FROM user_sessions WHERE session_key = $1", token.Hash(c.jar["moat_session"])).Scan(&listed)
	if listed != 1 {
		t.Errorf("user_sessions lists the session %d times under its hash, want 1", listed)
	}
}

// A CSRF token works only in the session it was issued to: another browser's token, valid in
// its own session, is refused in this one even when the cookie is planted to match it. Tokens
// come from the header or the body, never the query string.
func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	b := e.signUp("globex")
	victim := e.client()
	victim.signIn(a.Email, password)
	for name, who := range map[string]string{"another tenant's person": b.Email, "the same person elsewhere": a.Email} {
		attacker := e.client()
		attacker.signIn(who, password)
		if res, _ := attacker.do("POST", "/customers", attacker.form("name", "Own")); res.StatusCode != fiber.StatusSeeOther {
			t.Fatalf("%s: the token works in its own session: %d", name, res.StatusCode)
		}
		planted := victim.as(t)
		planted.csrf, planted.jar["moat_csrf"] = attacker.csrf, attacker.csrf
		if res, _ := planted.do("POST", "/customers", planted.form("name", "Planted")); res.StatusCode != fiber.StatusForbidden {
			t.Errorf("%s's token in the victim's session, as a field: %d, want 403", name, res.StatusCode)
		}
		if res, _ := planted.do("POST", "/customers", "name=Planted", "X-CSRF-Token", attacker.csrf, "HX-Request", "true"); res.StatusCode != fiber.StatusForbidden {
			t.Errorf("%s's token in the victim's session, as a header: %d, want 403", name, res.StatusCode)
		}
	}
	if res, _ := victim.do("POST", "/customers?_csrf="+url.QueryEscape(victim.csrf), "name=From+the+URL"); res.StatusCode != fiber.StatusForbidden {
		t.Errorf("a token in the query string: %d, want 403", res.StatusCode)
	}
	body, ctype := multipartForm(t, map[string]string{"name": "Multipart Customer", "_csrf": victim.csrf})
	if res, _ := victim.do("POST", "/customers", body, "Content-Type", ctype); res.StatusCode != fiber.StatusSeeOther {
		t.Errorf("a token in a multipart body: %d, want 303", res.StatusCode)
	}
	if res, _ := victim.do("POST", "/customers", victim.form("name", "Still Mine")); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("the victim's own token: %d", res.StatusCode)
	}
}

// A session whose bound token is not the browser's (its bind failed, or a second fresh token
// won the race) is not stuck refusing every form: the next page retires the browser's token, the
// page after binds a new one, and forms work again, sign-out included.
func TestAMismatchedCSRFBindingRecovers(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	if _, err := e.db.Superuser(t).Exec(context.Background(), "UPDATE user_sessions SET csrf_hash = repeat('0', 64) WHERE tenant_id = $1", a.Tenant.UUID()); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.do("POST", "/customers", c.form("name", "Refused")); res.StatusCode != fiber.StatusForbidden {
		t.Fatalf("a token that is not the bound one: %d, want 403", res.StatusCode)
	}
	c.do("GET", "/customers", "")
	c.do("GET", "/customers", "")
	if res, _ := c.do("POST", "/customers", c.form("name", "Accepted")); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("after two pages, a form: %d, want 303", res.StatusCode)
	}
	if res, _ := c.do("POST", "/logout", c.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("sign out: %d", res.StatusCode)
	}
}

func multipartForm(t *testing.T, fields map[string]string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String(), w.FormDataContentType()
}

// A forgotten password: any address gets the same answer and a link; the link of an address
// with an account sets its password and ends its sessions everywhere; other links do nothing.
func TestPasswordReset(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	signedIn := e.client()
	signedIn.signIn(a.Email, password)
	c := e.client()
	c.do("GET", "/password/forgot", "")
	if res, _ := c.do("POST", "/password/forgot", c.form("email", "not an address")); res.StatusCode != fiber.StatusUnprocessableEntity {
		t.Fatalf("an invalid address: %d", res.StatusCode)
	}
	for _, email := range []string{a.Email, "nobody@example.net"} {
		res, _ := c.do("POST", "/password/forgot", c.form("email", email))
		if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/password/sent" {
			t.Fatalf("reset for %s: %d %q", email, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// The link to an address without an account changes nothing.
	nobody := e.mailedLink(t, "nobody@example.net", "/password/reset/")
	if res, _ := c.do("POST", nobody, c.form("new_password", "a new long password", "confirm_password", "a new long password")); res.StatusCode != fiber.StatusGone {
		t.Fatalf("reset of an address without an account: %d, want 410", res.StatusCode)
	}
	link := e.mailedLink(t, a.Email, "/password/reset/")
	if res, _ := c.do("POST", link, c.form("new_password", "short", "confirm_password", "short")); res.StatusCode != fiber.StatusUnprocessableEntity {
		t.Fatalf("a short password: %d", res.StatusCode)
	}
	res, _ := c.do("POST", link, c.form("new_password", "a new long password", "confirm_password", "a new long password"))
	if res.StatusCode != fiber.StatusSeeOther || res.Header.Get("Location") != "/login?reset=1" {
		t.Fatalf("reset: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := c.do("POST", link, c.form("new_password", "yet another password", "confirm_password", "yet another password")); res.StatusCode != fiber.StatusGone {
		t.Fatalf("a used link: %d, want 410", res.StatusCode)
	}
	if res, _ := signedIn.do("GET", "/customers", ""); res.StatusCode != fiber.StatusSeeOther {
		t.Fatal("a session survived the reset")
	}
	c.do("GET", "/login", "")
	if res, _ := c.do("POST", "/login", c.form("email", a.Email, "password", password)); res.StatusCode != fiber.StatusUnauthorized {
		t.Fatalf("the old password still works: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", "/login", c.form("email", a.Email, "password", "a new long password")); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("the new password: %d", res.StatusCode)
	}
	// An expired link does nothing.
	c.do("GET", "/password/forgot", "")
	c.do("POST", "/password/forgot", c.form("email", a.Email))
	expired := e.mailedLink(t, a.Email, "/password/reset/")
	if _, err := e.db.Superuser(t).Exec(context.Background(), "UPDATE password_resets SET expires_at = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.do("POST", expired, c.form("new_password", "yet another password", "confirm_password", "yet another password")); res.StatusCode != fiber.StatusGone {
		t.Fatalf("an expired link: %d, want 410", res.StatusCode)
	}
	if !contains(e.trail(a.Tenant.String()), "user.password_reset allowed") {
		t.Error("the trail lacks the reset")
	}
}
