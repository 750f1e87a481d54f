package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"moat/app/keyset"
	"moat/app/money"
	"moat/app/store"
	"moat/models"
)

// Invoice is an invoice or credit note. Amounts are decimal strings in its currency.
type Invoice struct {
	ID               string    `json:"id" format:"uuid"`
	Kind             string    `json:"kind" enum:"invoice,credit_note"`
	Status           string    `json:"status" enum:"draft,open,paid,uncollectible,void"`
	Number           string    `json:"number" doc:"Assigned when it is finalized; empty on a draft"`
	CustomerID       string    `json:"customer_id" format:"uuid"`
	CustomerName     string    `json:"customer_name"`
	Currency         string    `json:"currency" doc:"ISO 4217"`
	PricesIncludeTax bool      `json:"prices_include_tax"`
	Rounding         string    `json:"rounding" enum:"line,document"`
	ExchangeRate     string    `json:"exchange_rate" doc:"Units of the organization's base currency per unit of this one"`
	PaymentTerms     int       `json:"payment_terms" doc:"Days"`
	IssueDate        string    `json:"issue_date,omitempty" format:"date"`
	DueDate          string    `json:"due_date,omitempty" format:"date"`
	Notes            string    `json:"notes"`
	NetTotal         string    `json:"net_total"`
	TaxTotal         string    `json:"tax_total"`
	Total            string    `json:"total"`
	AmountPaid       string    `json:"amount_paid"`
	AmountCredited   string    `json:"amount_credited"`
	AmountDue        string    `json:"amount_due"`
	CreditsInvoiceID string    `json:"credits_invoice_id,omitempty" format:"uuid" doc:"A credit note's invoice"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// InvoiceDetail is an invoice with its lines and payments.
type InvoiceDetail struct {
	Invoice
	Lines    []InvoiceLine `json:"lines"`
	Payments []Payment     `json:"payments"`
}

// InvoiceLine is one line of an invoice.
type InvoiceLine struct {
	Description string `json:"description"`
	Quantity    string `json:"quantity"`
	UnitPrice   string `json:"unit_price"`
	Discount    string `json:"discount" doc:"Percent"`
	TaxRate     string `json:"tax_rate" doc:"Percent"`
	Net         string `json:"net"`
	Tax         string `json:"tax"`
	ProductID   string `json:"product_id,omitempty" format:"uuid"`
	SKU         string `json:"sku,omitempty"`
	WarehouseID string `json:"warehouse_id,omitempty" format:"uuid" doc:"Where its goods leave from"`
}

// Payment is money received against an invoice.
type Payment struct {
	ID        string `json:"id" format:"uuid"`
	Amount    string `json:"amount"`
	PaidOn    string `json:"paid_on" format:"date"`
	Method    string `json:"method"`
	Reference string `json:"reference"`
}

// InvoiceFields are a draft's fields. An update replaces the draft's lines with these.
type InvoiceFields struct {
	CustomerID       string      `json:"customer_id" doc:"One of the organization's customers"`
	Currency         string      `json:"currency,omitempty" doc:"ISO 4217; EUR when left out"`
	PricesIncludeTax bool        `json:"prices_include_tax,omitempty"`
	Rounding         string      `json:"rounding,omitempty" enum:"line,document" doc:"line when left out"`
	ExchangeRate     string      `json:"exchange_rate,omitempty" doc:"1 when left out"`
	PaymentTerms     string      `json:"payment_terms,omitempty" doc:"Days; 30 when left out"`
	Notes            string      `json:"notes,omitempty"`
	Lines            []LineInput `json:"lines" maxItems:"200"`
}

// LineInput is a line to invoice: a product by SKU fills the description, price and tax rate it
// leaves out.
type LineInput struct {
	Description string `json:"description,omitempty"`
	Quantity    string `json:"quantity"`
	UnitPrice   string `json:"unit_price,omitempty"`
	Discount    string `json:"discount,omitempty" doc:"Percent"`
	TaxRate     string `json:"tax_rate,omitempty" doc:"Percent"`
	SKU         string `json:"sku,omitempty" doc:"One of the organization's products"`
	Warehouse   string `json:"warehouse,omitempty" doc:"The warehouse its goods leave, by name; the default one when left out"`
}

func (f InvoiceFields) input() models.InvoiceInput {
	in := models.InvoiceInput{CustomerID: f.CustomerID, Currency: f.Currency, PricesIncludeTax: f.PricesIncludeTax,
		Rounding: money.Rounding(f.Rounding), ExchangeRate: f.ExchangeRate, PaymentTerms: f.PaymentTerms, Notes: f.Notes}
	for _, l := range f.Lines {
		in.Lines = append(in.Lines, models.LineInput{Description: l.Description, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			Discount: l.Discount, TaxRate: l.TaxRate, SKU: l.SKU, Warehouse: l.Warehouse})
	}
	return in
}

// invoiceFields locate the form's invoice fields in the API's body; lines count from 1 there.
var invoiceFields = fieldNames{base: 1, names: map[string]string{"customer": "customer_id", "invoice": "status",
	"line_description[]": "lines[%d].description", "line_quantity[]": "lines[%d].quantity", "line_unit_price[]": "lines[%d].unit_price",
	"line_discount[]": "lines[%d].discount", "line_tax_rate[]": "lines[%d].tax_rate", "line_sku[]": "lines[%d].sku",
	"line_warehouse[]": "lines[%d].warehouse", "amount": "amount", "paid_on": "paid_on"}}

func day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

func invoiceOf(i models.Invoice, customer string) Invoice {
	out := Invoice{ID: i.ID.String(), Kind: string(i.Kind), Status: string(i.Status), CustomerID: i.CustomerID.String(),
		CustomerName: customer, Currency: i.Currency, PricesIncludeTax: i.PricesIncludeTax, Rounding: string(i.Rounding),
		ExchangeRate: money.Trim(i.ExchangeRate), PaymentTerms: i.PaymentTerms, IssueDate: day(i.IssueDate), DueDate: day(i.DueDate),
		Notes: i.Notes, NetTotal: money.Price(i.NetTotal, i.Currency), TaxTotal: money.Price(i.TaxTotal, i.Currency),
		Total: money.Price(i.Total, i.Currency), AmountPaid: money.Price(i.AmountPaid, i.Currency),
		AmountCredited: money.Price(i.AmountCredited, i.Currency), CreatedAt: i.CreatedAt.UTC(), UpdatedAt: i.UpdatedAt.UTC()}
	if i.Number != nil {
		out.Number = *i.Number
	}
	if i.CustomerName != "" {
		out.CustomerName = i.CustomerName
	}
	out.AmountDue = "0"
	if i.Status == models.StatusOpen || i.Status == models.StatusUncollectible {
		out.AmountDue = money.Price(money.Difference(money.Difference(i.Total, i.AmountPaid), i.AmountCredited), i.Currency)
	} else {
		out.AmountDue = money.Price("0", i.Currency)
	}
	if i.CreditsInvoiceID != nil {
		out.CreditsInvoiceID = i.CreditsInvoiceID.String()
	}
	return out
}

func invoiceDetailOf(d store.InvoiceDetail) InvoiceDetail {
	customer := ""
	if d.Customer != nil {
		customer = d.Customer.Name
	}
	out := InvoiceDetail{Invoice: invoiceOf(d.Invoice, customer), Lines: []InvoiceLine{}, Payments: []Payment{}}
	id := func(u *uuid.UUID) string {
		if u == nil {
			return ""
		}
		return u.String()
	}
	for _, l := range d.Lines {
		line := InvoiceLine{Description: l.Description, Quantity: money.Trim(l.Quantity), UnitPrice: money.Trim(l.UnitPrice),
			Discount: money.Trim(l.Discount), TaxRate: money.Trim(l.TaxRate), Net: money.Price(l.Net, d.Currency),
			Tax: money.Price(l.Tax, d.Currency), ProductID: id(l.ProductID), WarehouseID: id(l.WarehouseID)}
		if l.ProductID != nil {
			line.SKU = d.SKUs[*l.ProductID]
		}
		out.Lines = append(out.Lines, line)
	}
	for _, p := range d.Payments {
		out.Payments = append(out.Payments, Payment{ID: p.ID.String(), Amount: money.Price(p.Amount, d.Currency),
			PaidOn: p.PaidOn.Format(time.DateOnly), Method: p.Method, Reference: p.Reference})
	}
	return out
}

// NewPayment is money received.
type NewPayment struct {
	Amount    string `json:"amount" doc:"At most what is due"`
	PaidOn    string `json:"paid_on,omitempty" format:"date" doc:"Today when left out"`
	Method    string `json:"method,omitempty" enum:"bank transfer,card,cash,cheque,direct debit,other"`
	Reference string `json:"reference,omitempty"`
}

type listInvoicesInput struct {
	Q          string `query:"q" maxLength:"200" doc:"A number's beginning, or words of the customer's name, email or company"`
	Status     string `query:"status" enum:"draft,open,paid,uncollectible,void"`
	Overdue    bool   `query:"overdue" doc:"Still owed after the due date"`
	IssuedFrom string `query:"issued_from" format:"date"`
	IssuedTo   string `query:"issued_to" format:"date"`
	CustomerID string `query:"customer_id" format:"uuid"`
	Paging
}

// InvoiceList is one page of invoices and credit notes, newest first.
type InvoiceList struct {
	Data []Invoice `json:"data"`
	Page
}

// InvoicePath names an invoice.
type InvoicePath struct {
	ID string `path:"id" doc:"The invoice's id"`
}

type invoiceOutput struct {
	Location string `header:"Location"`
	Body     InvoiceDetail
}

func (a *api) invoices(h huma.API) {
	huma.Register(h, operation("list-invoices", http.MethodGet, "/invoices", "invoices", "read", "List invoices and credit notes, newest first"),
		func(ctx context.Context, in *listInvoicesInput) (*struct{ Body InvoiceList }, error) {
			q := store.InvoiceQuery{InvoiceFilter: store.InvoiceFilter{Search: in.Q, Status: models.InvoiceStatus(in.Status),
				Overdue: in.Overdue, From: in.IssuedFrom, To: in.IssuedTo, Customer: in.CustomerID}, Limit: in.Limit, Bare: true}
			if in.StartingAfter != "" {
				if _, ok := keyset.Decode(in.StartingAfter, "created"); !ok {
					return nil, badCursor()
				}
				q.After = in.StartingAfter
			}
			p, err := a.Invoices.List(ctx, q)
			if err != nil {
				return nil, a.fail(ctx, err, fieldNames{})
			}
			out := &struct{ Body InvoiceList }{Body: InvoiceList{Data: make([]Invoice, len(p.Invoices)), Page: page(p.Next)}}
			for i, r := range p.Invoices {
				out.Body.Data[i] = invoiceOf(r.Invoice, r.Customer())
			}
			return out, nil
		})

	read := func(ctx context.Context, id string) (*invoiceOutput, error) {
		d, err := a.Invoices.Get(ctx, id)
		return &invoiceOutput{Body: invoiceDetailOf(d)}, err
	}
	huma.Register(h, operation("get-invoice", http.MethodGet, "/invoices/{id}", "invoices", "read", "Get an invoice with its lines and payments"),
		func(ctx context.Context, in *InvoicePath) (*invoiceOutput, error) {
			return written(a, ctx, invoiceFields, func(context.Context) (string, error) { return in.ID, nil }, read)
		})
	write := func(ctx context.Context, w func(ctx context.Context) (string, error)) (*invoiceOutput, error) {
		return written(a, ctx, invoiceFields, w, read)
	}

	huma.Register(h, operation("create-invoice", http.MethodPost, "/invoices", "invoices", "write", "Draft an invoice"),
		func(ctx context.Context, in *struct{ Body InvoiceFields }) (*invoiceOutput, error) {
			out, err := write(ctx, func(ctx context.Context) (string, error) {
				inv, err := a.Invoices.CreateDraft(ctx, in.Body.input())
				return inv.ID.String(), err
			})
			if out != nil {
				out.Location = Prefix + "/invoices/" + out.Body.ID
			}
			return out, err
		})

	huma.Register(h, operation("update-invoice", http.MethodPut, "/invoices/{id}", "invoices", "write", "Replace a draft"),
		func(ctx context.Context, in *struct {
			InvoicePath
			Body InvoiceFields
		}) (*invoiceOutput, error) {
			return write(ctx, func(ctx context.Context) (string, error) {
				_, err := a.Invoices.UpdateDraft(ctx, in.ID, in.Body.input())
				return in.ID, err
			})
		})

	del := operation("delete-invoice", http.MethodDelete, "/invoices/{id}", "invoices", "write", "Delete a draft")
	del.DefaultStatus = http.StatusNoContent
	huma.Register(h, del, func(ctx context.Context, in *InvoicePath) (*noContent, error) {
		if err := a.Invoices.DeleteDraft(ctx, in.ID); err != nil {
			return nil, a.fail(ctx, err, invoiceFields)
		}
		return &noContent{}, nil
	})

	finalize := operation("finalize-invoice", http.MethodPost, "/invoices/{id}/finalize", "invoices", "write", "Finalize a draft: number it and issue it today")
	finalize.DefaultStatus = http.StatusOK
	huma.Register(h, finalize, func(ctx context.Context, in *InvoicePath) (*invoiceOutput, error) {
		return write(ctx, func(ctx context.Context) (string, error) {
			_, err := a.Invoices.Finalize(ctx, in.ID, a.Now())
			return in.ID, err
		})
	})

	huma.Register(h, operation("record-payment", http.MethodPost, "/invoices/{id}/payments", "invoices", "write", "Record a payment against an open invoice"),
		func(ctx context.Context, in *struct {
			InvoicePath
			Body NewPayment
		}) (*invoiceOutput, error) {
			return write(ctx, func(ctx context.Context) (string, error) {
				return in.ID, a.Invoices.RecordPayment(ctx, in.ID, models.PaymentInput{Amount: in.Body.Amount, PaidOn: in.Body.PaidOn,
					Method: in.Body.Method, Reference: in.Body.Reference}, a.Now())
			})
		})

	void := managersOnly(operation("void-invoice", http.MethodPost, "/invoices/{id}/void", "invoices", "write", "Void an open invoice nothing has been paid on"))
	void.DefaultStatus = http.StatusOK
	huma.Register(h, void, func(ctx context.Context, in *InvoicePath) (*invoiceOutput, error) {
		return write(ctx, func(ctx context.Context) (string, error) { return in.ID, a.Invoices.Void(ctx, in.ID) })
	})
}
