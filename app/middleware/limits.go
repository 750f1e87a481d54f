package middleware

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"moat/app/metrics"
)

// Limits are how many sign-in and sign-up attempts one IP address and one email may make in a
// window.
type Limits struct {
	PerIP    int
	PerEmail int
	Window   time.Duration
}

// Counter counts one attempt for key and returns how many the sliding window holds with it, and
// how long until the window ends (store.Attempts, in the database every app server shares).
type Counter func(ctx context.Context, key string, window time.Duration, now time.Time) (n int, reset time.Duration, err error)

// RateLimits returns the sign-in and sign-up limiters, per IP and per email. A limited request
// gets 429 with a human message and Retry-After. Fiber's limiter is not used: it reads a count
// from its storage and writes it back, locking only in its own process, so two servers could
// each count from the same number; count adds one in a single statement.
func RateLimits(count Counter, l Limits, ips ClientIPs, m *metrics.Metrics, now func() time.Time) []fiber.Handler {
	limit := func(max int, key func(*fiber.Ctx) string) fiber.Handler {
		return func(c *fiber.Ctx) error {
			k := key(c)
			if k == "" {
				return c.Next()
			}
			n, reset, err := count(c.UserContext(), k, l.Window, now())
			if err != nil {
				return err
			}
			if n <= max {
				return c.Next()
			}
			m.RateLimited.WithLabelValues(c.Route().Path).Inc()
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(reset.Seconds()))))
			minutes := int(l.Window.Minutes() + 0.5)
			return fiber.NewError(fiber.StatusTooManyRequests,
				fmt.Sprintf("Too many attempts. Please wait %d minute%s and try again.", minutes, plural(minutes)))
		}
	}
	return []fiber.Handler{
		limit(l.PerIP, func(c *fiber.Ctx) string { return "ip:" + ips.Of(c) }),
		limit(l.PerEmail, func(c *fiber.Ctx) string {
			email := strings.ToLower(strings.TrimSpace(c.FormValue("email")))
			if email == "" {
				return ""
			}
			sum := sha256.Sum256([]byte(email))
			return "email:" + hex.EncodeToString(sum[:16])
		}),
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
