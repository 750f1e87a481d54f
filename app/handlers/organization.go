package handlers

import (
	"bufio"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"moat/app/auth"
	"moat/app/closing"
	"moat/app/exports"
	"moat/app/htmx"
	"moat/app/jobs"
	"moat/app/middleware"
	"moat/app/store"
	"moat/views/fragments"
	"moat/views/pages"
)

// Organization serves the owners' organization page: the full export, and closing the
// organization for good.
type Organization struct {
	Store   *store.Organization
	Exports *store.Exports
	Jobs    *jobs.Queue
	Grace   time.Duration // how long a closed organization waits before it is deleted
	Log     *slog.Logger
}

// ShowOrganization shows the page.
func (h *Organization) ShowOrganization(c *fiber.Ctx) error {
	notice := ""
	switch c.Query("notice") {
	case "reopened":
		notice = "The organization is open again: nothing will be deleted."
	case "export":
		notice = "The export is being built. It appears below when it is ready."
	}
	return h.render(c, fiber.StatusOK, fragments.OrganizationProps{Notice: notice})
}

// ListExports is the exports' part of the page, which polls it while one is being built.
func (h *Organization) ListExports(c *fiber.Ctx) error {
	p, err := h.exports(c)
	if err != nil {
		return err
	}
	return htmx.Render(c, fiber.StatusOK, fragments.Exports(p), fragments.Exports(p))
}

// RequestExport asks for a full export, built in the background (or shows the one being built).
func (h *Organization) RequestExport(c *fiber.Ctx) error {
	e, fresh, err := h.Exports.Request(c.UserContext())
	if err != nil {
		return err
	}
	if fresh {
		if err := h.Jobs.Add(c.UserContext(), exports.Build{Who: jobs.WhoOf(c.UserContext()), Export: e.ID}); err != nil {
			return err
		}
	}
	return htmx.Redirect(c, "/settings/organization?notice=export")
}

// DownloadExport hands the owner who asked for it their export's ZIP, a chunk at a time.
func (h *Organization) DownloadExport(c *fiber.Ctx) error {
	ctx := c.UserContext()
	e, chunks, err := h.Exports.Open(ctx, utils.CopyString(c.Params("id")))
	if err != nil {
		return err
	}
	requestID := middleware.RequestID(c)
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="moat-export-`+e.CreatedAt.UTC().Format("2006-01-02")+`.zip"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		for seq := range chunks {
			data, err := h.Exports.Chunk(ctx, e.ID, seq)
			if err == nil {
				_, err = w.Write(data)
			}
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				h.Log.Error("export download broke off", "request_id", requestID, "err", err)
				return
			}
		}
	})
	return nil
}

// Close closes the organization: everyone is signed out, this owner too, and it is deleted
// after the grace period unless an owner signs in and reopens it.
func (h *Organization) Close(c *fiber.Ctx) error {
	confirm := utils.CopyString(c.FormValue("confirm_name"))
	ctx := c.UserContext()
	closed, err := h.Store.Close(ctx, confirm, h.Grace)
	if errs, ok := fieldErrors(err); ok {
		return h.render(c, fiber.StatusUnprocessableEntity, fragments.OrganizationProps{Errors: errs, Confirm: confirm})
	}
	if err != nil {
		return err
	}
	if err := h.Jobs.AddAt(ctx, closing.Purge{Who: jobs.WhoOf(ctx)}, closed.DeleteAfter); err != nil {
		return err
	}
	return htmx.FullRedirect(c, "/login")
}

// Reopen cancels the closing.
func (h *Organization) Reopen(c *fiber.Ctx) error {
	err := h.Store.Reopen(c.UserContext())
	if errs, ok := fieldErrors(err); ok {
		return h.render(c, fiber.StatusUnprocessableEntity, fragments.OrganizationProps{Errors: errs})
	}
	if err != nil {
		return err
	}
	return htmx.Redirect(c, "/settings/organization?notice=reopened")
}

func (h *Organization) exports(c *fiber.Ctx) (fragments.ExportsProps, error) {
	list, err := h.Exports.List(c.UserContext())
	if err != nil {
		return fragments.ExportsProps{}, err
	}
	p, _ := auth.FromContext(c.UserContext())
	return fragments.ExportsProps{Exports: list, Me: p.UserID, Now: time.Now()}, nil
}

func (h *Organization) render(c *fiber.Ctx, status int, props fragments.OrganizationProps) error {
	org, err := h.Store.Get(c.UserContext())
	if err != nil {
		return err
	}
	if props.Exports, err = h.exports(c); err != nil {
		return err
	}
	props.Name, props.Closing, props.Grace, props.CSRF = org.Name, org.Closing, h.Grace, middleware.CSRFToken(c)
	return htmx.Render(c, status, pages.Organization(meta(c, "Organization", "organization"), props), fragments.Organization(props))
}
