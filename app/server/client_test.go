package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"moat/app/auth"
	"moat/app/dbtest"
	"moat/app/server"
	"moat/models"
)

const password = "correct horse battery"

// env is a Moat app over a fresh database.
type env struct {
	t   *testing.T
	db  *dbtest.DB
	app *fiber.App
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.New(t, 0)
	app := server.New(d.DB, server.Options{
		Log:             slog.New(slog.DiscardHandler),
		SessionIdle:     30 * time.Minute,
		SessionAbsolute: 12 * time.Hour,
	})
	return &env{t: t, db: d, app: app}
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

// addMember adds a member to u's tenant.
func (e *env) addMember(u tenantUser, email string) {
	e.t.Helper()
	svc := auth.NewService(e.db.Gorm, slog.New(slog.DiscardHandler))
	if _, err := svc.AddUser(u.Ctx, "Member", email, password, models.RoleMember); err != nil {
		e.t.Fatal(err)
	}
}

// client is a browser: it keeps cookies and the last CSRF token it was given.
type client struct {
	t    *testing.T
	app  *fiber.App
	jar  map[string]string
	csrf string
}

func (e *env) client() *client {
	return &client{t: e.t, app: e.app, jar: map[string]string{}}
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
	res, err := c.app.Test(req, -1)
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
	if m := csrfMeta.FindSubmatch(raw); m != nil {
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
