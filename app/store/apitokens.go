package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/tenant"
	"moat/app/token"
	"moat/models"
)

// APITokens is the store of the tenant's API tokens: made and revoked by owners and admins on
// their settings page, used by programs on every API call.
type APITokens struct {
	db   *gorm.DB
	pool *pgxpool.Pool
}

// NewAPITokens returns the token store over db.
func NewAPITokens(db *DB) *APITokens { return &APITokens{db: db.Gorm, pool: db.Pool} }

// displayPrefix is how much of a secret the list shows: enough to tell tokens apart, far too
// little to use one.
const displayPrefix = len(token.APIPrefix) + 4

// List returns the tenant's tokens, newest first, with the name of the person each acts as.
func (s *APITokens) List(ctx context.Context) ([]models.APIToken, error) {
	var list []models.APIToken
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		err := tx.Model(&models.APIToken{}).
			Select("api_tokens.*, (SELECT u.name FROM users u WHERE u.tenant_id = current_tenant_id() AND u.id = api_tokens.user_id) AS user_name").
			Order("created_at DESC, id").Limit(500).Find(&list).Error
		if err != nil {
			return fmt.Errorf("list api tokens: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: audit.APITokenList, Outcome: models.OutcomeAllowed})
	})
	return list, err
}

// Create makes a token acting as the person in ctx, and returns its secret: the only time it
// exists outside the caller's hands. Only its SHA-256 is stored.
func (s *APITokens) Create(ctx context.Context, in models.APITokenInput, now time.Time) (secret string, t models.APIToken, err error) {
	invalid := in.Validate()
	err = audited(ctx, s.db, audit.Event{Action: audit.APITokenCreate}, func(tx *gorm.DB, ev *audit.Event) error {
		if invalid != nil {
			return invalid
		}
		p, _ := auth.FromContext(ctx)
		secret = token.NewAPI()
		t = models.APIToken{ID: uuid.New(), UserID: p.UserID, Name: in.Name, Prefix: secret[:displayPrefix], TokenHash: token.Hash(secret),
			ScopeCustomers: in.Customers, ScopeInvoices: in.Invoices, ScopeProducts: in.Products, CreatedBy: requestUser(tx), CreatedAt: now}
		if in.ExpiresIn > 0 {
			at := now.Add(time.Duration(in.ExpiresIn) * 24 * time.Hour)
			t.ExpiresAt = &at
		}
		if err := tx.Omit("LastUsedAt", "LastUsedIP", "UserName").Create(&t).Error; err != nil {
			return fmt.Errorf("create api token: %w", err)
		}
		ev.EntityID = t.ID.String()
		ev.Details = map[string]any{"name": t.Name, "prefix": t.Prefix, "scopes": auth.Scopes{Customers: auth.Access(in.Customers),
			Invoices: auth.Access(in.Invoices), Products: auth.Access(in.Products)}, "expires_at": t.ExpiresAt}
		return nil
	})
	if err != nil {
		return "", models.APIToken{}, err
	}
	return secret, t, nil
}

// Revoke stops the token with id at once: its next request is refused.
func (s *APITokens) Revoke(ctx context.Context, id string, now time.Time) error {
	return audited(ctx, s.db, audit.Event{Action: audit.APITokenRevoke, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		t, err := byID[models.APIToken](tx, id, forUpdate)
		if err != nil {
			return err
		}
		ev.Details = map[string]string{"name": t.Name, "prefix": t.Prefix}
		if t.RevokedAt != nil {
			return nil
		}
		return tx.Model(&t).Updates(map[string]any{"revoked_at": now, "revoked_by": requestUser(tx)}).Error
	})
}

// revokeTokensOf revokes every token acting as the person with id, in tx: a deactivated person's
// programs stop with them, and stay stopped if they come back.
func revokeTokensOf(tx *gorm.DB, id uuid.UUID, now time.Time) (int64, error) {
	res := tx.Model(&models.APIToken{}).Where("user_id = ? AND revoked_at IS NULL", id).
		Updates(map[string]any{"revoked_at": now, "revoked_by": requestUser(tx)})
	if res.Error != nil {
		return 0, fmt.Errorf("revoke api tokens: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// TokenUse is what a request's token resolves to.
type TokenUse struct {
	State     string // ok, or why it may not act: revoked, expired, deactivated
	Principal auth.Principal
	Prefix    string
	Granted   int       // requests of the token's current minute leased by this call
	Used      int       // requests of that minute leased to every server so far
	Reset     time.Time // when that minute ends
}

// ErrUnknownToken is a token whose shape is wrong or whose hash Moat does not know.
var ErrUnknownToken = errors.New("unknown api token")

// Use resolves the token whose secret hashes to hash (token.Hash) for one request from ip, in
// one round trip, leasing up to lease requests of the token's current minute (never past limit
// for the minute in all). Callers refuse a secret that fails its checksum (token.ValidAPI)
// before asking. What the call writes (a lease, the last use) is committed without waiting for
// the disk: a crash may lose the last few, which only lowers a count.
func (s *APITokens) Use(ctx context.Context, hash, ip string, lease, limit int) (TokenUse, error) {
	var u TokenUse
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue("SET LOCAL synchronous_commit TO off")
	b.Queue("SELECT * FROM api_token_use($1, $2, $3, $4)", hash, ip, lease, limit)
	b.Queue("COMMIT")
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	for range 2 {
		if _, err := br.Exec(); err != nil {
			return u, fmt.Errorf("api token: %w", err)
		}
	}
	var (
		p          = &u.Principal
		tenantID   uuid.UUID
		role       string
		sC, sI, sP string
	)
	err := br.QueryRow().Scan(&u.State, &tenantID, &p.Token.ID, &p.Token.Name, &u.Prefix, &p.UserID, &p.AccountID,
		&role, &p.Name, &p.Email, &sC, &sI, &sP, &u.Granted, &u.Used, &u.Reset)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return u, ErrUnknownToken
	case err != nil:
		return u, fmt.Errorf("api token: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return u, fmt.Errorf("api token: %w", err)
	}
	p.Tenant = tenant.FromUUID(tenantID)
	p.Role = models.Role(role)
	p.Token.Scopes = auth.Scopes{Customers: auth.Access(sC), Invoices: auth.Access(sI), Products: auth.Access(sP)}
	return u, nil
}
