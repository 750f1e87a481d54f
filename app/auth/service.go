package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/app/tenant"
	"moat/models"
)

// ErrBadCredentials means the email is unknown or the password is wrong; callers must not be
// able to tell which.
var ErrBadCredentials = errors.New("wrong email or password")

// Service signs organizations up and people in. These are Moat's only cross-tenant paths:
// sign-up creates a tenant that no session names yet, and sign-in finds a user by email before
// any tenant is known.
type Service struct {
	db  *gorm.DB
	log *slog.Logger
}

// NewService returns a Service over db.
func NewService(db *gorm.DB, log *slog.Logger) *Service { return &Service{db: db, log: log} }

// SignUp creates an organization and its owner and returns the owner as a Principal. Invalid
// input returns a *models.ValidationError; an email that already signs in returns one too,
// naming the email field, without saying where the email is used.
func (s *Service) SignUp(ctx context.Context, in models.SignUpInput) (Principal, error) {
	if err := in.Validate(); err != nil {
		return Principal{}, err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return Principal{}, err
	}
	t := tenant.FromUUID(uuid.New())
	u := models.User{ID: uuid.New(), Email: strings.ToLower(in.Email), Name: in.Name, PasswordHash: hash, Role: models.RoleOwner}
	p := Principal{Tenant: t, UserID: u.ID, Role: u.Role, Name: u.Name, Email: u.Email, SessionID: uuid.New()}
	ctx = NewContext(ctx, p)
	r := audit.RequestFrom(ctx)
	r.UserID = u.ID
	ctx = audit.NewContext(ctx, r)
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Create(&models.Tenant{ID: t.UUID(), Name: in.Organization}).Error; err != nil {
			return fmt.Errorf("create tenant: %w", err)
		}
		if err := tx.Create(&u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return models.ErrEmailTaken
			}
			return fmt.Errorf("create owner: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: "tenant.sign_up", Entity: "tenant", EntityID: t.String(), Outcome: models.OutcomeAllowed,
			Details: map[string]string{"organization": in.Organization, "owner": u.Email}})
	})
	if errors.Is(err, models.ErrEmailTaken) {
		return Principal{}, &models.ValidationError{Fields: map[string]string{"email": "This email is already in use. Sign in instead, or use another email."}}
	}
	if err != nil {
		return Principal{}, err
	}
	return p, nil
}

// SignIn checks an email and password and returns the person as a Principal, or
// ErrBadCredentials. Unknown emails cost the same password hashing as known ones. Attempts on a
// known email go to that tenant's trail; attempts on unknown emails only to the operator log.
func (s *Service) SignIn(ctx context.Context, email, password string) (Principal, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var found []struct {
		TenantID           uuid.UUID
		ID                 uuid.UUID
		Name               string
		Email              string
		PasswordHash       string
		Role               models.Role
		MustChangePassword bool
		Deactivated        bool
	}
	if len(email) <= 254 && !strings.ContainsRune(email, 0) {
		// sign_in_lookup is the one SECURITY DEFINER function: one user's row by email.
		if err := s.db.WithContext(ctx).Raw("SELECT * FROM sign_in_lookup(?)", strings.ToValidUTF8(email, "")).Scan(&found).Error; err != nil {
			return Principal{}, fmt.Errorf("sign-in lookup: %w", err)
		}
	}
	if len(found) != 1 {
		CheckPassword(dummyHash(), password) //nolint:errcheck // spends the same time as a real check
		s.log.WarnContext(ctx, "sign-in with unknown email", "request_id", audit.RequestFrom(ctx).RequestID)
		return Principal{}, ErrBadCredentials
	}
	u := found[0]
	ok, err := CheckPassword(u.PasswordHash, password)
	if err != nil {
		return Principal{}, err
	}
	p := Principal{Tenant: tenant.FromUUID(u.TenantID), UserID: u.ID, Role: u.Role, Name: u.Name, Email: u.Email,
		MustChangePassword: u.MustChangePassword, SessionID: uuid.New()}
	ctx = NewContext(ctx, p)
	r := audit.RequestFrom(ctx)
	r.UserID = u.ID
	ctx = audit.NewContext(ctx, r)
	ev := audit.Event{Action: "auth.sign_in", Entity: "user", EntityID: u.ID.String(), Outcome: models.OutcomeAllowed}
	switch {
	case !ok:
		ev.Outcome, ev.Details = models.OutcomeDenied, map[string]string{"reason": "wrong password"}
	case u.Deactivated:
		// The same answer as a wrong password: a deactivated account is not confirmed to anyone.
		ok = false
		ev.Outcome, ev.Details = models.OutcomeDenied, map[string]string{"reason": "deactivated"}
	}
	if err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error { return audit.Record(tx, ev) }); err != nil {
		return Principal{}, err
	}
	if !ok {
		return Principal{}, ErrBadCredentials
	}
	return p, nil
}

// ChangePassword replaces the password of the person in ctx after checking the current one.
// A wrong current password, or input the rules refuse, is a *models.ValidationError.
func (s *Service) ChangePassword(ctx context.Context, in models.PasswordChangeInput, now time.Time) error {
	p, ok := FromContext(ctx)
	if !ok {
		return models.ErrNoTenant
	}
	invalid := in.Validate()
	var result error
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		ev := audit.Event{Action: "user.password_change", Entity: "user", EntityID: p.UserID.String(), Outcome: models.OutcomeRejected}
		var u models.User
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", p.UserID).Take(&u).Error; err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		ok, err := CheckPassword(u.PasswordHash, in.Current)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			result = &models.ValidationError{Fields: map[string]string{"current_password": "This is not your current password."}}
			ev.Outcome = models.OutcomeDenied
		case invalid != nil:
			result = invalid
		case in.New == in.Current:
			result = &models.ValidationError{Fields: map[string]string{"new_password": "Choose a password different from the current one."}}
		}
		if result != nil {
			ev.Details = result
			return audit.Record(tx, ev)
		}
		hash, err := HashPassword(in.New)
		if err != nil {
			return err
		}
		if err := tx.Model(&u).Updates(map[string]any{"password_hash": hash, "must_change_password": false, "password_changed_at": now}).Error; err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		ev.Outcome = models.OutcomeAllowed
		return audit.Record(tx, ev)
	})
	if err != nil {
		return err
	}
	return result
}

var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("moat-dummy-password-for-unknown-emails")
	if err != nil {
		panic(err)
	}
	return h
})

// AddUser adds a person with role to the tenant in ctx. An email that already signs in returns
// models.ErrEmailTaken.
func (s *Service) AddUser(ctx context.Context, name, email, password string, role models.Role) (models.User, error) {
	hash, err := HashPassword(password)
	if err != nil {
		return models.User{}, err
	}
	u := models.User{ID: uuid.New(), Email: strings.ToLower(strings.TrimSpace(email)), Name: strings.TrimSpace(name), PasswordHash: hash, Role: role}
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Create(&u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return models.ErrEmailTaken
			}
			return fmt.Errorf("create user: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: "user.create", Entity: "user", EntityID: u.ID.String(), Outcome: models.OutcomeAllowed,
			Details: map[string]string{"email": u.Email, "role": string(role)}})
	})
	return u, err
}
