package handlers

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"moat/app/audit"
	"moat/app/htmx"
	"moat/models"
	"moat/views/components"
	"moat/views/fragments"
	"moat/views/pages"
)

// Audit serves the tenant's audit trail.
type Audit struct{ Reader *audit.Reader }

// auditActions are the actions the filter offers; anything else is ignored.
var auditActions = []string{
	"auth.sign_in", "auth.sign_out", "tenant.sign_up", "customer.list", "customer.view",
	"customer.create", "customer.update", "customer.delete", "audit.list", "page.view", "request.csrf",
}

// ListAudit shows a page of the trail, newest first, filtered by action and outcome.
func (h *Audit) ListAudit(c *fiber.Ctx) error {
	f := audit.Filter{Page: pageNumber(c)}
	for _, a := range auditActions {
		if c.Query("action") == a {
			f.Action = a
		}
	}
	switch o := models.Outcome(c.Query("outcome")); o {
	case models.OutcomeAllowed, models.OutcomeDenied, models.OutcomeRejected:
		f.Outcome = o
	}
	page, err := h.Reader.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	props := fragments.AuditProps{
		Action: f.Action, Outcome: string(f.Outcome), Actions: auditActions,
		Pager: components.PagerProps{Page: page.Page, Target: "audit-results"},
	}
	for _, e := range page.Events {
		props.Rows = append(props.Rows, fragments.AuditRow{
			When: e.OccurredAt, Who: e.UserName, Action: e.Action, Entity: e.Entity, EntityID: e.EntityID,
			Outcome: e.Outcome, IP: e.IP, Details: string(e.Details),
		})
	}
	if page.Page > 1 {
		props.Pager.Prev = auditURL(f, page.Page-1)
	}
	if page.HasNext {
		props.Pager.Next = auditURL(f, page.Page+1)
	}
	return htmx.Render(c, fiber.StatusOK, pages.Audit(meta(c, "Audit trail", "audit"), props), fragments.AuditResults(props))
}

func auditURL(f audit.Filter, page int) string {
	v := url.Values{}
	if f.Action != "" {
		v.Set("action", f.Action)
	}
	if f.Outcome != "" {
		v.Set("outcome", string(f.Outcome))
	}
	v.Set("page", strconv.Itoa(page))
	return "/audit?" + v.Encode()
}
