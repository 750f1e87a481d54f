// Package demo loads the development demo data: two tenants, Acme and Globex, each with an owner,
// a member and a few dozen customers, so isolation can be seen by signing in as each.
package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/store"
	"moat/models"
)

// Password is every demo person's password. Demo data is for development only.
const Password = "moat-demo-password"

type org struct {
	name, domain string
	people       []string
	companies    []string
	products     []product
}

// product is a demo product: stocked ones get two receipts.
type product struct {
	sku, name, unit, price string
	stocked                bool
}

var orgs = []org{
	{"Acme", "acme.test",
		[]string{"Ada Byrne", "Bruno Costa", "Chloe Dubois", "Dmitri Orlov", "Elena Ruiz", "Farah Haddad", "Gustav Lind", "Hana Sato", "Ivan Petrov", "Julia Novak", "Kofi Mensah", "Lena Fischer"},
		[]string{"Anvil Works", "Rocket Supply", "Desert Logistics"},
		[]product{{"ANV-100", "Anvil, cast iron", "pc", "149.00", true}, {"RKT-200", "Rocket skates", "pair", "89.50", true},
			{"TNT-010", "Dynamite, crate of 10", "crate", "240.00", true}, {"INST-1", "Installation", "h", "85.00", false}}},
	{"Globex", "globex.test",
		[]string{"Mara Jensen", "Nikhil Rao", "Olga Ivanova", "Pedro Alves", "Quinn Murphy", "Rosa Marino", "Sven Olsen", "Tara Walsh", "Umar Farouk", "Vera Kovac", "Wei Zhang", "Yusuf Demir"},
		[]string{"Cypress Creek", "Hammock Hut", "Scorpio Holdings"},
		[]product{{"HMK-01", "Hammock, woven", "pc", "59.00", true}, {"CYP-02", "Cypress planter", "pc", "34.90", true},
			{"GLX-SVC", "Consulting", "h", "120.00", false}}},
}

// Consultant belongs to both demo organizations: signing in as them asks which to enter.
const Consultant = "consultant@demo.test"

// Load creates the demo tenants unless their owners can already sign in, and prints the
// sign-ins. It goes the way people do, through the emailed links (which land in the outbox).
func Load(ctx context.Context, db *gorm.DB, out io.Writer) error {
	svc := auth.NewService(db, slog.New(slog.DiscardHandler), "http://127.0.0.1:3000", nil)
	customers := store.NewCustomers(db)
	tags := store.NewTags(db)
	team := store.NewUsers(db, svc.Links())
	for _, o := range orgs {
		owner := "owner@" + o.domain
		if _, err := svc.SignIn(ctx, owner, Password); err == nil {
			continue // loaded on an earlier start
		}
		tok, err := svc.RequestSignUp(ctx, models.SignUpInput{Organization: o.name, Name: o.name + " Owner", Email: owner, Password: Password})
		if err != nil {
			return fmt.Errorf("demo %s: %w", o.name, err)
		}
		su, err := svc.ConfirmSignUp(ctx, tok)
		if err != nil {
			return fmt.Errorf("demo %s: %w", o.name, err)
		}
		// The demo loader is a named cross-tenant path: it acts as each new owner in turn.
		p := su.Principal
		tctx := audit.NewContext(auth.NewContext(ctx, p), audit.Request{UserID: p.UserID, RequestID: "demo-loader"})
		for _, person := range []models.InviteInput{
			{Name: o.name + " Member", Email: "member@" + o.domain, Role: models.RoleMember},
			{Name: "Casey Consultant", Email: Consultant, Role: models.RoleMember},
		} {
			tok, err := team.Invite(tctx, person)
			if err != nil {
				return fmt.Errorf("demo %s invitation: %w", o.name, err)
			}
			if _, err := svc.AcceptInvitation(ctx, tok, Password, models.NewPasswordInput{New: Password, Confirm: Password}); err != nil {
				return fmt.Errorf("demo %s member: %w", o.name, err)
			}
		}
		var tagIDs []string
		for _, t := range [][2]string{{"VIP", "amber"}, {"Wholesale", "blue"}, {"Late payer", "red"}} {
			tag, err := tags.Create(tctx, models.TagInput{Name: t[0], Color: t[1]})
			if err != nil {
				return fmt.Errorf("demo %s tag: %w", o.name, err)
			}
			tagIDs = append(tagIDs, tag.ID.String())
		}
		slug := func(s string) string {
			return strings.Map(func(r rune) rune {
				if unicode.IsLetter(r) {
					return unicode.ToLower(r)
				}
				return -1
			}, strings.Fields(s)[0])
		}
		var billed []models.Customer
		for i, company := range o.companies {
			in := models.CustomerInput{
				Kind: models.KindCompany, Name: company, Website: slug(company) + ".example",
				Emails: []string{"accounts@" + slug(company) + ".example"}, EmailTypes: []string{"billing"},
				TaxID: fmt.Sprintf("DE%09d", 123456789+i*1111), BillingAddress: fmt.Sprintf("%d Harbour Street\n10115 Berlin\nGermany", 10+i),
				Currency: "EUR", PaymentTerms: "30", TagIDs: tagIDs[1:2],
			}
			c, err := customers.Create(tctx, in)
			if err != nil {
				return fmt.Errorf("demo %s company: %w", o.name, err)
			}
			billed = append(billed, c)
		}
		if err := invoices(tctx, store.NewInvoices(db), billed); err != nil {
			return fmt.Errorf("demo %s invoices: %w", o.name, err)
		}
		if err := inventory(tctx, store.NewProducts(db), store.NewInvoices(db), o, billed[0]); err != nil {
			return fmt.Errorf("demo %s inventory: %w", o.name, err)
		}
		for i := 0; i < 36; i++ {
			person := o.people[i%len(o.people)]
			company := o.companies[i%len(o.companies)]
			name := person
			if i >= len(o.people) {
				name = fmt.Sprintf("%s %d", person, i/len(o.people)+1)
			}
			in := models.CustomerInput{
				Kind: models.KindPerson, Name: name, Company: company,
				Emails: []string{fmt.Sprintf("%s.%d@%s.example", slug(person), i, slug(company))},
				Phones: []string{fmt.Sprintf("+1 555 %03d %04d", i, 1000+i*7)}, PhoneTypes: []string{"mobile"},
			}
			switch i % 6 {
			case 0:
				in.TagIDs = tagIDs[:1]
			case 3:
				in.TagIDs = tagIDs[2:]
			}
			c, err := customers.Create(tctx, in)
			if err != nil {
				return fmt.Errorf("demo %s customer: %w", o.name, err)
			}
			if i%9 == 0 {
				if err := customers.AddNote(tctx, c.ID.String(), models.NoteInput{Body: "Met at the trade fair; prefers email."}); err != nil {
					return fmt.Errorf("demo %s note: %w", o.name, err)
				}
			}
		}
	}
	fmt.Fprintln(out, "Demo sign-ins (password "+Password+"):")
	for _, o := range orgs {
		fmt.Fprintf(out, "  %-7s owner@%s (owner)   member@%s (member)\n", o.name, o.domain, o.domain)
	}
	fmt.Fprintf(out, "  both    %s (a member of each: signing in asks which)\n", Consultant)
	return nil
}

// invoices gives the companies an invoice in each state: paid, partly paid, overdue, credited
// and re-issued, and a draft.
func invoices(ctx context.Context, s *store.Invoices, companies []models.Customer) error {
	today := time.Now().UTC()
	lines := [][]models.LineInput{
		{{Description: "Consulting, November", Quantity: "12", UnitPrice: "95.00", TaxRate: "19"}, {Description: "Travel", Quantity: "1", UnitPrice: "240.00", TaxRate: "19"}},
		{{Description: "Support plan, annual", Quantity: "1", UnitPrice: "1800.00", TaxRate: "19"}},
		{{Description: "Spare parts", Quantity: "40", UnitPrice: "12.50", TaxRate: "19", Discount: "10"}, {Description: "Handbook", Quantity: "2", UnitPrice: "19.90", TaxRate: "7"}},
	}
	issue := func(c models.Customer, l []models.LineInput, daysAgo int) (models.Invoice, error) {
		d, err := s.CreateDraft(ctx, models.InvoiceInput{CustomerID: c.ID.String(), Currency: "EUR", PaymentTerms: "30", ExchangeRate: "1", Lines: l})
		if err != nil {
			return d, err
		}
		return s.Finalize(ctx, d.ID.String(), today.AddDate(0, 0, -daysAgo))
	}
	pay := func(inv models.Invoice, amount string) error {
		return s.RecordPayment(ctx, inv.ID.String(), models.PaymentInput{Amount: amount, PaidOn: today.Format(time.DateOnly), Method: "bank transfer"}, today)
	}
	for i, c := range companies {
		paid, err := issue(c, lines[i%len(lines)], 60)
		if err == nil {
			err = pay(paid, paid.Total)
		}
		if err != nil {
			return err
		}
		overdue, err := issue(c, lines[(i+1)%len(lines)], 45)
		if err == nil && i == 0 {
			err = pay(overdue, "500.00") // partly paid, the rest overdue
		}
		if err != nil {
			return err
		}
		if _, err := issue(c, lines[(i+2)%len(lines)], 5); err != nil {
			return err
		}
		if i == 1 {
			wrong, err := issue(c, lines[0], 20)
			if err == nil {
				_, _, err = s.Credit(ctx, wrong.ID.String(), true, true, today.AddDate(0, 0, -18))
			}
			if err != nil {
				return err
			}
		}
		if _, err := s.CreateDraft(ctx, models.InvoiceInput{CustomerID: c.ID.String(), Currency: "EUR", PaymentTerms: "14", ExchangeRate: "1", Lines: lines[2]}); err != nil {
			return err
		}
	}
	return nil
}

// inventory gives the organization its products, a second warehouse, stock received over the
// last month (one product below its reorder level), and a draft invoice that reserves some.
func inventory(ctx context.Context, s *store.Products, inv *store.Invoices, o org, customer models.Customer) error {
	today := time.Now().UTC()
	store2, err := s.CreateWarehouse(ctx, "Harbour store")
	if err != nil {
		return err
	}
	for i, p := range o.products {
		created, err := s.Create(ctx, models.ProductInput{SKU: p.sku, Name: p.name, Unit: p.unit, SalePrice: p.price, Currency: "EUR",
			TaxRate: "19", Stocked: p.stocked, ReorderLevel: "10"})
		if err != nil || !p.stocked {
			if err != nil {
				return err
			}
			continue
		}
		receipts := []models.StockInput{
			{Kind: models.ReasonReceipt, Quantity: fmt.Sprint(20 - i*7), UnitCost: fmt.Sprintf("%d.00", 40+i*10), Note: "PO-" + fmt.Sprint(1001+i),
				OccurredOn: today.AddDate(0, 0, -30).Format(time.DateOnly)},
			{Kind: models.ReasonReceipt, WarehouseID: store2.ID.String(), Quantity: "4", UnitCost: fmt.Sprintf("%d.00", 44+i*10), Note: "PO-" + fmt.Sprint(1101+i),
				OccurredOn: today.AddDate(0, 0, -12).Format(time.DateOnly)},
		}
		for _, r := range receipts {
			if err := s.Move(ctx, created.ID.String(), r, today); err != nil {
				return err
			}
		}
	}
	_, err = inv.CreateDraft(ctx, models.InvoiceInput{CustomerID: customer.ID.String(), Currency: "EUR", PaymentTerms: "30", ExchangeRate: "1",
		Lines: []models.LineInput{{SKU: o.products[0].sku, Quantity: "3"}, {SKU: o.products[len(o.products)-1].sku, Quantity: "2"}}})
	return err
}
