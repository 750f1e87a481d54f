// Package demo loads the development demo data: two tenants, Acme and Globex, each with an owner,
// a member and a few dozen customers, so isolation can be seen by signing in as each.
package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
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
}

var orgs = []org{
	{"Acme", "acme.test",
		[]string{"Ada Byrne", "Bruno Costa", "Chloe Dubois", "Dmitri Orlov", "Elena Ruiz", "Farah Haddad", "Gustav Lind", "Hana Sato", "Ivan Petrov", "Julia Novak", "Kofi Mensah", "Lena Fischer"},
		[]string{"Anvil Works", "Rocket Supply", "Desert Logistics"}},
	{"Globex", "globex.test",
		[]string{"Mara Jensen", "Nikhil Rao", "Olga Ivanova", "Pedro Alves", "Quinn Murphy", "Rosa Marino", "Sven Olsen", "Tara Walsh", "Umar Farouk", "Vera Kovac", "Wei Zhang", "Yusuf Demir"},
		[]string{"Cypress Creek", "Hammock Hut", "Scorpio Holdings"}},
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
		for i, company := range o.companies {
			in := models.CustomerInput{
				Kind: models.KindCompany, Name: company, Website: slug(company) + ".example",
				Emails: []string{"accounts@" + slug(company) + ".example"}, EmailTypes: []string{"billing"},
				TaxID: fmt.Sprintf("DE%09d", 123456789+i*1111), BillingAddress: fmt.Sprintf("%d Harbour Street\n10115 Berlin\nGermany", 10+i),
				Currency: "EUR", PaymentTerms: "30", TagIDs: tagIDs[1:2],
			}
			if _, err := customers.Create(tctx, in); err != nil {
				return fmt.Errorf("demo %s company: %w", o.name, err)
			}
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
