// Package htmx names the HX-* headers Moat uses and decides, in one place, whether a request
// gets a whole page or the fragment htmx swaps.
package htmx

import (
	"encoding/json"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
)

// Request and response headers.
const (
	HeaderRequest        = "HX-Request"
	HeaderBoosted        = "HX-Boosted"
	HeaderHistoryRestore = "HX-History-Restore-Request"
	HeaderLocation       = "HX-Location"
	HeaderRedirect       = "HX-Redirect"
	HeaderRefresh        = "HX-Refresh"
	HeaderRetarget       = "HX-Retarget"
	HeaderReswap         = "HX-Reswap"
	HeaderTrigger        = "HX-Trigger"
)

// ContentTarget is the region of the signed-in frame that page-like fragments replace.
const ContentTarget = "#content"

// IsRequest reports whether htmx sent the request.
func IsRequest(c *fiber.Ctx) bool { return c.Get(HeaderRequest) == "true" }

// WantsFragment reports whether the response should be the fragment rather than the whole page:
// an htmx request that is neither boosted nor restoring history.
func WantsFragment(c *fiber.Ctx) bool {
	return IsRequest(c) && c.Get(HeaderBoosted) != "true" && c.Get(HeaderHistoryRestore) != "true"
}

// Render writes page, or fragment when htmx asked for one, with status.
func Render(c *fiber.Ctx, status int, page, fragment templ.Component) error {
	c.Vary(HeaderRequest)
	comp := page
	if WantsFragment(c) {
		comp = fragment
	}
	c.Status(status).Type("html", "utf-8")
	if err := comp.Render(c.UserContext(), c.Response().BodyWriter()); err != nil {
		c.Response().ResetBody()
		return err
	}
	return nil
}

// Redirect sends the browser to url after a successful action: 303 See Other for plain forms;
// for htmx, HX-Location, which fetches url as a fragment into the content region and pushes it
// to the history.
func Redirect(c *fiber.Ctx, url string) error {
	if !IsRequest(c) {
		return c.Redirect(url, fiber.StatusSeeOther)
	}
	loc, _ := json.Marshal(map[string]string{"path": url, "target": ContentTarget})
	c.Set(HeaderLocation, string(loc))
	return c.SendStatus(fiber.StatusOK)
}

// FullRedirect sends the browser to url as a whole new page: 303 for plain requests, HX-Redirect
// for htmx (a 303 would be followed inside the XHR and swapped as a fragment).
func FullRedirect(c *fiber.Ctx, url string) error {
	if !IsRequest(c) {
		return c.Redirect(url, fiber.StatusSeeOther)
	}
	c.Set(HeaderRedirect, url)
	return c.SendStatus(fiber.StatusNoContent)
}

// Toast asks the page to show message briefly once htmx has handled the response (the
// moat:toast event, which static/app.js shows in a live region). Plain requests ignore it.
func Toast(c *fiber.Ctx, message string) {
	ev, _ := json.Marshal(map[string]string{"moat:toast": message})
	c.Set(HeaderTrigger, string(ev))
}
