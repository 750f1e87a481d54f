package store_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"moat/app/dbtest"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

// The per-request session check sets the tenant for its own transaction only: it finds a listed
// session of its tenant, notes when it was seen, and leaves the pooled connection without a
// tenant. Named under another tenant, or with another key, the same session is not found.
func TestSessionCheckKeepsToItsTenant(t *testing.T) {
	d := dbtest.New(t, 1) // one connection: the check and the probes below share it
	a, owner := d.Tenant(t, "Acme")
	b, _ := d.Tenant(t, "Globex")
	sessions := store.NewSessions(d.DB)
	then := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	if err := sessions.Record(a, models.UserSession{ID: owner.SessionID, UserID: owner.UserID, SessionKey: "key-a", CreatedAt: then, LastSeenAt: then}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	cur, ok, err := sessions.Validate(a, owner.SessionID, "key-a", true, now)
	if err != nil || !ok || cur.Role != models.RoleOwner || cur.Email == "" {
		t.Fatalf("the owner's session: %+v %v %v", cur, ok, err)
	}
	var left string
	if err := d.Pool.QueryRow(context.Background(), "SELECT coalesce(current_setting('app.tenant_id', true), '')").Scan(&left); err != nil || left != "" {
		t.Fatalf("after the check the connection holds tenant %q (%v)", left, err)
	}
	var seen time.Time
	err = tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		return tx.Raw("SELECT last_seen_at FROM user_sessions WHERE id = ?", owner.SessionID).Scan(&seen).Error
	})
	if err != nil || !seen.Equal(now) {
		t.Fatalf("last seen %v, want %v (%v)", seen, now, err)
	}
	for name, try := range map[string]func() (store.Current, bool, error){
		"another tenant": func() (store.Current, bool, error) { return sessions.Validate(b, owner.SessionID, "key-a", false, now) },
		"another key":    func() (store.Current, bool, error) { return sessions.Validate(a, owner.SessionID, "key-b", false, now) },
	} {
		if cur, ok, err := try(); ok || err != nil || cur != (store.Current{}) {
			t.Fatalf("%s: %+v %v %v", name, cur, ok, err)
		}
	}
}
