package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/tenant"
	"moat/models"
)

// Users is the team store: the people of a tenant and what owners and admins may change about
// them. Every change that lowers or removes someone's access ends their sessions on the server
// in the same transaction, so it takes effect on their next request.
type Users struct{ db *gorm.DB }

// NewUsers returns the team store over db.
func NewUsers(db *gorm.DB) *Users { return &Users{db: db} }

// List returns the people of the tenant in ctx, by name.
func (s *Users) List(ctx context.Context) ([]models.User, error) {
	var list []models.User
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Order("lower(name), id").Find(&list).Error; err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: "user.list", Entity: "user", Outcome: models.OutcomeAllowed})
	})
	return list, err
}

// Add adds a person who must change the given first password when they first sign in. Admins
// may not add owners (models.ErrForbidden); a taken email is a *models.ValidationError that does
// not say where the email is used.
func (s *Users) Add(ctx context.Context, in models.NewUserInput) (models.User, error) {
	actor, _ := auth.FromContext(ctx)
	invalid := in.Validate()
	if invalid == nil && in.Role == models.RoleOwner && actor.Role != models.RoleOwner {
		invalid = &models.ValidationError{Fields: map[string]string{"role": "Only an owner can add an owner."}}
	}
	u := models.User{ID: uuid.New(), Email: in.Email, Name: in.Name, Role: in.Role, MustChangePassword: true}
	if invalid == nil {
		// Hashed before the transaction: it takes tens of milliseconds, and a pooled
		// connection should not wait on it.
		hash, err := auth.HashPassword(in.Password)
		if err != nil {
			return u, err
		}
		u.PasswordHash = hash
	}
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		ev := audit.Event{Action: "user.create", Entity: "user", Outcome: models.OutcomeRejected}
		if invalid != nil {
			ev.Details = invalid
			return audit.Record(tx, ev)
		}
		if err := tx.Create(&u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return models.ErrEmailTaken
			}
			return fmt.Errorf("create user: %w", err)
		}
		ev.EntityID, ev.Outcome = u.ID.String(), models.OutcomeAllowed
		ev.Details = map[string]string{"email": u.Email, "name": u.Name, "role": string(u.Role)}
		return audit.Record(tx, ev)
	})
	if errors.Is(err, models.ErrEmailTaken) {
		// The failed insert aborted the transaction; record the rejection in a new one.
		invalid = &models.ValidationError{Fields: map[string]string{"email": "This email is already in use. Use another email."}}
		err = audit.RecordAlone(ctx, s.db, audit.Event{Action: "user.create", Entity: "user", Outcome: models.OutcomeRejected, Details: invalid})
	}
	if err == nil {
		err = invalid
	}
	return u, err
}

// ChangeRole gives the person with id a new role and ends their sessions.
func (s *Users) ChangeRole(ctx context.Context, id string, role models.Role) error {
	return s.change(ctx, id, "user.role_change", func(tx *gorm.DB, actor auth.Principal, u *models.User) (any, error) {
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

// Deactivate stops the person with id from signing in and ends their sessions.
func (s *Users) Deactivate(ctx context.Context, id string, now time.Time) error {
	return s.change(ctx, id, "user.deactivate", func(tx *gorm.DB, actor auth.Principal, u *models.User) (any, error) {
		if actor.Role != models.RoleOwner && u.Role == models.RoleOwner {
			return nil, models.ErrForbidden
		}
		if u.Role == models.RoleOwner {
			if err := keepAnOwner(tx, u.ID); err != nil {
				return nil, err
			}
		}
		return nil, tx.Model(u).Update("deactivated_at", now).Error
	})
}

// Reactivate lets a deactivated person sign in again.
func (s *Users) Reactivate(ctx context.Context, id string) error {
	return s.change(ctx, id, "user.reactivate", func(tx *gorm.DB, actor auth.Principal, u *models.User) (any, error) {
		if actor.Role != models.RoleOwner && u.Role == models.RoleOwner {
			return nil, models.ErrForbidden
		}
		return nil, tx.Model(u).Update("deactivated_at", nil).Error
	})
}

// Remove deletes the person with id and ends their sessions. Their past actions stay in the
// trail.
func (s *Users) Remove(ctx context.Context, id string) error {
	return s.change(ctx, id, "user.remove", func(tx *gorm.DB, actor auth.Principal, u *models.User) (any, error) {
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
func (s *Users) change(ctx context.Context, id, action string,
	fn func(tx *gorm.DB, actor auth.Principal, u *models.User) (any, error)) error {
	actor, _ := auth.FromContext(ctx)
	var result error
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var u models.User
		uid, perr := uuid.Parse(id)
		if perr != nil || len(id) != 36 {
			uid = uuid.Nil
		}
		ev := audit.Event{Action: action, Entity: "user", EntityID: id, Outcome: models.OutcomeDenied}
		// Team changes of one tenant run one at a time, so two owners demoting each other at
		// once cannot both pass the last-owner check.
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended(current_setting('app.tenant_id'), 0))").Error; err != nil {
			return fmt.Errorf("team lock: %w", err)
		}
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", uid).Take(&u).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			result = missing("users", uid)
			return audit.Record(tx, ev)
		case err != nil:
			return fmt.Errorf("load user: %w", err)
		case !actor.Role.ManagesTeam():
			result = models.ErrForbidden
			return audit.Record(tx, ev)
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
		var invalid *models.ValidationError
		switch {
		case errors.Is(err, models.ErrLastOwner), errors.Is(err, models.ErrForbidden), errors.As(err, &invalid):
			result = err
			ev.Details = map[string]string{"refused": err.Error()}
			return audit.Record(tx, ev)
		case err != nil:
			return fmt.Errorf("%s: %w", action, err)
		}
		ev.Outcome, ev.Details = models.OutcomeAllowed, map[string]any{"change": details, "sessions_ended": ended}
		return audit.Record(tx, ev)
	})
	if err != nil {
		return err
	}
	return result
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
