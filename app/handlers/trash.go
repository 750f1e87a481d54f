package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"moat/app/htmx"
	"moat/app/middleware"
	"moat/app/store"
	"moat/views/components"
	"moat/views/fragments"
	"moat/views/pages"
)

// ShowTrash lists the customers in the trash, with who trashed them and when.
func (h *Customers) ShowTrash(c *fiber.Ctx) error {
	page, err := h.Store.Trashed(c.UserContext(), pageNumber(c))
	if err != nil {
		return err
	}
	p := fragments.TrashProps{Customers: page.Customers, CSRF: middleware.CSRFToken(c), CanPurge: canPurge(c)}
	p.Pager.Target = "content"
	if page.Page > 1 {
		p.Pager.Prev = "/customers/trash?page=" + itoa64(int64(page.Page-1))
	}
	if page.More {
		p.Pager.Next = "/customers/trash?page=" + itoa64(int64(page.Page+1))
	}
	frag := fragments.Trash(p)
	return htmx.Render(c, fiber.StatusOK, pages.Page(meta(c, "Trash", "customers"), frag), frag)
}

// RestoreSelected restores the customers chosen in the trash.
func (h *Customers) RestoreSelected(c *fiber.Ctx) error {
	ids := selectedIDs(c)
	if len(ids) == 0 {
		htmx.Toast(c, "Select the customers to restore first.")
		return htmx.Redirect(c, "/customers/trash")
	}
	n, err := h.Store.Restore(c.UserContext(), ids)
	if err != nil {
		return err
	}
	htmx.Toast(c, fragments.Plural(n, "customer")+" restored.")
	return htmx.Redirect(c, "/customers/trash")
}

// RestoreCustomer restores one customer and shows it.
func (h *Customers) RestoreCustomer(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	if _, err := h.Store.Restore(c.UserContext(), []string{id}); err != nil {
		return err
	}
	htmx.Toast(c, "Customer restored.")
	return htmx.Redirect(c, "/customers/"+id)
}

// PurgeSelected deletes the chosen trashed customers for good (owners only).
func (h *Customers) PurgeSelected(c *fiber.Ctx) error {
	ids := selectedIDs(c)
	if len(ids) == 0 {
		htmx.Toast(c, "Select the customers to delete first.")
		return htmx.Redirect(c, "/customers/trash")
	}
	if c.FormValue("confirm") != "yes" {
		return confirm(c, components.ConfirmProps{
			Title: "Delete " + fragments.Plural(int64(len(ids)), "customer") + " for good?", Text: "They, their notes and their tags are deleted; this cannot be undone. Their audit trail stays.",
			Action: "/customers/trash/purge", Fields: map[string][]string{"id": ids}, Button: "Delete for good", Cancel: "/customers/trash",
		})
	}
	n, kept, err := h.Store.Purge(c.UserContext(), ids)
	if err != nil {
		return err
	}
	htmx.Toast(c, purgedMessage(n, kept))
	return htmx.Redirect(c, "/customers/trash")
}

// EmptyTrash deletes every trashed customer for good (owners only).
func (h *Customers) EmptyTrash(c *fiber.Ctx) error {
	if c.FormValue("confirm") != "yes" {
		return confirm(c, components.ConfirmProps{
			Title: "Empty the trash?", Text: "Every customer in the trash is deleted for good, with its notes and tags; this cannot be undone. Their audit trail stays.",
			Action: "/customers/trash/empty", Button: "Empty the trash", Cancel: "/customers/trash",
		})
	}
	n, kept, err := h.Store.Purge(c.UserContext(), nil)
	if err != nil {
		return err
	}
	htmx.Toast(c, purgedMessage(n, kept))
	return htmx.Redirect(c, "/customers/trash")
}

func purgedMessage(purged, kept int64) string {
	msg := fragments.Plural(purged, "customer") + " deleted for good."
	if kept > 0 {
		msg += " " + fragments.Plural(kept, "customer") + " with invoices stayed: invoices are kept, and name their customer."
	}
	return msg
}

// selectedIDs are the ids chosen in the trash: a page's worth, at most store.MaxSelected.
func selectedIDs(c *fiber.Ctx) []string {
	ids := formValues(c, "id")
	return ids[:min(len(ids), store.MaxSelected)]
}
