package middleware

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"moat/app/auth"
	"moat/app/tenant"
	"moat/models"
)

// What Load reads through the decoded cache is what Fiber's session holds, for every kind of
// value a session keeps; each stored version is decoded once, and a changed session is read
// afresh.
func TestStoredSessionsReadLikeFibers(t *testing.T) {
	s := &Sessions{Store: session.New(session.Config{KeyLookup: "cookie:moat_session"})} // Fiber's memory storage
	app := fiber.New()
	var fibers, ours []map[string]any
	var firstID string
	app.Get("/", func(c *fiber.Ctx) error {
		sess, err := s.Store.Get(c)
		if err != nil {
			return err
		}
		switch c.Query("step") {
		case "write":
			sess.Set(keyUser, "6f1c2b9e-6a4b-4c43-9d2e-0b7a7f1d2c3e")
			sess.Set(keyName, "Ada \x00 Lövelace")
			sess.Set(keyStarted, int64(1_700_000_000))
			return sess.Save()
		case "change":
			sess.Set(keySeen, int64(1_700_000_060))
			return sess.Save()
		}
		id, v, err := s.stored(c)
		if err != nil {
			return err
		}
		firstID = id
		got := map[string]any{}
		want := map[string]any{}
		for _, k := range sess.Keys() {
			want[k] = sess.Get(k)
			got[k] = v.Get(k)
		}
		fibers, ours = append(fibers, want), append(ours, got)
		return nil
	})
	res, err := app.Test(httptest.NewRequest("GET", "/?step=write", nil))
	if err != nil {
		t.Fatal(err)
	}
	cookie := res.Cookies()[0]
	read := func(step string) {
		req := httptest.NewRequest("GET", "/?step="+step, nil)
		req.AddCookie(cookie)
		if res, err := app.Test(req); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %v %v", step, res, err)
		}
	}
	read("read")
	read("read")
	if len(s.decoded.m) != 1 {
		t.Fatalf("%d decoded versions after reading one twice", len(s.decoded.m))
	}
	read("change")
	read("read")
	if len(ours) != 3 || len(ours[0]) != 3 || len(ours[2]) != 4 {
		t.Fatalf("read %v", ours)
	}
	for i := range ours {
		if !reflect.DeepEqual(ours[i], fibers[i]) {
			t.Fatalf("read %d: ours %v, Fiber's %v", i, ours[i], fibers[i])
		}
	}
	if firstID != cookie.Value {
		t.Fatalf("session id %q, cookie %q", firstID, cookie.Value)
	}
	// No cookie, or one naming nothing stored: no session, without an error.
	app2 := fiber.New()
	app2.Get("/", func(c *fiber.Ctx) error {
		id, v, err := s.stored(c)
		if err != nil || id != "" || v.Get(keyUser) != nil {
			t.Errorf("no session: %q %v %v", id, v, err)
		}
		return nil
	})
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "moat_session", Value: "nothing-stored"})
	for _, r := range []*http.Request{httptest.NewRequest("GET", "/", nil), req} {
		if _, err := app2.Test(r); err != nil {
			t.Fatal(err)
		}
	}
}

// Reading a signed-in session: Fiber's store, which decodes it on every request, against the
// decoded cache Load uses.
func BenchmarkSessionRead(b *testing.B) {
	s := &Sessions{Store: session.New(session.Config{KeyLookup: "cookie:moat_session"}), Now: time.Now}
	app := fiber.New()
	c := app.AcquireCtx(&fasthttp.RequestCtx{})
	sess, err := s.Store.Get(c)
	if err != nil {
		b.Fatal(err)
	}
	id := uuid.New()
	s.fill(sess, auth.Principal{Tenant: tenant.FromUUID(id), UserID: id, AccountID: id, Role: models.RoleOwner,
		Name: "Ada Lovelace", Email: "ada@example.com", SessionID: id}, time.Now().Unix())
	cookie := sess.ID() // Save releases sess
	if err := sess.Save(); err != nil {
		b.Fatal(err)
	}
	app.ReleaseCtx(c)
	read := func(b *testing.B, get func(*fiber.Ctx) (values, error)) {
		for b.Loop() {
			rc := &fasthttp.RequestCtx{}
			rc.Request.Header.SetCookie("moat_session", cookie)
			c := app.AcquireCtx(rc)
			v, err := get(c)
			if err != nil || v.Get(keyUser) == nil {
				b.Fatal("no session", err)
			}
			app.ReleaseCtx(c)
		}
	}
	b.Run("fiber", func(b *testing.B) {
		read(b, func(c *fiber.Ctx) (values, error) { return s.Store.Get(c) })
	})
	b.Run("decoded once", func(b *testing.B) {
		read(b, func(c *fiber.Ctx) (values, error) { _, v, err := s.stored(c); return v, err })
	})
}
