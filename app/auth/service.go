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

	"moat/app/audit"
	"moat/app/background"
	"moat/app/mail"
	"moat/app/tenant"
	"moat/app/token"
	"moat/models"
)

// ErrBadCredentials means the email is unknown, the password is wrong, or the account belongs
// to no organization that lets it in; callers must not be able to tell which.
var ErrBadCredentials = errors.New("wrong email or password")

// ErrLinkInvalid means an emailed link is unknown, used or expired.
var ErrLinkInvalid = errors.New("the link is no longer valid")

// How long each emailed link stays good.
const (
	SignUpLinkTTL     = 24 * time.Hour
	InvitationLinkTTL = 7 * 24 * time.Hour
	ResetLinkTTL      = time.Hour
)

// Service signs organizations up and people in. These are Moat's cross-tenant paths: a sign-up
// creates a tenant that no session names yet, sign-in finds an account by email before any
// tenant is known, and an invitation's link names its tenant by a token only the invitee holds.
// None of them answers differently for an address Moat knows elsewhere: whatever proves an
// address goes to that address.
type Service struct {
	db    *gorm.DB
	log   *slog.Logger
	links mail.Links
	after *background.Queue // nil: what follows a response runs before it returns
}

// NewService returns a Service over db whose emailed links start with base (the site's public
// address, such as https://moat.example), and which leaves to after what need not make a
// response wait (nil: it waits).
func NewService(db *gorm.DB, log *slog.Logger, base string, after *background.Queue) *Service {
	return &Service{db: db, log: log, links: mail.Links{Base: strings.TrimSuffix(base, "/")}, after: after}
}

// Links are the messages the service sends, for stores that send them too (invitations).
func (s *Service) Links() mail.Links { return s.links }

// RequestSignUp validates in and emails its address a link that creates the organization. It
// does the same work, and answers the same, whether or not the address has an account: the
// answer is "check your inbox". Invalid input is a *models.ValidationError. The token is
// returned for callers that confirm on the person's behalf (the demo loader, tests); a handler
// must never show it.
func (s *Service) RequestSignUp(ctx context.Context, in models.SignUpInput) (string, error) {
	if err := in.Validate(); err != nil {
		return "", err
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return "", err
	}
	tok := token.New()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO signup_requests (token_hash, email, organization, name, password_hash, expires_at)
			VALUES (?, ?, ?, ?, ?, now() + ?::interval)`, token.Hash(tok), in.Email, in.Organization, in.Name, hash, interval(SignUpLinkTTL)).Error; err != nil {
			return fmt.Errorf("sign-up request: %w", err)
		}
		return mail.Queue(tx, s.links.SignUp(in.Email, in.Organization, tok))
	})
	return tok, err
}

// SignUp is a confirmed sign-up: its new owner, and whether the address already had an account
// (whose password stays as it was; the one typed at sign-up is dropped).
type SignUp struct {
	Principal       Principal
	ExistingAccount bool
}

// ConfirmSignUp creates the organization the link with tok asked for, with the address's account
// as its owner, and returns the owner. An unknown, used or expired link is ErrLinkInvalid.
func (s *Service) ConfirmSignUp(ctx context.Context, tok string) (SignUp, error) {
	t := tenant.FromUUID(uuid.New())
	p := Principal{Tenant: t, UserID: uuid.New(), Role: models.RoleOwner, SessionID: uuid.New()}
	var existing bool
	ctx = asPrincipal(ctx, p)
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var claims []struct {
			AccountID                 uuid.UUID
			Created                   bool
			Email, Organization, Name string
		}
		if err := tx.Raw("SELECT * FROM claim_signup(?)", token.Hash(tok)).Scan(&claims).Error; err != nil {
			return fmt.Errorf("claim sign-up: %w", err)
		}
		if len(claims) != 1 {
			return ErrLinkInvalid
		}
		c := claims[0]
		existing, p.AccountID, p.Name, p.Email = !c.Created, c.AccountID, c.Name, c.Email
		if err := tx.Create(&models.Tenant{ID: t.UUID(), Name: c.Organization}).Error; err != nil {
			return fmt.Errorf("create tenant: %w", err)
		}
		u := models.User{ID: p.UserID, AccountID: c.AccountID, Email: c.Email, Name: c.Name, Role: models.RoleOwner}
		if err := tx.Create(&u).Error; err != nil {
			return fmt.Errorf("create owner: %w", err)
		}
		if err := tx.Create(&models.Warehouse{Name: "Main warehouse", IsDefault: true}).Error; err != nil {
			return fmt.Errorf("create default warehouse: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: audit.TenantSignUp, Entity: audit.EntityTenant, EntityID: t.String(), Outcome: models.OutcomeAllowed,
			Details: map[string]any{"organization": c.Organization, "owner": c.Email, "existing_account": existing}})
	})
	if err != nil {
		return SignUp{}, err
	}
	return SignUp{Principal: p, ExistingAccount: existing}, nil
}

// Membership is one organization an account may sign in to.
type Membership struct {
	Tenant       uuid.UUID
	UserID       uuid.UUID
	Name         string
	Role         models.Role
	Organization string
}

// Account is an account whose password was right, with the organizations it may enter.
type Account struct {
	ID          uuid.UUID
	Email       string
	Memberships []Membership // active ones, by organization name; never empty
}

type lookupRow struct {
	AccountID    uuid.UUID
	PasswordHash string
	TenantID     *uuid.UUID
	UserID       *uuid.UUID
	Name         string
	Role         models.Role
	Deactivated  bool
	Organization string
}

// lookup runs sign_in_lookup, the one read of accounts by email: the same statement for any
// address that could be one.
func (s *Service) lookup(ctx context.Context, email string) ([]lookupRow, error) {
	if len(email) > 254 || !validText(email) {
		return nil, nil // no account has such an address
	}
	var rows []lookupRow
	if err := s.db.WithContext(ctx).Raw("SELECT * FROM sign_in_lookup(?)", email).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("sign-in lookup: %w", err)
	}
	return rows, nil
}

// check looks email up and checks password against its account's hash, or against a stand-in
// hash when the address has no account: the same work either way. ok is false for an unknown
// address.
func (s *Service) check(ctx context.Context, email, password string) (rows []lookupRow, ok bool, err error) {
	if rows, err = s.lookup(ctx, email); err != nil {
		return nil, false, err
	}
	hash := dummyHash()
	if len(rows) > 0 {
		hash = rows[0].PasswordHash
	}
	ok, err = CheckPassword(hash, password)
	return rows, ok && len(rows) > 0, err
}

// SignIn checks an email and password and returns the account with the organizations it may
// enter, or ErrBadCredentials. Every refusal does the same work: one lookup, one password
// hashing (against a stand-in hash for an unknown address) and one row recording the refusal.
// After the response, that row reaches the trail of each organization the address belongs to.
func (s *Service) SignIn(ctx context.Context, email, password string) (Account, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	rows, ok, err := s.check(ctx, email, password)
	if err != nil {
		return Account{}, err
	}
	acc := Account{Email: email}
	for _, r := range rows {
		acc.ID = r.AccountID
		if r.TenantID != nil && !r.Deactivated {
			acc.Memberships = append(acc.Memberships, Membership{Tenant: *r.TenantID, UserID: *r.UserID, Name: r.Name, Role: r.Role, Organization: r.Organization})
		}
	}
	reason := ""
	switch {
	case len(rows) == 0:
		reason = "unknown email"
	case !ok:
		reason = "wrong password"
	case len(acc.Memberships) == 0:
		// The same answer as a wrong password: a deactivated membership is confirmed to nobody.
		reason = "no active membership"
	}
	if reason == "" {
		return acc, nil
	}
	r := audit.RequestFrom(ctx)
	err = s.db.WithContext(ctx).Exec("SELECT sign_in_failed(?, ?, ?, ?, ?)",
		audit.Clean(email, 254), reason, audit.Clean(r.RequestID, 100), audit.Clean(r.IP, 64), audit.Clean(r.UserAgent, 400)).Error
	if err != nil {
		return Account{}, fmt.Errorf("record refused sign-in: %w", err)
	}
	s.log.InfoContext(ctx, "sign-in refused", "request_id", r.RequestID)
	if s.after == nil || !s.after.Do(s.reportFailures) {
		s.reportFailures(ctx) // no queue, or a full one: the refusals reach the trails now
	}
	return Account{}, ErrBadCredentials
}

// reportFailures writes the refused sign-ins not yet reported into their organizations' trails.
func (s *Service) reportFailures(ctx context.Context) {
	if err := s.db.WithContext(ctx).Exec("SELECT report_sign_in_failures()").Error; err != nil {
		s.log.ErrorContext(ctx, "report refused sign-ins", "err", err)
	}
}

// ErrClosing refuses a sign-in to an organization that is closing to anyone but its owners.
var ErrClosing = errors.New("the organization is closing")

// Enter signs acc in to its membership m (one of acc.Memberships, as the server kept them) and
// returns the principal, auditing the sign-in in that organization. While the organization is
// closing only its owners may enter (closing is then true); anyone else gets ErrClosing.
func (s *Service) Enter(ctx context.Context, acc Account, m Membership) (p Principal, closing bool, err error) {
	p = Principal{Tenant: tenant.FromUUID(m.Tenant), UserID: m.UserID, AccountID: acc.ID, Role: m.Role, Name: m.Name,
		Email: acc.Email, SessionID: uuid.New()}
	ctx = asPrincipal(ctx, p)
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Raw("SELECT EXISTS (SELECT 1 FROM tenant_closures WHERE tenant_id = current_tenant_id())").Scan(&closing).Error; err != nil {
			return fmt.Errorf("sign-in: %w", err)
		}
		ev := audit.Event{Action: audit.AuthSignIn, Entity: audit.EntityUser, EntityID: m.UserID.String(), Outcome: models.OutcomeAllowed}
		if closing && m.Role != models.RoleOwner {
			ev.Outcome, ev.Details = models.OutcomeDenied, map[string]string{"refused": ErrClosing.Error()}
		}
		return audit.Record(tx, ev)
	})
	if err == nil && closing && m.Role != models.RoleOwner {
		err = ErrClosing
	}
	return p, closing, err
}

// ChangePassword replaces the password of the account of the person in ctx after checking the
// current one, and ends the account's other sessions in every organization (keeping this one).
// A wrong current password, or input the rules refuse, is a *models.ValidationError.
func (s *Service) ChangePassword(ctx context.Context, in models.PasswordChangeInput) error {
	p, ok := FromContext(ctx)
	if !ok {
		return models.ErrNoTenant
	}
	invalid := in.Validate()
	rows, ok, err := s.check(ctx, p.Email, in.Current)
	if err != nil {
		return err
	}
	ok = ok && rows[0].AccountID == p.AccountID
	var current string
	if ok {
		current = rows[0].PasswordHash
	}
	ev := audit.Event{Action: audit.UserPasswordChange, Entity: audit.EntityUser, EntityID: p.UserID.String(), Outcome: models.OutcomeRejected}
	var result error
	switch {
	case !ok:
		result = &models.ValidationError{Fields: map[string]string{"current_password": "This is not your current password."}}
		ev.Outcome = models.OutcomeDenied
	case invalid != nil:
		result = invalid
	case in.New == in.Current:
		result = &models.ValidationError{Fields: map[string]string{"new_password": "Choose a password different from the current one."}}
	}
	var hash string
	if result == nil {
		if hash, err = HashPassword(in.New); err != nil {
			return err
		}
	}
	r := audit.RequestFrom(ctx)
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if result == nil {
			var changed bool
			if err := tx.Raw("SELECT change_password(?, ?, ?, ?, ?, ?, ?)", p.AccountID, current, hash, p.SessionID,
				r.RequestID, r.IP, r.UserAgent).Scan(&changed).Error; err != nil {
				return fmt.Errorf("change password: %w", err)
			}
			if changed {
				return nil // the function wrote the row in each organization's trail, this one's included
			}
			result = &models.ValidationError{Fields: map[string]string{"current_password": "Your password was changed meanwhile: type the new one."}}
		}
		ev.Details = result
		return audit.Record(tx, ev)
	})
	if err != nil {
		return err
	}
	return result
}

// RequestPasswordReset emails the address a link to choose a new password. It does the same
// work, and answers the same, for any address: the link itself says whether an account has it.
// An invalid address is a *models.ValidationError. The token is returned for tests; a handler
// must never show it.
func (s *Service) RequestPasswordReset(ctx context.Context, in models.EmailInput) (string, error) {
	if err := in.Validate(); err != nil {
		return "", err
	}
	tok := token.New()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("INSERT INTO password_resets (token_hash, email, expires_at) VALUES (?, ?, now() + ?::interval)",
			token.Hash(tok), in.Email, interval(ResetLinkTTL)).Error; err != nil {
			return fmt.Errorf("password reset: %w", err)
		}
		return mail.Queue(tx, s.links.PasswordReset(in.Email, tok))
	})
	return tok, err
}

// ResetPassword gives the account of the address the link with tok was sent to the password in
// in, and ends every session of it. A link that is unknown, used or expired, or whose address
// has no account, is ErrLinkInvalid; input the rules refuse is a *models.ValidationError.
func (s *Service) ResetPassword(ctx context.Context, tok string, in models.NewPasswordInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	hash, err := HashPassword(in.New)
	if err != nil {
		return err
	}
	r := audit.RequestFrom(ctx)
	var accounts []uuid.UUID
	err = s.db.WithContext(ctx).Raw("SELECT * FROM reset_password(?, ?, ?, ?, ?)", token.Hash(tok), hash,
		r.RequestID, r.IP, r.UserAgent).Scan(&accounts).Error
	switch {
	case err != nil:
		return fmt.Errorf("reset password: %w", err)
	case len(accounts) != 1:
		return ErrLinkInvalid
	}
	return nil
}

// Invitation is an open invitation, as its link shows it to the invitee.
type Invitation struct {
	TenantID      uuid.UUID
	InvitationID  uuid.UUID
	Organization  string
	Email         string
	Name          string
	Role          models.Role
	AccountExists bool // the invitee signs in with their password rather than choosing one
}

// Invitation returns the open invitation of the link with tok, or ErrLinkInvalid.
func (s *Service) Invitation(ctx context.Context, tok string) (Invitation, error) {
	var found []Invitation
	if err := s.db.WithContext(ctx).Raw("SELECT * FROM invitation_lookup(?)", token.Hash(tok)).Scan(&found).Error; err != nil {
		return Invitation{}, fmt.Errorf("invitation lookup: %w", err)
	}
	if len(found) != 1 {
		return Invitation{}, ErrLinkInvalid
	}
	return found[0], nil
}

// AcceptInvitation makes the invitee of the link with tok a member of its organization and
// returns them signed in there. An invitee with an account proves it with their password; one
// without chooses a password, which creates their account. A wrong password or input the rules
// refuse is a *models.ValidationError; a link no longer open, ErrLinkInvalid.
func (s *Service) AcceptInvitation(ctx context.Context, tok, password string, in models.NewPasswordInput) (Principal, error) {
	inv, err := s.Invitation(ctx, tok)
	if err != nil {
		return Principal{}, err
	}
	var hash string
	if inv.AccountExists {
		_, ok, err := s.check(ctx, inv.Email, password)
		if err != nil {
			return Principal{}, err
		}
		if !ok {
			return Principal{}, &models.ValidationError{Fields: map[string]string{"password": "This is not the password of your Moat account."}}
		}
	} else {
		if err := in.Validate(); err != nil {
			return Principal{}, err
		}
		if hash, err = HashPassword(in.New); err != nil {
			return Principal{}, err
		}
	}
	// A named cross-tenant path: the tenant is the invitation's, found by a token only the
	// invitee holds, and checked again by claim_invitation inside the tenant's transaction.
	p := Principal{Tenant: tenant.FromUUID(inv.TenantID), UserID: uuid.New(), Role: inv.Role, Name: inv.Name, Email: inv.Email, SessionID: uuid.New()}
	ctx = asPrincipal(ctx, p)
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var claims []struct {
			AccountID    uuid.UUID
			Created      bool
			InvitationID uuid.UUID
			Email, Name  string
			Role         models.Role
		}
		if err := tx.Raw("SELECT * FROM claim_invitation(?, ?)", token.Hash(tok), hash).Scan(&claims).Error; err != nil {
			return fmt.Errorf("claim invitation: %w", err)
		}
		if len(claims) != 1 {
			return ErrLinkInvalid
		}
		c := claims[0]
		// claim_invitation only reads it (docs/citus.md): accepting it is ours, once.
		accepted := tx.Model(&models.Invitation{}).Where("id = ? AND accepted_at IS NULL AND expires_at > now()", c.InvitationID).
			Update("accepted_at", gorm.Expr("now()"))
		if accepted.Error != nil {
			return fmt.Errorf("accept invitation: %w", accepted.Error)
		}
		if accepted.RowsAffected != 1 {
			return ErrLinkInvalid
		}
		p.AccountID = c.AccountID
		u := models.User{ID: p.UserID, AccountID: c.AccountID, Email: c.Email, Name: c.Name, Role: c.Role}
		if err := tx.Create(&u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return ErrLinkInvalid // already a member: the invitation has nothing left to do
			}
			return fmt.Errorf("add member: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: audit.UserJoin, Entity: audit.EntityUser, EntityID: u.ID.String(), Outcome: models.OutcomeAllowed,
			Details: map[string]any{"invitation": c.InvitationID.String(), "role": string(c.Role), "existing_account": !c.Created}})
	})
	if err != nil {
		return Principal{}, err
	}
	return p, nil
}

// asPrincipal is ctx acting as p, for the trail too.
func asPrincipal(ctx context.Context, p Principal) context.Context {
	ctx = NewContext(ctx, p)
	r := audit.RequestFrom(ctx)
	r.UserID = p.UserID
	return audit.NewContext(ctx, r)
}

func interval(d time.Duration) string { return fmt.Sprintf("%d seconds", int(d.Seconds())) }

// validText reports whether s can be compared in PostgreSQL: valid UTF-8 without NUL.
func validText(s string) bool {
	return strings.ToValidUTF8(s, "") == s && !strings.ContainsRune(s, 0)
}

var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("moat-dummy-password-for-unknown-emails")
	if err != nil {
		panic(err)
	}
	return h
})
