package middleware_test

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"moat/app/middleware"
)

func TestClientIPs(t *testing.T) {
	cases := []struct {
		name    string
		trusted []string
		xff     string
		want    string
	}{
		{"no proxies: the peer, whatever the header says", nil, "1.2.3.4", "0.0.0.0"},
		{"behind a proxy: the address it appended", []string{"0.0.0.0"}, "6.6.6.6, 1.2.3.4", "1.2.3.4"},
		{"forged hops left of the proxy's are ignored", []string{"0.0.0.0", "10.0.0.0/8"}, "6.6.6.6, 1.2.3.4, 10.1.2.3", "1.2.3.4"},
		{"garbage stops the walk", []string{"0.0.0.0"}, "1.2.3.4, nonsense", "0.0.0.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ips := middleware.NewClientIPs(c.trusted)
			app := fiber.New()
			var got string
			app.Get("/", func(ctx *fiber.Ctx) error { got = ips.Of(ctx); return nil })
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("X-Forwarded-For", c.xff)
			if _, err := app.Test(req); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
