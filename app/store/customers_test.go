package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/dbtest"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

func mustCreate(t *testing.T, s *store.Customers, ctx context.Context, name string) models.Customer {
	t.Helper()
	local := strings.Join(strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}), ".")
	c, err := s.Create(ctx, models.CustomerInput{Name: name, Emails: []string{local + "@example.com"}, Company: name + " Ltd"})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return c
}

// auditRows returns the trail of the tenant in ctx, oldest first.
func auditRows(t *testing.T, d *dbtest.DB, ctx context.Context) []models.AuditEvent {
	t.Helper()
	var rows []models.AuditEvent
	if err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
		return tx.Order("occurred_at, id").Find(&rows).Error
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// details decodes an audit row's field changes.
func details(t *testing.T, e models.AuditEvent) map[string]map[string]string {
	t.Helper()
	var m map[string]map[string]string
	if err := json.Unmarshal(e.Details, &m); err != nil {
		t.Fatalf("audit details %s: %v", e.Details, err)
	}
	return m
}

func TestCustomersIsolation(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	mustCreate(t, s, a, "Alice Anders")
	secret := mustCreate(t, s, b, "Bob Secret")
	before, err := s.Get(b, secret.ID.String())
	if err != nil {
		t.Fatal(err)
	}

	if _, err := s.Get(a, secret.ID.String()); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("A get B's customer: err = %v, want ErrNotFound", err)
	}
	for _, q := range []string{"", "Bob", "Secret", "globex", "%", "_", "' OR 1=1 --"} {
		page, err := s.List(a, store.ListQuery{Filter: store.Filter{Search: q}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Customers {
			if c.ID == secret.ID || strings.Contains(c.Name, "Bob") {
				t.Errorf("A's list for %q shows B's customer %q", q, c.Name)
			}
		}
	}
	if _, err := s.Update(a, secret.ID.String(), models.CustomerInput{Name: "Hijacked"}); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("A update B's customer: err = %v, want ErrNotFound", err)
	}
	// Invalid input on a foreign id must not reveal the id exists: still not found.
	if _, err := s.Update(a, secret.ID.String(), models.CustomerInput{}); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("A invalid update of B's customer: err = %v, want ErrNotFound", err)
	}
	if err := s.Trash(a, secret.ID.String()); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("A delete B's customer: err = %v, want ErrNotFound", err)
	}
	got, err := s.Get(b, secret.ID.String())
	if err != nil {
		t.Fatalf("B lost its customer: %v", err)
	}
	if !reflect.DeepEqual(got, before) {
		t.Errorf("B's customer changed:\n%+v\n%+v", before, got)
	}

	// A's trail shows denied operations on an id, nothing of B's data; B's trail shows none of A's attempts.
	denied := 0
	for _, e := range auditRows(t, d, a) {
		if e.EntityID == secret.ID.String() {
			if e.Outcome != models.OutcomeDenied {
				t.Errorf("A's %s on B's id recorded as %s", e.Action, e.Outcome)
			}
			if strings.Contains(string(e.Details), "Bob") {
				t.Errorf("A's trail leaks B's data: %s", e.Details)
			}
			denied++
		}
	}
	if denied != 4 {
		t.Errorf("A's trail has %d denied rows for B's id, want 4 (view, 2 updates, delete)", denied)
	}
	for _, e := range auditRows(t, d, b) {
		if e.Outcome == models.OutcomeDenied {
			t.Errorf("B's trail shows A's attempt: %+v", e)
		}
	}
}

func TestCustomersWithoutTenantFailClosed(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	ctx := context.Background()
	checks := map[string]error{}
	_, checks["list"] = s.List(ctx, store.ListQuery{})
	_, checks["get"] = s.Get(ctx, uuid.NewString())
	_, checks["create"] = s.Create(ctx, models.CustomerInput{Name: "x"})
	_, checks["update"] = s.Update(ctx, uuid.NewString(), models.CustomerInput{Name: "x"})
	checks["delete"] = s.Trash(ctx, uuid.NewString())
	for op, err := range checks {
		if !errors.Is(err, models.ErrNoTenant) {
			t.Errorf("%s without tenant: err = %v, want ErrNoTenant", op, err)
		}
	}
}

func TestRawSQLMeetsRowLevelSecurity(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, pa := d.Tenant(t, "acme")
	_, pb := d.Tenant(t, "globex")
	mustCreate(t, s, a, "Alice Anders")
	ctx := context.Background()

	for _, table := range []string{"tenants", "users", "customers", "audit_events"} {
		var n int
		if err := d.Pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("raw SQL with no tenant set sees %d rows of %s, want 0", n, table)
		}
	}

	// With A's tenant set, inserting a row for B is refused by the policy's WITH CHECK, and
	// updating A's row into B likewise.
	tx, err := d.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT set_config('app.tenant_id', $1, true)", pa.Tenant.String()); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "INSERT INTO customers (tenant_id, name) VALUES ($1, 'Planted')", pb.Tenant.String())
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Fatalf("insert into B with A's setting: err = %v, want RLS violation 42501", err)
	}
	tx.Rollback(ctx)

	tx, _ = d.Pool.Begin(ctx)
	defer tx.Rollback(ctx)
	tx.Exec(ctx, "SELECT set_config('app.tenant_id', $1, true)", pa.Tenant.String())
	_, err = tx.Exec(ctx, "UPDATE customers SET tenant_id = $1", pb.Tenant.String())
	// Citus refuses before row level security does: "modifying the partition value of rows is
	// not allowed".
	if !errors.As(err, &pgErr) || (pgErr.Code != "42501" && pgErr.Code != "23503" && !(d.Citus && pgErr.Code == "0A000")) {
		t.Fatalf("move A's rows to B: err = %v, want refusal", err)
	}
}

func TestAuditTrailIsAppendOnlyForTheApp(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	_ = a
	ctx := context.Background()
	for _, stmt := range []string{
		"UPDATE audit_events SET action = 'forged'",
		"DELETE FROM audit_events",
		"TRUNCATE audit_events",
	} {
		tx, err := d.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Exec(ctx, "SELECT set_config('app.tenant_id', $1, true)", pa.Tenant.String())
		_, err = tx.Exec(ctx, stmt)
		tx.Rollback(ctx)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: err = %v, want permission denied", stmt, err)
		}
	}
}

// Several tenants interleaved on a pool of one and of two connections: each sees exactly its own
// rows, and the tenant setting never outlives a transaction on a reused connection.
func TestPooledConnectionsNeverCarryTenant(t *testing.T) {
	for _, size := range []int32{1, 2} {
		t.Run(fmt.Sprintf("pool of %d", size), func(t *testing.T) { interleaveTenants(t, size, 100) })
	}
}

func interleaveTenants(t *testing.T, poolSize int32, rounds int) {
	d := dbtest.New(t, poolSize)
	s := store.NewCustomers(d.Gorm)
	ctxs := map[string]context.Context{}
	for _, org := range []string{"acme", "globex", "initech", "umbrella"} {
		ctxs[org], _ = d.Tenant(t, org)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for org, ctx := range ctxs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				c, err := s.Create(ctx, models.CustomerInput{Name: fmt.Sprintf("%s customer %d", org, i)})
				if err != nil {
					errs <- err
					return
				}
				if _, err := s.Update(ctx, c.ID.String(), models.CustomerInput{Name: fmt.Sprintf("%s customer %d edited", org, i)}); err != nil {
					errs <- err
					return
				}
				page, err := s.List(ctx, store.ListQuery{})
				if err != nil {
					errs <- err
					return
				}
				for _, row := range page.Customers {
					if !strings.HasPrefix(row.Name, org+" ") {
						errs <- fmt.Errorf("%s saw %q", org, row.Name)
						return
					}
				}
				if i%3 == 0 {
					if err := s.Trash(ctx, c.ID.String()); err != nil {
						errs <- err
						return
					}
				}
				// An idle pooled connection, between transactions: no tenant may linger on it.
				var setting string
				if err := d.Gorm.Raw("SELECT coalesce(current_setting('app.tenant_id', true), '')").Scan(&setting).Error; err != nil {
					errs <- err
					return
				}
				if setting != "" {
					errs <- fmt.Errorf("tenant setting %q survived a transaction", setting)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for org, ctx := range ctxs {
		all := 0
		next := ""
		for {
			page, err := s.List(ctx, store.ListQuery{After: next})
			if err != nil {
				t.Fatal(err)
			}
			all += len(page.Customers)
			if next = page.Next; next == "" {
				break
			}
		}
		want := rounds - (rounds+2)/3 // every third one (i = 0, 3, 6, ...) was deleted
		if all != want {
			t.Errorf("%s has %d customers, want %d", org, all, want)
		}
	}
}

func TestCreateValidatesAndAudits(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, pa := d.Tenant(t, "acme")
	cases := map[string]models.CustomerInput{
		"empty name":    {Name: "   "},
		"long name":     {Name: strings.Repeat("n", 201)},
		"bad email":     {Name: "X", Emails: []string{"not-an-email"}},
		"bad phone":     {Name: "X", Phones: []string{"call me"}},
		"nul byte":      {Name: "X\x00Y"},
		"invalid utf-8": {Name: "X\xff"},
		"long address":  {Name: "X", BillingAddress: strings.Repeat("é", 1001)},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := s.Create(a, in)
			var v *models.ValidationError
			if !errors.As(err, &v) || len(v.Fields) == 0 {
				t.Fatalf("err = %v, want a validation error", err)
			}
		})
	}
	page, err := s.List(a, store.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Customers) != 0 {
		t.Fatalf("invalid input created %d customers", len(page.Customers))
	}
	c, err := s.Create(a, models.CustomerInput{Name: "  Ada  ", Emails: []string{"ada@example.com"}, Phones: []string{"+44 (20) 7946-0000"}, BillingAddress: "line one\nline two"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Ada" || c.TenantID != pa.Tenant.UUID() || c.CreatedBy == nil || *c.CreatedBy != pa.UserID {
		t.Fatalf("created %+v", c)
	}
	rejected, created := 0, 0
	for _, e := range auditRows(t, d, a) {
		if e.Action != "customer.create" {
			continue
		}
		if e.UserID == nil || *e.UserID != pa.UserID || e.TenantID != pa.Tenant.UUID() || e.IP != "127.0.0.1" || e.RequestID == "" {
			t.Errorf("audit row without its who and where: %+v", e)
		}
		switch e.Outcome {
		case models.OutcomeRejected:
			rejected++
		case models.OutcomeAllowed:
			created++
			if e.EntityID != c.ID.String() || details(t, e)["name"]["to"] != "Ada" {
				t.Errorf("create audit row: %+v %s", e, e.Details)
			}
		}
	}
	if rejected != len(cases) || created != 1 {
		t.Errorf("audit: %d rejected, %d created; want %d and 1", rejected, created, len(cases))
	}
}

func TestUpdateAndDeleteAuditTheirChanges(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	c := mustCreate(t, s, a, "Old Name")
	if _, err := s.Update(a, c.ID.String(), models.CustomerInput{Name: "New Name", Emails: []string{c.Email}, Company: c.Company}); err != nil {
		t.Fatal(err)
	}
	if err := s.Trash(a, c.ID.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(a, c.ID.String()); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("deleted customer: err = %v, want ErrNotFound", err)
	}
	var update, del *models.AuditEvent
	for _, e := range auditRows(t, d, a) {
		switch e.Action {
		case "customer.update":
			update = &e
		case "customer.trash":
			del = &e
		}
	}
	if update == nil || fmt.Sprint(details(t, *update)) != "map[name:map[from:Old Name to:New Name]]" {
		t.Errorf("update audit: %+v", update)
	}
	if del == nil || del.Outcome != models.OutcomeAllowed || !strings.Contains(string(del.Details), `"name": "New Name"`) {
		t.Errorf("delete audit: %+v", del)
	}
}

// A change whose audit row cannot be written does not commit.
func TestChangeAndAuditCommitTogether(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		if err := tx.Create(&models.Customer{Name: "Half written"}).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.Event{Action: audit.CustomerCreate, Entity: audit.EntityCustomer, Outcome: "bogus"})
	})
	if err == nil {
		t.Fatal("audit row with an invalid outcome was accepted")
	}
	page, _ := store.NewCustomers(d.Gorm).List(a, store.ListQuery{})
	if len(page.Customers) != 0 {
		t.Fatal("the change committed without its audit row")
	}
}

func TestListSearchAndPaging(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	for i := 0; i < 60; i++ {
		mustCreate(t, s, a, fmt.Sprintf("Customer %02d", i))
	}
	mustCreate(t, s, a, "100% Pure")
	mustCreate(t, s, a, "Under_score")
	mustCreate(t, s, a, `Back\slash`)

	seen := map[uuid.UUID]bool{}
	var sizes []int
	prev := ""
	next := ""
	for page := 1; ; page++ {
		p, err := s.List(a, store.ListQuery{After: next, Page: page})
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(p.Customers))
		for _, c := range p.Customers {
			if seen[c.ID] {
				t.Fatalf("%s on two pages", c.Name)
			}
			seen[c.ID] = true
			if key := strings.ToLower(c.Name); key < prev {
				t.Fatalf("%q after %q: not ordered", c.Name, prev)
			} else {
				prev = key
			}
		}
		if next = p.Next; next == "" {
			break
		}
	}
	if fmt.Sprint(sizes) != "[25 25 13]" || len(seen) != 63 {
		t.Fatalf("keyset pages %v, %d customers; want [25 25 13], 63", sizes, len(seen))
	}
	// Offset paging agrees with keyset paging.
	p2, _ := s.List(a, store.ListQuery{Page: 2})
	p1, _ := s.List(a, store.ListQuery{})
	k2, _ := s.List(a, store.ListQuery{Page: 2, After: p1.Next})
	if p2.Customers[0].ID != k2.Customers[0].ID {
		t.Fatal("page 2 by offset and by cursor differ")
	}
	// Odd paging values fall back to the first page.
	for _, q := range []store.ListQuery{{Page: -3}, {Page: 1 << 30}, {After: "garbage"}, {After: "eyJuIjoieCJ9"}} {
		p, err := s.List(a, q)
		if err != nil || p.Query.Page != 1 || p.Customers[0].ID != p1.Customers[0].ID {
			t.Errorf("%+v: page %d err %v; want the first page", q, p.Query.Page, err)
		}
	}

	for q, want := range map[string]int{"%": 1, "_": 1, `\`: 1, "customer 0": 10, "CUSTOMER 05": 1, "ltd": 63, "nobody": 0, "' OR 1=1 --": 0} {
		p, err := s.List(a, store.ListQuery{Filter: store.Filter{Search: q}})
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		if len(p.Customers) != min(want, 25) {
			t.Errorf("search %q: %d results, want %d", q, len(p.Customers), min(want, 25))
		}
	}
}

func TestMalformedIDsAreNotFound(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	for _, id := range []string{"", "x", "1", "' OR 1=1 --", uuid.Nil.String(), "{" + uuid.NewString() + "}", "urn:uuid:" + uuid.NewString(), strings.Repeat("a", 5000), "\x00", "\xff\xfe"} {
		if _, err := s.Get(a, id); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("get %q: err = %v, want ErrNotFound", id, err)
		}
		if err := s.Trash(a, id); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("delete %q: err = %v, want ErrNotFound", id, err)
		}
	}
}

func TestSearchFollowsChangesByWordPrefix(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	c := mustCreate(t, s, a, "Grace Hopper")
	mustCreate(t, s, a, "Grace Kelly")
	count := func(q string) int {
		t.Helper()
		p, err := s.List(a, store.ListQuery{Filter: store.Filter{Search: q}})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Customers)
	}
	for q, want := range map[string]int{"gra": 2, "GRACE hop": 1, "hopper grace": 1, "opper": 0, "grace.hopper@example.com": 1, "example": 2, "kelly hopper": 0} {
		if got := count(q); got != want {
			t.Errorf("search %q: %d, want %d", q, got, want)
		}
	}
	if _, err := s.Update(a, c.ID.String(), models.CustomerInput{Name: "Grace Brewster", Emails: []string{"amazing@navy.example"}}); err != nil {
		t.Fatal(err)
	}
	if count("hopper") != 0 || count("brewster") != 1 || count("navy") != 1 {
		t.Error("search did not follow the rename")
	}
	if err := s.Trash(a, c.ID.String()); err != nil {
		t.Fatal(err)
	}
	if count("brewster") != 0 {
		t.Error("a deleted customer is still found")
	}
}

// Search results page like the list: by name, by cursor or by page number, without repeats.
func TestSearchPaging(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	for i := 0; i < 60; i++ {
		mustCreate(t, s, a, fmt.Sprintf("Zed %02d", 59-i))
	}
	mustCreate(t, s, a, "Other Person")
	var names []string
	next := ""
	for page := 1; ; page++ {
		p, err := s.List(a, store.ListQuery{Filter: store.Filter{Search: "zed"}, After: next, Page: page})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Customers {
			names = append(names, c.Name)
		}
		if next = p.Next; next == "" {
			break
		}
	}
	if len(names) != 60 || names[0] != "Zed 00" || names[59] != "Zed 59" {
		t.Fatalf("%d results from %q to %q", len(names), names[0], names[len(names)-1])
	}
	for i := 1; i < len(names); i++ {
		if names[i] <= names[i-1] {
			t.Fatalf("%q after %q", names[i], names[i-1])
		}
	}
	p3, _ := s.List(a, store.ListQuery{Filter: store.Filter{Search: "zed"}, Page: 3})
	if len(p3.Customers) != 10 || p3.Customers[0].Name != "Zed 50" {
		t.Fatalf("page 3 by number: %d from %q", len(p3.Customers), p3.Customers[0].Name)
	}
}

// Words split the same way in the search as in the index, in every script.
func TestSearchFindsNamesInAnyScript(t *testing.T) {
	d := dbtest.New(t, 0)
	s := store.NewCustomers(d.Gorm)
	a, _ := d.Tenant(t, "acme")
	for _, name := range []string{"प्रिया शर्मा", "สมศักดิ์ ใจดี", "Zoë O'Brien-Łukasz", "田中 太郎", "Ame\u0301lie"} {
		if _, err := s.Create(a, models.CustomerInput{Name: name}); err != nil {
			t.Fatal(err)
		}
		p, err := s.List(a, store.ListQuery{Filter: store.Filter{Search: name}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Customers) != 1 || p.Customers[0].Name != norm.NFC.String(name) {
			t.Errorf("searching for %q finds %d customers", name, len(p.Customers))
		}
	}
	// Composed or decomposed, the same word.
	for _, q := range []string{"Amélie", "Ame\u0301lie"} {
		if p, _ := s.List(a, store.ListQuery{Filter: store.Filter{Search: q}}); len(p.Customers) != 1 {
			t.Errorf("searching for %q finds %d customers", q, len(p.Customers))
		}
	}
}

// The unfiltered list's total is the tenant's counter, kept by every write that adds, trashes,
// restores or deletes customers: it always equals a count, and another tenant's writes do not
// move it.
func TestUnfilteredTotalFollowsEveryWrite(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	s := store.NewCustomers(d.Gorm)
	check := func(step string) {
		t.Helper()
		page, err := s.List(a, store.ListQuery{})
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		var counted int64
		d.Superuser(t).QueryRow(context.Background(), "SELECT count(*) FROM customers WHERE tenant_id = $1 AND deleted_at IS NULL",
			pa.Tenant.String()).Scan(&counted)
		if page.Total != counted {
			t.Fatalf("%s: the list says %d customers, a count %d", step, page.Total, counted)
		}
	}
	var ids []string
	for i := range 5 {
		ids = append(ids, mustCreate(t, s, a, fmt.Sprintf("Counted %d", i)).ID.String())
	}
	mustCreate(t, s, b, "Elsewhere")
	check("five created")
	if err := s.Trash(a, ids[0]); err != nil {
		t.Fatal(err)
	}
	check("one trashed")
	if _, err := s.BulkTrash(a, store.Selection{IDs: ids[1:3]}); err != nil {
		t.Fatal(err)
	}
	check("two more trashed at once")
	if _, err := s.Restore(a, ids[:2]); err != nil {
		t.Fatal(err)
	}
	check("two restored")
	if _, _, err := s.Purge(a, nil); err != nil {
		t.Fatal(err)
	}
	check("the trash emptied")
	if _, err := s.Update(a, ids[3], models.CustomerInput{Name: "Renamed", Emails: []string{"r@example.com"}}); err != nil {
		t.Fatal(err)
	}
	check("one edited")
}
