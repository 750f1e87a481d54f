package audit_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/dbtest"
	"moat/app/tenant"
	"moat/models"
)

// Every action the code emits (TestEveryEmittedActionIsRegistered) reads as a sentence, for
// every outcome: words only, no action name, no braces, and a refusal says what was tried.
func TestEveryActionReadsAsASentence(t *testing.T) {
	id := uuid.NewString()
	names := audit.Names{}
	for _, m := range audit.Actions() {
		names[audit.NameKey(string(m.Entity), id)] = audit.Name{Text: "Grace Hopper", Link: "/x"}
	}
	for _, m := range audit.Actions() {
		for _, o := range []models.Outcome{models.OutcomeAllowed, models.OutcomeDenied, models.OutcomeRejected} {
			for _, n := range []audit.Names{nil, names} {
				e := audit.Entry{AuditEvent: models.AuditEvent{Action: string(m.Action), Entity: string(m.Entity), EntityID: id, Outcome: o}, UserName: "Ada Owner"}
				s := audit.Describe(e, n)
				text := s.Text()
				if strings.ContainsAny(text, "{}") || strings.Contains(text, string(m.Action)) || strings.Contains(text, "  ") ||
					!strings.HasPrefix(text, "Ada Owner "+s.Before) || strings.TrimSpace(s.Before) == "" {
					t.Errorf("%s, %s: %q does not read as a sentence", m.Action, o, text)
				}
				if o != models.OutcomeAllowed && (!strings.HasPrefix(s.Before, "tried to ") || strings.HasPrefix(s.Before, "tried to  ") || s.Refused == "") {
					t.Errorf("%s, %s: %q does not say what was refused", m.Action, o, text)
				}
				if strings.Contains(m.Label, "{") && n != nil && s.Record != "Grace Hopper" {
					t.Errorf("%s, %s: %q does not name its record", m.Action, o, text)
				}
			}
		}
	}
}

func TestSentences(t *testing.T) {
	cid := uuid.NewString()
	names := audit.Names{audit.NameKey("customer", cid): {Text: "Grace Hopper", Link: "/customers/" + cid}}
	token := "CI (moat_ab12)"
	for _, c := range []struct {
		e    models.AuditEvent
		who  string
		want string
	}{
		{models.AuditEvent{Action: "customer.update", Entity: "customer", EntityID: cid, Outcome: "allowed",
			Details: []byte(`{"emails": {"from": "a@x (work)", "to": "b@y (work)"}, "tags": {"from": "", "to": "VIP"}, "name": {"from": "Grace", "to": "Grace"}}`)}, "Ada Owner",
			"Ada Owner changed Grace Hopper: emails a@x (work) → b@y (work), name Grace → Grace"},
		{models.AuditEvent{Action: "customer.view", Entity: "customer", EntityID: uuid.NewString(), Outcome: "denied"}, "Ben Member",
			"Ben Member tried to view an unknown record (refused)"},
		{models.AuditEvent{Action: "customer.export", Entity: "customer", Outcome: "allowed", Details: []byte(`{"count": 120, "filter": {"Search": ""}}`)}, "Ada Owner",
			"Ada Owner exported customers: 120 customers as CSV"},
		{models.AuditEvent{Action: "customer.trash", Entity: "customer", EntityID: uuid.NewString(), Outcome: "allowed", Details: []byte(`{"name": "Desert Logistic", "number": "C-00043"}`)}, "Ada Owner",
			"Ada Owner moved Desert Logistic to the trash: number C-00043"},
		{models.AuditEvent{Action: "auth.sign_in", Entity: "user", Outcome: "denied", Details: []byte(`{"reason": "wrong password"}`)}, "",
			"Someone tried to sign in: wrong password (refused)"},
		{models.AuditEvent{Action: "customer.create", Entity: "customer", Outcome: "rejected", Details: []byte(`{"invalid": {"name": "This field is required."}}`)}, "Ben Member",
			"Ben Member tried to add a customer: name: This field is required. (refused as invalid)"},
		{models.AuditEvent{Action: "invoice.payment", Entity: "invoice", EntityID: uuid.NewString(), Outcome: "allowed", Details: []byte(`{"amount": "1642.20", "method": "bank transfer", "currency": "EUR"}`), APIToken: &token}, "Ada Owner",
			"Ada Owner via API token CI (moat_ab12) recorded a payment on an invoice: EUR 1642.20 by bank transfer"},
		{models.AuditEvent{Action: "page.view", Entity: "page", EntityID: "/audit", Outcome: "denied"}, "Ben Member",
			"Ben Member tried to open /audit (refused)"},
		{models.AuditEvent{Action: "customer.list", Entity: "customer", Outcome: "allowed", Details: []byte(`{"page": 1, "sort": "name", "search": "acme", "filter": {"To": "", "Tag": ""}}`)}, "Ada Owner",
			"Ada Owner listed customers: search acme"},
		{models.AuditEvent{Action: "customer.update", Entity: "customer", EntityID: cid, Outcome: "allowed", Details: []byte(`{"erased": true}`)}, "Ada Owner",
			"Ada Owner changed Grace Hopper: details erased with the customer"},
	} {
		if got := audit.Describe(audit.Entry{AuditEvent: c.e, UserName: c.who}, names).Text(); got != c.want {
			t.Errorf("%s %s:\n got %q\nwant %q", c.e.Action, c.e.Outcome, got, c.want)
		}
	}
}

// The trail names a record only when it is the tenant's: another tenant's customer, a purged
// one and an id that never existed all read "an unknown record" on a refusal, and the page
// carries no name for them.
func TestTrailNamesOnlyTheTenantsRecords(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	insert := func(ctx context.Context, name string) string {
		var id string
		err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
			return tx.Raw(`INSERT INTO customers (tenant_id, name, number) VALUES (current_tenant_id(), ?, ?) RETURNING id::text`, name, "C-"+name).Scan(&id).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ours, theirs, never := insert(a, "Grace Hopper"), insert(b, "Secret Rival"), uuid.NewString()
	var tag string
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		return tx.Raw(`INSERT INTO tags (tenant_id, name, color) VALUES (current_tenant_id(), 'VIP', 'red') RETURNING id::text`).Scan(&tag).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	err = tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		for _, id := range []string{ours, theirs, never} {
			for _, o := range []models.Outcome{models.OutcomeAllowed, models.OutcomeDenied} {
				if err := audit.Record(tx, audit.Event{Action: audit.CustomerView, EntityID: id, Outcome: o}); err != nil {
					return err
				}
			}
		}
		// Records of other entities, so the names are read in one union of three tables.
		if err := audit.Record(tx, audit.Event{Action: audit.UserRoleChange, EntityID: pa.UserID.String(), Outcome: models.OutcomeAllowed}); err != nil {
			return err
		}
		return audit.Record(tx, audit.Event{Action: audit.TagCreate, EntityID: tag, Outcome: models.OutcomeAllowed})
	})
	if err != nil {
		t.Fatal(err)
	}
	page, err := audit.NewReader(d.Gorm).List(a, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := audit.Names{
		audit.NameKey("customer", ours):           {Text: "Grace Hopper", Link: "/customers/" + ours},
		audit.NameKey("user", pa.UserID.String()): {Text: "acme Owner"},
		audit.NameKey("tag", tag):                 {Text: "VIP", Link: "/customers?tag=" + tag},
	}
	if len(page.Events) != 9 || !maps.Equal(page.Names, want) {
		t.Fatalf("%d events, names %v", len(page.Events), page.Names)
	}
	refusals := map[string]string{}
	for _, e := range page.Events {
		s := audit.Describe(e, page.Names).Text()
		if strings.Contains(s, "Secret Rival") {
			t.Fatalf("another tenant's customer named: %q", s)
		}
		if e.Outcome == models.OutcomeDenied {
			refusals[e.EntityID] = s
		}
	}
	if refusals[theirs] != refusals[never] || !strings.Contains(refusals[theirs], audit.Unknown) || !strings.Contains(refusals[ours], "Grace Hopper") {
		t.Fatalf("refusals read %v", refusals)
	}
}
