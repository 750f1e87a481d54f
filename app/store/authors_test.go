package store_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"moat/app/auth"
	"moat/app/dbtest"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

// A member who wrote things can be removed: what they wrote stays, no longer naming them (the
// customers they made and trashed, their notes, invitations, invoices, finalized or not, and
// payments). A finalized invoice's author can be cleared only that way: not while they are a
// member.
func TestRemovingAnAuthorKeepsWhatTheyWrote(t *testing.T) {
	d := dbtest.New(t, 0)
	owner, _ := d.Tenant(t, "acme")
	svc := auth.NewService(d.Gorm, slog.New(slog.DiscardHandler), "http://moat.test", nil)
	users := store.NewUsers(d.Gorm, svc.Links())
	tok, err := users.Invite(owner, models.InviteInput{Name: "Mel", Email: "mel@acme.test", Role: models.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	mp, err := svc.AcceptInvitation(context.Background(), tok, dbtest.Password, models.NewPasswordInput{New: dbtest.Password, Confirm: dbtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	mel := dbtest.AsPrincipal(mp)
	customers, invoices := store.NewCustomers(d.Gorm), store.NewInvoices(d.Gorm)
	kept, err := customers.Create(mel, models.CustomerInput{Kind: models.KindCompany, Name: "Anvil Works"})
	if err != nil {
		t.Fatal(err)
	}
	trashed, err := customers.Create(owner, models.CustomerInput{Kind: models.KindCompany, Name: "Gone Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC()
	steps := []error{
		customers.AddNote(mel, kept.ID.String(), models.NoteInput{Body: "Met at the fair."}),
		customers.Trash(mel, trashed.ID.String()),
	}
	_, err = users.Invite(mel, models.InviteInput{Name: "Kim", Email: "kim@acme.test", Role: models.RoleMember})
	steps = append(steps, err)
	draft := mustDraft(t, invoices, mel, kept.ID.String())
	paid := mustDraft(t, invoices, mel, kept.ID.String())
	_, err = invoices.Finalize(mel, paid.ID.String(), today)
	steps = append(steps, err, invoices.RecordPayment(mel, paid.ID.String(), models.PaymentInput{Amount: "100", Method: "cash"}, today))
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	count := func(sql string) (n int) {
		t.Helper()
		if err := d.Superuser(t).QueryRow(context.Background(), sql, mp.UserID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	authored := `SELECT (SELECT count(*) FROM customers WHERE created_by = $1 OR deleted_by = $1)
		+ (SELECT count(*) FROM customer_notes WHERE created_by = $1) + (SELECT count(*) FROM invitations WHERE invited_by = $1)
		+ (SELECT count(*) FROM invoices WHERE created_by = $1) + (SELECT count(*) FROM invoice_payments WHERE created_by = $1)`
	if n := count(authored); n != 7 {
		t.Fatalf("Mel authored %d rows before, want 7", n)
	}
	err = tenant.Tx(owner, d.Gorm, func(tx *gorm.DB) error {
		return tx.Exec("UPDATE invoices SET created_by = NULL WHERE id = ?", paid.ID).Error
	})
	if err == nil || !strings.Contains(err.Error(), "finalized") {
		t.Fatalf("clearing a member's authorship of a finalized invoice: %v", err)
	}
	if err := users.Remove(owner, mp.UserID.String()); err != nil {
		t.Fatalf("remove Mel: %v", err)
	}
	if n := count(authored); n != 0 {
		t.Fatalf("%d rows still name Mel", n)
	}
	if n := count(`SELECT count(*) FROM users WHERE id = $1`); n != 0 {
		t.Fatal("Mel is still a member")
	}
	still := `SELECT (SELECT count(*) FROM customers WHERE id IN ('` + kept.ID.String() + `', '` + trashed.ID.String() + `'))
		+ (SELECT count(*) FROM invoices WHERE id IN ('` + draft.ID.String() + `', '` + paid.ID.String() + `'))
		+ (SELECT count(*) FROM invoice_payments) + (SELECT count(*) FROM customer_notes)
		+ (SELECT count(*) FROM invitations WHERE email = 'kim@acme.test' AND $1::uuid IS NOT NULL)`
	if n := count(still); n != 7 {
		t.Fatalf("%d of the 7 rows Mel wrote are left", n)
	}
}
