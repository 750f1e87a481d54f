package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"

	"moat/app/auth"
	"moat/app/htmx"
	"moat/app/middleware"
	"moat/app/money"
	"moat/app/store"
	"moat/models"
	"moat/static"
	"moat/views/components"
	"moat/views/fragments"
	"moat/views/pages"
)

// Printer renders a document's HTML to PDF.
type Printer interface {
	Print(ctx context.Context, html string) ([]byte, error)
}

// Invoices serves the invoice pages.
type Invoices struct {
	DB        *store.DB
	Store     *store.Invoices
	Customers *store.Customers
	Products  *store.Products
	Printer   Printer
	Log       *slog.Logger
	Now       func() time.Time
}

func (h *Invoices) today() time.Time { return h.Now().UTC() }

// ListInvoices shows a page of invoices: filters and page come from the URL.
func (h *Invoices) ListInvoices(c *fiber.Ctx) error {
	q := store.InvoiceQuery{InvoiceFilter: invoiceFilter(c), After: utils.CopyString(c.Query("after"))}
	page, err := h.Store.List(c.UserContext(), q)
	if err != nil {
		return err
	}
	state := listState(page.Query.InvoiceFilter)
	props := fragments.InvoiceListProps{State: state, Count: page.Count, Capped: page.Count > store.CountCap,
		Export: "/invoices/export" + queryOf(state, ""), Pager: components.PagerProps{Page: 1, Target: "invoice-results"}}
	for _, r := range page.Invoices {
		props.Rows = append(props.Rows, rowView(r.Invoice, r.Customer(), h.today()))
	}
	for _, t := range page.Totals {
		props.Totals = append(props.Totals, fragments.MoneyTotal{Currency: t.Currency, Total: format(t.Total, t.Currency), Due: format(t.Due, t.Currency)})
	}
	if page.Paged {
		props.Pager.Page, props.Pager.Prev, props.Pager.PrevLabel = 2, "/invoices"+queryOf(state, ""), "← Newest"
	}
	if page.Next != "" {
		props.Pager.Next = "/invoices" + queryOf(state, page.Next)
	}
	return htmx.Render(c, fiber.StatusOK, pages.Invoices(meta(c, "Invoices", "invoices"), props), fragments.InvoiceResults(props))
}

// ExportInvoices streams the filtered invoices as CSV.
func (h *Invoices) ExportInvoices(c *fiber.Ctx) error {
	f := invoiceFilter(c)
	ctx := c.UserContext()
	if err := h.Store.RecordExport(ctx, f); err != nil {
		return err
	}
	streamCSV(c, "invoices", h.Log, func(w io.Writer) error { return h.Store.Export(ctx, f, w) })
	return nil
}

func invoiceFilter(c *fiber.Ctx) store.InvoiceFilter {
	return store.InvoiceFilter{
		Search: utils.CopyString(c.Query("q")), Status: models.InvoiceStatus(utils.CopyString(c.Query("status"))),
		Overdue: c.Query("overdue") == "1", From: utils.CopyString(c.Query("from")), To: utils.CopyString(c.Query("to")),
		Customer: utils.CopyString(c.Query("customer")),
	}
}

func listState(f store.InvoiceFilter) fragments.InvoiceListState {
	return fragments.InvoiceListState{Search: f.Search, Status: string(f.Status), Overdue: f.Overdue, From: f.From, To: f.To, Customer: f.Customer}
}

// queryOf is the list's state as a query string ("" or "?..."), with a cursor when given.
func queryOf(s fragments.InvoiceListState, after string) string {
	v := url.Values{}
	for k, val := range map[string]string{"q": s.Search, "status": s.Status, "from": s.From, "to": s.To, "customer": s.Customer, "after": after} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if s.Overdue {
		v.Set("overdue", "1")
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func rowView(inv models.Invoice, customer string, today time.Time) fragments.InvoiceRowView {
	r := fragments.InvoiceRowView{ID: inv.ID.String(), Title: inv.Title(), Kind: inv.Kind, Status: inv.Status, Overdue: inv.Overdue(today),
		Customer: customer, Total: format(inv.Total, inv.Currency), Due: format(inv.Due(), inv.Currency)}
	if inv.IssueDate != nil {
		r.IssueDate = inv.IssueDate.Format(time.DateOnly)
	}
	if inv.DueDate != nil && inv.Kind == models.KindInvoice {
		r.DueDate = inv.DueDate.Format(time.DateOnly)
	}
	return r
}

// skuOf is the SKU of the product l sells, or "".
func skuOf(d store.InvoiceDetail, l models.InvoiceLine) string {
	if l.ProductID == nil {
		return ""
	}
	return d.SKUs[*l.ProductID]
}

// placeOf is the warehouse l's goods leave (or return to), or "".
func placeOf(d store.InvoiceDetail, l models.InvoiceLine) string {
	if l.WarehouseID == nil {
		return ""
	}
	return d.Places[*l.WarehouseID]
}

// format shows n in currency code: €1,234.50.
func format(n, code string) string { return money.Format(money.Amount(n, code)) }

// ShowInvoice shows one invoice with its payments and what can be done next.
func (h *Invoices) ShowInvoice(c *fiber.Ctx) error {
	return h.detail(c, fiber.StatusOK, utils.CopyString(c.Params("id")), models.PaymentInput{}, nil)
}

// detail renders an invoice's page with status; errs are the payment form's, or a refused
// action's (under "invoice").
func (h *Invoices) detail(c *fiber.Ctx, status int, id string, pay models.PaymentInput, errs map[string]string) error {
	d, err := h.Store.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	props := detailProps(d, h.today())
	props.CSRF, props.Errors, props.Problem = middleware.CSRFToken(c), errs, errs["invoice"]
	if pr, ok := auth.FromContext(c.UserContext()); ok {
		props.CanCorrect = pr.Role.ManagesTeam()
	}
	if pay.Method != "" || pay.Amount != "" {
		props.Payment = pay
	}
	frag := fragments.InvoiceDetail(props)
	return htmx.Render(c, status, pages.Page(meta(c, d.Title(), "invoices"), frag), frag)
}

func detailProps(d store.InvoiceDetail, today time.Time) fragments.InvoiceDetailProps {
	cur := d.Currency
	p := fragments.InvoiceDetailProps{Invoice: d.Invoice, Overdue: d.Overdue(today), Document: d.Document,
		Net: money.Format(d.Totals.Net), Tax: money.Format(d.Totals.Tax), Total: money.Format(d.Totals.Total),
		Due: format(d.Due(), cur), Methods: models.PaymentMethods, Today: today.Format(time.DateOnly),
		Payment: models.PaymentInput{Method: models.PaymentMethods[0], PaidOn: today.Format(time.DateOnly)}}
	if d.Status != models.StatusDraft {
		// What was issued: the stored amounts and the snapshot of the customer.
		p.Net, p.Tax, p.Total, p.Customer = format(d.NetTotal, cur), format(d.TaxTotal, cur), format(d.Total, cur), d.CustomerName
	}
	if d.Customer != nil {
		p.CustomerURL = "/customers/" + d.Customer.ID.String()
		if p.Customer == "" {
			p.Customer = d.Customer.Name
		}
	}
	if !money.Amount(d.AmountPaid, cur).IsZero() {
		p.Paid = format(d.AmountPaid, cur)
	}
	if !money.Amount(d.AmountCredited, cur).IsZero() {
		p.Credited = format(d.AmountCredited, cur)
	}
	for i, l := range d.Lines {
		lv := fragments.InvoiceLineView{Description: l.Description, Quantity: money.Trim(l.Quantity), SKU: skuOf(d, l), Place: placeOf(d, l),
			UnitPrice: money.Price(l.UnitPrice, cur), TaxRate: money.Trim(l.TaxRate), Net: money.Format(d.Totals.Lines[i].Net)}
		if d.Status != models.StatusDraft {
			lv.Net = format(l.Net, cur)
		}
		p.HasGoods = p.HasGoods || l.WarehouseID != nil
		if disc := money.Trim(l.Discount); disc != "0" {
			lv.Discount = disc + " %"
		}
		p.Lines = append(p.Lines, lv)
	}
	for _, r := range d.Totals.ByRate {
		p.ByRate = append(p.ByRate, fragments.RateView{Rate: r.Rate, Net: money.Format(r.Net), Tax: money.Format(r.Tax)})
	}
	for _, pay := range d.Payments {
		p.Payments = append(p.Payments, fragments.PaymentView{PaidOn: pay.PaidOn.Format(time.DateOnly), Amount: format(pay.Amount, cur),
			Method: pay.Method, Reference: pay.Reference})
	}
	for _, cn := range d.Credits {
		p.Credits = append(p.Credits, fragments.InvoiceLink{ID: cn.ID.String(), Title: cn.Title(), Total: format(cn.Total, cn.Currency)})
	}
	if d.Original != nil {
		p.Original = &fragments.InvoiceLink{ID: d.Original.ID.String(), Title: d.Original.Title(), Total: format(d.Original.Total, cur)}
	}
	return p
}

// NewInvoice shows the draft editor: first the customer search (q), then, with a customer,
// the form, with the customer's currency and payment terms.
func (h *Invoices) NewInvoice(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p := fragments.InvoiceFormProps{Title: "New invoice", Action: "/invoices", Cancel: "/invoices"}
	if id := c.Query("customer"); id != "" {
		cust, err := h.Customers.Get(ctx, utils.CopyString(id))
		if err != nil {
			return err
		}
		p.Customer = choiceOf(cust)
		p.Input = models.InvoiceInput{CustomerID: cust.ID.String(), Currency: cust.Currency, PaymentTerms: strconv.Itoa(cust.PaymentTerms),
			ExchangeRate: "1", Rounding: money.PerLine, Lines: []models.LineInput{{Quantity: "1", Discount: "0", TaxRate: "20"}}}
		p.Cancel = "/customers/" + cust.ID.String()
	} else if q := strings.TrimSpace(c.Query("q")); q != "" {
		p.Search = utils.CopyString(q)
		page, err := h.Customers.List(ctx, store.ListQuery{Filter: store.Filter{Search: p.Search}})
		if err != nil {
			return err
		}
		for _, cust := range page.Customers {
			p.Choices = append(p.Choices, choiceOf(cust))
		}
	}
	return h.form(c, fiber.StatusOK, p)
}

func choiceOf(c models.Customer) fragments.CustomerChoice {
	return fragments.CustomerChoice{ID: c.ID.String(), Name: c.Name, Number: c.Number}
}

// CreateInvoice saves a new draft, or re-renders the form: with 422 when it is invalid, or with
// a line more or fewer when that was what the button asked.
func (h *Invoices) CreateInvoice(c *fiber.Ctx) error {
	in := bindInvoice(c)
	p := fragments.InvoiceFormProps{Title: "New invoice", Action: "/invoices", Cancel: "/invoices"}
	if edited, ok := editLines(c, &in); ok {
		return h.refill(c, fiber.StatusOK, p, edited, nil)
	}
	typed := in
	inv, err := h.Store.CreateDraft(c.UserContext(), in)
	if errs, ok := fieldErrors(err); ok {
		return h.refill(c, fiber.StatusUnprocessableEntity, p, validated(typed), errs)
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Draft saved.")
	return htmx.Redirect(c, "/invoices/"+inv.ID.String())
}

// EditInvoice shows a draft's editor; a finalized invoice has none.
func (h *Invoices) EditInvoice(c *fiber.Ctx) error {
	d, err := h.Store.Get(c.UserContext(), utils.CopyString(c.Params("id")))
	if err != nil {
		return err
	}
	if d.Status != models.StatusDraft {
		return htmx.Redirect(c, "/invoices/"+d.ID.String())
	}
	u := "/invoices/" + d.ID.String()
	p := fragments.InvoiceFormProps{Title: "Edit " + d.Title(), Action: u, Cancel: u, Input: models.InvoiceInputOf(d.Invoice, d.Lines)}
	if d.Customer != nil {
		p.Customer = choiceOf(*d.Customer)
	} else {
		p.Customer = fragments.CustomerChoice{ID: d.CustomerID.String(), Name: "(in the trash)"}
	}
	return h.form(c, fiber.StatusOK, p)
}

// UpdateInvoice saves a draft, like CreateInvoice.
func (h *Invoices) UpdateInvoice(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	in := bindInvoice(c)
	u := "/invoices/" + models.CleanID(id)
	p := fragments.InvoiceFormProps{Title: "Edit draft", Action: u, Cancel: u}
	if edited, ok := editLines(c, &in); ok {
		return h.refill(c, fiber.StatusOK, p, edited, nil)
	}
	typed := in
	inv, err := h.Store.UpdateDraft(c.UserContext(), id, in)
	if errs, ok := fieldErrors(err); ok {
		if errs["invoice"] != "" {
			return h.detail(c, fiber.StatusUnprocessableEntity, id, models.PaymentInput{}, errs)
		}
		return h.refill(c, fiber.StatusUnprocessableEntity, p, validated(typed), errs)
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Draft saved.")
	return htmx.Redirect(c, "/invoices/"+inv.ID.String())
}

// validated is in as Validate leaves it (blank lines dropped), which is what error keys count.
func validated(in models.InvoiceInput) models.InvoiceInput {
	in.Validate() //nolint:errcheck // the errors came from the store
	return in
}

// refill re-renders the editor with in as typed; the customer is looked up again by the store
// only on save, so here it shows as the form carried it.
func (h *Invoices) refill(c *fiber.Ctx, status int, p fragments.InvoiceFormProps, in models.InvoiceInput, errs map[string]string) error {
	p.Input, p.Errors = in, errs
	if id := models.CleanID(in.CustomerID); id != "" {
		cust, err := h.Customers.Get(c.UserContext(), id)
		switch {
		case err == nil:
			p.Customer = choiceOf(cust)
		case errors.Is(err, models.ErrNotFound):
			p.Errors = withField(p.Errors, "customer", "Choose a customer from the list.")
		default:
			return err
		}
	}
	if len(p.Input.Lines) == 0 {
		p.Input.Lines = []models.LineInput{{}}
	}
	return h.form(c, status, p)
}

func withField(errs map[string]string, field, msg string) map[string]string {
	if errs == nil {
		errs = map[string]string{}
	}
	errs[field] = msg
	return errs
}

func (h *Invoices) form(c *fiber.Ctx, status int, p fragments.InvoiceFormProps) error {
	p.CSRF, p.Currencies = middleware.CSRFToken(c), models.Currencies
	if p.Customer.ID != "" {
		choices, err := h.Products.Choices(c.UserContext())
		if err != nil {
			return err
		}
		skus := map[string]string{}
		for _, pr := range choices {
			p.Products = append(p.Products, fragments.ProductChoice{SKU: pr.SKU, Name: pr.Name})
			skus[pr.ID.String()] = pr.SKU
		}
		for i, l := range p.Input.Lines {
			if l.SKU == "" && l.ProductID != "" {
				p.Input.Lines[i].SKU = skus[l.ProductID]
			}
		}
		ws, err := h.Products.Warehouses(c.UserContext())
		if err != nil {
			return err
		}
		for _, w := range ws {
			p.Warehouses = append(p.Warehouses, fragments.WarehouseChoice{ID: w.ID.String(), Name: w.Name, Default: w.IsDefault})
		}
	}
	p.Totals = totalsOf(p.Input)
	return htmx.Render(c, status, pages.Page(meta(c, p.Title, "invoices"), fragments.InvoiceForm(p)), fragments.InvoiceForm(p))
}

// Preview works out the totals of the form as typed, for the editor to show as it changes.
func (h *Invoices) Preview(c *fiber.Ctx) error {
	in := bindInvoice(c)
	c.Type("html", "utf-8")
	return fragments.InvoiceTotals(totalsOf(in)).Render(c.UserContext(), c.Response().BodyWriter())
}

// totalsOf is what in's lines add up to, or why they do not yet.
func totalsOf(in models.InvoiceInput) fragments.InvoiceTotalsProps {
	problem := fragments.InvoiceTotalsProps{Problem: "The totals show once every line has a description and a price."}
	var invalid *models.ValidationError
	if err := in.Validate(); errors.As(err, &invalid) && !onlyAbout(invalid, "customer") {
		return problem // the customer alone does not change the sums
	}
	t, err := money.Compute(in.Currency, in.PricesIncludeTax, in.Rounding, in.MoneyLines())
	if err != nil {
		return problem
	}
	p := fragments.InvoiceTotalsProps{Net: money.Format(t.Net), Tax: money.Format(t.Tax), Total: money.Format(t.Total)}
	for _, r := range t.ByRate {
		p.ByRate = append(p.ByRate, fragments.RateView{Rate: r.Rate, Net: money.Format(r.Net), Tax: money.Format(r.Tax)})
	}
	return p
}

func onlyAbout(v *models.ValidationError, field string) bool {
	_, ok := v.Fields[field]
	return ok && len(v.Fields) == 1
}

// editLines applies the editor's line buttons, which post the form without JavaScript: "add"
// appends an empty line, "remove-N" takes line N out. ok is false for a plain save.
func editLines(c *fiber.Ctx, in *models.InvoiceInput) (models.InvoiceInput, bool) {
	op := c.FormValue("op")
	switch {
	case op == "add":
		if len(in.Lines) < models.MaxLines {
			in.Lines = append(in.Lines, models.LineInput{Quantity: "1", Discount: "0"})
		}
		return *in, true
	case strings.HasPrefix(op, "remove-"):
		if n, err := strconv.Atoi(strings.TrimPrefix(op, "remove-")); err == nil && n >= 1 && n <= len(in.Lines) {
			in.Lines = append(in.Lines[:n-1], in.Lines[n:]...)
		}
		return *in, true
	}
	return *in, false
}

// bindInvoice reads the draft editor's form: the fields, and the lines as parallel repeated
// fields. It has no tenant, number, status or amount: those never come from a request.
func bindInvoice(c *fiber.Ctx) models.InvoiceInput {
	args := c.Request().PostArgs()
	one := func(k string) string { return string(args.Peek(k)) }
	many := func(k string) []string {
		var out []string
		for _, v := range args.PeekMulti(k) {
			if len(out) > models.MaxLines {
				break
			}
			out = append(out, string(v))
		}
		return out
	}
	in := models.InvoiceInput{CustomerID: one("customer_id"), Currency: one("currency"), PricesIncludeTax: one("prices_include_tax") != "",
		Rounding: money.Rounding(one("rounding")), ExchangeRate: one("exchange_rate"), PaymentTerms: one("payment_terms"), Notes: one("notes")}
	desc, qty, price, disc, rate := many("line_description"), many("line_quantity"), many("line_unit_price"), many("line_discount"), many("line_tax_rate")
	sku, place := many("line_sku"), many("line_warehouse")
	at := func(s []string, i int) string {
		if i < len(s) {
			return s[i]
		}
		return ""
	}
	n := max(len(desc), len(qty), len(price), len(disc), len(rate), len(sku), len(place))
	for i := 0; i < n; i++ {
		in.Lines = append(in.Lines, models.LineInput{Description: at(desc, i), Quantity: at(qty, i), UnitPrice: at(price, i),
			Discount: at(disc, i), TaxRate: at(rate, i), SKU: at(sku, i), Warehouse: at(place, i)})
	}
	return in
}

// asked reports whether the request confirmed its action (confirm=yes); if not, it answers with
// a page asking to, for browsers without JavaScript (with it, a dialog asked already). The page
// is for an invoice that exists: any other id answers 404 like every other route.
func (h *Invoices) asked(c *fiber.Ctx, id, action, title, text, button string, fields map[string][]string) (bool, error) {
	if c.FormValue("confirm") == "yes" {
		return true, nil
	}
	d, err := h.Store.Get(c.UserContext(), id)
	if err != nil {
		return false, err
	}
	u := "/invoices/" + d.ID.String()
	return false, confirm(c, components.ConfirmProps{Title: title, Text: d.Title() + ": " + text, Action: u + "/" + action, Fields: fields, Button: button, Cancel: u})
}

// DeleteInvoice deletes a draft.
func (h *Invoices) DeleteInvoice(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	if ok, err := h.asked(c, id, "delete", "Delete this draft?", "A draft has no number: nothing is left missing.", "Delete draft", nil); !ok {
		return err
	}
	if err := h.Store.DeleteDraft(c.UserContext(), id); err != nil {
		return h.refused(c, id, err)
	}
	htmx.Toast(c, "Draft deleted.")
	return htmx.Redirect(c, "/invoices")
}

// refused re-renders the invoice with 422 when err is an action the invoice does not allow,
// saying why above it whichever field the refusal names (its customer, its lines).
func (h *Invoices) refused(c *fiber.Ctx, id string, err error) error {
	errs, ok := fieldErrors(err)
	if !ok {
		return err
	}
	if errs["invoice"] == "" {
		keys := make([]string, 0, len(errs))
		for k := range errs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		msgs := make([]string, len(keys))
		for i, k := range keys {
			msgs[i] = errs[k]
		}
		errs = map[string]string{"invoice": strings.Join(msgs, " ")}
	}
	return h.detail(c, fiber.StatusUnprocessableEntity, id, models.PaymentInput{}, errs)
}

// FinalizeInvoice issues a draft: its number, its frozen content, and its PDF.
func (h *Invoices) FinalizeInvoice(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	if ok, err := h.asked(c, id, "finalize", "Finalize this invoice?", "It gets the next number of its series, and its lines, amounts and customer can no longer change.", "Finalize", nil); !ok {
		return err
	}
	inv, err := h.Store.Finalize(c.UserContext(), id, h.today())
	if err != nil {
		return h.refused(c, id, err)
	}
	if err := h.storePDF(c.UserContext(), id); err != nil {
		// The invoice stands; its PDF is made when first asked for.
		h.Log.Error("invoice pdf", "request_id", middleware.RequestID(c), "err", err)
	}
	htmx.Toast(c, "Invoice "+inv.Title()+" issued.")
	return htmx.Redirect(c, "/invoices/"+inv.ID.String())
}

// storePDF renders the finalized invoice with id to PDF and keeps it.
func (h *Invoices) storePDF(ctx context.Context, id string) error {
	d, err := h.Store.Get(ctx, id)
	if err != nil {
		return err
	}
	css, err := fs.ReadFile(static.FS, "print.css")
	if err != nil {
		return err
	}
	// The document is the invoice as issued, whenever it is rendered: what was paid or credited
	// since belongs on the invoice page, not in the kept copy.
	d.AmountPaid, d.AmountCredited, d.Payments, d.Credits = "0", "0", nil, nil
	var html bytes.Buffer
	props := pages.InvoicePrintProps{InvoiceDetailProps: detailProps(d, h.today()), InlineCSS: string(css)}
	if err := pages.InvoicePrint(props).Render(ctx, &html); err != nil {
		return err
	}
	pdf, err := h.Printer.Print(ctx, html.String())
	if err != nil {
		return err
	}
	return h.Store.AttachDocument(ctx, id, pdf)
}

// InvoicePDF sends the PDF the invoice was issued as; one that has none yet (its rendering
// failed at finalization) gets it now, once.
func (h *Invoices) InvoicePDF(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	ctx := c.UserContext()
	pdf, number, found, err := h.Store.Document(ctx, id)
	if err != nil {
		return err
	}
	if !found {
		if number == "" {
			return models.ErrNotFound // a draft has no document
		}
		stored := h.storePDF(ctx, id) // a concurrent request may have stored it first
		if pdf, number, found, err = h.Store.Document(ctx, id); err != nil {
			return err
		}
		if !found {
			return errors.Join(errors.New("invoice pdf: not stored"), stored)
		}
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`inline; filename="%s.pdf"`, strings.Map(safeFileRune, number)))
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(pdf)
}

func safeFileRune(r rune) rune {
	if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
		return r
	}
	return '_'
}

// PrintInvoice shows the invoice as the customer receives it, ready to print.
func (h *Invoices) PrintInvoice(c *fiber.Ctx) error {
	d, err := h.Store.Get(c.UserContext(), utils.CopyString(c.Params("id")))
	if err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return pages.InvoicePrint(pages.InvoicePrintProps{InvoiceDetailProps: detailProps(d, h.today())}).Render(c.UserContext(), c.Response().BodyWriter())
}

// RecordPayment records money received, or re-renders the invoice with the form's errors.
func (h *Invoices) RecordPayment(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	in := models.PaymentInput{Amount: utils.CopyString(c.FormValue("amount")), PaidOn: utils.CopyString(c.FormValue("paid_on")),
		Method: utils.CopyString(c.FormValue("method")), Reference: utils.CopyString(c.FormValue("reference"))}
	typed := in
	err := h.Store.RecordPayment(c.UserContext(), id, in, h.today())
	if errs, ok := fieldErrors(err); ok {
		return h.detail(c, fiber.StatusUnprocessableEntity, id, typed, errs)
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Payment recorded.")
	return htmx.Redirect(c, "/invoices/"+models.CleanID(id))
}

// VoidInvoice cancels an unpaid open invoice.
func (h *Invoices) VoidInvoice(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	if ok, err := h.asked(c, id, "void", "Void this invoice?", "It keeps its number and is owed by nobody.", "Void", nil); !ok {
		return err
	}
	return h.after(c, id, "Invoice voided.", h.Store.Void)
}

// MarkUncollectible records that an open invoice will not be paid.
func (h *Invoices) MarkUncollectible(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	if ok, err := h.asked(c, id, "uncollectible", "Mark this invoice uncollectible?", "Payments can still be recorded against it.", "Mark uncollectible", nil); !ok {
		return err
	}
	return h.after(c, id, "Marked uncollectible.", h.Store.MarkUncollectible)
}

func (h *Invoices) after(c *fiber.Ctx, id, done string, act func(context.Context, string) error) error {
	if err := act(c.UserContext(), id); err != nil {
		return h.refused(c, id, err)
	}
	htmx.Toast(c, done)
	return htmx.Redirect(c, "/invoices/"+models.CleanID(id))
}

// CreditInvoice issues a credit note for the whole invoice and, asked to, a corrected copy as a
// new draft, which it then opens.
func (h *Invoices) CreditInvoice(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	reissue, restock := c.FormValue("reissue") == "1", c.FormValue("return_stock") == "1"
	fields := map[string][]string{}
	if reissue {
		fields["reissue"] = []string{"1"}
	}
	if restock {
		fields["return_stock"] = []string{"1"}
	}
	if ok, err := h.asked(c, id, "credit", "Credit this invoice?", "A credit note for the whole invoice settles what is owed (and what was paid is owed back); with re-issue, a corrected copy starts as a new draft.",
		"Issue the credit note", fields); !ok {
		return err
	}
	note, draft, err := h.Store.Credit(c.UserContext(), id, reissue, restock, h.today())
	if err != nil {
		return h.refused(c, id, err)
	}
	if err := h.storePDF(c.UserContext(), note.ID.String()); err != nil {
		h.Log.Error("credit note pdf", "request_id", middleware.RequestID(c), "err", err)
	}
	htmx.Toast(c, "Credit note "+note.Title()+" issued.")
	if draft.ID != uuid.Nil {
		return htmx.Redirect(c, "/invoices/"+draft.ID.String()+"/edit")
	}
	return htmx.Redirect(c, "/invoices/"+note.ID.String())
}
