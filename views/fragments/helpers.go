// Package fragments holds the pieces htmx swaps; each has a stable root id matching its
// hx-target.
package fragments

import (
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"moat/models"
)

func customerURL(c models.Customer) templ.SafeURL {
	return templ.SafeURL("/customers/" + c.ID.String())
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

// device names a browser from its user agent, roughly: enough to tell sessions apart.
func device(ua string) string {
	browser, system := "Browser", ""
	for _, b := range []string{"Edg/", "Firefox/", "Chrome/", "Safari/", "curl/"} {
		if strings.Contains(ua, b) {
			browser = map[string]string{"Edg/": "Edge", "Firefox/": "Firefox", "Chrome/": "Chrome", "Safari/": "Safari", "curl/": "curl"}[b]
			break
		}
	}
	for _, s := range []string{"Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux"} {
		if strings.Contains(ua, s) {
			system = s
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}

// expiry names a token's lifetime of days days, 0 being for ever.
func expiry(days int) string {
	if days == 0 {
		return "never"
	}
	return "in " + strconv.Itoa(days) + " days"
}
