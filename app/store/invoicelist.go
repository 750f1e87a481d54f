package store

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/csvexport"
	"moat/app/keyset"
	"moat/app/money"
	"moat/app/tenant"
	"moat/models"
)

// InvoiceFilter picks invoices of the tenant. Every field is optional; Clean drops values that
// do not parse, so a hand-edited URL shows the unfiltered list rather than an error.
type InvoiceFilter struct {
	Search   string               // a number's beginning, or words of the customer's name, email or company
	Status   models.InvoiceStatus // one of the statuses
	Overdue  bool                 // still owed after the due date
	From, To string               // issued on or after, on or before (YYYY-MM-DD)
	Customer string               // one customer's id
}

// Clean normalizes f.
func (f InvoiceFilter) Clean() InvoiceFilter {
	f.Search = cleanSearch(f.Search)
	known := false
	for _, s := range models.InvoiceStatuses {
		known = known || f.Status == s
	}
	if !known {
		f.Status = ""
	}
	day := func(s string) string {
		if d, err := time.Parse(time.DateOnly, s); err != nil || d.Year() < 1 {
			return ""
		}
		return s
	}
	f.From, f.To, f.Customer = day(f.From), day(f.To), models.CleanID(f.Customer)
	return f
}

// InvoiceQuery asks for a page of the list, newest first; After is a cursor from a previous
// page's Next.
type InvoiceQuery struct {
	InvoiceFilter
	After string
	Limit int  // invoices a page, 1 to 100; PageSize when 0
	Bare  bool // no count and no totals: the API's list, which shows neither
}

// InvoiceRow is an invoice as the list shows it.
type InvoiceRow struct {
	models.Invoice `gorm:"embedded"`
	CustomerLabel  string // the live name, for drafts, which have no snapshot yet
}

// TableName is the invoices table: an InvoiceRow is an invoice read with more.
func (InvoiceRow) TableName() string { return "invoices" }

// Customer is who the invoice is for, as it shows it.
func (r InvoiceRow) Customer() string {
	if r.CustomerName != "" {
		return r.CustomerName
	}
	return r.CustomerLabel
}

// InvoicePage is one page of the list, with what the whole filtered set adds up to.
type InvoicePage struct {
	Invoices []InvoiceRow
	Query    InvoiceQuery // as cleaned and run
	Next     string
	Count    int64           // invoices matching, counted up to CountCap+1
	Totals   []CurrencyTotal // the matching invoices (not credit notes), by currency
	Paged    bool            // the page follows a cursor
}

// List returns a page of the tenant's invoices and credit notes that match the filter, newest
// first, with their count and totals.
func (s *Invoices) List(ctx context.Context, q InvoiceQuery) (InvoicePage, error) {
	q.InvoiceFilter = q.InvoiceFilter.Clean()
	p := InvoicePage{Query: q}
	after, paged := keyset.Decode(q.After, "created")
	if !paged {
		p.Query.After = ""
	}
	p.Paged = paged
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		words, err := searchWords(tx, q.Search)
		if err != nil {
			return err
		}
		if err := audit.Record(tx, audit.Event{Action: audit.InvoiceList, Outcome: models.OutcomeAllowed,
			Details: map[string]any{"filter": p.Query.InvoiceFilter, "paged": paged}}); err != nil {
			return err
		}
		rows := matching(tx, p.Query.InvoiceFilter, words).
			Select("invoices.*", `(SELECT c.name FROM customers c WHERE c.tenant_id = current_tenant_id() AND c.id = invoices.customer_id) AS customer_label`)
		if paged {
			rows = rows.Where("(created_at, id) < (?, ?)", after.At, after.ID)
		}
		if err := rows.Order("created_at DESC, id DESC").Limit(pageSize(q.Limit) + 1).Find(&p.Invoices).Error; err != nil {
			return fmt.Errorf("list invoices: %w", err)
		}
		if len(p.Invoices) > pageSize(q.Limit) {
			p.Invoices = p.Invoices[:pageSize(q.Limit)]
			last := p.Invoices[len(p.Invoices)-1]
			p.Next = keyset.Cursor{Sort: "created", Desc: true, At: last.CreatedAt, ID: last.ID}.Encode()
		}
		if q.Bare {
			return nil
		}
		count := matching(tx, p.Query.InvoiceFilter, words).Select("1").Limit(CountCap + 1)
		if err := tx.Raw("SELECT count(*) FROM (?) m", count).Scan(&p.Count).Error; err != nil {
			return fmt.Errorf("count invoices: %w", err)
		}
		return tenant.Last(matching(tx, p.Query.InvoiceFilter, words)).
			Select("currency, sum(total)::text AS total, coalesce(sum(total - amount_paid - amount_credited) FILTER (WHERE status IN ('open', 'uncollectible')), 0)::text AS due").
			Where("kind = ? AND status <> ?", models.KindInvoice, models.StatusVoid).Group("currency").Order("currency").Scan(&p.Totals).Error
	})
	return p, err
}

// matching is the tenant's invoices that match f, whose search text was split into words.
func matching(tx *gorm.DB, f InvoiceFilter, words []string) *gorm.DB {
	q := tx.Model(&models.Invoice{})
	if f.Search != "" {
		// A number's beginning (INV-2026-00), or the customer's name, email or company by words.
		prefix := strings.ToUpper(f.Search)
		cond, args := "(number ~>=~ ? AND number ~<~ ?)", []any{prefix, prefix + maxRune}
		if len(words) > 0 {
			match, margs := termsMatch(words)
			cond += " OR customer_id IN (SELECT customer_id FROM (" + match + ") m)"
			args = append(args, margs...)
		}
		q = q.Where("("+cond+")", args...)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Overdue {
		q = q.Where("status IN ? AND due_date < current_date", []models.InvoiceStatus{models.StatusOpen, models.StatusUncollectible})
	}
	if f.From != "" {
		q = q.Where("issue_date >= ?::date", f.From)
	}
	if f.To != "" {
		q = q.Where("issue_date <= ?::date", f.To)
	}
	if f.Customer != "" {
		q = q.Where("customer_id = ?", uuid.MustParse(f.Customer))
	}
	return q
}

// exportInvoices is how many invoices an export holds in memory at once.
const exportInvoices = 1000

// RecordExport records that the invoices matching f are being exported. Callers record before
// they stream, so an export is audited even if the download breaks off.
func (s *Invoices) RecordExport(ctx context.Context, f InvoiceFilter) error {
	return audit.RecordAlone(ctx, s.db, audit.Event{Action: audit.InvoiceExport, Outcome: models.OutcomeAllowed, Details: f.Clean()})
}

// Export writes the invoices and credit notes that match f as CSV to w, newest first, a batch
// at a time in short transactions, so memory stays the same at any size.
func (s *Invoices) Export(ctx context.Context, f InvoiceFilter, w io.Writer) error {
	f = f.Clean()
	header := []string{"number", "kind", "status", "customer", "issue_date", "due_date", "currency", "net", "tax", "total",
		"paid", "credited", "due", "created_at"}
	return csvexport.Stream(w, header, exportInvoices, func(last *InvoiceRow) (rows []InvoiceRow, err error) {
		err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
			words, err := searchWords(tx, f.Search)
			if err != nil {
				return err
			}
			q := matching(tx, f, words).
				Select("invoices.*", `(SELECT c.name FROM customers c WHERE c.tenant_id = current_tenant_id() AND c.id = invoices.customer_id) AS customer_label`)
			if last != nil {
				q = q.Where("(created_at, id) < (?, ?)", last.CreatedAt, last.ID)
			}
			return tenant.Last(q).Order("created_at DESC, id DESC").Limit(exportInvoices).Find(&rows).Error
		})
		return rows, err
	}, func(r InvoiceRow) []string {
		day := func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.Format(time.DateOnly)
		}
		amount := func(s string) string { return money.Amount(s, r.Currency).Number() }
		return []string{r.Title(), string(r.Kind), string(r.Status), r.Customer(), day(r.IssueDate), day(r.DueDate), r.Currency,
			amount(r.NetTotal), amount(r.TaxTotal), amount(r.Total), amount(r.AmountPaid), amount(r.AmountCredited),
			money.Amount(r.Due(), r.Currency).Number(), r.CreatedAt.UTC().Format(time.RFC3339)}
	})
}
