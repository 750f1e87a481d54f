package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/htmx"
	"moat/app/middleware"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
	"moat/views/components"
	"moat/views/fragments"
	"moat/views/pages"
)

// Customers serves the customer pages.
type Customers struct {
	DB       *store.DB // for the transaction a page's reads share
	Store    *store.Customers
	Invoices *store.Invoices
	Tags     *store.Tags
	History  *audit.Reader
	Log      *slog.Logger
}

// historyLength is how many events and notes a customer's timeline shows.
const historyLength = 50

// ListCustomers shows a page of customers: filters, order and page all come from the URL.
func (h *Customers) ListCustomers(c *fiber.Ctx) error {
	lq := listQuery(c)
	page, err := h.Store.List(c.UserContext(), lq)
	if err != nil {
		return err
	}
	props := fragments.CustomerListProps{
		Customers: page.Customers,
		State:     stateOf(page.Query),
		Total:     page.Total,
		Capped:    page.Total > store.CountCap,
		Columns:   page.Columns,
		Tags:      page.Tags,
		CSRF:      middleware.CSRFToken(c),
		Pager:     components.PagerProps{Page: page.Query.Page, Target: "customer-results"},
	}
	if page.Query.Page > 1 {
		props.Pager.Prev = props.State.URL(page.Query.Page-1, "")
	}
	if page.Next != "" {
		props.Pager.Next = props.State.URL(page.Query.Page+1, page.Next)
	}
	return htmx.Render(c, fiber.StatusOK, pages.Customers(meta(c, "Customers", "customers"), props), fragments.CustomerResults(props))
}

// listQuery reads the list's state from the URL. Values that do not parse are dropped by the
// store, never trusted.
func listQuery(c *fiber.Ctx) store.ListQuery {
	return store.ListQuery{
		Filter: filterOf(c.Query),
		Sort:   utils.CopyString(c.Query("sort")),
		Desc:   c.Query("dir") == "desc",
		Page:   pageNumber(c),
		After:  utils.CopyString(c.Query("after")),
	}
}

// filterOf reads a filter through get, a query or form accessor.
func filterOf(get func(string, ...string) string) store.Filter {
	return store.Filter{
		Search: utils.CopyString(get("q")),
		Kind:   models.CustomerKind(utils.CopyString(get("kind"))),
		Tag:    utils.CopyString(get("tag")),
		From:   utils.CopyString(get("from")),
		To:     utils.CopyString(get("to")),
	}
}

func stateOf(lq store.ListQuery) fragments.ListState {
	return fragments.ListState{Search: lq.Search, Kind: string(lq.Kind), Tag: lq.Tag, From: lq.From, To: lq.To, Sort: lq.Sort, Desc: lq.Desc}
}

// ShowCustomer shows one customer: the record, possible duplicates, and its timeline of notes
// and changes.
func (h *Customers) ShowCustomer(c *fiber.Ctx) error {
	return h.detail(c, fiber.StatusOK, utils.CopyString(c.Params("id")), nil)
}

// detail renders the customer page with status; errs are its forms' errors, if any: the
// note's body and the erasure's reason.
func (h *Customers) detail(c *fiber.Ctx, status int, id string, errs map[string]string) error {
	props := fragments.CustomerDetailProps{CSRF: middleware.CSRFToken(c), NoteError: errs["body"], EraseError: errs["reason"],
		CanPurge: canPurge(c), CanSeeTrail: canSeeTrail(c), CanErase: canSeeTrail(c), TimelinePart: timelinePart(c)}
	// The record, then its timeline, invoices and possible duplicates: one transaction, whose
	// reads after the record go out together, with its audit row and COMMIT.
	var events []audit.Entry
	var notes []store.Note
	var views []audit.Viewings
	var invoices store.CustomerInvoices
	err := h.DB.Read(c.UserContext(), func(ctx context.Context, r *tenant.Reads) error {
		var err error
		if props.Customer, err = h.Store.Get(ctx, id); err != nil {
			return err
		}
		cid := props.Customer.ID.String()
		h.History.QueueHistory(r, audit.EntityCustomer, cid, historyLength, &events)
		h.Store.QueueNotes(r, cid, historyLength, &notes)
		h.History.QueueViews(r, audit.EntityCustomer, cid, fragments.ViewDays, &views, &props.Viewers)
		h.Invoices.QueueForCustomer(r, props.Customer.ID, 10, &invoices)
		return h.Store.QueueKeptDuplicates(r, props.Customer, &props.Duplicates)
	})
	if err != nil {
		return err
	}
	if !props.CanSeeTrail {
		props.Viewers = nil
	}
	props.Timeline = timeline(events, notes, views)
	today := time.Now().UTC()
	for _, inv := range invoices.Invoices {
		props.Invoices = append(props.Invoices, rowView(inv, props.Customer.Name, today))
	}
	for _, o := range invoices.Outstanding {
		props.Outstanding = append(props.Outstanding, fragments.MoneyTotal{Currency: o.Currency, Total: format(o.Total, o.Currency), Due: format(o.Due, o.Currency)})
	}
	cust := props.Customer
	frag := fragments.CustomerDetail(props)
	return htmx.Render(c, status, pages.Page(meta(c, cust.Name, "customers"), frag), frag)
}

// timeline merges a customer's notes and audited changes, newest first, with its views folded.
func timeline(events []audit.Entry, notes []store.Note, views []audit.Viewings) []fragments.TimelineEntry {
	out := make([]fragments.TimelineEntry, 0, len(events)+len(notes)+len(views))
	for _, v := range views {
		out = append(out, fragments.TimelineEntry{When: v.Times[0], Who: v.UserName, Views: v.Count, ViewTimes: v.Times})
	}
	for _, n := range notes {
		out = append(out, fragments.TimelineEntry{When: n.CreatedAt, Who: n.Author, Note: n.Body})
	}
	for _, e := range events {
		if audit.Action(e.Action) == audit.CustomerNote && e.Outcome == models.OutcomeAllowed {
			continue // the note itself is in the timeline
		}
		t := fragments.TimelineEntry{When: e.OccurredAt, Who: e.UserName, Action: e.Action, Outcome: e.Outcome}
		if tag, ok := taggedWith(e); ok {
			t.Changes = append(t.Changes, tag)
		}
		var changes map[string]struct{ From, To string }
		if e.Outcome == models.OutcomeAllowed && json.Unmarshal(e.Details, &changes) == nil {
			for _, field := range store.Fields {
				if ch, ok := changes[field]; ok {
					t.Changes = append(t.Changes, fragments.Change{Field: field, From: ch.From, To: ch.To})
				}
			}
		}
		out = append(out, t)
	}
	fragments.SortTimeline(out)
	return out
}

// timelinePart is the part of the timeline the page asks for: changes, notes, views, or all.
func timelinePart(c *fiber.Ctx) string {
	for _, p := range fragments.TimelineParts {
		if c.Query("timeline") == p.Value {
			return p.Value
		}
	}
	return ""
}

// taggedWith is the tag a bulk tag or untag event put on or took off, as a change.
func taggedWith(e audit.Entry) (fragments.Change, bool) {
	var d struct{ Tag string }
	if a := audit.Action(e.Action); a != audit.CustomerTag && a != audit.CustomerUntag || json.Unmarshal(e.Details, &d) != nil || d.Tag == "" {
		return fragments.Change{}, false
	}
	if audit.Action(e.Action) == audit.CustomerTag {
		return fragments.Change{Field: "tags", To: "+ " + d.Tag}, true
	}
	return fragments.Change{Field: "tags", From: d.Tag}, true
}

// AddNote adds a note to a customer's timeline.
func (h *Customers) AddNote(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	err := h.Store.AddNote(c.UserContext(), id, models.NoteInput{Body: utils.CopyString(c.FormValue("body"))})
	if errs, ok := fieldErrors(err); ok {
		return h.detail(c, fiber.StatusUnprocessableEntity, id, errs)
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Note added.")
	return htmx.Redirect(c, "/customers/"+id)
}

// EraseCustomer erases a customer's personal data on request, saying why.
func (h *Customers) EraseCustomer(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	err := h.Store.Erase(c.UserContext(), id, utils.CopyString(c.FormValue("reason")))
	if errs, ok := fieldErrors(err); ok {
		return h.detail(c, fiber.StatusUnprocessableEntity, id, errs)
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Personal data erased.")
	return htmx.Redirect(c, "/customers/"+id)
}

// NewCustomer shows the empty form.
func (h *Customers) NewCustomer(c *fiber.Ctx) error {
	return h.form(c, fiber.StatusOK, fragments.CustomerFormProps{
		Title: "New customer", Action: "/customers", Cancel: "/customers", Input: models.CustomerInput{Kind: models.KindCompany, Currency: "EUR", PaymentTerms: "30"},
	})
}

// CreateCustomer adds a customer, or re-renders the form with 422.
func (h *Customers) CreateCustomer(c *fiber.Ctx) error {
	in := bindCustomer(c)
	cust, err := h.Store.Create(c.UserContext(), in)
	if errs, ok := fieldErrors(err); ok {
		return h.form(c, fiber.StatusUnprocessableEntity, fragments.CustomerFormProps{
			Title: "New customer", Action: "/customers", Cancel: "/customers", Input: in, Errors: errs,
		})
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Customer "+cust.Number+" added.")
	return htmx.Redirect(c, "/customers/"+cust.ID.String())
}

// EditCustomer shows the filled form.
func (h *Customers) EditCustomer(c *fiber.Ctx) error {
	cust, err := h.Store.Get(c.UserContext(), utils.CopyString(c.Params("id")))
	if err != nil {
		return err
	}
	return h.form(c, fiber.StatusOK, editProps(cust, models.InputOf(cust), nil))
}

// UpdateCustomer saves an edit (POST or PUT), or re-renders the form with 422.
func (h *Customers) UpdateCustomer(c *fiber.Ctx) error {
	in := bindCustomer(c)
	cust, err := h.Store.Update(c.UserContext(), utils.CopyString(c.Params("id")), in)
	if errs, ok := fieldErrors(err); ok {
		return h.form(c, fiber.StatusUnprocessableEntity, editProps(cust, in, errs))
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Changes saved.")
	return htmx.Redirect(c, "/customers/"+cust.ID.String())
}

// CheckDuplicates answers the form's live duplicate warning: the customers of this tenant the
// typed record may repeat. It never blocks saving.
func (h *Customers) CheckDuplicates(c *fiber.Ctx) error {
	in := bindCustomer(c)
	except, _ := uuid.Parse(c.FormValue("except")) // the record being edited; nil excludes nothing
	dups, err := h.Store.Duplicates(c.UserContext(), in, except)
	if err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return fragments.Duplicates(dups).Render(c.UserContext(), c.Response().BodyWriter())
}

// DeleteCustomer moves a customer to the trash. The plain form's POST goes back to the list;
// htmx's DELETE from a list row gets an empty 200, so the row disappears in place.
func (h *Customers) DeleteCustomer(c *fiber.Ctx) error {
	if err := h.Store.Trash(c.UserContext(), utils.CopyString(c.Params("id"))); err != nil {
		return err
	}
	htmx.Toast(c, "Moved to the trash.")
	if c.Method() == fiber.MethodDelete && htmx.IsRequest(c) {
		return c.SendString("")
	}
	return htmx.Redirect(c, "/customers")
}

func (h *Customers) form(c *fiber.Ctx, status int, p fragments.CustomerFormProps) error {
	p.CSRF = middleware.CSRFToken(c)
	tags, err := h.Tags.List(c.UserContext())
	if err != nil {
		return err
	}
	for _, t := range tags {
		p.Tags = append(p.Tags, t.Tag)
	}
	return htmx.Render(c, status, pages.CustomerForm(meta(c, p.Title, "customers"), p), fragments.CustomerForm(p))
}

func editProps(cust models.Customer, in models.CustomerInput, errs map[string]string) fragments.CustomerFormProps {
	u := "/customers/" + cust.ID.String()
	return fragments.CustomerFormProps{Title: "Edit " + cust.Name, Action: u, HXPut: true, Cancel: u, Input: in, Errors: errs, ID: cust.ID.String()}
}

// bindCustomer reads the customer fields from a form or JSON body into a struct that has no
// tenant and no id. A body that does not parse binds nothing, so validation reports it.
func bindCustomer(c *fiber.Ctx) models.CustomerInput {
	var in models.CustomerInput
	if err := c.BodyParser(&in); err != nil {
		return models.CustomerInput{}
	}
	// Fiber's parsed values point into its reused request buffers: copy each.
	copies := func(ss []string) []string {
		for i := range ss {
			ss[i] = utils.CopyString(ss[i])
		}
		return ss
	}
	in.Kind = models.CustomerKind(utils.CopyString(string(in.Kind)))
	in.Number, in.Name, in.Company = utils.CopyString(in.Number), utils.CopyString(in.Name), utils.CopyString(in.Company)
	in.Emails, in.EmailTypes = copies(in.Emails), copies(in.EmailTypes)
	in.Phones, in.PhoneTypes = copies(in.Phones), copies(in.PhoneTypes)
	in.Website, in.TaxID = utils.CopyString(in.Website), utils.CopyString(in.TaxID)
	in.BillingAddress, in.ShippingAddress = utils.CopyString(in.BillingAddress), utils.CopyString(in.ShippingAddress)
	in.Currency, in.PaymentTerms = utils.CopyString(in.Currency), utils.CopyString(in.PaymentTerms)
	in.TagIDs, in.Notes = copies(in.TagIDs), utils.CopyString(in.Notes)
	return in
}

// canPurge reports whether the person may empty the trash for good: owners only.
func canPurge(c *fiber.Ctx) bool {
	p, ok := auth.FromContext(c.UserContext())
	return ok && p.Role == models.RoleOwner
}

// canSeeTrail reports whether the signed-in person may read the audit trail.
func canSeeTrail(c *fiber.Ctx) bool {
	p, ok := auth.FromContext(c.UserContext())
	return ok && p.Role.ManagesTeam()
}
