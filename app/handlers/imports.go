package handlers

import (
	"bytes"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"moat/app/htmx"
	"moat/app/imports"
	"moat/app/jobs"
	"moat/app/middleware"
	"moat/app/store"
	"moat/models"
	"moat/views/fragments"
	"moat/views/pages"
)

// Imports serves the customer imports: upload, map and check, import, undo.
type Imports struct {
	Store *store.Imports
	Jobs  *jobs.Queue
}

// ListImports shows the upload form and the organization's imports.
func (h *Imports) ListImports(c *fiber.Ctx) error {
	return h.list(c, fiber.StatusOK, nil)
}

func (h *Imports) list(c *fiber.Ctx, status int, errs map[string]string) error {
	batches, err := h.Store.List(c.UserContext())
	if err != nil {
		return err
	}
	p := fragments.ImportsProps{Batches: batches, Target: importTarget(c), Errors: errs, CSRF: middleware.CSRFToken(c)}
	return htmx.Render(c, status, pages.Imports(meta(c, "Import customers", "customers"), p), fragments.Imports(p))
}

// Upload takes a file (or pasted rows) in one request, as a form without JavaScript sends it;
// larger files come in parts (BeginUpload).
func (h *Imports) Upload(c *fiber.Ctx) error {
	var (
		name string
		body io.Reader
	)
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		name, body = fh.Filename, f
	} else {
		body = bytes.NewReader([]byte(utils.CopyString(c.FormValue("text"))))
	}
	b, err := h.Store.Upload(c.UserContext(), name, importTarget(c), body)
	if errs, ok := fieldErrors(err); ok {
		return h.list(c, fiber.StatusUnprocessableEntity, errs)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/imports/"+b.ID.String(), fiber.StatusSeeOther)
}

// importTarget is what the uploaded file holds, as the form (or the link to the page) says:
// customers unless products.
func importTarget(c *fiber.Ctx) string {
	if c.FormValue("target") == models.ImportProducts || c.Query("target") == models.ImportProducts {
		return models.ImportProducts
	}
	return models.ImportCustomers
}

// BeginUpload starts an upload in parts, as the page's script sends a large file: it answers
// the import's id; the parts follow (UploadPart), then FinishUpload.
func (h *Imports) BeginUpload(c *fiber.Ctx) error {
	id, err := h.Store.Begin(c.UserContext(), utils.CopyString(c.FormValue("name")), importTarget(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": id.String()})
}

// UploadPart stores one part of a file, the request's whole body.
func (h *Imports) UploadPart(c *fiber.Ctx) error {
	seq, err := strconv.Atoi(c.Params("seq"))
	if err != nil || seq < 0 {
		return models.ErrNotFound
	}
	err = h.Store.Append(c.UserContext(), utils.CopyString(c.Params("id")), seq, bytes.Clone(c.Body()))
	if errs, ok := fieldErrors(err); ok {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": errs["file"]})
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// FinishUpload ends an upload in parts and goes to the import's page.
func (h *Imports) FinishUpload(c *fiber.Ctx) error {
	b, err := h.Store.Finish(c.UserContext(), utils.CopyString(c.Params("id")))
	if errs, ok := fieldErrors(err); ok {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": errs["file"]})
	}
	if err != nil {
		return err
	}
	return c.Redirect("/imports/"+b.ID.String(), fiber.StatusSeeOther)
}

// ShowImport shows an import as it stands.
func (h *Imports) ShowImport(c *fiber.Ctx) error {
	return h.show(c, fiber.StatusOK, nil)
}

func (h *Imports) show(c *fiber.Ctx, status int, errs map[string]string) error {
	p, err := h.props(c)
	if err != nil {
		return err
	}
	p.Errors = errs
	return htmx.Render(c, status, pages.Import(meta(c, p.Batch.FileName, "customers"), p), fragments.Import(p))
}

func (h *Imports) props(c *fiber.Ctx) (fragments.ImportProps, error) {
	id := utils.CopyString(c.Params("id"))
	b, rejected, err := h.Store.Get(c.UserContext(), id)
	if err != nil {
		return fragments.ImportProps{}, err
	}
	p := fragments.ImportProps{Batch: b, Rejected: rejected, CSRF: middleware.CSRFToken(c)}
	if b.Status == models.ImportReverted {
		if p.Kept, err = h.Store.Kept(c.UserContext(), b); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Progress is an import's status, which its page polls while the import runs; once it has
// stopped, the whole page is loaded again to show the outcome.
func (h *Imports) Progress(c *fiber.Ctx) error {
	p, err := h.props(c)
	if err != nil {
		return err
	}
	if !p.Batch.Running() && htmx.IsRequest(c) {
		c.Set(htmx.HeaderRefresh, "true")
	}
	return htmx.Render(c, fiber.StatusOK, fragments.ImportStatus(p), fragments.ImportStatus(p))
}

// Check maps the columns, chooses how rows become customers, and starts the check.
func (h *Imports) Check(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	set := store.ImportSettings{Mapping: map[string]string{}, Mode: utils.CopyString(c.FormValue("mode")), Key: utils.CopyString(c.FormValue("key"))}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		if col, ok := strings.CutPrefix(string(k), "column_"); ok && len(set.Mapping) < 1000 {
			set.Mapping[col] = string(v)
		}
	})
	err := h.Store.Configure(c.UserContext(), id, set)
	if errs, ok := fieldErrors(err); ok {
		return h.show(c, fiber.StatusUnprocessableEntity, errs)
	}
	if err != nil {
		return err
	}
	return h.queue(c, id, func(who jobs.Who, batch uuid.UUID) river.JobArgs { return imports.Check{Who: who, Batch: batch} })
}

// Run starts importing a checked file.
func (h *Imports) Run(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	if err := h.Store.Start(c.UserContext(), id); err != nil {
		return h.refused(c, err)
	}
	return h.queue(c, id, func(who jobs.Who, batch uuid.UUID) river.JobArgs { return imports.Run{Who: who, Batch: batch} })
}

// Undo starts undoing an import.
func (h *Imports) Undo(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	if err := h.Store.StartUndo(c.UserContext(), id); err != nil {
		return h.refused(c, err)
	}
	return h.queue(c, id, func(who jobs.Who, batch uuid.UUID) river.JobArgs { return imports.Undo{Who: who, Batch: batch} })
}

// refused shows the import again with why a step was refused, or hands err on.
func (h *Imports) refused(c *fiber.Ctx, err error) error {
	if errs, ok := fieldErrors(err); ok {
		return h.show(c, fiber.StatusUnprocessableEntity, errs)
	}
	return err
}

// queue queues the import's job and goes to its page.
func (h *Imports) queue(c *fiber.Ctx, id string, job func(jobs.Who, uuid.UUID) river.JobArgs) error {
	batch := models.ParseID(id)
	if err := imports.Enqueue(c.UserContext(), h.Jobs, h.Store, job(jobs.WhoOf(c.UserContext()), batch), batch); err != nil {
		return err
	}
	return htmx.Redirect(c, "/imports/"+batch.String())
}

// ErrorFile downloads the file with a column saying why each refused row was refused.
func (h *Imports) ErrorFile(c *fiber.Ctx) error {
	var buf bytes.Buffer
	if err := h.Store.ErrorFile(c.UserContext(), utils.CopyString(c.Params("id")), &buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="refused-rows.csv"`)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	return c.Send(buf.Bytes())
}
