package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"moat/app/money"
)

// InvoiceKind is an invoice or a credit note.
type InvoiceKind string

// The kinds of invoice document.
const (
	KindInvoice    InvoiceKind = "invoice"
	KindCreditNote InvoiceKind = "credit_note"
)

// InvoiceStatus is where an invoice is in its life.
type InvoiceStatus string

// The statuses: draft → open (finalized) → paid, void or uncollectible; uncollectible → paid or
// void.
const (
	StatusDraft         InvoiceStatus = "draft"
	StatusOpen          InvoiceStatus = "open"
	StatusPaid          InvoiceStatus = "paid"
	StatusVoid          InvoiceStatus = "void"
	StatusUncollectible InvoiceStatus = "uncollectible"
)

// InvoiceStatuses lists the statuses in their order of life.
var InvoiceStatuses = []InvoiceStatus{StatusDraft, StatusOpen, StatusPaid, StatusUncollectible, StatusVoid}

// Invoice is an invoice or credit note of a tenant. Amounts are decimals as text, in Currency.
type Invoice struct {
	TenantID         uuid.UUID     `gorm:"type:uuid;primaryKey"`
	ID               uuid.UUID     `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	Kind             InvoiceKind   `gorm:"default:invoice"`
	Status           InvoiceStatus `gorm:"default:draft"`
	CustomerID       uuid.UUID     `gorm:"type:uuid"`
	Number           *string       // assigned at finalization
	NumberYear       *int
	NumberSeq        *int64
	Currency         string
	PricesIncludeTax bool
	Rounding         money.Rounding
	ExchangeRate     string `gorm:"type:numeric"`
	PaymentTerms     int
	IssueDate        *time.Time `gorm:"type:date"`
	DueDate          *time.Time `gorm:"type:date"`
	CustomerName     string
	CustomerNumber   string
	CustomerAddress  string
	CustomerTaxID    string
	SellerName       string
	Notes            string
	NetTotal         string     `gorm:"type:numeric"`
	TaxTotal         string     `gorm:"type:numeric"`
	Total            string     `gorm:"type:numeric"`
	AmountPaid       string     `gorm:"type:numeric"`
	AmountCredited   string     `gorm:"type:numeric"`
	CreditsInvoiceID *uuid.UUID `gorm:"type:uuid"`
	CreatedBy        *uuid.UUID `gorm:"type:uuid"`
	CreatedAt        time.Time
	UpdatedAt        time.Time
	FinalizedAt      *time.Time
	PaidAt           *time.Time
	VoidedAt         *time.Time
	UncollectibleAt  *time.Time
}

// Title is how the invoice is called on pages: its number, or "Draft".
func (i Invoice) Title() string {
	if i.Number != nil {
		return *i.Number
	}
	if i.Kind == KindCreditNote {
		return "Draft credit note"
	}
	return "Draft invoice"
}

// Due is what the customer still owes.
func (i Invoice) Due() string {
	if i.Status != StatusOpen && i.Status != StatusUncollectible {
		return "0"
	}
	total := money.Amount(i.Total, i.Currency)
	paid := money.Amount(i.AmountPaid, i.Currency)
	credited := money.Amount(i.AmountCredited, i.Currency)
	due, _ := total.Sub(paid)
	due, _ = due.Sub(credited)
	return due.Number()
}

// Overdue reports whether the invoice is still owed after its due date (today in UTC).
func (i Invoice) Overdue(today time.Time) bool {
	return (i.Status == StatusOpen || i.Status == StatusUncollectible) && i.DueDate != nil && i.DueDate.Before(today.Truncate(24*time.Hour))
}

// InvoiceLine is one line of an invoice.
type InvoiceLine struct {
	TenantID    uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID          uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	InvoiceID   uuid.UUID `gorm:"type:uuid"`
	Position    int
	Description string
	Quantity    string     `gorm:"type:numeric"`
	UnitPrice   string     `gorm:"type:numeric"`
	Discount    string     `gorm:"type:numeric"`
	TaxRate     string     `gorm:"type:numeric"`
	Net         string     `gorm:"type:numeric"`
	Tax         string     `gorm:"type:numeric"`
	ProductID   *uuid.UUID `gorm:"type:uuid"`
	WarehouseID *uuid.UUID `gorm:"type:uuid"` // set when the line moves stock
	Reserved    bool       `gorm:"<-:false"`  // the line holds a reservation (the database decides)
}

// InvoicePayment is money received against an invoice.
type InvoicePayment struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID        uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	InvoiceID uuid.UUID `gorm:"type:uuid"`
	Amount    string    `gorm:"type:numeric"`
	PaidOn    time.Time `gorm:"type:date"`
	Method    string
	Reference string
	CreatedBy *uuid.UUID `gorm:"type:uuid"`
	CreatedAt time.Time
}

// InvoiceSeries is how a tenant numbers one kind of document.
type InvoiceSeries struct {
	TenantID uuid.UUID   `gorm:"type:uuid;primaryKey"`
	Kind     InvoiceKind `gorm:"primaryKey"`
	Prefix   string
	Yearly   bool
}

// TableName is invoice_series (GORM would make it invoice_serieses).
func (InvoiceSeries) TableName() string { return "invoice_series" }

// MaxLines is how many lines an invoice may have.
const MaxLines = 200

// InvoiceInput is a draft as a person edits it. It has no tenant, number, status or amounts:
// those never come from a request.
type InvoiceInput struct {
	CustomerID       string
	Currency         string
	PricesIncludeTax bool
	Rounding         money.Rounding
	ExchangeRate     string
	PaymentTerms     string
	Notes            string
	Lines            []LineInput
}

// LineInput is one line as typed. A line may name one of the tenant's products by SKU (a copy
// of a line names it by ProductID instead), and the warehouse its goods leave (the default one
// when empty); the product's name, price and tax rate fill what the line leaves blank.
type LineInput struct {
	Description, Quantity, UnitPrice, Discount, TaxRate string
	SKU, ProductID, Warehouse                           string
}

// Blank reports whether nothing was typed on the line: a form's spare row.
func (l LineInput) Blank() bool {
	return strings.TrimSpace(l.Description+l.Quantity+l.UnitPrice+l.Discount+l.TaxRate+l.SKU+l.ProductID) == ""
}

// ForProduct reports whether the line names a product.
func (l LineInput) ForProduct() bool { return l.SKU != "" || l.ProductID != "" }

// Validate normalizes the input (trimmed text in NFC, canonical decimals, defaults: EUR, tax
// excluded, per-line rounding, rate 1, 30 days), drops blank lines and returns a
// *ValidationError naming each bad field, or nil. Line fields are named line_<field>[<n>],
// counting lines from 1 as the form shows them.
func (in *InvoiceInput) Validate() error {
	fields := map[string]string{}
	in.CustomerID = strings.TrimSpace(in.CustomerID)
	if ParseID(in.CustomerID) == uuid.Nil {
		fields["customer"] = "Choose a customer from the list."
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.Currency == "" {
		in.Currency = "EUR"
	}
	if !money.ValidCurrency(in.Currency) {
		fields["currency"] = "Enter a three-letter currency code, such as EUR."
	}
	switch in.Rounding {
	case "":
		in.Rounding = money.PerLine
	case money.PerLine, money.PerDocument:
	default:
		fields["rounding"] = "Choose one of the offered values."
	}
	if strings.TrimSpace(in.ExchangeRate) == "" {
		in.ExchangeRate = "1"
	}
	rate, err := money.Parse(in.ExchangeRate, 10, 8, "0.00000001", "9999999999")
	if err != nil || rate == "0" {
		fields["exchange_rate"] = "Enter a positive number, such as 1 or 0.9213."
	}
	in.ExchangeRate = rate
	if strings.TrimSpace(in.PaymentTerms) == "" {
		in.PaymentTerms = "30"
	}
	if n, err := strconv.Atoi(strings.TrimSpace(in.PaymentTerms)); err != nil || n < 0 || n > 365 {
		fields["payment_terms"] = messages["days"]
	} else {
		in.PaymentTerms = strconv.Itoa(n)
	}
	in.Notes = norm.NFC.String(strings.TrimSpace(in.Notes))
	if !cleanText(in.Notes, true) || len([]rune(in.Notes)) > 5000 {
		fields["notes"] = "Use at most 5000 characters, without control characters."
	}
	var lines []LineInput
	for _, l := range in.Lines {
		if !l.Blank() {
			lines = append(lines, l)
		}
	}
	in.Lines = lines
	switch {
	case len(lines) == 0:
		fields["lines"] = "Add at least one line."
	case len(lines) > MaxLines:
		fields["lines"] = fmt.Sprintf("Use at most %d lines.", MaxLines)
	}
	for i := range in.Lines {
		validateLine(&in.Lines[i], i+1, fields)
	}
	if len(fields) > 0 {
		return &ValidationError{Fields: fields}
	}
	return nil
}

func validateLine(l *LineInput, n int, fields map[string]string) {
	key := func(f string) string { return fmt.Sprintf("line_%s[%d]", f, n) }
	l.SKU = norm.NFC.String(strings.TrimSpace(l.SKU))
	if len([]rune(l.SKU)) > 64 || !cleanText(l.SKU, false) {
		fields[key("sku")] = "Enter a product's SKU, or leave it empty."
	}
	l.ProductID, l.Warehouse = strings.TrimSpace(l.ProductID), strings.TrimSpace(l.Warehouse)
	if l.Warehouse != "" && ParseID(l.Warehouse) == uuid.Nil {
		fields[key("warehouse")] = "Choose a warehouse from the list."
	}
	// A product fills the description, price and tax rate left blank (the store looks it up).
	product := l.ForProduct()
	l.Description = norm.NFC.String(strings.TrimSpace(l.Description))
	if (l.Description == "" && !product) || len([]rune(l.Description)) > 1000 || !cleanText(l.Description, true) {
		fields[key("description")] = "Describe the line, in at most 1000 characters."
	}
	decimalField := func(v *string, name, def string, intDigits, scale int, min, max, message string) {
		if strings.TrimSpace(*v) == "" {
			if product && (name == "unit_price" || name == "tax_rate") {
				*v = ""
				return
			}
			*v = def
		}
		d, err := money.Parse(*v, intDigits, scale, min, max)
		if err != nil {
			fields[key(name)] = message
			return
		}
		*v = d
	}
	decimalField(&l.Quantity, "quantity", "1", 14, 4, "0.0001", "99999999999999", "Enter a quantity above 0, with at most 4 decimals.")
	decimalField(&l.UnitPrice, "unit_price", "", 15, 4, "0", "999999999999999", "Enter a price of 0 or more, with at most 4 decimals.")
	decimalField(&l.Discount, "discount", "0", 3, 2, "0", "100", "Enter a discount from 0 to 100 %.")
	decimalField(&l.TaxRate, "tax_rate", "0", 3, 3, "0", "100", "Enter a tax rate from 0 to 100 %.")
}

// MoneyLines are in's lines as money.Compute takes them; call it after Validate.
func (in InvoiceInput) MoneyLines() []money.Line {
	out := make([]money.Line, len(in.Lines))
	for i, l := range in.Lines {
		out[i] = money.Line{Quantity: l.Quantity, UnitPrice: l.UnitPrice, Discount: l.Discount, TaxRate: l.TaxRate}
	}
	return out
}

// InvoiceInputOf is the form filled with a draft and its lines, for editing.
func InvoiceInputOf(inv Invoice, lines []InvoiceLine) InvoiceInput {
	in := InvoiceInput{CustomerID: inv.CustomerID.String(), Currency: inv.Currency, PricesIncludeTax: inv.PricesIncludeTax,
		Rounding: inv.Rounding, ExchangeRate: inv.ExchangeRate, PaymentTerms: strconv.Itoa(inv.PaymentTerms), Notes: inv.Notes}
	for _, l := range lines {
		li := LineInput{Description: l.Description, Quantity: l.Quantity, UnitPrice: l.UnitPrice, Discount: l.Discount, TaxRate: l.TaxRate}
		if l.ProductID != nil {
			li.ProductID = l.ProductID.String()
		}
		if l.WarehouseID != nil {
			li.Warehouse = l.WarehouseID.String()
		}
		in.Lines = append(in.Lines, li)
	}
	return in
}

// PaymentInput is a payment as recorded by hand.
type PaymentInput struct {
	Amount    string
	PaidOn    string // YYYY-MM-DD; today when empty
	Method    string
	Reference string
}

// PaymentMethods are the ways of paying a person may choose.
var PaymentMethods = []string{"bank transfer", "card", "cash", "cheque", "direct debit", "other"}

// Validate normalizes the payment and returns a *ValidationError, or nil. The amount is checked
// against what is due by the store.
func (in *PaymentInput) Validate(today time.Time) error {
	fields := map[string]string{}
	amount, err := money.Parse(in.Amount, 15, 4, "0.0001", "999999999999999")
	if err != nil {
		fields["amount"] = "Enter an amount above 0."
	}
	in.Amount = amount
	in.PaidOn = strings.TrimSpace(in.PaidOn)
	if in.PaidOn == "" {
		in.PaidOn = today.Format(time.DateOnly)
	}
	if d, err := time.Parse(time.DateOnly, in.PaidOn); err != nil || d.Year() < 2000 || d.After(today.AddDate(0, 0, 1)) {
		fields["paid_on"] = "Enter the day it was paid, not in the future."
	}
	in.Method = strings.TrimSpace(in.Method)
	if in.Method == "" {
		in.Method = "bank transfer"
	}
	known := false
	for _, m := range PaymentMethods {
		known = known || m == in.Method
	}
	if !known {
		fields["method"] = messages["oneof"]
	}
	in.Reference = norm.NFC.String(strings.TrimSpace(in.Reference))
	if len([]rune(in.Reference)) > 200 || !cleanText(in.Reference, false) {
		fields["reference"] = "Use at most 200 characters, without control characters."
	}
	if len(fields) > 0 {
		return &ValidationError{Fields: fields}
	}
	return nil
}
