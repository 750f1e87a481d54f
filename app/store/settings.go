package store

import (
	"context"
	"errors"
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

// columns returns the list columns the person in the request chose, or DefaultColumns.
func columns(tx *gorm.DB) ([]string, error) {
	var s models.UserSettings
	err := tx.Where("user_id = ?", audit.RequestFrom(tx.Statement.Context).UserID).Take(&s).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return DefaultColumns, nil
	case err != nil:
		return nil, fmt.Errorf("list columns: %w", err)
	}
	return s.CustomerColumns, nil
}

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
		return audit.Record(tx, audit.Event{Action: "settings.columns", Entity: "user", EntityID: user.String(),
			Outcome: models.OutcomeAllowed, Details: map[string]any{"columns": cols}})
	})
}
