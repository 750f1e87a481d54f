package tenant_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gorm.io/gorm"

	"moat/app/dbtest"
	"moat/app/tenant"
	"moat/models"
)

func TestScopeGroupsConditionsSoOrCannotEscape(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	b, _ := d.Tenant(t, "globex")
	for _, ctx := range []context.Context{a, b} {
		if err := tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
			return tx.Create(&models.Customer{Name: "Shared Name"}).Error
		}); err != nil {
			t.Fatal(err)
		}
	}

	stmt := d.Gorm.Session(&gorm.Session{DryRun: true}).WithContext(a).
		Where("name = ?", "x").Or("email = ?", "y").Find(&[]models.Customer{}).Statement
	sql := stmt.SQL.String()
	want := `"customers"."tenant_id" = $1 AND (name = $2 OR email = $3)`
	if d.Citus {
		want = `"customers"."tenant_id" = '` + tenantOf(a) + `'::uuid AND (name = $1 OR email = $2)`
	}
	if !strings.Contains(sql, want) {
		t.Fatalf("tenant condition not ANDed with the grouped conditions:\n%s", sql)
	}

	queries := map[string]func(tx *gorm.DB) *gorm.DB{
		"where or":        func(tx *gorm.DB) *gorm.DB { return tx.Where("name = ?", "nobody").Or("name = ?", "Shared Name") },
		"raw or in where": func(tx *gorm.DB) *gorm.DB { return tx.Where("name = 'nobody' OR name = 'Shared Name'") },
		"or first":        func(tx *gorm.DB) *gorm.DB { return tx.Or("name = ?", "Shared Name") },
		"not":             func(tx *gorm.DB) *gorm.DB { return tx.Not("name = ?", "nobody") },
		"tenant in where": func(tx *gorm.DB) *gorm.DB { return tx.Where("tenant_id IS NOT NULL OR true") },
	}
	lead := `WHERE "customers"."tenant_id" = $1 AND (`
	if d.Citus {
		lead = `WHERE "customers"."tenant_id" = '` + tenantOf(a) + `'::uuid AND (`
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			var rows []models.Customer
			// Inside A's transaction RLS would hide B's row even without the plugin, so the
			// rows prove both walls together and the SQL below proves the plugin alone.
			err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error { return q(tx).Find(&rows).Error })
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 {
				t.Fatalf("got %d rows, want only A's one", len(rows))
			}
			dry := q(d.Gorm.Session(&gorm.Session{DryRun: true}).WithContext(a)).Find(&[]models.Customer{}).Statement.SQL.String()
			if !strings.Contains(dry, lead) {
				t.Fatalf("tenant condition not leading and grouped:\n%s", dry)
			}
		})
	}
}

func TestNoTenantFailsClosed(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx := context.Background()
	db := d.Gorm.WithContext(ctx)
	ops := map[string]func() error{
		"find":  func() error { return db.Find(&[]models.Customer{}).Error },
		"first": func() error { return db.First(&models.Customer{}).Error },
		"count": func() error { var n int64; return db.Model(&models.Customer{}).Count(&n).Error },
		"pluck": func() error { var s []string; return db.Model(&models.Customer{}).Pluck("name", &s).Error },
		"rows": func() error {
			rows, err := db.Model(&models.Customer{}).Select("count(*)").Rows()
			if err == nil {
				rows.Close()
			}
			return err
		},
		"create":  func() error { return db.Create(&models.Customer{Name: "x"}).Error },
		"batch":   func() error { return db.Create(&[]models.Customer{{Name: "x"}, {Name: "y"}}).Error },
		"updates": func() error { return db.Model(&models.Customer{}).Where("name = ?", "x").Update("name", "y").Error },
		"delete":  func() error { return db.Where("name = ?", "x").Delete(&models.Customer{}).Error },
		"audit":   func() error { return db.Find(&[]models.AuditEvent{}).Error },
		"users":   func() error { return db.Find(&[]models.User{}).Error },
		"tx": func() error {
			return tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error { return nil })
		},
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			if err := op(); !errors.Is(err, models.ErrNoTenant) {
				t.Fatalf("err = %v, want ErrNoTenant", err)
			}
		})
	}
}

func TestCreateAssignsTenantOverStructValue(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	_, pb := d.Tenant(t, "globex")
	one := models.Customer{TenantID: pb.Tenant.UUID(), Name: "Smuggled"}
	batch := []models.Customer{{TenantID: pb.Tenant.UUID(), Name: "Batch 1"}, {TenantID: pb.Tenant.UUID(), Name: "Batch 2"}}
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		if err := tx.Create(&one).Error; err != nil {
			return err
		}
		return tx.Create(&batch).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(batch, one) {
		if c.TenantID != pa.Tenant.UUID() {
			t.Fatalf("%s created for tenant %s, want A %s", c.Name, c.TenantID, pa.Tenant)
		}
	}
	// FORCE RLS binds the owner role too: with B's tenant set, none of these rows are there.
	owner := d.Owner(t)
	if _, err := owner.Exec(context.Background(), "SELECT set_config('app.tenant_id', $1, false)", pb.Tenant.String()); err != nil {
		t.Fatal(err)
	}
	var inB int
	if err := owner.QueryRow(context.Background(), "SELECT count(*) FROM customers").Scan(&inB); err != nil {
		t.Fatal(err)
	}
	if inB != 0 {
		t.Fatalf("B has %d customers; the smuggled rows went to B", inB)
	}
}

func TestUpdateCannotMoveRowToAnotherTenant(t *testing.T) {
	d := dbtest.New(t, 0)
	a, pa := d.Tenant(t, "acme")
	_, pb := d.Tenant(t, "globex")
	c := models.Customer{Name: "Stays"}
	if err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error { return tx.Create(&c).Error }); err != nil {
		t.Fatal(err)
	}
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		return tx.Model(&models.Customer{}).Where("id = ?", c.ID).Updates(map[string]any{"tenant_id": pb.Tenant.UUID(), "name": "Moved"}).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	var got models.Customer
	if err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error { return tx.Where("id = ?", c.ID).Take(&got).Error }); err != nil {
		t.Fatal(err)
	}
	if got.TenantID != pa.Tenant.UUID() || got.Name != "Moved" {
		t.Fatalf("got tenant %s name %q; want tenant unchanged and name updated", got.TenantID, got.Name)
	}
}

func TestUnboundedWritesRefused(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	for name, op := range map[string]func(tx *gorm.DB) error{
		"delete": func(tx *gorm.DB) error { return tx.Delete(&models.Customer{}).Error },
		"update": func(tx *gorm.DB) error { return tx.Model(&models.Customer{}).Update("name", "all").Error },
	} {
		t.Run(name, func(t *testing.T) {
			err := tenant.Tx(a, d.Gorm, op)
			if !errors.Is(err, gorm.ErrMissingWhereClause) {
				t.Fatalf("err = %v, want ErrMissingWhereClause", err)
			}
		})
	}
}

// Inside a tenant transaction a second BEGIN is refused, and nesting is a savepoint whose
// rollback keeps the outer work.
func TestTenantTransactionNesting(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	err := tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error {
		if err := tx.Begin().Error; err == nil {
			t.Error("a second BEGIN was accepted")
		}
		if err := tx.Create(&models.Customer{Name: "Kept"}).Error; err != nil {
			return err
		}
		nested := tx.Transaction(func(sp *gorm.DB) error {
			if err := sp.Create(&models.Customer{Name: "Undone"}).Error; err != nil {
				return err
			}
			return errors.New("undo")
		})
		if nested == nil {
			t.Error("the nested transaction did not report its error")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	tenant.Tx(a, d.Gorm, func(tx *gorm.DB) error { return tx.Model(&models.Customer{}).Pluck("name", &names).Error })
	if len(names) != 1 || names[0] != "Kept" {
		t.Fatalf("customers %v, want only Kept", names)
	}
}

// Subqueries built with GORM (counts, bulk selections, the list's summary) pass through the
// plugin too: each carries its own tenant condition.
func TestSubqueriesAreScoped(t *testing.T) {
	d := dbtest.New(t, 0)
	a, _ := d.Tenant(t, "acme")
	db := d.Gorm.Session(&gorm.Session{DryRun: true}).WithContext(a)
	sub := db.Model(&models.Customer{}).Select("1").Where("name = ?", "x")
	tags := db.Model(&models.Tag{}).Select("count(*)")
	var n int64
	sql := db.Raw("SELECT (SELECT count(*) FROM (?) m), (?)", sub, tags).Scan(&n).Statement.SQL.String()
	want := `"customers"."tenant_id" = $1 AND (name = $2)`
	if d.Citus {
		want = `"customers"."tenant_id" = '` + tenantOf(a) + `'::uuid AND (name = $1)`
	}
	if strings.Count(sql, `"tenant_id" = `) != 2 || !strings.Contains(sql, want) {
		t.Fatalf("subqueries without their tenant condition:\n%s", sql)
	}
	// Without a tenant the subquery's SQL stays empty (GORM keeps a subquery's error to
	// itself), which PostgreSQL refuses: the statement still fails closed.
	bare := d.Gorm.WithContext(context.Background())
	n = -1
	if err := bare.Raw("SELECT (?)", bare.Model(&models.Customer{}).Select("count(*)")).Scan(&n).Error; err == nil || n != -1 {
		t.Fatalf("subquery without a tenant: %v, read %d", err, n)
	}
}

// tenantOf is the tenant ctx acts for, as the scope writes it on Citus.
func tenantOf(ctx context.Context) string {
	t, _ := tenant.FromContext(ctx)
	return t.String()
}
