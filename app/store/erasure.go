package store

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/auth"
	"moat/models"
)

// ErasedName is what an erased customer is called.
const ErasedName = "Erased customer"

// Erase erases the personal data of the customer with id (in the trash too), on a person's
// request, for owners and admins, through erase_customer: its name, contacts, addresses and
// notes are cleared and it is marked erased; the trail's rows about it keep who, what and when
// but lose the values, and so do the files of the imports that wrote it and unexpired exports.
// Its number, tags and invoices stay: a finalized invoice keeps the details it was issued with,
// which the law requires. The erasure is audited with reason.
func (s *Customers) Erase(ctx context.Context, id, reason string) error {
	reason = norm.NFC.String(strings.TrimSpace(reason))
	return audited(ctx, s.db, audit.Event{Action: audit.CustomerErase, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		if p, _ := auth.FromContext(tx.Statement.Context); !p.Role.ManagesTeam() {
			return models.ErrForbidden
		}
		c, err := byID[models.Customer](tx, id, forUpdate)
		if err != nil {
			return err
		}
		switch {
		case c.ErasedAt != nil:
			return &models.ValidationError{Fields: map[string]string{"reason": "This customer's personal data is erased already."}}
		case reason == "" || len(reason) > 500 || strings.ContainsFunc(reason, func(r rune) bool { return r < ' ' && r != '\n' }):
			return &models.ValidationError{Fields: map[string]string{"reason": "Say why, in up to 500 characters: the request this answers, say."}}
		}
		var cleared int64
		if err := tx.Raw("SELECT erase_customer(?, ?, ?)", c.TenantID, c.ID, requestUser(tx)).Scan(&cleared).Error; err != nil {
			return fmt.Errorf("erase customer: %w", err)
		}
		ev.Details = map[string]any{"reason": reason, "number": c.Number, "trail_rows_cleared": cleared}
		return nil
	})
}
