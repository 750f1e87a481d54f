package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/auth"
	"moat/models"
)

// ErasedName is what an erased customer is called.
const ErasedName = "Erased customer"

// Erase erases the personal data of the customer with id (in the trash too), on a person's
// request, for owners and admins: its name, contacts, addresses and notes are cleared and it is
// marked erased; the trail's rows about it keep who, what and when but lose the values
// (erase_customer_trail). Its number, tags and invoices stay: a finalized invoice keeps the
// details it was issued with, which the law requires. The erasure is audited with reason.
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
		err = tx.Model(&c).Updates(map[string]any{"name": ErasedName, "company": "", "email": "", "phone": "", "emails": models.Contacts{},
			"phones": models.Contacts{}, "website": "", "tax_id": "", "billing_address": "", "shipping_address": "",
			"erased_at": time.Now(), "erased_by": requestUser(tx)}).Error
		if err != nil {
			return fmt.Errorf("erase customer: %w", err)
		}
		if err := tx.Where("customer_id = ? OR other_id = ?", c.ID, c.ID).Delete(&models.CustomerDuplicate{}).Error; err != nil {
			return fmt.Errorf("erase customer's look-alikes: %w", err)
		}
		var cleared int64
		if err := tx.Raw("SELECT erase_customer_trail(?)", c.ID).Scan(&cleared).Error; err != nil {
			return fmt.Errorf("erase customer's trail: %w", err)
		}
		ev.Details = map[string]any{"reason": reason, "number": c.Number, "trail_rows_cleared": cleared}
		return nil
	})
}
