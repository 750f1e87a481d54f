package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"moat/app/dbtest"
	"moat/app/store"
	"moat/app/tenant"
	"moat/models"
)

// BenchmarkReadAudit prices the audit row every read writes: it alternates the list page and the
// customer view with and without that write, in the same run, and reports the ratio.
func BenchmarkReadAudit(b *testing.B) {
	d := dbtest.New(b, 4)
	s := store.NewCustomers(d.Gorm)
	ctx, _ := d.Tenant(b, "acme")
	var one models.Customer
	for i := 0; i < 200; i++ {
		c, err := s.Create(ctx, models.CustomerInput{Name: fmt.Sprintf("Customer %03d", i), Emails: []string{fmt.Sprintf("c%d@example.com", i)}})
		if err != nil {
			b.Fatal(err)
		}
		one = c
	}
	id := one.ID.String()
	// The same statements as List and Get, without the audit row.
	listBare := func() error {
		return tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
			var rows []models.Customer
			return tx.Model(&models.Customer{}).Select("*, lower(name) AS sort_key").Order("lower(name), id").Limit(store.PageSize + 1).Find(&rows).Error
		})
	}
	viewBare := func() error {
		return tenant.Tx(ctx, d.Gorm, func(tx *gorm.DB) error {
			var c models.Customer
			return tx.Where("id = ?", one.ID).Take(&c).Error
		})
	}
	pairs := []struct {
		name          string
		audited, bare func() error
	}{
		{"list", func() error { _, err := s.List(ctx, store.ListQuery{}); return err }, listBare},
		{"view", func() error { _, err := s.Get(ctx, id); return err }, viewBare},
	}
	for _, p := range pairs {
		b.Run(p.name, func(b *testing.B) {
			var withAudit, without time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if err := p.audited(); err != nil {
					b.Fatal(err)
				}
				withAudit += time.Since(start)
				start = time.Now()
				if err := p.bare(); err != nil {
					b.Fatal(err)
				}
				without += time.Since(start)
			}
			b.ReportMetric(float64(withAudit.Microseconds())/float64(b.N), "µs-audited/op")
			b.ReportMetric(float64(without.Microseconds())/float64(b.N), "µs-bare/op")
			b.ReportMetric(float64(withAudit)/float64(without), "audited/bare")
		})
	}
}

// BenchmarkTenantPlugin prices the plugin's work on one statement: building a scoped query
// with and without a tenant-owned model (DryRun: no database round trip).
func BenchmarkTenantPlugin(b *testing.B) {
	d := dbtest.New(b, 1)
	ctx, _ := d.Tenant(b, "acme")
	dry := d.Gorm.Session(&gorm.Session{DryRun: true})
	b.Run("scoped", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var c []models.Customer
			dry.WithContext(ctx).Where("name = ?", "x").Or("email = ?", "y").Find(&c)
		}
	})
	b.Run("unscoped-model", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var t []models.Tenant // no tenant_id column: the plugin steps aside
			dry.WithContext(context.Background()).Where("name = ?", "x").Or("id = ?", "y").Find(&t)
		}
	})
}
