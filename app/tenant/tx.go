package tenant

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"moat/models"
)

// Tx runs fn in one transaction working for the tenant in ctx. Its first statement sets
// app.tenant_id for this transaction only (set_config's is_local), so a pooled connection never
// carries one tenant's setting into another's work. With no tenant in ctx it returns
// models.ErrNoTenant and runs nothing.
func Tx(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	t, ok := FromContext(ctx)
	if !ok {
		return models.ErrNoTenant
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT set_config('app.tenant_id', ?, true)", t.String()).Error; err != nil {
			return fmt.Errorf("set tenant: %w", err)
		}
		return fn(tx)
	})
}
