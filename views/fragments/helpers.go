// Package fragments holds the pieces htmx swaps; each has a stable root id matching its
// hx-target.
package fragments

import (
	"strconv"

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
