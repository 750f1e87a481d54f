package tenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/dbtest"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

func audited(t *testing.T, d *dbtest.DB, action string) int {
	t.Helper()
	var n int
	if err := d.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM audit_events WHERE action = $1", action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A read marked Last is one round trip: BEGIN, the tenant setting, the query, the audit row and
// COMMIT together. Work after it is refused rather than run outside the transaction.
func TestLastStatementIsOneRoundTrip(t *testing.T) {
	tr := &dbtest.Trips{}
	d := dbtest.NewWith(t, store.Config{Tracer: tr})
	a, pa := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	for _, ctx := range []context.Context{a, b} {
		if err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error { return tx.Create(&models.Customer{Name: "Someone"}).Error }); err != nil {
			t.Fatal(err)
		}
	}
	tr.Reset()
	var rows []models.Customer
	var after, deferAfter error
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		if err := audit.Record(tx, audit.Event{Action: audit.CustomerList, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed}); err != nil {
			return err
		}
		if err := tenant.Last(tx).Find(&rows).Error; err != nil {
			return err
		}
		after = tx.Find(&[]models.Customer{}).Error
		deferAfter = audit.Record(tx, audit.Event{Action: audit.CustomerTrashList, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, stmts := tr.Count()
	if n != 1 || len(stmts) != 5 {
		t.Fatalf("%d round trips carrying %q, want 1 carrying BEGIN, the setting, the query, the audit row, COMMIT", n, stmts)
	}
	if len(rows) != 1 || rows[0].TenantID != pa.Tenant.UUID() {
		t.Fatalf("read %d rows: %+v", len(rows), rows)
	}
	if after == nil || deferAfter == nil {
		t.Fatalf("work after the last statement: query %v, deferred write %v", after, deferAfter)
	}
	if got := audited(t, d, "customer.list"); got != 1 {
		t.Fatalf("%d audit rows, want 1", got)
	}
}

// When the last statement fails, its queued audit row is not written, the error reaches the
// caller, and the pooled connection comes back clean.
func TestFailedLastStatementCommitsNothing(t *testing.T) {
	d := dbtest.New(t, 1)
	a, _ := d.Tenant(t, "acme")
	conns := d.Pool.Stat().NewConnsCount()
	var n int
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		if err := audit.Record(tx, audit.Event{Action: audit.TagList, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed}); err != nil {
			return err
		}
		return tenant.Last(tx).Raw("SELECT 1 / 0").Scan(&n).Error
	})
	if err == nil {
		t.Fatal("division by zero succeeded")
	}
	// A deferred write that fails fails the read it travelled with.
	var rows []models.Customer
	err = tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		if err := tenant.Defer(tx, "INSERT INTO audit_events (tenant_id) VALUES (NULL)"); err != nil {
			return err
		}
		return tenant.Last(tx).Find(&rows).Error
	})
	if err == nil {
		t.Fatal("a failed deferred write went unreported")
	}
	if got := audited(t, d, "tag.list"); got != 0 {
		t.Fatalf("%d audit rows of the failed read", got)
	}
	var setting string
	if err := d.Gorm.Raw("SELECT coalesce(current_setting('app.tenant_id', true), '')").Scan(&setting).Error; err != nil {
		t.Fatal(err)
	}
	// SAVEPOINT outside a transaction block is refused as such; inside one, it is not.
	err = d.Gorm.Exec("SAVEPOINT probe").Error
	if setting != "" || err == nil || !strings.Contains(err.Error(), "transaction blocks") {
		t.Fatalf("the pooled connection kept tenant %q; SAVEPOINT: %v", setting, err)
	}
	// Rolled back, not thrown away (pgxpool replaces a connection left in a transaction).
	if made := d.Pool.Stat().NewConnsCount() - conns; made != 0 {
		t.Fatalf("%d connections replaced", made)
	}
}

// A transaction that sends nothing costs nothing; one that only defers writes is one round trip.
func TestDeferredWritesAloneAreOneRoundTrip(t *testing.T) {
	tr := &dbtest.Trips{}
	d := dbtest.NewWith(t, store.Config{Tracer: tr})
	a, _ := d.Tenant(t, "acme")
	tr.Reset()
	if err := tenant.Tx(a, d.Gorm, func(*gorm.DB) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n, stmts := tr.Count(); n != 0 {
		t.Fatalf("an empty transaction sent %q", stmts)
	}
	if err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		return audit.Record(tx, audit.Event{Action: audit.CustomerBulkCount, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed})
	}); err != nil {
		t.Fatal(err)
	}
	if n, stmts := tr.Count(); n != 1 || len(stmts) != 4 {
		t.Fatalf("%d round trips carrying %q", n, stmts)
	}
	if got := audited(t, d, "customer.bulk_count"); got != 1 {
		t.Fatalf("%d audit rows, want 1", got)
	}
}

// Columns read through a batch reach GORM as pgx's stdlib gives them.
func TestBatchedRowsScanLikeStdlib(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	type row struct {
		B     bool
		I2    int16
		I4    int32
		I8    int64
		F4    float32
		F8    float64
		By    []byte
		Jb    json.RawMessage
		Js    []byte
		C     models.Contacts
		Tz    time.Time
		Ts    time.Time
		D     time.Time
		T     string
		U     uuid.UUID
		N     string
		Arr   string
		Nul   *string
		Stamp *time.Time
	}
	q := `SELECT true AS b, 2::int2 AS i2, 4::int4 AS i4, 8::int8 AS i8, 1.5::float4 AS f4, 2.5::float8 AS f8,
		'\x00ff'::bytea AS by, '{"a": [1, 2]}'::jsonb AS jb, '{"a":1}'::json AS js, '[{"type":"work","value":"x@y"}]'::jsonb AS c,
		'2026-11-27 10:00:00.123456+02'::timestamptz AS tz, '2026-11-27 10:00:00'::timestamp AS ts, '2026-11-27'::date AS d,
		'tëxt' AS t, '6f1c2b9e-6a4b-4c43-9d2e-0b7a7f1d2c3e'::uuid AS u, 12.340::numeric AS n, ARRAY['x', 'y z'] AS arr,
		NULL::text AS nul, now() AS stamp`
	var plain, batched row
	if err := d.Gorm.Raw(q).Scan(&plain).Error; err != nil {
		t.Fatal(err)
	}
	if err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error { return tenant.Last(tx).Raw(q).Scan(&batched).Error }); err != nil {
		t.Fatal(err)
	}
	if batched.Stamp == nil {
		t.Fatal("no row read")
	}
	plain.Stamp, batched.Stamp = nil, nil
	pv, bv := reflect.ValueOf(plain), reflect.ValueOf(batched)
	for i := range pv.NumField() {
		p, b := pv.Field(i).Interface(), bv.Field(i).Interface()
		if pt, ok := p.(time.Time); ok {
			if !pt.Equal(b.(time.Time)) {
				t.Errorf("%s: stdlib %v, batch %v", pv.Type().Field(i).Name, p, b)
			}
			continue
		}
		if !reflect.DeepEqual(p, b) {
			t.Errorf("%s: stdlib %#v, batch %#v", pv.Type().Field(i).Name, p, b)
		}
	}
}

// Work of several stores inside Within is one transaction: one BEGIN, one COMMIT carrying every
// audit row, a Last inside it ends nothing, and a failure anywhere commits nothing.
func TestWithinComposesStores(t *testing.T) {
	tr := &dbtest.Trips{}
	d := dbtest.NewWith(t, store.Config{Tracer: tr})
	a, _ := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	customers := store.NewCustomers(d.Gorm)
	c, err := customers.Create(a, models.CustomerInput{Name: "Ada Lovelace"})
	if err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error { return tx.Raw("SELECT count(*) FROM audit_events").Scan(&n).Error })
		return n
	}
	before := count()
	tr.Reset()
	err = tenant.Within(a, d.Gorm, func(ctx context.Context) error {
		if _, err := customers.Get(ctx, c.ID.String()); err != nil {
			return err
		}
		if _, err := customers.Notes(ctx, c.ID.String(), 10); err != nil { // marks its read Last
			return err
		}
		_, err := customers.List(ctx, store.ListQuery{}) // so does the list
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, stmts := tr.Count()
	begins, commits := 0, 0
	for _, s := range stmts {
		begins += strings.Count(s, "BEGIN")
		commits += strings.Count(s, "COMMIT")
	}
	if begins != 1 || commits != 1 || stmts[len(stmts)-1] != "COMMIT" {
		t.Fatalf("%d BEGIN and %d COMMIT, last %q; want one of each, COMMIT last:\n%s", begins, commits, stmts[len(stmts)-1], strings.Join(stmts, "\n"))
	}
	if got := count(); got != before+2 {
		t.Fatalf("%d audit rows committed, want 2 (the view and the list)", got-before)
	}

	// A failure after the reads commits none of their audit rows.
	before = count()
	err = tenant.Within(a, d.Gorm, func(ctx context.Context) error {
		if _, err := customers.Get(ctx, c.ID.String()); err != nil {
			return err
		}
		return errors.New("the page failed")
	})
	if err == nil || count() != before {
		t.Fatalf("a failed composition: %v, %d audit rows committed", err, count()-before)
	}
	// A miss is an answer, not a failure: its denied row commits.
	before = count()
	err = tenant.Within(a, d.Gorm, func(ctx context.Context) error {
		_, err := customers.Get(ctx, uuid.NewString())
		return err
	})
	if !errors.Is(err, models.ErrNotFound) || count() != before+1 {
		t.Fatalf("a miss inside Within: %v, %d audit rows committed, want the denied view", err, count()-before)
	}
	// Another tenant's context cannot join.
	err = tenant.Within(a, d.Gorm, func(ctx context.Context) error {
		return tenant.Tx(tenant.NewContext(ctx, mustTenant(b)), d.Gorm, func(*gorm.DB) error { return nil })
	})
	if err == nil {
		t.Fatal("a transaction of another tenant was joined")
	}
}

func mustTenant(ctx context.Context) tenant.ID {
	t, _ := tenant.FromContext(ctx)
	return t
}

// Rows reads what Find reads, through the same tenant scope, wherever it stands in the
// transaction: as its first statement (sent with BEGIN and the setting), in the middle, and
// as its Last (sent with the queued audit row and COMMIT). Outside a tenant transaction it
// refuses to run.
func TestRowsReadsWhatFindReads(t *testing.T) {
	tr := &dbtest.Trips{}
	d := dbtest.NewWith(t, store.Config{Tracer: tr})
	a, _ := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	for i, ctx := range []context.Context{a, a, b} {
		err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
			return tx.Create(&models.Customer{Name: []string{"Ada", "Grace", "Mallory"}[i], Email: "x@example.com"}).Error
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	type row struct {
		ID    uuid.UUID
		Name  string
		Email string
		Made  time.Time
	}
	query := func(tx *gorm.DB) *gorm.DB {
		return tx.Model(&models.Customer{}).Select("id, name, email, created_at AS made").Where("email = ?", "x@example.com").Order("name")
	}
	read := func(q *gorm.DB) ([]row, error) {
		var out []row
		err := tenant.Rows(q, &[]models.Customer{}, func(r pgx.Rows) error {
			for r.Next() {
				var x row
				if err := r.Scan(&x.ID, &x.Name, &x.Email, &x.Made); err != nil {
					return err
				}
				out = append(out, x)
			}
			return nil
		})
		return out, err
	}
	var plain []row
	if err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error { return query(tx).Find(&plain).Error }); err != nil {
		t.Fatal(err)
	}
	if len(plain) != 2 || plain[0].Name != "Ada" || plain[1].Name != "Grace" {
		t.Fatalf("plain GORM read %+v", plain)
	}
	for _, where := range []string{"first", "middle", "last"} {
		tr.Reset()
		var got []row
		err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
			var err error
			switch where {
			case "first":
				got, err = read(query(tx))
			case "middle":
				if err := tx.Model(&models.Customer{}).Where("name = ?", "Nobody").Find(&[]models.Customer{}).Error; err != nil {
					return err
				}
				got, err = read(query(tx))
				if err == nil {
					err = tx.Model(&models.Customer{}).Where("name = ?", "Nobody").Find(&[]models.Customer{}).Error
				}
			case "last":
				if err := audit.Record(tx, audit.Event{Action: audit.CustomerList, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed}); err != nil {
					return err
				}
				got, err = read(tenant.Last(query(tx)))
			}
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if !reflect.DeepEqual(sameZone(got), sameZone(plain)) {
			t.Fatalf("%s: Rows read %+v, Find %+v", where, got, plain)
		}
		if n, stmts := tr.Count(); where == "last" && n != 1 {
			t.Fatalf("last: %d round trips carrying %q, want 1", n, stmts)
		}
	}
	if got := audited(t, d, "customer.list"); got != 1 {
		t.Fatalf("%d audit rows after Rows as Last, want 1", got)
	}
	if _, err := read(d.Gorm.WithContext(context.Background()).Model(&models.Customer{})); err == nil {
		t.Fatal("Rows ran outside a tenant transaction")
	}
}

// sameZone passes rows through JSON: the two drivers read times in different zones.
func sameZone[T any](rows []T) []T {
	out, _ := json.Marshal(rows)
	var back []T
	_ = json.Unmarshal(out, &back)
	return back
}

// The tenant is set with SET LOCAL (through enter_tenant, which Citus forwards to its workers):
// inside a tenant transaction it is the tenant's id in canonical form, and after the
// transaction, committed or failed, the pooled connection carries no tenant. enter_tenant takes
// a uuid, so a value that is not one, or SQL dressed as one, is refused by the database itself.
func TestTenantSettingIsLocalAndCanonical(t *testing.T) {
	d := dbtest.New(t, 1) // one connection: every statement below shares it
	a, pa := d.Tenant(t, "acme")
	for _, fail := range []bool{false, true} {
		var inside string
		err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
			if err := tx.Raw("SELECT current_setting('app.tenant_id')").Scan(&inside).Error; err != nil {
				return err
			}
			if fail {
				return errors.New("the work failed")
			}
			return nil
		})
		if (err != nil) != fail || inside != pa.Tenant.String() {
			t.Fatalf("inside the transaction the tenant is %q (%v), want %s", inside, err, pa.Tenant)
		}
		var after string
		if err := d.Gorm.Raw("SELECT coalesce(current_setting('app.tenant_id', true), '')").Scan(&after).Error; err != nil || after != "" {
			t.Fatalf("after the transaction (failed: %v) the connection carries tenant %q (%v)", fail, after, err)
		}
	}
	app, err := pgx.Connect(context.Background(), d.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(context.Background())
	upper := strings.ToUpper(pa.Tenant.String())
	var got string
	err = pgx.BeginFunc(context.Background(), app, func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), tenant.EnterSQL, "{"+upper+"}"); err != nil {
			return err
		}
		return tx.QueryRow(context.Background(), "SELECT current_setting('app.tenant_id')").Scan(&got)
	})
	if err != nil || got != pa.Tenant.String() {
		t.Fatalf("an upper-case, braced id was set as %q (%v), want the canonical %s", got, err, pa.Tenant)
	}
	// The actor the stock triggers read is set the same way: a uuid, or nothing.
	for arg, want := range map[any]string{strings.ToUpper(pa.UserID.String()): pa.UserID.String(), nil: ""} {
		var actor string
		err := pgx.BeginFunc(context.Background(), app, func(tx pgx.Tx) error {
			if _, err := tx.Exec(context.Background(), "SELECT enter_actor($1)", arg); err != nil {
				return err
			}
			return tx.QueryRow(context.Background(), "SELECT current_setting('moat.actor')").Scan(&actor)
		})
		if err != nil || actor != want {
			t.Fatalf("enter_actor(%v) set %q (%v), want %q", arg, actor, err, want)
		}
	}
	for _, bad := range []string{"acme", "", "' ; RESET ROLE; --", pa.Tenant.String() + "' OR true --"} {
		err := pgx.BeginFunc(context.Background(), app, func(tx pgx.Tx) error {
			_, err := tx.Exec(context.Background(), tenant.EnterSQL, bad)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "invalid input syntax for type uuid") {
			t.Errorf("enter_tenant(%q): %v, want refused as not a uuid", bad, err)
		}
	}
}

// Reads go out together and read what plain GORM reads, through the same tenant scope: after a
// Get (its own round trip, with BEGIN), the page's reads take one more, with the audit row and
// COMMIT. A miss answers without sending them and keeps its denied row; a failed read commits
// nothing; a read built outside the transaction is refused; inside Within, COMMIT waits.
func TestReadsGoTogether(t *testing.T) {
	tr := &dbtest.Trips{}
	d := dbtest.NewWith(t, store.Config{Tracer: tr})
	a, _ := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	customers := store.NewCustomers(d.Gorm)
	reader := audit.NewReader(d.Gorm)
	mine, err := customers.Create(a, models.CustomerInput{Kind: models.KindPerson, Name: "Ada Lovelace", Emails: []string{"ada@example.com"}, EmailTypes: []string{"work"}, TaxID: "DE123", Currency: "EUR", PaymentTerms: "30"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := customers.Create(b, models.CustomerInput{Name: "Mallory"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ctx  context.Context
		id   string
		body string
	}{{a, mine.ID.String(), "Met at the fair."}, {a, mine.ID.String(), "Called back."}, {b, theirs.ID.String(), "Theirs."}} {
		if err := customers.AddNote(c.ctx, c.id, models.NoteInput{Body: c.body}); err != nil {
			t.Fatal(err)
		}
	}
	plainNotes, err := customers.Notes(a, mine.ID.String(), 10) // itself a Read of one
	if err != nil {
		t.Fatal(err)
	}
	var plainList []models.Customer
	var plainEvents []audit.Entry
	err = tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		if err := tx.Order("name").Find(&plainList).Error; err != nil {
			return err
		}
		return tx.Model(&models.AuditEvent{}).Select("audit_events.*, 'someone' AS user_name").Order("occurred_at, id").Find(&plainEvents).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(plainNotes) != 2 || len(plainList) != 1 || len(plainEvents) < 3 {
		t.Fatalf("plain reads: %d notes, %d customers, %d events", len(plainNotes), len(plainList), len(plainEvents))
	}
	before := audited(t, d, "customer.view")

	tr.Reset()
	var notes []store.Note
	var list []models.Customer
	var events []audit.Entry
	var history []audit.Entry
	err = tenant.Read(a, d.Gorm, func(ctx context.Context, r *tenant.Reads) error {
		if _, err := customers.Get(ctx, mine.ID.String()); err != nil {
			return err
		}
		customers.QueueNotes(r, mine.ID.String(), 10, &notes)
		r.Find(r.Tx().Order("name"), &list)
		r.Find(r.Tx().Model(&models.AuditEvent{}).Select("audit_events.*, 'someone' AS user_name").Order("occurred_at, id"), &events)
		reader.QueueHistory(r, audit.EntityCustomer, mine.ID.String(), 10, &history)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, stmts := tr.Count(); n != 2 || len(stmts) != 9 || stmts[len(stmts)-1] != "COMMIT" {
		t.Fatalf("%d round trips carrying %q; want 2: BEGIN, the setting and the Get, then four reads, the audit row and COMMIT", n, stmts)
	}
	if !reflect.DeepEqual(sameZone(notes), sameZone(plainNotes)) || !reflect.DeepEqual(sameZone(list), sameZone(plainList)) ||
		!reflect.DeepEqual(sameZone(events), sameZone(plainEvents)) {
		t.Fatalf("Reads read\n%+v\n%+v\n%+v\nplain GORM\n%+v\n%+v\n%+v", notes, list, events, plainNotes, plainList, plainEvents)
	}
	if len(history) != 3 || history[2].Action != string(audit.CustomerCreate) {
		t.Fatalf("history %+v, want the two notes and the creation", history)
	}
	if got := audited(t, d, "customer.view"); got != before+1 {
		t.Fatalf("%d view rows committed, want 1", got-before)
	}

	// Another tenant's record: the Get's miss is the answer, the reads are not sent, and the
	// denied view commits.
	tr.Reset()
	notes = nil
	err = tenant.Read(a, d.Gorm, func(ctx context.Context, r *tenant.Reads) error {
		if _, err := customers.Get(ctx, theirs.ID.String()); err != nil {
			return err
		}
		customers.QueueNotes(r, theirs.ID.String(), 10, &notes)
		return nil
	})
	if n, _ := tr.Count(); !errors.Is(err, models.ErrNotFound) || notes != nil || n != 2 || audited(t, d, "customer.view") != before+2 {
		t.Fatalf("a foreign id: %v, notes %v, %d round trips, %d view rows", err, notes, n, audited(t, d, "customer.view")-before)
	}
	// Their notes cannot be read by id from here either.
	if got, err := customers.Notes(a, theirs.ID.String(), 10); err != nil || len(got) != 0 {
		t.Fatalf("another tenant's notes: %v %+v", err, got)
	}

	// A failed read: nothing of the transaction commits.
	err = tenant.Read(a, d.Gorm, func(ctx context.Context, r *tenant.Reads) error {
		if _, err := customers.Get(ctx, mine.ID.String()); err != nil {
			return err
		}
		r.Find(r.Tx().Raw("SELECT no_such_column FROM customers"), &list)
		return nil
	})
	if err == nil || audited(t, d, "customer.view") != before+2 {
		t.Fatalf("a failed read: %v, %d view rows", err, audited(t, d, "customer.view")-before)
	}
	// A scan that fails in Go fails the page, but the server had run the whole batch by then:
	// the audit row went in with COMMIT, and the connection is left clean.
	views := audited(t, d, "customer.view")
	err = tenant.Read(a, d.Gorm, func(ctx context.Context, r *tenant.Reads) error {
		if _, err := customers.Get(ctx, mine.ID.String()); err != nil {
			return err
		}
		r.Rows(r.Tx().Model(&models.Customer{}), &[]models.Customer{}, func(pgx.Rows) error { return errors.New("a scan that fails") })
		customers.QueueNotes(r, mine.ID.String(), 10, &notes)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "a scan that fails") || audited(t, d, "customer.view") != views+1 {
		t.Fatalf("a failed scan: %v, %d view rows committed", err, audited(t, d, "customer.view")-views)
	}
	if got, err := customers.Notes(a, mine.ID.String(), 10); err != nil || len(got) != 2 {
		t.Fatalf("the next transaction on the pool: %v, %d notes", err, len(got))
	}
	// A read into maps, or built for another tenant, is refused.
	for name, queue := range map[string]func(r *tenant.Reads){
		"maps":           func(r *tenant.Reads) { r.Find(r.Tx().Model(&models.Customer{}), &[]map[string]any{}) },
		"another tenant": func(r *tenant.Reads) { r.Find(r.Tx().WithContext(b).Model(&models.Customer{}), &list) },
	} {
		err := tenant.Read(a, d.Gorm, func(_ context.Context, r *tenant.Reads) error { queue(r); return nil })
		if err == nil {
			t.Fatalf("%s: sent", name)
		}
	}
	// A read built outside the transaction is refused, and nothing is sent.
	err = tenant.Read(a, d.Gorm, func(ctx context.Context, r *tenant.Reads) error {
		r.Find(d.Gorm.WithContext(a).Model(&models.Customer{}), &list)
		return nil
	})
	if err == nil {
		t.Fatal("a read from outside the transaction was sent")
	}

	// Inside Within the reads go out without COMMIT; Within commits after them.
	tr.Reset()
	err = tenant.Within(a, d.Gorm, func(ctx context.Context) error {
		err := tenant.Read(ctx, d.Gorm, func(_ context.Context, r *tenant.Reads) error {
			customers.QueueNotes(r, mine.ID.String(), 10, &notes)
			return nil
		})
		if err != nil {
			return err
		}
		_, err = customers.Get(ctx, mine.ID.String())
		return err
	})
	_, stmts := tr.Count()
	if err != nil || len(notes) != 2 || strings.Count(strings.Join(stmts, "\n"), "COMMIT") != 1 || stmts[len(stmts)-1] != "COMMIT" {
		t.Fatalf("Reads inside Within: %v, %d notes, statements %q", err, len(notes), stmts)
	}
}
