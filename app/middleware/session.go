// Package middleware holds Moat's Fiber middleware: request ids, access logs, security headers,
// CSRF, the session that yields the Principal, and the sign-in and role gates.
package middleware

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/tenant"
	"moat/models"
)

// Session keys. The tenant is read from here and nowhere else.
const (
	keyUser    = "user"
	keyTenant  = "tenant"
	keyRole    = "role"
	keyName    = "name"
	keyEmail   = "email"
	keyStarted = "started"
)

// Sessions loads the server-side session of every request and turns it into a Principal.
type Sessions struct {
	Store    *session.Store
	Absolute time.Duration // a session older than this is ended, however active
	Now      func() time.Time
}

// Load puts the request's audit metadata, and for a signed-in session its Principal (and so its
// tenant), in the request's user context. Values from the request are copied: Fiber reuses its
// buffers once the handler returns.
func (s *Sessions) Load(c *fiber.Ctx) error {
	sess, err := s.Store.Get(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	req := audit.Request{
		RequestID: utils.CopyString(RequestID(c)),
		IP:        utils.CopyString(c.IP()),
		UserAgent: utils.CopyString(c.Get(fiber.HeaderUserAgent)),
	}
	if p, ok := s.principal(sess); ok {
		ctx = auth.NewContext(ctx, p)
		req.UserID = p.UserID
	} else if sess.Get(keyUser) != nil {
		// Past its absolute lifetime, or unreadable: end it on the server.
		if err := sess.Destroy(); err != nil {
			return err
		}
	}
	c.SetUserContext(audit.NewContext(ctx, req))
	return c.Next()
}

func (s *Sessions) principal(sess *session.Session) (auth.Principal, bool) {
	userID, err1 := uuid.Parse(str(sess.Get(keyUser)))
	tenantID, err2 := uuid.Parse(str(sess.Get(keyTenant)))
	started, _ := sess.Get(keyStarted).(int64)
	if err1 != nil || err2 != nil || s.Now().Sub(time.Unix(started, 0)) > s.Absolute {
		return auth.Principal{}, false
	}
	return auth.Principal{
		Tenant: tenant.FromUUID(tenantID),
		UserID: userID,
		Role:   models.Role(str(sess.Get(keyRole))),
		Name:   str(sess.Get(keyName)),
		Email:  str(sess.Get(keyEmail)),
	}, true
}

// Start signs p in: the old session is deleted and a new one, with a new id, holds p.
func (s *Sessions) Start(c *fiber.Ctx, p auth.Principal) error {
	sess, err := s.Store.Get(c)
	if err != nil {
		return err
	}
	if err := sess.Reset(); err != nil {
		return err
	}
	sess.Set(keyUser, p.UserID.String())
	sess.Set(keyTenant, p.Tenant.String())
	sess.Set(keyRole, string(p.Role))
	sess.Set(keyName, p.Name)
	sess.Set(keyEmail, p.Email)
	sess.Set(keyStarted, s.Now().Unix())
	return sess.Save()
}

// End deletes the request's session on the server and expires its cookie.
func (s *Sessions) End(c *fiber.Ctx) error {
	sess, err := s.Store.Get(c)
	if err != nil {
		return err
	}
	return sess.Destroy()
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
