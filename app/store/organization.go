package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/tenant"
	"moat/models"
)

// Organization is the store of the organization itself: its settings page, closing it for
// good, and the deletion that follows.
type Organization struct{ db *gorm.DB }

// NewOrganization returns the organization store over db.
func NewOrganization(db *gorm.DB) *Organization { return &Organization{db: db} }

// Closing is a scheduled deletion of the organization.
type Closing struct {
	RequestedBy uuid.UUID
	RequestedAt time.Time
	DeleteAfter time.Time
}

// Settings are what the organization page shows.
type Settings struct {
	Name    string
	Closing *Closing // nil unless the organization is closing
}

// Get returns the organization's settings, for an owner.
func (s *Organization) Get(ctx context.Context) (out Settings, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.TenantView}, func(tx *gorm.DB, _ *audit.Event) error {
		if err := ownerOnly(tx); err != nil {
			return err
		}
		out, err = settings(tx)
		return err
	})
	return out, err
}

func settings(tx *gorm.DB) (out Settings, err error) {
	if err := tx.Raw("SELECT name FROM tenants WHERE id = current_tenant_id()").Scan(&out.Name).Error; err != nil {
		return out, fmt.Errorf("organization: %w", err)
	}
	out.Closing, err = closingOf(tx)
	return out, err
}

// closingOf is the organization's scheduled deletion, or nil.
func closingOf(tx *gorm.DB) (*Closing, error) {
	var c []Closing
	if err := tx.Raw("SELECT requested_by, requested_at, delete_after FROM tenant_closures WHERE tenant_id = current_tenant_id()").
		Scan(&c).Error; err != nil {
		return nil, fmt.Errorf("organization closing: %w", err)
	}
	if len(c) == 0 {
		return nil, nil
	}
	return &c[0], nil
}

func ownerOnly(tx *gorm.DB) error {
	if p, _ := auth.FromContext(tx.Statement.Context); p.Role != models.RoleOwner {
		return models.ErrForbidden
	}
	return nil
}

// Close closes the organization, for an owner who typed its name as confirm: it is deleted,
// everything in it, after grace (a week at least: the database holds to that), unless an
// owner reopens it first. Everyone is signed out at once, every API token is revoked and open
// invitations are withdrawn; until the deletion only owners may sign in.
func (s *Organization) Close(ctx context.Context, confirm string, grace time.Duration) (c Closing, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.TenantClose}, func(tx *gorm.DB, ev *audit.Event) error {
		if err := ownerOnly(tx); err != nil {
			return err
		}
		cur, err := settings(tx)
		if err != nil {
			return err
		}
		t, _ := tenant.FromContext(tx.Statement.Context)
		ev.EntityID = t.String()
		switch {
		case cur.Closing != nil:
			return &models.ValidationError{Fields: map[string]string{"confirm_name": "The organization is closing already."}}
		case strings.TrimSpace(confirm) != cur.Name:
			return &models.ValidationError{Fields: map[string]string{"confirm_name": "Type the organization's name exactly as it is shown."}}
		}
		p, _ := auth.FromContext(tx.Statement.Context)
		c = Closing{RequestedBy: p.UserID, RequestedAt: time.Now()}
		if err := lockTenant(tx); err != nil {
			return err
		}
		if err := tx.Raw("SELECT close_tenant(?, ?, make_interval(secs => ?))", t.UUID(), p.UserID, grace.Seconds()).Scan(&c.DeleteAfter).Error; err != nil {
			return fmt.Errorf("close organization: %w", err)
		}
		ended, err := endSessions(tx, "true")
		if err != nil {
			return err
		}
		revoked := tx.Model(&models.APIToken{}).Where("revoked_at IS NULL").Updates(map[string]any{"revoked_at": c.RequestedAt, "revoked_by": p.UserID})
		if revoked.Error != nil {
			return fmt.Errorf("revoke api tokens: %w", revoked.Error)
		}
		ev.Details = map[string]any{"delete_after": c.DeleteAfter.UTC().Format(time.RFC3339), "sessions_ended": ended, "api_tokens_revoked": revoked.RowsAffected}
		return nil
	})
	return c, err
}

// Reopen cancels the organization's closing, for an owner.
func (s *Organization) Reopen(ctx context.Context) error {
	return audited(ctx, s.db, audit.Event{Action: audit.TenantReopen}, func(tx *gorm.DB, ev *audit.Event) error {
		if err := ownerOnly(tx); err != nil {
			return err
		}
		t, _ := tenant.FromContext(tx.Statement.Context)
		ev.EntityID = t.String()
		res := tx.Exec("DELETE FROM tenant_closures WHERE tenant_id = current_tenant_id()")
		if res.Error != nil {
			return fmt.Errorf("reopen organization: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return &models.ValidationError{Fields: map[string]string{"organization": "The organization is not closing."}}
		}
		return nil
	})
}

// Due lists the organizations whose deletion is due, by id.
func (s *Organization) Due(ctx context.Context) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := s.db.WithContext(ctx).Raw("SELECT * FROM due_closures()").Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("due closures: %w", err)
	}
	return ids, nil
}

// Purge deletes the organization of ctx for good if it was closed and its grace period is
// over; deleted says whether it was.
func (s *Organization) Purge(ctx context.Context) (deleted bool, err error) {
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		return tx.Raw("SELECT purge_tenant()").Scan(&deleted).Error
	})
	return deleted, err
}

// lockTenant takes the organization's row lock, which its requests take turns on: two exports
// asked at once make one, and a closing waits for them.
func lockTenant(tx *gorm.DB) error {
	if err := tx.Exec("SELECT 1 FROM tenants WHERE id = current_tenant_id() FOR UPDATE").Error; err != nil {
		return fmt.Errorf("lock organization: %w", err)
	}
	return nil
}
