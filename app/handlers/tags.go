package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"moat/app/auth"
	"moat/app/htmx"
	"moat/app/middleware"
	"moat/app/store"
	"moat/models"
	"moat/views/components"
	"moat/views/fragments"
	"moat/views/pages"
)

// Tags serves the tenant's tags.
type Tags struct {
	Store *store.Tags
}

// ShowTags lists the tags with how many customers carry each, and the form to add one.
func (h *Tags) ShowTags(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, fragments.TagsProps{Color: models.TagColors[0]})
}

// CreateTag adds a tag, or re-renders the page with 422.
func (h *Tags) CreateTag(c *fiber.Ctx) error {
	in := models.TagInput{Name: utils.CopyString(c.FormValue("name")), Color: utils.CopyString(c.FormValue("color"))}
	t, err := h.Store.Create(c.UserContext(), in)
	if errs, ok := fieldErrors(err); ok {
		return h.render(c, fiber.StatusUnprocessableEntity, fragments.TagsProps{Name: in.Name, Color: in.Color, Errors: errs})
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Tag “"+t.Name+"” added.")
	return htmx.Redirect(c, "/tags")
}

// DeleteTag removes a tag from the tenant and from its customers (owners and admins).
func (h *Tags) DeleteTag(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	if c.FormValue("confirm") != "yes" {
		t, err := h.Store.Get(c.UserContext(), id)
		if err != nil {
			return err
		}
		return confirm(c, components.ConfirmProps{
			Title: "Delete the tag “" + t.Name + "”?", Text: "It is taken off every customer that carries it.",
			Action: "/tags/" + id + "/delete", Button: "Delete tag", Cancel: "/tags",
		})
	}
	if err := h.Store.Delete(c.UserContext(), id); err != nil {
		return err
	}
	htmx.Toast(c, "Tag deleted.")
	return htmx.Redirect(c, "/tags")
}

func (h *Tags) render(c *fiber.Ctx, status int, p fragments.TagsProps) error {
	tags, err := h.Store.List(c.UserContext())
	if err != nil {
		return err
	}
	for _, t := range tags {
		p.Tags = append(p.Tags, fragments.TagCount{Tag: t.Tag, Customers: t.Customers})
	}
	p.Colors, p.CSRF = models.TagColors, middleware.CSRFToken(c)
	if pr, ok := auth.FromContext(c.UserContext()); ok {
		p.CanDelete = pr.Role.ManagesTeam()
	}
	frag := fragments.Tags(p)
	return htmx.Render(c, status, pages.Page(meta(c, "Tags", "tags"), frag), frag)
}
