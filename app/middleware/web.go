package middleware

import (
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"

	"moat/app/auth"
	"moat/app/metrics"
)

const (
	requestIDKey = "requestid"
	hostPrefix   = "__Host-" // a Secure cookie for this host only, which no other site can set
)

// RequestIDs gives every request an id of the server's making, returned as X-Request-ID. An id
// sent by the client is ignored: ids end up in audit rows and logs, where a chosen one could
// confuse an investigation.
func RequestIDs() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := uuid.NewString()
		c.Locals(requestIDKey, id)
		c.Set(fiber.HeaderXRequestID, id)
		return c.Next()
	}
}

// RequestID returns the request's id.
func RequestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestIDKey).(string)
	return id
}

// AccessLog writes one structured line per request and records its metrics, after the error
// handler has set the status.
func AccessLog(log *slog.Logger, m *metrics.Metrics) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		if err := c.Next(); err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		elapsed := time.Since(start)
		// Label values are kept by Prometheus: copies, never Fiber's reused buffers.
		route, method, status := utils.CopyString(c.Route().Path), utils.CopyString(c.Method()), c.Response().StatusCode()
		m.Requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
		m.Duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
		attrs := []any{
			"method", method, "route", route, "status", status,
			"duration_ms", float64(elapsed.Microseconds()) / 1000, "request_id", RequestID(c),
		}
		if p, ok := auth.FromContext(c.UserContext()); ok {
			attrs = append(attrs, "tenant_id", p.Tenant.String(), "user_id", p.UserID.String())
		}
		log.Info("request", attrs...)
		return nil
	}
}

// contentSecurityPolicy allows scripts and styles from Moat's own origin only: htmx is
// configured not to inject inline styles or evaluate code.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// SecurityHeaders sets the usual hardening headers and the Content-Security-Policy.
func SecurityHeaders() fiber.Handler {
	return helmet.New(helmet.Config{
		ContentSecurityPolicy: contentSecurityPolicy,
		ReferrerPolicy:        "same-origin",
		HSTSMaxAge:            63072000,
	})
}

// SkipAssets is a Next func that skips middleware for static files and the health check.
func SkipAssets(c *fiber.Ctx) bool {
	p := c.Path()
	return strings.HasPrefix(p, "/static/") || p == "/healthz" || p == "/readyz"
}

// IsAPI reports whether the request is for the JSON API (in any case, as Fiber routes it), which
// a token authenticates and nothing else: no session cookie, CSRF token or form applies to it.
func IsAPI(c *fiber.Ctx) bool {
	p := c.Path()
	return len(p) >= len("/api") && strings.EqualFold(p[:len("/api")], "/api") && (len(p) == len("/api") || p[len("/api")] == '/')
}

// SkipBrowser is a Next func that skips what only a browser's requests need (the session and
// CSRF) for static files, health checks and the API.
func SkipBrowser(c *fiber.Ctx) bool { return SkipAssets(c) || IsAPI(c) }
