package handlers

import (
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"

	"moat/app/audit"
	"moat/app/htmx"
	"moat/models"
	"moat/views/components"
	"moat/views/fragments"
	"moat/views/pages"
)

// Audit serves the tenant's audit trail.
type Audit struct {
	Reader *audit.Reader
	Log    *slog.Logger
}

// auditActions and auditEntities are what the filters accept, from the registry; anything
// else is ignored.
var (
	auditActions  = registeredActions()
	auditEntities = audit.Entities()
)

// kindLabels name the kinds of action as the action filter groups them.
var kindLabels = []struct {
	Kind  audit.Kind
	Label string
}{{audit.KindChange, "Changes"}, {audit.KindView, "Views"}, {audit.KindAccess, "Sign-ins and refusals"}, {audit.KindExport, "Exports"}}

// actionChoices are the registry's actions in words, grouped by kind.
var actionChoices = func() []fragments.LabelledGroup {
	var out []fragments.LabelledGroup
	for _, k := range kindLabels {
		g := fragments.LabelledGroup{Label: k.Label}
		for _, m := range audit.Actions() {
			if m.Kind == k.Kind {
				g.Choices = append(g.Choices, fragments.Labelled{Value: string(m.Action), Label: m.Words()})
			}
		}
		out = append(out, g)
	}
	return out
}()

func registeredActions() []audit.Action {
	var out []audit.Action
	for _, m := range audit.Actions() {
		out = append(out, m.Action)
	}
	return out
}

// filter reads the trail's filters from the query string; odd values are ignored.
func filter(c *fiber.Ctx) (audit.Filter, fragments.AuditFilter) {
	var f audit.Filter
	var v fragments.AuditFilter
	if id, err := uuid.Parse(c.Query("person")); err == nil {
		f.UserID, v.Person = id, id.String()
	}
	// Filter values are taken from the fixed lists, never from the request's buffers: the CSV
	// export uses them after the handler returns.
	if i := slices.Index(auditActions, audit.Action(c.Query("action"))); i >= 0 {
		f.Action, v.Action = auditActions[i], string(auditActions[i])
	}
	if i := slices.Index(auditEntities, audit.Entity(c.Query("entity"))); i >= 0 {
		f.Entity, v.Entity = auditEntities[i], string(auditEntities[i])
	}
	for _, o := range []models.Outcome{models.OutcomeAllowed, models.OutcomeDenied, models.OutcomeRejected} {
		if c.Query("outcome") == string(o) {
			f.Outcome, v.Outcome = o, string(o)
		}
	}
	if id, err := uuid.Parse(c.Query("record")); err == nil {
		f.EntityID, v.Record = id.String(), id.String()
	}
	for _, g := range audit.Groups {
		if c.Query("what") == string(g.Group) {
			f.Group, v.Group = g.Group, string(g.Group)
		}
	}
	// Cleaned of what PostgreSQL refuses (a NUL, bytes that are not UTF-8), which would fail the page.
	if raw := c.Query("customer"); utf8.RuneCountInString(raw) <= 100 {
		if words := strings.TrimSpace(audit.Clean(raw, 100)); words != "" {
			f.Customer, v.Customer = utils.CopyString(words), utils.CopyString(words)
		}
	}
	if d, err := time.Parse(time.DateOnly, c.Query("from")); err == nil {
		f.From, v.From = d, d.Format(time.DateOnly)
	}
	if d, err := time.Parse(time.DateOnly, c.Query("to")); err == nil {
		f.To, v.To = d.AddDate(0, 0, 1), d.Format(time.DateOnly) // the whole "to" day
	}
	f.Before = utils.CopyString(c.Query("before"))
	return f, v
}

// query is the filter as URL parameters, for links that keep it.
func query(v fragments.AuditFilter) url.Values {
	q := url.Values{}
	for k, val := range map[string]string{"person": v.Person, "action": v.Action, "entity": v.Entity, "outcome": v.Outcome,
		"from": v.From, "to": v.To, "record": v.Record, "what": v.Group, "customer": v.Customer} {
		if val != "" {
			q.Set(k, val)
		}
	}
	return q
}

// link is the trail at v, as a URL.
func link(v fragments.AuditFilter) string {
	if q := query(v); len(q) > 0 {
		return "/audit?" + q.Encode()
	}
	return "/audit"
}

// groups are the links to each group of events, keeping the other filters.
func groups(v fragments.AuditFilter) []fragments.QuickFilter {
	all := v
	all.Group = ""
	out := []fragments.QuickFilter{{Label: "All", URL: link(all), Active: v.Group == ""}}
	for _, g := range audit.Groups {
		at := v
		at.Group = string(g.Group)
		out = append(out, fragments.QuickFilter{Label: g.Label, URL: link(at), Active: v.Group == at.Group})
	}
	return out
}

// ListAudit shows a page of the trail, newest first, as sentences, filtered by person, group,
// action, customer, record and dates.
func (h *Audit) ListAudit(c *fiber.Ctx) error {
	f, v := filter(c)
	page, err := h.Reader.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	if n, ok := page.Names[audit.NameKey(string(f.Entity), f.EntityID)]; ok && f.EntityID != "" {
		v.RecordName = n.Text
	}
	everyRecord := v
	everyRecord.Entity, everyRecord.Record = "", ""
	props := fragments.AuditProps{
		Filter: v, Groups: groups(v), Actions: actionChoices, People: page.People, Customers: page.Customers,
		Refusals: page.Refusals, Clear: link(everyRecord), Pager: components.PagerProps{Target: "audit-results"},
	}
	for _, e := range page.Events {
		props.Rows = append(props.Rows, fragments.AuditRowOf(e, page.Names))
	}
	q := query(v)
	props.Export = "/audit/export"
	if len(q) > 0 {
		props.Export += "?" + q.Encode()
	}
	if f.Before != "" {
		props.Pager.Prev = "/audit"
		if len(q) > 0 {
			props.Pager.Prev += "?" + q.Encode()
		}
		props.Pager.PrevLabel = "← Newest"
	}
	if page.Next != "" {
		q.Set("before", page.Next)
		props.Pager.Next = "/audit?" + q.Encode()
	}
	return htmx.Render(c, fiber.StatusOK, pages.Audit(meta(c, "Audit trail", "audit"), props), fragments.AuditResults(props))
}

// ExportAudit streams the filtered trail as CSV.
func (h *Audit) ExportAudit(c *fiber.Ctx) error {
	f, _ := filter(c)
	f.Before = ""
	ctx := c.UserContext()
	if err := h.Reader.RecordExport(ctx, f); err != nil {
		return err
	}
	streamCSV(c, "audit-trail", h.Log, func(w io.Writer) error { return h.Reader.Export(ctx, f, w) })
	return nil
}
