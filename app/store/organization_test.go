package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"moat/app/auth"
	"moat/app/dbtest"
	"moat/app/exports"
	"moat/app/jobs"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

// fillTenant gives the tenant in ctx a record in every kind of table: customers with tags and
// notes, a finalized and paid invoice with its PDF, a draft, stocked products and their ledger,
// an import, an export, an API token and a member whose account is also in other.
func fillTenant(t *testing.T, d *dbtest.DB, ctx context.Context, prefix string, shared string) {
	t.Helper()
	customers := seedRecords(t, d, ctx, prefix)
	products := store.NewProducts(d.Gorm)
	invoices := store.NewInvoices(d.Gorm)
	p := mustProduct(t, products, ctx, prefix+"-CHAIR", true)
	mustMove(t, products, ctx, p, models.StockInput{Kind: models.ReasonReceipt, WarehouseID: defaultWarehouse(t, products, ctx).ID.String(), Quantity: "10", UnitCost: "40"})
	c := customers[prefix+" Grace Hopper"]
	sale, err := invoices.Finalize(ctx, mustDraftOf(t, invoices, ctx, draftInput(c.ID.String(), models.LineInput{SKU: prefix + "-CHAIR", Quantity: "2"})).ID.String(), today)
	if err != nil {
		t.Fatal(err)
	}
	if err := invoices.AttachDocument(ctx, sale.ID.String(), []byte("%PDF-1.4 "+prefix)); err != nil {
		t.Fatal(err)
	}
	mustDraftOf(t, invoices, ctx, draftInput(c.ID.String(), models.LineInput{SKU: prefix + "-CHAIR", Quantity: "1"}))
	runImport(t, store.NewImports(d.Gorm), ctx, "people.csv", []byte("name,email\n"+prefix+" Imported,imp@"+prefix+".test\n"), store.ImportSettings{Mode: "create", Key: "email"}, false)
	buildExport(t, d, ctx)
	if _, _, err := store.NewAPITokens(d.DB).Create(ctx, models.APITokenInput{Name: "Sync", Customers: "read", ExpiresIn: 30}, time.Now()); err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(d.Gorm, slog.New(slog.DiscardHandler), "http://moat.test", nil)
	tok, err := store.NewUsers(d.Gorm, svc.Links()).Invite(ctx, models.InviteInput{Name: "Member", Email: shared, Role: models.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptInvitation(context.Background(), tok, dbtest.Password, models.NewPasswordInput{New: dbtest.Password, Confirm: dbtest.Password}); err != nil {
		t.Fatal(err)
	}
}

// tenantRows counts, as the superuser, the rows naming tenant id in every table that has a
// tenant_id column (found in the catalog), the registry of ids, and the tenants table.
func tenantRows(t *testing.T, d *dbtest.DB, id string) map[string]int {
	t.Helper()
	conn := d.Superuser(t)
	rows, err := conn.Query(context.Background(), `SELECT n.nspname || '.' || c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND a.attname = 'tenant_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, table := range append(tables, "public.tenants") {
		col := "tenant_id"
		if table == "public.tenants" {
			col = "id"
		}
		var n int
		if err := conn.QueryRow(context.Background(), fmt.Sprintf("SELECT count(*) FROM %s WHERE %s = $1", table, col), id).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

func TestClosingSignsOutAndDeletesEveryRowOfTheTenantAfterItsGracePeriod(t *testing.T) {
	d := dbtest.New(t, 0)
	ctxA, ownerA := d.Tenant(t, "Acme")
	ctxB, _ := d.Tenant(t, "Globex")
	shared := "both@example.test"
	fillTenant(t, d, ctxB, "Globex", shared)
	fillTenant(t, d, ctxA, "Acme", shared)
	only := "only-acme@example.test"
	svc := auth.NewService(d.Gorm, slog.New(slog.DiscardHandler), "http://moat.test", nil)
	tok, err := store.NewUsers(d.Gorm, svc.Links()).Invite(ctxA, models.InviteInput{Name: "Only", Email: only, Role: models.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptInvitation(context.Background(), tok, dbtest.Password, models.NewPasswordInput{New: dbtest.Password, Confirm: dbtest.Password}); err != nil {
		t.Fatal(err)
	}
	sessions := store.NewSessions(d.DB)
	if err := sessions.Record(ctxA, models.UserSession{ID: ownerA.SessionID, UserID: ownerA.UserID, SessionKey: "key-a", CreatedAt: time.Now(), LastSeenAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Superuser(t).Exec(context.Background(), "INSERT INTO cross_tenant_attempts (user_id, entity) VALUES ($1, 'customers')", ownerA.UserID); err != nil {
		t.Fatal(err)
	}
	queue, err := jobs.New(d.Pool, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := queue.AddAt(ctxA, exports.Expire{Who: jobs.WhoOf(ctxA), Export: uuid.New()}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := tenantRows(t, d, ownerA.Tenant.String())
	for _, table := range []string{"public.customers", "public.customer_notes", "public.invoices", "public.invoice_documents", "public.stock_movements",
		"public.import_batches", "public.exports", "public.api_tokens", "public.audit_events", "public.user_sessions", "public.record_ids"} {
		if before[table] == 0 {
			t.Fatalf("the tenant has nothing in %s to delete: the test proves nothing", table)
		}
	}
	keepB := d.Checksum(t, tenantOf(ctxB).String())

	// Refused: a member, a wrong name.
	org := store.NewOrganization(d.Gorm)
	member := ownerA
	member.Role = models.RoleAdmin
	if _, err := org.Close(dbtest.AsPrincipal(member), "Acme", 0); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("an admin closed the organization: %v", err)
	}
	var invalid *models.ValidationError
	if _, err := org.Close(ctxA, "acme", 0); !errors.As(err, &invalid) || invalid.Fields["confirm_name"] == "" {
		t.Fatalf("closing with the name mistyped: %v", err)
	}

	// Closed with a grace period: everyone is out, tokens stop, only owners may sign in.
	closing, err := org.Close(ctxA, "Acme", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := sessions.Validate(ctxA, ownerA.SessionID, "key-a", false, time.Now()); ok || err != nil {
		t.Fatalf("a session survived the closing: %v %v", ok, err)
	}
	var live int64
	if err := tenant.Tx(ctxA, d.Gorm, func(tx *gorm.DB) error {
		return tx.Model(&models.APIToken{}).Where("revoked_at IS NULL").Count(&live).Error
	}); err != nil || live != 0 {
		t.Fatalf("%d API tokens still work (%v)", live, err)
	}
	acc, err := svc.SignIn(context.Background(), only, dbtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Enter(context.Background(), acc, acc.Memberships[0]); !errors.Is(err, auth.ErrClosing) {
		t.Fatalf("an admin signed in to a closing organization: %v", err)
	}
	acc, err = svc.SignIn(context.Background(), ownerA.Email, dbtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, isClosing, err := svc.Enter(context.Background(), acc, acc.Memberships[0]); err != nil || !isClosing {
		t.Fatalf("the owner's sign-in to a closing organization: closing %v, %v", isClosing, err)
	}

	// Before its time nothing is deleted; reopened, nothing ever is.
	if deleted, err := org.Purge(ctxA); err != nil || deleted {
		t.Fatalf("purged within the grace period: %v %v", deleted, err)
	}
	if err := org.Reopen(ctxA); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Superuser(t).Exec(context.Background(), "UPDATE tenants SET name = name WHERE id = $1", ownerA.Tenant.String()); err != nil {
		t.Fatal(err)
	}
	if deleted, err := org.Purge(ctxA); err != nil || deleted {
		t.Fatalf("purged a reopened organization: %v %v", deleted, err)
	}

	// Closed again with no grace: the database makes it a week, which the test then spends.
	if closing, err = org.Close(ctxA, "Acme", 0); err != nil {
		t.Fatal(err)
	}
	if closing.DeleteAfter.Before(time.Now().Add(7*24*time.Hour - time.Minute)) {
		t.Fatalf("a closing with no grace is due %v, sooner than a week", closing.DeleteAfter)
	}
	if deleted, err := org.Purge(ctxA); err != nil || deleted {
		t.Fatalf("purged before its week: %v %v", deleted, err)
	}
	if _, err := d.Superuser(t).Exec(context.Background(), `UPDATE tenant_closures SET requested_at = requested_at - interval '8 days',
		delete_after = delete_after - interval '8 days' WHERE tenant_id = $1`, ownerA.Tenant.String()); err != nil {
		t.Fatal(err)
	}
	closing.RequestedAt = closing.RequestedAt.Add(-8 * 24 * time.Hour)
	if deleted, err := org.Purge(ctxA); err != nil || !deleted {
		t.Fatalf("the purge: %v %v", deleted, err)
	}
	for table, n := range tenantRows(t, d, ownerA.Tenant.String()) {
		if n != 0 {
			t.Errorf("%d rows of the deleted tenant are left in %s", n, table)
		}
	}
	if got := d.Checksum(t, tenantOf(ctxB).String()); got != keepB {
		t.Fatal("the purge changed another tenant's rows")
	}
	conn := d.Superuser(t)
	var closedAt time.Time
	var closedBy string
	if err := conn.QueryRow(context.Background(), "SELECT closed_at, closed_by FROM closed_tenants WHERE id = $1", ownerA.Tenant.String()).
		Scan(&closedAt, &closedBy); err != nil || closedBy != ownerA.UserID.String() || closedAt.Sub(closing.RequestedAt).Abs() > time.Second {
		t.Fatalf("the closure record: %v %s %v", err, closedBy, closedAt)
	}
	var accounts []string
	rows, _ := conn.Query(context.Background(), "SELECT email FROM accounts WHERE email = ANY($1) ORDER BY email", []string{ownerA.Email, only, shared})
	if accounts, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || !slices.Equal(accounts, []string{shared}) {
		t.Fatalf("accounts left: %v (%v): only the one that is also in another organization should stay", accounts, err)
	}
	var left int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM river.river_job WHERE args->>'tenant' = $1", ownerA.Tenant.String()).Scan(&left); err != nil || left != 0 {
		t.Fatalf("jobs of the deleted tenant left: %d (%v)", left, err)
	}
	// The operators' record of cross-tenant attempts outlives the organization.
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM cross_tenant_attempts WHERE user_id = $1", ownerA.UserID).Scan(&left); err != nil || left != 1 {
		t.Fatalf("cross-tenant attempts of its people: %d (%v), want the one kept", left, err)
	}
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM record_ids WHERE tenant_id = $1", ownerA.Tenant.String()).Scan(&left); err != nil || left != 0 {
		t.Fatalf("record ids left: %d (%v)", left, err)
	}
	// The member shared with Globex still signs in there.
	acc, err = svc.SignIn(context.Background(), shared, dbtest.Password)
	if err != nil || len(acc.Memberships) != 1 || acc.Memberships[0].Organization != "Globex" {
		t.Fatalf("the shared account after the purge: %v %+v", err, acc.Memberships)
	}
}

// The app role itself can never run the purge's deletions, hasten a closing or mark a
// customer erased: the guards and the grants hold for it, whatever SQL it sends.
func TestOnlyThePurgeDeletesFinalizedInvoicesAndTheLedger(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx, owner := d.Tenant(t, "Acme")
	fillTenant(t, d, ctx, "Acme", "member@acme.test")
	c := mustCreate(t, store.NewCustomers(d.Gorm), ctx, "Ada Lovelace")
	for _, sql := range []string{"DELETE FROM invoices WHERE status <> 'draft'", "DELETE FROM stock_movements", "UPDATE tenants SET purging = true",
		"DELETE FROM audit_events", "DELETE FROM customer_notes", "UPDATE customers SET erased_at = now()",
		"INSERT INTO tenants (id, name, purging) VALUES (gen_random_uuid(), 'Rogue', true)",
		"INSERT INTO tenant_closures (tenant_id, requested_by, requested_at, delete_after) VALUES (current_tenant_id(), '" + owner.UserID.String() + "', now() - interval '30 days', now() - interval '1 day')",
		"SELECT close_tenant('" + c.ID.String() + "', interval '0')"} {
		err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error { return tx.Exec(sql).Error })
		if err == nil {
			t.Errorf("the app role ran %q", sql)
		}
	}
	if deleted, err := store.NewOrganization(d.Gorm).Purge(ctx); err != nil || deleted {
		t.Fatalf("an open organization was purged: %v %v", deleted, err)
	}
}

func TestErasingACustomerClearsItAndItsTrail(t *testing.T) {
	d := dbtest.New(t, 0)
	ctxA, ownerA := d.Tenant(t, "Acme")
	ctxB, _ := d.Tenant(t, "Globex")
	customers := store.NewCustomers(d.Gorm)
	acme := seedRecords(t, d, ctxA, "Acme")
	seedRecords(t, d, ctxB, "Globex")
	c := acme["Acme Analytical Engines"]
	if _, err := customers.Patch(ctxA, c.ID.String(), func(in *models.CustomerInput) { in.Emails[0] = "ada.new@acme.test" }); err != nil {
		t.Fatal(err)
	}
	other := acme["Acme Grace Hopper"]
	keepB := d.Checksum(t, tenantOf(ctxB).String())

	member := ownerA
	member.Role = models.RoleMember
	if err := customers.Erase(dbtest.AsPrincipal(member), c.ID.String(), "asked"); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("a member erased a customer: %v", err)
	}
	var invalid *models.ValidationError
	if err := customers.Erase(ctxA, c.ID.String(), "  "); !errors.As(err, &invalid) || invalid.Fields["reason"] == "" {
		t.Fatalf("an erasure without a reason: %v", err)
	}
	var missed *models.MissError
	globex := customerNames(t, d, ctxB)["Globex Grace Hopper"]
	if err := customers.Erase(ctxA, globex.ID.String(), "asked"); !errors.As(err, &missed) {
		t.Fatalf("erasing another tenant's customer: %v", err)
	}
	if err := customers.Erase(ctxA, c.ID.String(), "Email of 1 Dec asking to be forgotten"); err != nil {
		t.Fatal(err)
	}
	if err := customers.Erase(ctxA, c.ID.String(), "again"); !errors.As(err, &invalid) {
		t.Fatalf("erasing twice: %v", err)
	}

	var got models.Customer
	var notes int64
	if err := tenant.Tx(ctxA, d.Gorm, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", c.ID).Take(&got).Error; err != nil {
			return err
		}
		return tx.Model(&models.CustomerNote{}).Where("customer_id = ?", c.ID).Count(&notes).Error
	}); err != nil {
		t.Fatal(err)
	}
	if got.Name != store.ErasedName || got.Email != "" || len(got.Emails) != 0 || len(got.Phones) != 0 || got.BillingAddress != "" ||
		got.TaxID != "" || got.Website != "" || got.ErasedAt == nil || got.Number != "C-0100" || notes != 0 {
		t.Fatalf("the erased customer: %+v, %d notes", got, notes)
	}
	// Nothing of it is left in the trail but who, what and when; the erasure keeps its reason.
	var erasedRows, withValues int
	for _, r := range auditRows(t, d, ctxA) {
		if r.EntityID != c.ID.String() {
			continue
		}
		details := string(r.Details)
		if r.Action == "customer.erase" { // refusals and the erasure: no values of the customer
			if r.Outcome == models.OutcomeAllowed && !strings.Contains(details, "Email of 1 Dec") {
				t.Fatalf("the erasure's row: %s", details)
			}
			continue
		}
		if r.Details != nil && details != `{"erased": true}` {
			withValues++
		}
		if details == `{"erased": true}` {
			erasedRows++
		}
		for _, v := range []string{"Analytical", "ada@", "ada.new", "Babbage", "GB123", "Called Acme"} {
			if strings.Contains(details, v) {
				t.Fatalf("the trail still holds %q: %s %s", v, r.Action, details)
			}
		}
	}
	if erasedRows < 2 || withValues != 0 {
		t.Fatalf("%d trail rows cleared, %d with values left", erasedRows, withValues)
	}
	// Another customer's trail, and another tenant, are untouched.
	if !slices.ContainsFunc(auditRows(t, d, ctxA), func(r models.AuditEvent) bool {
		return r.EntityID == other.ID.String() && bytes.Contains(r.Details, []byte("Grace Hopper"))
	}) {
		t.Fatal("the erasure cleared another customer's trail")
	}
	if d.Checksum(t, tenantOf(ctxB).String()) != keepB {
		t.Fatal("the erasure changed another tenant's rows")
	}
	// The trail stays closed to the app role itself.
	if err := tenant.Tx(ctxA, d.Gorm, func(tx *gorm.DB) error {
		return tx.Exec("UPDATE audit_events SET details = NULL").Error
	}); err == nil {
		t.Fatal("the app role updated the trail")
	}
	var again int64
	if err := tenant.Tx(ctxA, d.Gorm, func(tx *gorm.DB) error {
		return tx.Raw("SELECT erase_customer(?, ?, ?)", c.TenantID, c.ID, ownerA.UserID).Scan(&again).Error
	}); err != nil || again != -1 {
		t.Fatalf("erasing an erased customer again cleared %d trail rows (%v)", again, err)
	}
}

// The definers that take a tenant (so that Citus can run them on its worker) refuse any tenant
// but the transaction's own, and change nothing.
func TestDefinersRefuseAnotherTenant(t *testing.T) {
	d := dbtest.New(t, 0)
	ctxA, _ := d.Tenant(t, "Acme")
	ctxB, ownerB := d.Tenant(t, "Globex")
	b := seedRecords(t, d, ctxB, "Globex")["Globex Analytical Engines"]
	keepB := d.Checksum(t, tenantOf(ctxB).String())
	for _, call := range []string{
		"SELECT erase_customer(?, '" + b.ID.String() + "', '" + ownerB.UserID.String() + "')",
		"SELECT close_tenant(?, '" + ownerB.UserID.String() + "', interval '7 days')",
		"SELECT * FROM lock_stock(?, '{}', '{}')",
	} {
		err := tenant.Tx(ctxA, d.Gorm, func(tx *gorm.DB) error { return tx.Exec(call, tenantOf(ctxB).UUID()).Error })
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "42501" {
			t.Fatalf("%s for another tenant: %v", call, err)
		}
	}
	if d.Checksum(t, tenantOf(ctxB).String()) != keepB {
		t.Fatal("a definer changed another tenant's rows")
	}
}

func tenantOf(ctx context.Context) tenant.ID {
	t, _ := tenant.FromContext(ctx)
	return t
}
