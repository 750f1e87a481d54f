package audit

import (
	"context"

	"gorm.io/gorm"

	"moat/app/tenant"
)

// RecordAlone writes e in a tenant transaction of its own, for denied operations that change
// nothing else (a page the role may not see, a refused CSRF token).
func RecordAlone(ctx context.Context, db *gorm.DB, e Event) error {
	return tenant.Tx(ctx, db, func(tx *gorm.DB) error { return Record(tx, e) })
}
