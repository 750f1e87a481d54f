package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bojanz/currency"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/money"
	"moat/app/tenant"
	"moat/models"
)

// Invoices is the invoice store: drafts, finalization with gap-free numbers, payments, credit
// notes and the PDF each document was issued as.
type Invoices struct{ db *gorm.DB }

// NewInvoices returns the invoice store over db.
func NewInvoices(db *gorm.DB) *Invoices { return &Invoices{db: db} }

// Defaults for a tenant's numbering series; {YYYY} is the year of issue.
var seriesPrefix = map[models.InvoiceKind]string{models.KindInvoice: "INV-{YYYY}-", models.KindCreditNote: "CN-{YYYY}-"}

// InvoiceDetail is an invoice with all its page shows.
type InvoiceDetail struct {
	models.Invoice
	Lines    []models.InvoiceLine
	Payments []models.InvoicePayment
	Totals   money.Totals     // recomputed from the lines: what the page shows
	Customer *models.Customer // the live customer (a draft shows it; nil when trashed)
	Credits  []models.Invoice // credit notes issued against it
	Original *models.Invoice  // a credit note's invoice
	Document bool             // its PDF is stored
	// The SKUs and warehouses its lines name, by id.
	SKUs, Places map[uuid.UUID]string
}

// errFinalized refuses a change only a draft allows.
var errFinalized = &models.ValidationError{Fields: map[string]string{"invoice": "This invoice is finalized: it can no longer change. Issue a credit note instead."}}

// takeInvoice loads the invoice with id, optionally locked (see byID).
func takeInvoice(tx *gorm.DB, id string, lock bool) (models.Invoice, error) {
	if lock {
		return byID[models.Invoice](tx, id, forUpdate)
	}
	return byID[models.Invoice](tx, id)
}

// Get returns the invoice with id, with its lines, payments and credit notes; misses are
// ErrNotFound like every unknown id, and each look is audited as a view.
func (s *Invoices) Get(ctx context.Context, id string) (d InvoiceDetail, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.InvoiceView, EntityID: entityID(id)}, func(tx *gorm.DB, _ *audit.Event) error {
		d = InvoiceDetail{}
		if d.Invoice, err = takeInvoice(tx, id, false); err != nil {
			return err
		}
		return loadDetail(tx, &d)
	})
	return d, err
}

func loadDetail(tx *gorm.DB, d *InvoiceDetail) error {
	if err := tx.Where("invoice_id = ?", d.ID).Order("position").Find(&d.Lines).Error; err != nil {
		return fmt.Errorf("invoice lines: %w", err)
	}
	if err := tx.Where("invoice_id = ?", d.ID).Order("paid_on, created_at").Find(&d.Payments).Error; err != nil {
		return fmt.Errorf("invoice payments: %w", err)
	}
	if err := tx.Where("credits_invoice_id = ?", d.ID).Order("created_at").Find(&d.Credits).Error; err != nil {
		return fmt.Errorf("credit notes: %w", err)
	}
	if d.CreditsInvoiceID != nil {
		var o models.Invoice
		if err := tx.Where("id = ?", *d.CreditsInvoiceID).Take(&o).Error; err != nil {
			return fmt.Errorf("credited invoice: %w", err)
		}
		d.Original = &o
	}
	if err := lineNames(tx, d); err != nil {
		return err
	}
	var c models.Customer
	err := tx.Where("id = ? AND deleted_at IS NULL", d.CustomerID).Take(&c).Error
	switch {
	case err == nil:
		d.Customer = &c
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("invoice customer: %w", err)
	}
	var docs int64
	if err := tx.Table("invoice_documents").Where("invoice_id = ?", d.ID).Count(&docs).Error; err != nil {
		return fmt.Errorf("invoice document: %w", err)
	}
	d.Document = docs > 0
	var err2 error
	d.Totals, err2 = money.Compute(d.Currency, d.PricesIncludeTax, d.Rounding, moneyLines(d.Lines))
	return err2
}

func moneyLines(lines []models.InvoiceLine) []money.Line {
	out := make([]money.Line, len(lines))
	for i, l := range lines {
		out[i] = money.Line{Quantity: l.Quantity, UnitPrice: l.UnitPrice, Discount: l.Discount, TaxRate: l.TaxRate}
	}
	return out
}

// customerFor is the tenant's customer with id, outside the trash. Another tenant's id, an
// unknown one and a trashed customer are all the same field error.
func customerFor(tx *gorm.DB, id string) (models.Customer, error) {
	c, err := byID[models.Customer](tx, id, func(q *gorm.DB) *gorm.DB { return q.Where("deleted_at IS NULL") })
	if errors.Is(err, models.ErrNotFound) {
		return c, &models.ValidationError{Fields: map[string]string{"customer": "Choose a customer from the list."}}
	}
	return c, err
}

// CreateDraft adds a draft invoice for one of the tenant's customers. Invalid input, and a
// customer the tenant does not have, are a *models.ValidationError.
func (s *Invoices) CreateDraft(ctx context.Context, in models.InvoiceInput) (inv models.Invoice, err error) {
	invalid := in.Validate()
	err = audited(ctx, s.db, audit.Event{Action: audit.InvoiceCreate}, func(tx *gorm.DB, ev *audit.Event) error {
		inv = models.Invoice{Kind: models.KindInvoice, Status: models.StatusDraft, CreatedBy: requestUser(tx)}
		if invalid != nil {
			return invalid
		}
		c, err := customerFor(tx, in.CustomerID)
		if err != nil {
			return err
		}
		inv.CustomerID = c.ID
		if err := writeDraft(tx, &inv, in, true); err != nil {
			return err
		}
		ev.EntityID, ev.Details = inv.ID.String(), map[string]string{"customer": c.Name, "total": inv.Total, "currency": inv.Currency}
		return nil
	})
	return inv, err
}

// writeDraft puts in on the draft inv (created when fresh) and replaces its lines, with the
// amounts each works out to.
// Lines of goods reserve their stock, which must be available (see reserveFor). It runs in a
// savepoint, so nothing is left written when a line is refused.
func writeDraft(tx *gorm.DB, inv *models.Invoice, in models.InvoiceInput, fresh bool) error {
	return tx.Transaction(func(tx *gorm.DB) error { return replaceDraft(tx, inv, in, fresh) })
}

func replaceDraft(tx *gorm.DB, inv *models.Invoice, in models.InvoiceInput, fresh bool) error {
	stock, err := resolveLines(tx, inv.Kind, &in)
	if err != nil {
		return err
	}
	var old []models.InvoiceLine
	if !fresh {
		if err := tx.Where("invoice_id = ?", inv.ID).Find(&old).Error; err != nil {
			return fmt.Errorf("invoice lines: %w", err)
		}
	}
	if inv.Kind == models.KindInvoice {
		if err := reserveFor(tx, old, in, stock); err != nil {
			return err
		}
	}
	totals, err := money.Compute(in.Currency, in.PricesIncludeTax, in.Rounding, in.MoneyLines())
	if err != nil {
		return fmt.Errorf("invoice totals: %w", err)
	}
	inv.Currency, inv.PricesIncludeTax, inv.Rounding, inv.ExchangeRate = in.Currency, in.PricesIncludeTax, in.Rounding, in.ExchangeRate
	fmt.Sscan(in.PaymentTerms, &inv.PaymentTerms) //nolint:errcheck // validated
	inv.Notes = in.Notes
	inv.NetTotal, inv.TaxTotal, inv.Total = totals.Net.Number(), totals.Tax.Number(), totals.Total.Number()
	inv.AmountPaid, inv.AmountCredited = "0", "0"
	if fresh {
		if err := tx.Create(inv).Error; err != nil {
			return fmt.Errorf("create invoice: %w", err)
		}
	} else {
		inv.UpdatedAt = time.Now()
		if err := tx.Model(inv).Select("customer_id", "currency", "prices_include_tax", "rounding", "exchange_rate", "payment_terms",
			"notes", "net_total", "tax_total", "total", "updated_at").Updates(inv).Error; err != nil {
			return fmt.Errorf("update invoice: %w", err)
		}
		if err := tx.Where("invoice_id = ?", inv.ID).Delete(&models.InvoiceLine{}).Error; err != nil {
			return fmt.Errorf("replace invoice lines: %w", err)
		}
	}
	lines := make([]models.InvoiceLine, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = models.InvoiceLine{InvoiceID: inv.ID, Position: i + 1, Description: l.Description, Quantity: l.Quantity,
			UnitPrice: l.UnitPrice, Discount: l.Discount, TaxRate: l.TaxRate,
			Net: totals.Lines[i].Net.Number(), Tax: totals.Lines[i].Tax.Number(), ProductID: stock[i].Product, WarehouseID: stock[i].Warehouse}
	}
	if err := tx.Create(&lines).Error; err != nil {
		return fmt.Errorf("invoice lines: %w", err)
	}
	return nil
}

// UpdateDraft replaces the draft with id by in. An invoice the caller cannot see answers
// ErrNotFound before the input is looked at; a finalized one, or invalid input, is a
// *models.ValidationError.
func (s *Invoices) UpdateDraft(ctx context.Context, id string, in models.InvoiceInput) (inv models.Invoice, err error) {
	invalid := in.Validate()
	err = audited(ctx, s.db, audit.Event{Action: audit.InvoiceUpdate, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		if inv, err = takeInvoice(tx, id, true); err != nil {
			return err
		}
		switch {
		case inv.Status != models.StatusDraft:
			return errFinalized
		case invalid != nil:
			return invalid
		}
		c, err := customerFor(tx, in.CustomerID)
		if err != nil {
			return err
		}
		inv.CustomerID = c.ID
		if err := writeDraft(tx, &inv, in, false); err != nil {
			return err
		}
		ev.Details = map[string]string{"customer": c.Name, "total": inv.Total, "currency": inv.Currency}
		return nil
	})
	return inv, err
}

// DeleteDraft deletes the draft with id: a draft has no number, so nothing is left missing.
func (s *Invoices) DeleteDraft(ctx context.Context, id string) error {
	return audited(ctx, s.db, audit.Event{Action: audit.InvoiceDelete, EntityID: entityID(id)}, func(tx *gorm.DB, _ *audit.Event) error {
		inv, err := takeInvoice(tx, id, true)
		if err != nil {
			return err
		}
		if inv.Status != models.StatusDraft {
			return errFinalized
		}
		// Its lines release what they reserved as they go: lock those balances first, in the
		// order everyone locks them.
		var lines []models.InvoiceLine
		if err := tx.Where("invoice_id = ? AND warehouse_id IS NOT NULL", inv.ID).Find(&lines).Error; err != nil {
			return fmt.Errorf("draft lines: %w", err)
		}
		if _, err := lockStock(tx, keysOf(lines)); err != nil {
			return err
		}
		if err := tx.Delete(&inv).Error; err != nil {
			return fmt.Errorf("delete draft: %w", err)
		}
		return nil
	})
}

// Finalize issues the draft with id on day today: it takes the next number of its series, in
// this transaction (so numbers have no gaps), works its totals out again from its lines, dates it
// and fixes its due date from its payment terms, and keeps a snapshot of the customer and the
// seller. From then on the database refuses to change any of that.
func (s *Invoices) Finalize(ctx context.Context, id string, today time.Time) (inv models.Invoice, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.InvoiceFinalize, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		if inv, err = takeInvoice(tx, id, true); err != nil {
			return err
		}
		if inv.Status != models.StatusDraft {
			return errFinalized
		}
		// In a savepoint: a refusal for stock leaves no balance it locked behind.
		if err := tx.Transaction(func(tx *gorm.DB) error { return finalize(tx, &inv, today) }); err != nil {
			return err
		}
		ev.Details = map[string]string{"number": *inv.Number, "total": inv.Total, "currency": inv.Currency}
		return nil
	})
	return inv, err
}

// finalize numbers and freezes the draft inv, locked in tx.
func finalize(tx *gorm.DB, inv *models.Invoice, today time.Time) error {
	var lines []models.InvoiceLine
	if err := tx.Where("invoice_id = ?", inv.ID).Order("position").Find(&lines).Error; err != nil {
		return fmt.Errorf("invoice lines: %w", err)
	}
	if len(lines) == 0 {
		return &models.ValidationError{Fields: map[string]string{"lines": "Add at least one line before finalizing."}}
	}
	if inv.Kind == models.KindInvoice {
		// Its stocked lines' goods leave when its status moves (the invoices_stock trigger).
		if err := takeFor(tx, lines, today); err != nil {
			return err
		}
	}
	if err := setActor(tx); err != nil {
		return err
	}
	totals, err := money.Compute(inv.Currency, inv.PricesIncludeTax, inv.Rounding, moneyLines(lines))
	if err != nil {
		return fmt.Errorf("invoice totals: %w", err)
	}
	var c models.Customer
	if err := tx.Where("id = ? AND deleted_at IS NULL", inv.CustomerID).Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return &models.ValidationError{Fields: map[string]string{"customer": "The customer is in the trash: restore it before finalizing."}}
		}
		return fmt.Errorf("invoice customer: %w", err)
	}
	var seller models.Tenant
	if err := tx.Take(&seller).Error; err != nil {
		return fmt.Errorf("seller: %w", err)
	}
	number, year, seq, err := nextNumber(tx, inv.Kind, today)
	if err != nil {
		return err
	}
	day := today.UTC().Truncate(24 * time.Hour)
	due := day.AddDate(0, 0, inv.PaymentTerms)
	now := time.Now()
	inv.Status, inv.Number, inv.NumberYear, inv.NumberSeq = models.StatusOpen, &number, &year, &seq
	inv.IssueDate, inv.DueDate, inv.FinalizedAt, inv.UpdatedAt = &day, &due, &now, now
	inv.CustomerName, inv.CustomerNumber, inv.CustomerTaxID = c.Name, c.Number, c.TaxID
	inv.CustomerAddress = c.BillingAddress
	inv.SellerName = seller.Name
	inv.NetTotal, inv.TaxTotal, inv.Total = totals.Net.Number(), totals.Tax.Number(), totals.Total.Number()
	err = tx.Model(inv).Select("status", "number", "number_year", "number_seq", "issue_date", "due_date", "finalized_at", "updated_at",
		"customer_name", "customer_number", "customer_tax_id", "customer_address", "seller_name", "net_total", "tax_total", "total").
		Updates(inv).Error
	if err != nil {
		return fmt.Errorf("finalize invoice: %w", err)
	}
	return nil
}

// nextNumber takes the next number of the tenant's series for kind: the counter row of the
// series and year is created or incremented, and so locked until the transaction ends. Two
// finalizations wait for each other; one that rolls back gives its number back.
func nextNumber(tx *gorm.DB, kind models.InvoiceKind, today time.Time) (number string, year int, seq int64, err error) {
	// The tenant's first document of a kind starts its series, with the default prefix.
	if err := tx.Exec("INSERT INTO invoice_series (tenant_id, kind, prefix) VALUES (current_tenant_id(), ?, ?) ON CONFLICT DO NOTHING",
		kind, seriesPrefix[kind]).Error; err != nil {
		return "", 0, 0, fmt.Errorf("numbering series: %w", err)
	}
	var series models.InvoiceSeries
	if err := tx.Where("kind = ?", kind).Take(&series).Error; err != nil {
		return "", 0, 0, fmt.Errorf("numbering series: %w", err)
	}
	if series.Yearly {
		year = today.UTC().Year()
	}
	err = tx.Raw(`INSERT INTO invoice_counters AS c (tenant_id, kind, year, last) VALUES (current_tenant_id(), ?, ?, 1)
		ON CONFLICT (tenant_id, kind, year) DO UPDATE SET last = c.last + 1 RETURNING last`, kind, year).Scan(&seq).Error
	if err != nil {
		return "", 0, 0, fmt.Errorf("next number: %w", err)
	}
	prefix := strings.ReplaceAll(series.Prefix, "{YYYY}", fmt.Sprintf("%04d", today.UTC().Year()))
	return fmt.Sprintf("%s%04d", prefix, seq), year, seq, nil
}

// RecordPayment records money received against the open invoice with id. It may not be more
// than is due; the invoice is paid once nothing is.
func (s *Invoices) RecordPayment(ctx context.Context, id string, in models.PaymentInput, today time.Time) error {
	invalid := in.Validate(today)
	return audited(ctx, s.db, audit.Event{Action: audit.InvoicePayment, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		inv, err := takeInvoice(tx, id, true)
		if err != nil {
			return err
		}
		if inv.Status != models.StatusOpen && inv.Status != models.StatusUncollectible {
			return &models.ValidationError{Fields: map[string]string{"amount": "Only an open invoice takes payments."}}
		}
		if invalid != nil {
			return invalid
		}
		due := money.Amount(inv.Due(), inv.Currency)
		amount, err := amountIn(in.Amount, inv.Currency)
		if err != nil {
			return err
		}
		if over, _ := amount.Cmp(due); over > 0 {
			return &models.ValidationError{Fields: map[string]string{"amount": "That is more than is due (" + money.Format(due) + ")."}}
		}
		paidOn, _ := time.Parse(time.DateOnly, in.PaidOn)
		p := models.InvoicePayment{InvoiceID: inv.ID, Amount: amount.Number(), PaidOn: paidOn, Method: in.Method, Reference: in.Reference,
			CreatedBy: requestUser(tx)}
		if err := tx.Create(&p).Error; err != nil {
			return fmt.Errorf("record payment: %w", err)
		}
		paid, _ := money.Amount(inv.AmountPaid, inv.Currency).Add(amount)
		updates := map[string]any{"amount_paid": paid.Number(), "updated_at": time.Now()}
		if left, _ := due.Sub(amount); left.IsZero() {
			updates["status"], updates["paid_at"] = models.StatusPaid, time.Now()
		}
		if err := tx.Model(&inv).Updates(updates).Error; err != nil {
			return fmt.Errorf("record payment: %w", err)
		}
		ev.Details = map[string]string{"amount": amount.Number(), "currency": inv.Currency, "method": p.Method}
		return nil
	})
}

// amountIn is n in currency code, which must not have more decimals than the currency does.
func amountIn(n, code string) (currency.Amount, error) {
	digits := money.Digits(code)
	if _, frac, ok := strings.Cut(n, "."); ok && len(frac) > digits {
		return currency.Amount{}, &models.ValidationError{Fields: map[string]string{"amount": fmt.Sprintf("Use at most %d decimals for %s.", digits, code)}}
	}
	return money.Amount(n, code), nil
}

// Void cancels the open invoice with id, on which nothing has been paid: it stays, numbered,
// and is owed by nobody.
func (s *Invoices) Void(ctx context.Context, id string) error {
	return s.move(ctx, id, audit.InvoiceVoid, func(inv models.Invoice) (map[string]any, error) {
		if paid := money.Amount(inv.AmountPaid, inv.Currency); !paid.IsZero() {
			return nil, &models.ValidationError{Fields: map[string]string{"invoice": "Payments were made on this invoice: issue a credit note instead."}}
		}
		return map[string]any{"status": models.StatusVoid, "voided_at": time.Now()}, nil
	}, models.StatusOpen, models.StatusUncollectible)
}

// MarkUncollectible records that the open invoice with id will not be paid; it may still be.
func (s *Invoices) MarkUncollectible(ctx context.Context, id string) error {
	return s.move(ctx, id, audit.InvoiceUncollectible, func(models.Invoice) (map[string]any, error) {
		return map[string]any{"status": models.StatusUncollectible, "uncollectible_at": time.Now()}, nil
	}, models.StatusOpen)
}

// move changes the status of the invoice with id, which must be in one of from.
func (s *Invoices) move(ctx context.Context, id string, action audit.Action, change func(models.Invoice) (map[string]any, error), from ...models.InvoiceStatus) error {
	return audited(ctx, s.db, audit.Event{Action: action, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		inv, err := takeInvoice(tx, id, true)
		if err != nil {
			return err
		}
		allowed := false
		for _, f := range from {
			allowed = allowed || inv.Status == f
		}
		if !allowed || inv.Kind != models.KindInvoice {
			return &models.ValidationError{Fields: map[string]string{"invoice": "This invoice is " + string(inv.Status) + ": that does not apply to it."}}
		}
		updates, err := change(inv)
		if err != nil {
			return err
		}
		updates["updated_at"] = time.Now()
		if err := setActor(tx); err != nil {
			return err
		}
		if err := tx.Model(&inv).Updates(updates).Error; err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		ev.Details = map[string]string{"from": string(inv.Status), "to": fmt.Sprint(updates["status"])}
		return nil
	})
}

// Credit issues a credit note for the whole of the finalized invoice with id, numbered in the
// credit note series, and applies it to what is still due on the invoice (the rest is owed back
// to the customer). With reissue it also makes a draft copy of the invoice, to correct and issue
// again. It returns the credit note and the new draft (zero without reissue).
//
// With returnStock (always with reissue, whose copy takes the goods again) the credit note's
// lines of goods bring them back to the warehouses they left, valued at what they left at.
func (s *Invoices) Credit(ctx context.Context, id string, reissue, returnStock bool, today time.Time) (note, draft models.Invoice, err error) {
	returnStock = returnStock || reissue
	err = audited(ctx, s.db, audit.Event{Action: audit.InvoiceCredit, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		orig, err := takeInvoice(tx, id, true)
		if err != nil {
			return err
		}
		// A paid invoice has nothing due, so its credit adds nothing to amount_credited: the
		// credit notes themselves say whether it was credited.
		var credited bool
		if err := tx.Raw("SELECT EXISTS (SELECT 1 FROM invoices WHERE tenant_id = current_tenant_id() AND credits_invoice_id = ?)", orig.ID).
			Scan(&credited).Error; err != nil {
			return fmt.Errorf("credit notes: %w", err)
		}
		switch {
		case orig.Kind != models.KindInvoice || orig.Status == models.StatusDraft || orig.Status == models.StatusVoid:
			return &models.ValidationError{Fields: map[string]string{"invoice": "Only a finalized invoice that is not void can be credited."}}
		case credited || !money.Amount(orig.AmountCredited, orig.Currency).IsZero():
			return &models.ValidationError{Fields: map[string]string{"invoice": "This invoice has been credited already."}}
		}
		// In a savepoint: a refusal half-way (the customer is in the trash, say) leaves no
		// credit note behind.
		return tx.Transaction(func(tx *gorm.DB) error {
			note, draft, err = credit(tx, orig, reissue, returnStock, today, ev)
			return err
		})
	})
	return note, draft, err
}

// credit is Credit's work on the invoice orig, locked and creditable.
func credit(tx *gorm.DB, orig models.Invoice, reissue, returnStock bool, today time.Time, ev *audit.Event) (note, draft models.Invoice, err error) {
	var lines []models.InvoiceLine
	if err := tx.Where("invoice_id = ?", orig.ID).Order("position").Find(&lines).Error; err != nil {
		return note, draft, fmt.Errorf("invoice lines: %w", err)
	}
	note = models.Invoice{Kind: models.KindCreditNote, Status: models.StatusDraft, CustomerID: orig.CustomerID, CreditsInvoiceID: &orig.ID,
		CreatedBy: requestUser(tx), Notes: "Credit for " + *orig.Number + "."}
	credit := copyOf(orig, lines)
	for i := range credit.Lines {
		if !returnStock {
			credit.Lines[i].Warehouse = ""
		}
	}
	if err := writeDraft(tx, &note, credit, true); err != nil {
		return note, draft, err
	}
	if err := finalize(tx, &note, today); err != nil {
		return note, draft, err
	}
	// The credit settles what is due; what was paid already is owed back.
	due := money.Amount(orig.Due(), orig.Currency)
	credited, _ := money.Amount(orig.AmountCredited, orig.Currency).Add(due)
	updates := map[string]any{"amount_credited": credited.Number(), "updated_at": time.Now()}
	if orig.Status != models.StatusPaid {
		updates["status"], updates["paid_at"] = models.StatusPaid, time.Now()
	}
	if err := tx.Model(&orig).Updates(updates).Error; err != nil {
		return note, draft, fmt.Errorf("apply credit: %w", err)
	}
	if err := tx.Model(&note).Updates(map[string]any{"status": models.StatusPaid, "paid_at": time.Now()}).Error; err != nil {
		return note, draft, fmt.Errorf("settle credit note: %w", err)
	}
	note.Status = models.StatusPaid
	refund, _ := money.Amount(note.Total, note.Currency).Sub(due)
	details := map[string]string{"credit_note": *note.Number, "total": note.Total, "applied": due.Number(), "to_refund": refund.Number(),
		"currency": orig.Currency}
	if reissue {
		draft = models.Invoice{Kind: models.KindInvoice, Status: models.StatusDraft, CustomerID: orig.CustomerID, CreatedBy: requestUser(tx)}
		if err := writeDraft(tx, &draft, copyOf(orig, lines), true); err != nil {
			return note, draft, err
		}
		details["reissued_as"] = draft.ID.String()
	}
	if returnStock {
		details["returned_stock"] = "true"
	}
	ev.Details = details
	return note, draft, nil
}

// setActor tells the database's stock triggers who moves the stock an invoice's status moves,
// with SET LOCAL (enter_actor), which Citus forwards where the triggers run.
func setActor(tx *gorm.DB) error {
	// No person (NULL): the triggers fall back to the invoice's author.
	if err := tx.Exec("SELECT enter_actor(?)", requestUser(tx)).Error; err != nil {
		return fmt.Errorf("actor: %w", err)
	}
	return nil
}

// copyOf is an input that makes a copy of inv and its lines.
func copyOf(inv models.Invoice, lines []models.InvoiceLine) models.InvoiceInput {
	in := models.InvoiceInputOf(inv, lines)
	in.Notes = inv.Notes
	return in
}

// AttachDocument keeps pdf as the document the finalized invoice with id was issued as, once:
// a stored document is never replaced. Its SHA-256 goes into the trail.
func (s *Invoices) AttachDocument(ctx context.Context, id string, pdf []byte) error {
	sum := sha256.Sum256(pdf)
	hash := hex.EncodeToString(sum[:])
	return audited(ctx, s.db, audit.Event{Action: audit.InvoiceDocument, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		inv, err := takeInvoice(tx, id, true)
		if err != nil {
			return err
		}
		if inv.Status == models.StatusDraft {
			return &models.ValidationError{Fields: map[string]string{"invoice": "A draft has no document yet."}}
		}
		res := tx.Exec(`INSERT INTO invoice_documents (tenant_id, invoice_id, pdf, sha256) VALUES (current_tenant_id(), ?, ?, ?)
			ON CONFLICT DO NOTHING`, inv.ID, pdf, hash)
		if res.Error != nil {
			return fmt.Errorf("store document: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return &models.ValidationError{Fields: map[string]string{"invoice": "Its document is stored already."}}
		}
		ev.Details = map[string]any{"sha256": hash, "bytes": len(pdf), "number": *inv.Number}
		return nil
	})
}

// Document returns the PDF stored for the invoice with id, and its number; found is false when
// none is stored yet. Reading it is audited as a view.
func (s *Invoices) Document(ctx context.Context, id string) (pdf []byte, number string, found bool, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.InvoiceView, EntityID: entityID(id), Details: map[string]string{"format": "pdf"}},
		func(tx *gorm.DB, _ *audit.Event) error {
			inv, err := takeInvoice(tx, id, false)
			if err != nil {
				return err
			}
			if inv.Number != nil {
				number = *inv.Number
			}
			var docs [][]byte
			if err := tx.Raw("SELECT pdf FROM invoice_documents WHERE tenant_id = current_tenant_id() AND invoice_id = ?", inv.ID).Scan(&docs).Error; err != nil {
				return fmt.Errorf("load document: %w", err)
			}
			if len(docs) == 1 {
				pdf, found = docs[0], true
			}
			return nil
		})
	return pdf, number, found, err
}

// CustomerInvoices are a customer's newest invoices and what it owes, by currency.
type CustomerInvoices struct {
	Invoices    []models.Invoice
	Outstanding []CurrencyTotal
}

// CurrencyTotal is an amount in one currency.
type CurrencyTotal struct {
	Currency string
	Total    string
	Due      string
}

// ForCustomer returns the newest invoices of the customer with id (its page shows them) and
// what it owes. Reading them is part of viewing the customer, audited there.
func (s *Invoices) ForCustomer(ctx context.Context, id uuid.UUID, limit int) (ci CustomerInvoices, err error) {
	err = tenant.Read(ctx, s.db, func(_ context.Context, r *tenant.Reads) error {
		s.QueueForCustomer(r, id, limit, &ci)
		return nil
	})
	if err != nil {
		return CustomerInvoices{}, fmt.Errorf("customer invoices: %w", err)
	}
	return ci, nil
}

// QueueForCustomer queues ForCustomer's reads in r, into out.
func (s *Invoices) QueueForCustomer(r *tenant.Reads, id uuid.UUID, limit int, out *CustomerInvoices) {
	r.Find(r.Tx().Where("customer_id = ?", id).Order("created_at DESC, id DESC").Limit(limit), &out.Invoices)
	r.Find(r.Tx().Model(&models.Invoice{}).
		Select("currency, sum(total)::text AS total, sum(total - amount_paid - amount_credited)::text AS due").
		Where("customer_id = ? AND kind = ? AND status IN ?", id, models.KindInvoice, []models.InvoiceStatus{models.StatusOpen, models.StatusUncollectible}).
		Group("currency").Order("currency"), &out.Outstanding)
}

// lineNames fills d's SKUs and warehouse names of the products its lines sell.
func lineNames(tx *gorm.DB, d *InvoiceDetail) error {
	var products, places []uuid.UUID
	for _, l := range d.Lines {
		if l.ProductID != nil {
			products = append(products, *l.ProductID)
		}
		if l.WarehouseID != nil {
			places = append(places, *l.WarehouseID)
		}
	}
	d.SKUs, d.Places = map[uuid.UUID]string{}, map[uuid.UUID]string{}
	if len(products) > 0 {
		var ps []models.Product
		if err := tx.Select("id", "sku").Where("id IN ?", products).Find(&ps).Error; err != nil {
			return fmt.Errorf("line products: %w", err)
		}
		for _, p := range ps {
			d.SKUs[p.ID] = p.SKU
		}
	}
	if len(places) > 0 {
		var ws []models.Warehouse
		if err := tx.Select("id", "name").Where("id IN ?", places).Find(&ws).Error; err != nil {
			return fmt.Errorf("line warehouses: %w", err)
		}
		for _, w := range ws {
			d.Places[w.ID] = w.Name
		}
	}
	return nil
}
