package handlers

import (
	"io"
	"net/url"
	"slices"

	"github.com/gofiber/fiber/v2"

	"moat/app/htmx"
	"moat/app/middleware"
	"moat/app/store"
	"moat/models"
	"moat/views/fragments"
	"moat/views/pages"
)

// Bulk acts on the customers selected in the list, or on all that match its filter. The
// first request answers with how many that is and asks to confirm; the confirmed one
// (confirm=yes) acts and goes back to the list.
func (h *Customers) Bulk(c *fiber.Ctx) error {
	ctx := c.UserContext()
	sel := selection(c)
	p := fragments.BulkProps{
		Action: bulkAction(c.FormValue("action")), TagID: models.CleanID(c.FormValue("bulk_tag")),
		Return: listReturn(c.FormValue("return")), Hidden: hidden(sel), CSRF: middleware.CSRFToken(c),
	}
	n, err := h.Store.Count(ctx, sel, p.Action)
	if err != nil {
		return err
	}
	p.Count = n
	tags, err := h.Tags.List(ctx)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if t.ID.String() == p.TagID {
			p.TagName = t.Name
		}
	}
	switch {
	case n == 0:
		p.Problem = "Select at least one customer first."
	case (p.Action == "tag" || p.Action == "untag") && p.TagName == "":
		p.Problem = "Choose the tag to add or remove."
	case p.Action == "":
		p.Problem = "Choose what to do with the selected customers."
	}
	if p.Problem != "" || c.FormValue("confirm") != "yes" {
		status := fiber.StatusOK
		if p.Problem != "" {
			status = fiber.StatusUnprocessableEntity
			if err := h.Store.RejectBulk(ctx, sel, p.Action, p.Problem); err != nil {
				return err
			}
		}
		return htmx.Render(c, status, pages.BulkConfirm(meta(c, "Confirm", "customers"), p), fragments.BulkConfirm(p))
	}
	var done string
	switch p.Action {
	case "trash":
		n, err = h.Store.BulkTrash(ctx, sel)
		done = fragments.Plural(n, "customer") + " moved to the trash."
	case "tag", "untag":
		n, err = h.Store.BulkTag(ctx, sel, p.TagID, p.Action == "tag")
		done = "Tag “" + p.TagName + "” changed on " + fragments.Plural(n, "customer") + "."
	case "export":
		return h.export(c, sel)
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, done)
	return htmx.Redirect(c, p.Return)
}

// bulkActions are the bulk actions there are; anything else is no action.
var bulkActions = []string{"tag", "untag", "trash", "export"}

// bulkAction is the requested action from the fixed list (never the request's bytes), or "".
func bulkAction(s string) string {
	if i := slices.Index(bulkActions, s); i >= 0 {
		return bulkActions[i]
	}
	return ""
}

// Export streams the selected customers as CSV: the confirmed bulk export posts here.
func (h *Customers) Export(c *fiber.Ctx) error { return h.export(c, selection(c)) }

func (h *Customers) export(c *fiber.Ctx, sel store.Selection) error {
	ctx := c.UserContext()
	if err := h.Store.RecordExport(ctx, sel); err != nil {
		return err
	}
	streamCSV(c, "customers", h.Log, func(w io.Writer) error { return h.Store.Export(ctx, sel, w) })
	return nil
}

// selection reads the selected ids (repeated "id" fields), or "all" with the list's filter.
func selection(c *fiber.Ctx) store.Selection {
	sel := store.Selection{All: c.FormValue("all") == "1", Filter: filterOf(c.FormValue), IDs: formValues(c, "id")}
	return sel.Clean()
}

// formValues copies every value of a repeated form field.
func formValues(c *fiber.Ctx, name string) []string {
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

// listReturn is where to go back to after a bulk action: the list with its filter, and only
// the list, so the field cannot send anyone elsewhere.
func listReturn(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Path != "/customers" || u.Host != "" || u.Scheme != "" || u.User != nil {
		return "/customers"
	}
	if q := u.Query().Encode(); q != "" {
		return "/customers?" + q
	}
	return "/customers"
}

// SetColumns remembers the list columns the person chose.
func (h *Customers) SetColumns(c *fiber.Ctx) error {
	if err := h.Store.SetColumns(c.UserContext(), formValues(c, "column")); err != nil {
		return err
	}
	htmx.Toast(c, "Columns saved.")
	return htmx.Redirect(c, listReturn(c.FormValue("return")))
}

// hidden is the selection as the form fields that carry it to the confirmed request.
func hidden(sel store.Selection) map[string][]string {
	if !sel.All {
		return map[string][]string{"id": sel.IDs}
	}
	v := stateOf(store.ListQuery{Filter: sel.Filter}).Values()
	v.Set("all", "1")
	return v
}
