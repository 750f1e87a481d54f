package store

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/app/tenant"
	"moat/models"
)

// Columns are the list's optional columns, in display order; the name is always shown.
var Columns = []string{"number", "email", "phone", "company", "kind", "tags", "created"}

// DefaultColumns are shown until a person chooses.
var DefaultColumns = []string{"number", "email", "company", "tags"}

// SetColumns remembers which optional list columns the person in ctx wants; names that are not
// columns are dropped, and the order is the list's own.
func (s *Customers) SetColumns(ctx context.Context, chosen []string) error {
	cols := []string{}
	for _, c := range Columns {
		if slices.Contains(chosen, c) {
			cols = append(cols, c)
		}
	}
	user := audit.RequestFrom(ctx).UserID
	return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"customer_columns"}),
		}).Create(&models.UserSettings{UserID: user, CustomerColumns: cols}).Error
		if err != nil {
			return fmt.Errorf("save columns: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: audit.SettingsColumns, Entity: audit.EntityUser, EntityID: user.String(),
			Outcome: models.OutcomeAllowed, Details: map[string]any{"columns": cols}})
	})
}
