package middleware

import (
	"crypto/subtle"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/utils"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/token"
	"moat/models"
)

const (
	csrfKey        = "csrf"
	csrfHandlerKey = "csrf_handler"
	csrfBoundKey   = "csrf_bound"
	csrfCookie     = "moat_csrf"
	// CSRFHeader is the header htmx requests carry the token in.
	CSRFHeader = "X-CSRF-Token"
	// CSRFField is the hidden form field plain forms carry the token in.
	CSRFField = "_csrf"
)

// CSRFToken returns the token forms and htmx must send back.
func CSRFToken(c *fiber.Ctx) string {
	t, _ := c.Locals(csrfKey).(string)
	return t
}

// CSRF checks the token on every request that is not GET, HEAD, OPTIONS or TRACE. The token
// comes from the X-CSRF-Token header or the request body's _csrf field, never the URL (where
// it would leak into logs and Referer headers). It must match the browser's CSRF cookie, be one
// the server issued and still keeps in tokens (Fiber's csrf middleware), and, for a signed-in
// person, be the one issued to this session (see BindCSRF): a token taken from another
// session, even a valid one, is refused. A refusal is a 403 and, for a signed-in person, a
// denied row in the trail. Signing in and out replaces the token (RotateCSRF).
func CSRF(tokens fiber.Storage, secure bool, idle time.Duration, db *gorm.DB) fiber.Handler {
	return csrf.New(csrf.Config{
		Next:              SkipBrowser,
		Storage:           tokens,
		ContextKey:        csrfKey,
		HandlerContextKey: csrfHandlerKey,
		CookieName:        csrfCookieName(secure),
		CookieSecure:      secure,
		CookieHTTPOnly:    true,
		CookieSameSite:    "Lax",
		CookieSessionOnly: true,
		Expiration:        idle,
		Extractor: func(c *fiber.Ctx) (string, error) {
			t := c.Get(CSRFHeader)
			if t == "" {
				t = bodyToken(c)
			}
			if t == "" {
				return "", csrf.ErrTokenNotFound
			}
			if _, signedIn := auth.FromContext(c.UserContext()); signedIn && !boundHere(c, t) {
				return "", csrf.ErrTokenInvalid
			}
			return t, nil
		},
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			if _, ok := auth.FromContext(c.UserContext()); ok {
				if aerr := audit.RecordAlone(c.UserContext(), db, audit.Event{
					Action: audit.RequestCSRF, Entity: audit.EntityRequest, EntityID: audit.Clean(utils.CopyString(c.Method()+" "+c.Path()), 100), Outcome: models.OutcomeDenied,
				}); aerr != nil {
					return aerr
				}
			}
			return fiber.ErrForbidden
		},
	})
}

func csrfCookieName(secure bool) string {
	if secure {
		return hostPrefix + csrfCookie
	}
	return csrfCookie
}

// bodyToken is the _csrf field of a form body, URL-encoded or multipart; never the query string.
func bodyToken(c *fiber.Ctx) string {
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		form, err := c.MultipartForm()
		if err != nil || len(form.Value[CSRFField]) == 0 {
			return ""
		}
		return form.Value[CSRFField][0]
	}
	return string(c.Request().PostArgs().Peek(CSRFField))
}

// boundHere reports whether tok is the one this request's session was issued.
func boundHere(c *fiber.Ctx, tok string) bool {
	bound, _ := c.Locals(csrfBoundKey).(string)
	return bound != "" && subtle.ConstantTimeCompare([]byte(bound), []byte(token.Hash(tok))) == 1
}

// BindCSRF binds a signed-in session to the CSRF token issued to it. It runs after CSRF. A
// token the middleware generated in this request (none came with it, or the one that came had
// expired) has been seen by nobody but this response, so the session takes it as its own: its
// hash is kept in the session's row, once, which every request reads, so that every app server
// knows it at once (a server's cached copy of the session could be a moment old). A token that
// is not the session's bound one (none bound yet, or a bind that failed or lost a race) is
// retired, so that the next page issues one to bind.
func (s *Sessions) BindCSRF(secure bool) fiber.Handler {
	name := csrfCookieName(secure)
	return func(c *fiber.Ctx) error {
		if SkipBrowser(c) {
			return c.Next()
		}
		if _, ok := auth.FromContext(c.UserContext()); !ok {
			return c.Next()
		}
		tok := CSRFToken(c)
		fresh := tok != "" && tok != c.Cookies(name)
		bound, _ := c.Locals(csrfBoundKey).(string)
		switch {
		case fresh && bound != token.Hash(tok):
			p, _ := auth.FromContext(c.UserContext())
			if err := s.List.BindCSRF(c.UserContext(), p.SessionID, token.Hash(tok)); err != nil {
				return err
			}
			c.Locals(csrfBoundKey, token.Hash(tok))
		case !fresh && bound != token.Hash(tok):
			// None bound yet (a session from before binding), or another one: the bind of this
			// token failed, or a second fresh token, bound last, won the race. Either way forms
			// would be refused until the browser closed; a new token, bound on the next page,
			// ends that.
			if err := RotateCSRF(c); err != nil {
				return err
			}
		}
		return c.Next()
	}
}

// RotateCSRF retires the request's CSRF token, so that the next page gets a new one: a token
// from before signing in or out is not one after.
func RotateCSRF(c *fiber.Ctx) error {
	h, ok := c.Locals(csrfHandlerKey).(*csrf.CSRFHandler)
	if !ok {
		return nil
	}
	for _, name := range []string{csrfCookie, hostPrefix + csrfCookie} {
		if c.Cookies(name) != "" {
			return h.DeleteToken(c)
		}
	}
	return nil
}
