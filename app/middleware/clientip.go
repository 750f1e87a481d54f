package middleware

import (
	"net"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// ClientIPs finds the client's address of a request. Without trusted proxies it is the peer's
// address. Behind them it is the rightmost address in X-Forwarded-For that is not a trusted
// proxy: proxies append, so anything further left came from the client and may be forged.
type ClientIPs struct{ trusted []*net.IPNet }

// NewClientIPs parses the trusted proxies, addresses or CIDRs; bad entries are skipped.
func NewClientIPs(trusted []string) ClientIPs {
	var nets []*net.IPNet
	for _, t := range trusted {
		t = strings.TrimSpace(t)
		if !strings.Contains(t, "/") {
			if ip := net.ParseIP(t); ip != nil && ip.To4() != nil {
				t += "/32"
			} else {
				t += "/128"
			}
		}
		if _, n, err := net.ParseCIDR(t); err == nil {
			nets = append(nets, n)
		}
	}
	return ClientIPs{trusted: nets}
}

func (p ClientIPs) isTrusted(ip net.IP) bool {
	for _, n := range p.trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// Of returns the client's address of c, as a new string.
func (p ClientIPs) Of(c *fiber.Ctx) string {
	peer := c.Context().RemoteIP()
	if len(p.trusted) == 0 || !p.isTrusted(peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(strings.TrimSpace(hops[i]))
		if ip == nil {
			break // a garbled hop: trust nothing further left
		}
		if !p.isTrusted(ip) {
			return ip.String()
		}
	}
	return peer.String()
}
