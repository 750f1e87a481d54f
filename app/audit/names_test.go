package audit_test

import (
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/dbtest"
	"moat/app/tenant"
	"moat/models"
)

// Every namer runs, together with all the others, as the one statement a page of the trail
// sends: a typo or a stray placeholder in any of them fails here, not on a page that happens to
// show that kind of record.
func TestEveryNamerRuns(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx, _ := d.Tenant(t, "acme")
	var events []audit.Entry
	for entity := range audit.Namers {
		events = append(events, audit.Entry{AuditEvent: models.AuditEvent{Entity: string(entity), EntityID: uuid.NewString()}})
	}
	err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
		got, err := audit.NamesOf(tx, events)
		if err == nil && len(got) != 0 {
			t.Errorf("ids that exist nowhere were named: %v", got)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
