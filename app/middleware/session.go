// Package middleware holds Moat's Fiber middleware: request ids, access logs, security headers,
// CSRF, the session that yields the Principal, and the sign-in and role gates.
package middleware

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

// Session keys. The tenant is read from here and nowhere else.
const (
	keyUser      = "user"
	keyTenant    = "tenant"
	keyAccount   = "account"
	keyRole      = "role"
	keyName      = "name"
	keyEmail     = "email"
	keyStarted   = "started"
	keySeen      = "seen"
	keySessionID = "sid"
	keyChoosing  = "choose" // a signed-in account choosing its organization: JSON of choosing
	expiredLocal = "moat.session_expired"
)

// touchEvery is how stale a session's last-seen time may get before a request refreshes it: the
// idle timeout is exact to this, and most requests write nothing for it.
const touchEvery = time.Minute

// Sessions loads the server-side session of every request and turns it into a Principal.
type Sessions struct {
	Store    *session.Store
	List     *store.Sessions // each person's sessions, to show and end them
	Idle     time.Duration   // a session unused this long is ended
	Absolute time.Duration   // a session older than this is ended, however active
	Now      func() time.Time
	Log      *slog.Logger
	IPs      ClientIPs

	decoded decodedSessions
}

// Load puts the request's audit metadata, and for a signed-in session its Principal (and so its
// tenant), in the request's user context. A session past its idle or absolute lifetime is ended
// on the server here. Values from the request are copied: Fiber reuses its buffers once the
// handler returns.
func (s *Sessions) Load(c *fiber.Ctx) error {
	id, sess, err := s.stored(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	req := audit.Request{
		RequestID: utils.CopyString(RequestID(c)),
		IP:        s.IPs.Of(c),
		UserAgent: utils.CopyString(c.Get(fiber.HeaderUserAgent)),
	}
	if sess.Get(keyUser) == nil {
		if name, _ := strings.CutPrefix(s.Store.KeyLookup, "cookie:"); c.Cookies(name) != "" && c.Method() != fiber.MethodGet && sess.Get(keyChoosing) == nil {
			// A change sent with a session that holds nobody: signed out meanwhile, or a lost session.
			s.Log.WarnContext(ctx, "change without a signed-in session", "request_id", req.RequestID, "method", c.Method(),
				"path", utils.CopyString(c.Path()))
		}
		c.SetUserContext(audit.NewContext(ctx, req))
		return c.Next()
	}
	p, started, seen, ok := principal(sess)
	now := s.Now()
	expired := now.Sub(started) > s.Absolute || now.Sub(seen) > s.Idle
	touch := now.Sub(seen) > touchEvery
	var cur store.Current
	if ok && !expired {
		// The database, not the cookie's session, says who this is now.
		cur, ok, err = s.List.Validate(auth.NewContext(ctx, p), p.SessionID, id, touch, now)
		if err != nil {
			return err
		}
		p.Role, p.Name, p.Email = cur.Role, cur.Name, cur.Email
	}
	if ok {
		req.UserID = p.UserID
		ctx = audit.NewContext(auth.NewContext(ctx, p), req)
		c.Locals(csrfBoundKey, cur.CSRF)
	}
	var own *session.Session // Fiber's, to change the session
	if !ok && !expired {
		// Ended elsewhere, deactivated or unreadable: worth a line, as a person was signed out.
		s.Log.WarnContext(ctx, "session refused", "request_id", req.RequestID, "method", c.Method(), "path", utils.CopyString(c.Path()),
			"user_id", p.UserID.String(), "session_id", p.SessionID.String())
	}
	if !ok || expired || touch {
		if own, err = s.Store.Get(c); err != nil {
			return err
		}
	}
	switch {
	case !ok:
		// Ended elsewhere, its person deactivated or removed, or unreadable.
		if err := own.Destroy(); err != nil {
			return err
		}
		ctx = audit.NewContext(ctx, req)
	case expired:
		reason := "idle timeout"
		if now.Sub(started) > s.Absolute {
			reason = "lifetime reached"
		}
		if err := s.List.End(ctx, audit.SessionEnd, p.SessionID.String(), reason); err != nil && !errors.Is(err, models.ErrNotFound) {
			return err
		}
		if err := own.Destroy(); err != nil {
			return err
		}
		c.Locals(expiredLocal, true)
		ctx = audit.NewContext(c.UserContext(), audit.Request{RequestID: req.RequestID, IP: req.IP, UserAgent: req.UserAgent})
	case touch && own.Fresh():
		// The stored session went between the read above and this one: saving would start an
		// empty one under a new id.
		s.Log.WarnContext(ctx, "session gone before it was touched", "request_id", req.RequestID)
	case touch:
		own.Set(keySeen, now.Unix())
		if err := own.Save(); err != nil {
			return err
		}
	}
	c.SetUserContext(ctx)
	return c.Next()
}

// stored is the request's session as stored, or none: only read from it. Fiber's store
// gob-decodes a session with a fresh decoder, compiling its types again, on every request (a
// tenth of a page's CPU); this decodes each stored version once.
func (s *Sessions) stored(c *fiber.Ctx) (id string, v values, err error) {
	name, ok := strings.CutPrefix(s.Store.KeyLookup, "cookie:")
	if !ok {
		return "", nil, errors.New("sessions: the session id must come from a cookie")
	}
	// A copy: Fiber's cookie value is the request's buffer, which the next request reuses, and
	// the storage's cache keeps the key.
	if id = utils.CopyString(c.Cookies(name)); id == "" {
		return "", sessionValues(nil), nil
	}
	raw, err := s.Store.Storage.Get(id)
	if err != nil || raw == nil {
		return "", sessionValues(nil), err
	}
	decoded, err := s.decoded.get(raw)
	return id, decoded, err
}

// values are a session's, as Fiber's session or as decoded by stored.
type values interface{ Get(key string) any }

type sessionValues map[string]any

func (v sessionValues) Get(key string) any { return v[key] }

// decodedSessions are the values of recently read sessions by their stored bytes, shared and
// read only. Keyed by content, an entry cannot go stale; it is bounded, not expired.
type decodedSessions struct {
	mu sync.Mutex
	m  map[string]sessionValues
}

const decodedMax = 4096

func (d *decodedSessions) get(raw []byte) (sessionValues, error) {
	d.mu.Lock()
	v, ok := d.m[string(raw)]
	d.mu.Unlock()
	if ok {
		return v, nil
	}
	if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&v); err != nil {
		return nil, fmt.Errorf("failed to decode session data: %w", err)
	}
	d.mu.Lock()
	if len(d.m) >= decodedMax || d.m == nil {
		d.m = make(map[string]sessionValues)
	}
	d.m[string(raw)] = v
	d.mu.Unlock()
	return v, nil
}

func principal(sess values) (p auth.Principal, started, seen time.Time, ok bool) {
	userID, err1 := uuid.Parse(str(sess.Get(keyUser)))
	tenantID, err2 := uuid.Parse(str(sess.Get(keyTenant)))
	sid, err3 := uuid.Parse(str(sess.Get(keySessionID)))
	accountID, err4 := uuid.Parse(str(sess.Get(keyAccount)))
	startedAt, _ := sess.Get(keyStarted).(int64)
	seenAt, _ := sess.Get(keySeen).(int64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || startedAt == 0 || seenAt == 0 {
		return p, started, seen, false
	}
	return auth.Principal{
		Tenant:    tenant.FromUUID(tenantID),
		UserID:    userID,
		AccountID: accountID,
		Role:      models.Role(str(sess.Get(keyRole))),
		Name:      str(sess.Get(keyName)),
		Email:     str(sess.Get(keyEmail)),
		SessionID: sid,
	}, time.Unix(startedAt, 0), time.Unix(seenAt, 0), true
}

// Start signs p in: the old session is deleted, and a new one, with a new id, holds p and is
// added to p's list of sessions.
func (s *Sessions) Start(c *fiber.Ctx, p auth.Principal) error {
	sess, err := s.Store.Get(c)
	if err != nil {
		return err
	}
	if err := sess.Reset(); err != nil {
		return err
	}
	now := s.Now()
	key := sess.ID()
	// Listed first: a session that exists must be one that can be ended.
	ctx := auth.NewContext(c.UserContext(), p)
	r := audit.RequestFrom(c.UserContext())
	if err := s.List.Record(ctx, models.UserSession{
		ID: p.SessionID, UserID: p.UserID, SessionKey: key, CreatedAt: now, LastSeenAt: now,
		IP: audit.Clean(r.IP, 64), UserAgent: audit.Clean(r.UserAgent, 400),
	}); err != nil {
		return err
	}
	s.fill(sess, p, now.Unix())
	if err := sess.Save(); err != nil {
		return err
	}
	return RotateCSRF(c)
}

// Renew gives the current session a new id, keeping its lifetime, after a privilege change
// (here: a new password), and updates what it holds of p.
func (s *Sessions) Renew(c *fiber.Ctx, p auth.Principal) error {
	sess, err := s.Store.Get(c)
	if err != nil {
		return err
	}
	started, _ := sess.Get(keyStarted).(int64)
	old := sess.ID()
	if err := sess.Regenerate(); err != nil {
		return err
	}
	key := sess.ID()
	if err := s.List.Rekey(auth.NewContext(c.UserContext(), p), p.SessionID, old, key); err != nil {
		return err
	}
	s.fill(sess, p, started)
	if err := sess.Save(); err != nil {
		return err
	}
	return RotateCSRF(c)
}

func (s *Sessions) fill(sess *session.Session, p auth.Principal, started int64) {
	sess.Set(keyUser, p.UserID.String())
	sess.Set(keyTenant, p.Tenant.String())
	sess.Set(keyAccount, p.AccountID.String())
	sess.Set(keyRole, string(p.Role))
	sess.Set(keyName, p.Name)
	sess.Set(keyEmail, p.Email)
	sess.Set(keySessionID, p.SessionID.String())
	sess.Set(keyStarted, started)
	sess.Set(keySeen, s.Now().Unix())
}

// End signs the request's person out: their session is deleted on the server and dropped from
// their list.
func (s *Sessions) End(c *fiber.Ctx) error {
	if p, ok := auth.FromContext(c.UserContext()); ok {
		if err := s.List.End(c.UserContext(), audit.AuthSignOut, p.SessionID.String(), "signed out"); err != nil && !errors.Is(err, models.ErrNotFound) {
			return err
		}
	}
	sess, err := s.Store.Get(c)
	if err != nil {
		return err
	}
	if err := sess.Destroy(); err != nil {
		return err
	}
	return RotateCSRF(c)
}

// Expired reports whether this request's session was just ended for age.
func Expired(c *fiber.Ctx) bool {
	v, _ := c.Locals(expiredLocal).(bool)
	return v
}

// LoginURL is the sign-in page that returns to the request's page afterwards, with a notice
// when the session expired.
func LoginURL(c *fiber.Ctx) string {
	v := url.Values{}
	if c.Method() == fiber.MethodGet {
		v.Set("next", string(c.Request().URI().RequestURI()))
	}
	if Expired(c) {
		v.Set("expired", "1")
	}
	if len(v) == 0 {
		return "/login"
	}
	return "/login?" + v.Encode()
}

// SafeNext returns next when it is a path on this site, and "" otherwise: never another
// origin, a scheme, or a protocol-relative or backslash path.
func SafeNext(next string) string {
	if next == "" || len(next) > 2000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return next
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// chooseFor is how long an account that signed in may take to choose its organization.
const chooseFor = 10 * time.Minute

type choosing struct {
	Account auth.Account
	At      int64
}

// Choose keeps, in a new signed-out session, an account that signed in and belongs to several
// organizations, while the person chooses one (Chosen). The organizations it may enter are kept
// on the server: the choice names one of them, never a tenant of the request's making.
func (s *Sessions) Choose(c *fiber.Ctx, acc auth.Account) error {
	sess, err := s.Store.Get(c)
	if err != nil {
		return err
	}
	if err := sess.Reset(); err != nil {
		return err
	}
	raw, err := json.Marshal(choosing{Account: acc, At: s.Now().Unix()})
	if err != nil {
		return err
	}
	sess.Set(keyChoosing, string(raw))
	return sess.Save()
}

// Choosing returns the account waiting to choose its organization in this request's session.
func (s *Sessions) Choosing(c *fiber.Ctx) (auth.Account, bool) {
	sess, err := s.Store.Get(c)
	if err != nil {
		return auth.Account{}, false
	}
	var ch choosing
	raw := str(sess.Get(keyChoosing))
	if raw == "" || json.Unmarshal([]byte(raw), &ch) != nil || s.Now().Sub(time.Unix(ch.At, 0)) > chooseFor || len(ch.Account.Memberships) == 0 {
		return auth.Account{}, false
	}
	return ch.Account, true
}
