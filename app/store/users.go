package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/mail"
	"moat/app/tenant"
	"moat/app/token"
	"moat/models"
)

// Users is the team store: the people of a tenant, the invitations to join it, and what owners
// and admins may change about them. Every change that lowers or removes someone's access ends
// their sessions on the server in the same transaction, so it takes effect on their next
// request.
type Users struct {
	db    *gorm.DB
	links mail.Links
}

// NewUsers returns the team store over db, inviting with links.
func NewUsers(db *gorm.DB, links mail.Links) *Users { return &Users{db: db, links: links} }

// List returns the people of the tenant in ctx, by name, and its open invitations, newest
// first.
func (s *Users) List(ctx context.Context) ([]models.User, []models.Invitation, error) {
	var list []models.User
	var invited []models.Invitation
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Order("lower(name), id").Find(&list).Error; err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		if err := tx.Where("accepted_at IS NULL AND expires_at > now()").Order("created_at DESC, id").Find(&invited).Error; err != nil {
			return fmt.Errorf("list invitations: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: audit.UserList, Entity: audit.EntityUser, Outcome: models.OutcomeAllowed})
	})
	return list, invited, err
}

// InvitationTTL is how long an invitation's link stays good.
const InvitationTTL = 7 * 24 * time.Hour

// Invite emails in.Email a link to join the tenant in ctx with in.Role, replacing any open
// invitation of the address. It never looks beyond the tenant: whether the address has an
// account, or belongs to other tenants, makes no difference to what it does or answers. Admins
// may not invite owners; an address already on the team, or input the rules refuse, is a
// *models.ValidationError. The token is returned for tests and the demo loader; a handler must
// never show it.
func (s *Users) Invite(ctx context.Context, in models.InviteInput) (string, error) {
	actor, _ := auth.FromContext(ctx)
	invalid := in.Validate()
	if invalid == nil && in.Role == models.RoleOwner && actor.Role != models.RoleOwner {
		invalid = &models.ValidationError{Fields: map[string]string{"role": "Only an owner can invite an owner."}}
	}
	tok := token.New()
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		ev := audit.Event{Action: audit.UserInvite, Entity: audit.EntityInvitation, Outcome: models.OutcomeRejected}
		if invalid == nil {
			var members int64
			if err := tx.Model(&models.User{}).Where("email = ?", in.Email).Count(&members).Error; err != nil {
				return fmt.Errorf("check team: %w", err)
			}
			if members > 0 {
				invalid = &models.ValidationError{Fields: map[string]string{"email": "This person is already on your team."}}
			}
		}
		if invalid != nil {
			ev.Details = invalid
			return audit.Record(tx, ev)
		}
		var org models.Tenant
		if err := tx.Take(&org).Error; err != nil {
			return fmt.Errorf("load organization: %w", err)
		}
		if err := tx.Where("email = ? AND accepted_at IS NULL", in.Email).Delete(&models.Invitation{}).Error; err != nil {
			return fmt.Errorf("replace invitation: %w", err)
		}
		inv := models.Invitation{TokenHash: token.Hash(tok), Email: in.Email, Name: in.Name, Role: in.Role,
			InvitedBy: requestUser(tx), ExpiresAt: time.Now().Add(InvitationTTL)}
		if err := tx.Create(&inv).Error; err != nil {
			return fmt.Errorf("create invitation: %w", err)
		}
		if err := mail.Queue(tx, s.links.Invitation(in.Email, org.Name, actor.Name, tok)); err != nil {
			return err
		}
		ev.EntityID, ev.Outcome = inv.ID.String(), models.OutcomeAllowed
		ev.Details = map[string]string{"email": inv.Email, "name": inv.Name, "role": string(inv.Role)}
		return audit.Record(tx, ev)
	})
	if err == nil {
		err = invalid
	}
	return tok, err
}

// RevokeInvitation withdraws the open invitation with id: its link no longer works.
func (s *Users) RevokeInvitation(ctx context.Context, id string) error {
	return audited(ctx, s.db, audit.Event{Action: audit.UserInviteRevoke, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		inv, err := byID[models.Invitation](tx, id, func(q *gorm.DB) *gorm.DB { return forUpdate(q.Where("accepted_at IS NULL")) })
		if err != nil {
			return err
		}
		if err := tx.Delete(&inv).Error; err != nil {
			return fmt.Errorf("revoke invitation: %w", err)
		}
		ev.Details = map[string]string{"email": inv.Email}
		return nil
	})
}

// ChangeRole gives the person with id a new role and ends their sessions.
func (s *Users) ChangeRole(ctx context.Context, id string, role models.Role) error {
	return s.change(ctx, id, audit.UserRoleChange, func(tx *gorm.DB, actor auth.Principal, u *models.User) (any, error) {
		if !role.Valid() {
			return nil, &models.ValidationError{Fields: map[string]string{"role": "Choose one of the offered values."}}
		}
		if actor.Role != models.RoleOwner && (role == models.RoleOwner || u.Role == models.RoleOwner) {
			return nil, models.ErrForbidden
		}
		if u.Role == models.RoleOwner && role != models.RoleOwner {
			if err := keepAnOwner(tx, u.ID); err != nil {
				return nil, err
			}
		}
		details := map[string]string{"from": string(u.Role), "to": string(role)}
		if err := tx.Model(u).Update("role", role).Error; err != nil {
			return nil, err
		}
		return details, nil
	})
}

// Deactivate stops the person with id from signing in, ends their sessions and revokes their API
// tokens.
func (s *Users) Deactivate(ctx context.Context, id string, now time.Time) error {
	return s.change(ctx, id, audit.UserDeactivate, func(tx *gorm.DB, actor auth.Principal, u *models.User) (any, error) {
		if actor.Role != models.RoleOwner && u.Role == models.RoleOwner {
			return nil, models.ErrForbidden
		}
		if u.Role == models.RoleOwner {
			if err := keepAnOwner(tx, u.ID); err != nil {
				return nil, err
			}
		}
		if err := tx.Model(u).Update("deactivated_at", now).Error; err != nil {
			return nil, err
		}
		revoked, err := revokeTokensOf(tx, u.ID, now)
		return map[string]int64{"api_tokens_revoked": revoked}, err
	})
}

// Reactivate lets a deactivated person sign in again. Their API tokens stay revoked.
func (s *Users) Reactivate(ctx context.Context, id string) error {
	return s.change(ctx, id, audit.UserReactivate, func(tx *gorm.DB, actor auth.Principal, u *models.User) (any, error) {
		if actor.Role != models.RoleOwner && u.Role == models.RoleOwner {
			return nil, models.ErrForbidden
		}
		return nil, tx.Model(u).Update("deactivated_at", nil).Error
	})
}

// Remove deletes the person with id and ends their sessions. Their past actions stay in the
// trail.
func (s *Users) Remove(ctx context.Context, id string) error {
	return s.change(ctx, id, audit.UserRemove, func(tx *gorm.DB, actor auth.Principal, u *models.User) (any, error) {
		if actor.Role != models.RoleOwner && u.Role == models.RoleOwner {
			return nil, models.ErrForbidden
		}
		if u.Role == models.RoleOwner {
			if err := keepAnOwner(tx, u.ID); err != nil {
				return nil, err
			}
		}
		details := map[string]string{"email": u.Email, "name": u.Name, "role": string(u.Role)}
		return details, tx.Delete(u).Error
	})
}

// change loads the person with id under lock, applies fn, ends the person's sessions and audits
// the outcome, all in one transaction. Only owners and admins may change anyone.
func (s *Users) change(ctx context.Context, id string, action audit.Action,
	fn func(tx *gorm.DB, actor auth.Principal, u *models.User) (any, error)) error {
	actor, _ := auth.FromContext(ctx)
	return audited(ctx, s.db, audit.Event{Action: action, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		// Team changes of one tenant run one at a time, so two owners demoting each other at
		// once cannot both pass the last-owner check.
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended(current_setting('app.tenant_id'), 0))").Error; err != nil {
			return fmt.Errorf("team lock: %w", err)
		}
		u, err := byID[models.User](tx, id, forUpdate)
		if err != nil {
			return err
		}
		if !actor.Role.ManagesTeam() {
			return models.ErrForbidden
		}
		// The change runs in a savepoint so that a refusal still commits its audit row. The
		// person's sessions end first: removing them deletes their list of sessions with them.
		var details any
		var ended int64
		err = tx.Transaction(func(sp *gorm.DB) error {
			var err error
			if ended, err = endSessions(sp, "user_id = ?", u.ID); err != nil {
				return err
			}
			details, err = fn(sp, actor, &u)
			return err
		})
		if err != nil {
			return err
		}
		ev.Details = map[string]any{"change": details, "sessions_ended": ended}
		return nil
	})
}

// keepAnOwner refuses a change that would leave no active owner but the one with id.
func keepAnOwner(tx *gorm.DB, id uuid.UUID) error {
	var others int64
	err := tx.Model(&models.User{}).
		Where("role = ? AND deactivated_at IS NULL AND id <> ?", models.RoleOwner, id).Count(&others).Error
	if err != nil {
		return err
	}
	if others == 0 {
		return models.ErrLastOwner
	}
	return nil
}
