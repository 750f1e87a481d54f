package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/dbtest"
	"moat/app/tenant"
	"moat/migrations"
	"moat/models"
)

// seed inserts n events for the tenant in ctx through the app role, one second apart ending at
// end, alternating actions and outcomes, with ties on every tenth timestamp.
func seed(t testing.TB, d *dbtest.DB, ctx context.Context, n int, end time.Time, user uuid.UUID) {
	t.Helper()
	err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO audit_events (tenant_id, occurred_at, user_id, action, entity, entity_id, outcome, details)
			SELECT current_tenant_id(), ?::timestamptz - make_interval(secs => (i - i % 10 * 0)::float8 - CASE WHEN i % 10 = 1 THEN 1 ELSE 0 END),
			       ?, CASE WHEN i % 3 = 0 THEN 'customer.view' WHEN i % 3 = 1 THEN 'customer.update' ELSE 'customer.list' END,
			       'customer', 'c-' || (i % 7), CASE WHEN i % 5 = 0 THEN 'denied' ELSE 'allowed' END,
			       jsonb_build_object('n', i, 'note', repeat('x', 100))
			FROM generate_series(1, ?) i`, end, user, n).Error
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFiltersAndKeysetPaging(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	end := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	other := uuid.New()
	seed(t, d, a, 237, end, pa.UserID)
	seed(t, d, a, 13, end, other)
	seed(t, d, b, 50, end, uuid.New())
	r := audit.NewReader(d.Gorm)

	walk := func(f audit.Filter) []models.AuditEvent {
		t.Helper()
		var all []models.AuditEvent
		seen := map[uuid.UUID]bool{}
		for pages := 0; ; pages++ {
			p, err := r.List(a, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Events) > audit.PageSize {
				t.Fatalf("page of %d", len(p.Events))
			}
			for _, e := range p.Events {
				if seen[e.ID] {
					t.Fatalf("event on two pages")
				}
				seen[e.ID] = true
				if n := len(all); n > 0 && (e.OccurredAt.After(all[n-1].OccurredAt)) {
					t.Fatalf("not newest first")
				}
				all = append(all, e.AuditEvent)
			}
			if p.Next == "" {
				return all
			}
			f.Before = p.Next
		}
	}
	count := func(f audit.Filter) int {
		var events []models.AuditEvent
		for _, e := range walk(f) {
			if e.Action != "audit.list" { // reading the trail adds to it
				events = append(events, e)
			}
		}
		return len(events)
	}
	at := func(s string) time.Time { v, _ := time.Parse(time.DateTime, s); return v }
	for name, c := range map[string]struct {
		f    audit.Filter
		want int
	}{
		"everything seeded": {audit.Filter{Entity: audit.EntityCustomer}, 250},
		"by person":         {audit.Filter{UserID: other}, 13},
		"by action":         {audit.Filter{Action: audit.CustomerView, UserID: pa.UserID}, 79},
		"by outcome":        {audit.Filter{Outcome: models.OutcomeDenied, UserID: pa.UserID}, 47},
		"by record":         {audit.Filter{Entity: audit.EntityCustomer, EntityID: "c-3", UserID: pa.UserID}, 34},
		"by date range":     {audit.Filter{UserID: pa.UserID, From: at("2026-11-15 11:58:00"), To: at("2026-11-15 11:59:00")}, 60},
		"nothing":           {audit.Filter{Action: audit.InvoiceVoid}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			if got := count(c.f); got != c.want {
				t.Fatalf("%d events, want %d", got, c.want)
			}
		})
	}
	// Page boundaries: exactly one page, one more than a page.
	for _, n := range []int{audit.PageSize, audit.PageSize + 1} {
		ctx, p := d.Tenant(t, fmt.Sprintf("edge%d", n))
		seed(t, d, ctx, n, end, p.UserID)
		page, err := r.List(ctx, audit.Filter{Entity: audit.EntityCustomer})
		if err != nil {
			t.Fatal(err)
		}
		if (n == audit.PageSize) != (page.Next == "") {
			t.Errorf("%d events: next cursor %q", n, page.Next)
		}
	}
	// Odd cursors start from the newest.
	for _, cur := range []string{"garbage", "eyJ0IjoieCJ9", strings.Repeat("A", 500)} {
		if _, err := r.List(a, audit.Filter{Before: cur}); err != nil {
			t.Errorf("cursor %q: %v", cur, err)
		}
	}
}

// The export streams: memory in use stays flat however long the trail.
func TestExportStreamsInConstantMemory(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	seed(t, d, a, 100_000, time.Now(), pa.UserID)
	r := audit.NewReader(d.Gorm)

	w := &sampler{every: 5000}
	runtime.GC()
	w.base = heap()
	if err := r.Export(a, audit.Filter{Entity: audit.EntityCustomer}, w); err != nil {
		t.Fatal(err)
	}
	if w.rows < 100_000 {
		t.Fatalf("exported %d lines", w.rows)
	}
	growth := w.peak - w.base
	t.Logf("exported %d MB; heap grew by at most %d KB", w.bytes>>20, growth>>10)
	if w.bytes < 20<<20 || growth > 16<<20 {
		t.Fatalf("exported %d MB with heap growth of %d MB: not streaming", w.bytes>>20, growth>>20)
	}
}

type sampler struct {
	every, rows, since int
	bytes, base, peak  uint64
}

func (s *sampler) Write(p []byte) (int, error) {
	s.bytes += uint64(len(p))
	s.rows += bytes.Count(p, []byte("\n"))
	s.since += len(p)
	if s.since > 1<<20 {
		s.since = 0
		if h := heap(); h > s.peak {
			s.peak = h
		}
	}
	return len(p), nil
}

func heap() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func TestExportIsCSVWithoutFormulas(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO audit_events (tenant_id, user_id, action, entity, entity_id, outcome, user_agent)
			VALUES (current_tenant_id(), ?, 'customer.view', 'customer', '=HYPERLINK("http://x")', 'denied', '+cmd|calc')`, pa.UserID).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := audit.NewReader(d.Gorm).Export(a, audit.Filter{}, &buf); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) < 2 || records[0][0] != "occurred_at" {
		t.Fatalf("csv: %v", records)
	}
	for _, rec := range records[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
	}
}

// Events land in the partition of their month, on both sides of a month boundary, and the
// app role cannot reach a partition by name.
func TestPartitionRoutingAcrossMonths(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{first.Add(-time.Microsecond), first} {
		err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO audit_events (tenant_id, occurred_at, action, entity, outcome) VALUES (current_tenant_id(), ?, 'test.boundary', 'test', 'allowed')`, at).Error
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var parts []string
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT tableoid::regclass::text FROM audit_events WHERE action = 'test.boundary' ORDER BY occurred_at`).Scan(&parts).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"audit_events_" + first.AddDate(0, -1, 0).Format("2006_01"), "audit_events_" + first.Format("2006_01")}
	if fmt.Sprint(parts) != fmt.Sprint(want) {
		t.Fatalf("partitions %v, want %v", parts, want)
	}
	_, err = d.Pool.Exec(context.Background(), "SELECT count(*) FROM "+want[1])
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("the app role read a partition directly: %v", err)
	}
}

// Pruning drops whole months past the retention and nothing newer.
func TestPruneDropsOnlyOldMonths(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx := context.Background()
	owner := d.Owner(t)
	now := time.Now().UTC()
	old := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -4, 0)
	if _, err := owner.Exec(ctx, "SELECT audit_partition($1::date)", old); err != nil {
		t.Fatal(err)
	}
	names, err := migrations.PruneAudit(ctx, d.OwnerURL, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := "audit_events_" + old.Format("2006_01")
	if len(names) != 1 || names[0] != want {
		t.Fatalf("pruned %v, want [%s]", names, want)
	}
	var left int
	owner.QueryRow(ctx, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_events'::regclass").Scan(&left)
	if left < 5 { // last month to three ahead, and the default
		t.Fatalf("only %d partitions left", left)
	}
}

// Whatever a caller puts in an event's details is stored: text PostgreSQL's jsonb refuses (a
// NUL) is replaced, and details beyond the bound are replaced by their size, never a failure.
func TestDetailsAreAlwaysStorable(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	for _, details := range []any{
		map[string]string{"action": "a\x00b\x01c"},
		map[string]string{"flood": strings.Repeat("x", 100_000)},
	} {
		err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
			return audit.Record(tx, audit.Event{Action: audit.CustomerBulk, EntityID: "id\x00\x1b[31m", Outcome: models.OutcomeAllowed, Details: details})
		})
		if err != nil {
			t.Fatalf("recording %.40v: %v", details, err)
		}
	}
	var stored []string
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		return tx.Raw("SELECT entity_id || ' ' || details::text FROM audit_events WHERE action = 'customer.bulk' ORDER BY occurred_at").Scan(&stored).Error
	})
	if err != nil || len(stored) != 2 {
		t.Fatalf("stored %q: %v", stored, err)
	}
	if stored[0] != "id[31m {\"action\": \"a\ufffdb\\u0001c\"}" || stored[1] != `id[31m {"bytes": 100012, "truncated": true}` {
		t.Fatalf("stored %q", stored)
	}
}

// A record's views are folded per person and day, and summed per person, as the trail records
// them (record_views): however many there are, the page reads a row per person and day.
func TestViewsAreFoldedAsRecorded(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	other := uuid.New()
	record := uuid.NewString()
	const n = 600
	for _, ctx := range []context.Context{a, b} { // the same id viewed in another tenant counts there
		err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO audit_events (tenant_id, occurred_at, user_id, action, kind, entity, entity_id, outcome)
				SELECT current_tenant_id(), now() - make_interval(mins => i * 5), CASE WHEN i % 4 = 0 THEN ?::uuid ELSE ?::uuid END,
				       'customer.view', 'view', 'customer', ?, CASE WHEN i % 50 = 0 THEN 'denied' ELSE 'allowed' END
				FROM generate_series(1, ?) i`, other, pa.UserID, record, n).Error
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	daily, people, err := audit.NewReader(d.Gorm).Views(a, audit.EntityCustomer, record, 90)
	if err != nil {
		t.Fatal(err)
	}
	perDay, perPerson := 0, 0
	for _, v := range daily {
		perDay += v.Count
		if len(v.Times) == 0 || len(v.Times) > 20 || v.Times[0].Before(v.Times[len(v.Times)-1]) {
			t.Fatalf("a day's times: %d, newest first", len(v.Times))
		}
	}
	for _, p := range people {
		perPerson += p.Count
	}
	allowed := n - n/50
	if len(daily) < 2 || perDay != allowed || perPerson != allowed || len(people) != 2 || people[0].UserID != pa.UserID || people[0].Count <= people[1].Count {
		t.Fatalf("%d views over %d days, %d by person (%+v), want %d, the most frequent first", perDay, len(daily), perPerson, people, allowed)
	}
}

// A day's times read newest first however they were kept: on Citus they are kept as views
// commit, and one that commits late stays where it came.
func TestViewTimesReadNewestFirst(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	record := uuid.NewString()
	now := time.Now().UTC().Truncate(time.Microsecond)
	kept := []time.Time{now.Add(-2 * time.Minute), now, now.Add(-time.Minute)}
	if _, err := d.Superuser(t).Exec(context.Background(), `INSERT INTO record_views (tenant_id, entity, entity_id, day, user_id, views, last_at, times)
		VALUES ($1, 'customer', $2, ($3::timestamptz AT TIME ZONE 'UTC')::date, $4, 3, $3, $5)`,
		pa.Tenant.UUID(), record, now, pa.UserID, kept); err != nil {
		t.Fatal(err)
	}
	daily, _, err := audit.NewReader(d.Gorm).Views(a, audit.EntityCustomer, record, 90)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{now, now.Add(-time.Minute), now.Add(-2 * time.Minute)}
	if len(daily) != 1 || !slices.EqualFunc(daily[0].Times, want, time.Time.Equal) {
		t.Fatalf("times %v, want %v", daily, want)
	}
}
