package middleware

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"moat/app/metrics"
)

// Limits are how many sign-in and sign-up attempts one IP address and one email may make in a
// window.
type Limits struct {
	PerIP    int
	PerEmail int
	Window   time.Duration
}

// RateLimits returns the sign-in and sign-up limiters, per IP and per email, counting in storage
// that every app server shares. A limited request gets 429 with a human message and Retry-After.
func RateLimits(storage fiber.Storage, l Limits, ips ClientIPs, m *metrics.Metrics) []fiber.Handler {
	reached := func(c *fiber.Ctx) error {
		m.RateLimited.WithLabelValues(c.Route().Path).Inc()
		minutes := int(l.Window.Minutes() + 0.5)
		return fiber.NewError(fiber.StatusTooManyRequests,
			fmt.Sprintf("Too many attempts. Please wait %d minute%s and try again.", minutes, plural(minutes)))
	}
	return []fiber.Handler{
		limiter.New(limiter.Config{
			Max: l.PerIP, Expiration: l.Window, Storage: storage, LimiterMiddleware: limiter.SlidingWindow{},
			KeyGenerator: func(c *fiber.Ctx) string { return "ip:" + ips.Of(c) },
			LimitReached: reached,
		}),
		limiter.New(limiter.Config{
			Max: l.PerEmail, Expiration: l.Window, Storage: storage, LimiterMiddleware: limiter.SlidingWindow{},
			Next: func(c *fiber.Ctx) bool { return strings.TrimSpace(c.FormValue("email")) == "" },
			KeyGenerator: func(c *fiber.Ctx) string {
				sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(c.FormValue("email")))))
				return "email:" + hex.EncodeToString(sum[:16])
			},
			LimitReached: reached,
		}),
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
