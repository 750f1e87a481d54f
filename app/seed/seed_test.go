package seed_test

import (
	"context"
	"strings"
	"testing"

	"moat/app/dbtest"
	"moat/app/posture"
	"moat/app/seed"
)

// Seeding twice loads each tenant once and leaves the second wall as it found it.
func TestSeedIsRepeatableAndLeavesRLSForced(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx := context.Background()
	plan := seed.Plan{Tenants: 3, Customers: 40, Whale: 100}
	for i := 0; i < 2; i++ {
		if err := seed.Load(ctx, d.OwnerURL, plan, &strings.Builder{}); err != nil {
			t.Fatal(err)
		}
		if problems, err := posture.Check(ctx, d.Pool); err != nil || len(problems) > 0 {
			t.Fatalf("after seeding %d times: %v %v", i+1, err, problems)
		}
	}
	var customers, ids int
	su := d.Superuser(t)
	su.QueryRow(ctx, "SELECT count(*) FROM customers").Scan(&customers)
	su.QueryRow(ctx, "SELECT count(*) FROM record_ids WHERE entity = 'customers'").Scan(&ids)
	if customers != 3*40+100 || ids != customers {
		t.Fatalf("%d customers, %d registered ids; want 220 of each", customers, ids)
	}
	var unsearchable int
	su.QueryRow(ctx, "SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM customer_terms t WHERE t.customer_id = c.id)").Scan(&unsearchable)
	if unsearchable != 0 {
		t.Fatalf("%d seeded customers have no search terms", unsearchable)
	}
}
