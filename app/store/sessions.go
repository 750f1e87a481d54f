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

// Sessions keeps the list of each person's signed-in sessions (user_sessions) next to the
// server-side sessions themselves (the table sessions), so either can end the other.
type Sessions struct {
	db   *gorm.DB
	pool *pgxpool.Pool
}

// NewSessions returns the session store over d.
func NewSessions(d *DB) *Sessions { return &Sessions{db: d.Gorm, pool: d.Pool} }

// Current is what the database says of a signed-in session on each request.
type Current struct {
	Role  models.Role
	Name  string
	Email string
	CSRF  string // the hash of the CSRF token bound to the session; empty before binding
}

// Validate checks, on every request, that the session sid with server-side key is still
// listed and its person still active, and returns the person's current role and name: a role
// change, deactivation, removal or a session ended elsewhere applies from the next request,
// whatever the server-side session still holds. With touch it also moves last-seen to now. It
// costs one round trip: the statements ride in one pipelined batch, a transaction of their own
// that holds the tenant setting. ok is false when the session must end.
func (s *Sessions) Validate(ctx context.Context, sid uuid.UUID, key string, touch bool, now time.Time) (cur Current, ok bool, err error) {
	t, has := tenant.FromContext(ctx)
	if !has {
		return cur, false, models.ErrNoTenant
	}
	err = tenant.Retry(ctx, func() error {
		cur, ok, err = s.validate(ctx, t, sid, key, touch, now)
		return err
	})
	return cur, ok, err
}

func (s *Sessions) validate(ctx context.Context, t tenant.ID, sid uuid.UUID, key string, touch bool, now time.Time) (cur Current, ok bool, err error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN") // SET LOCAL needs a transaction block; a batch's implicit one is not
	b.Queue(tenant.EnterSQL, t.String())
	// The tenant named, although row level security keeps to it anyway: Citus sends the
	// statements to the tenant's worker only, not to every shard.
	b.Queue(`SELECT u.role, u.name, u.email, s.csrf_hash
		FROM user_sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
		WHERE s.tenant_id = $3 AND s.id = $1 AND s.session_key = $2 AND u.deactivated_at IS NULL`, sid, token.Hash(key), t.UUID())
	if touch {
		b.Queue("UPDATE user_sessions SET last_seen_at = $2 WHERE tenant_id = $3 AND id = $1", sid, now, t.UUID())
	}
	b.Queue("COMMIT")
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	for range 2 {
		if _, err := br.Exec(); err != nil {
			return cur, false, fmt.Errorf("session check: %w", err)
		}
	}
	err = br.QueryRow().Scan(&cur.Role, &cur.Name, &cur.Email, &cur.CSRF)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return cur, false, nil
	case err != nil:
		return cur, false, fmt.Errorf("session check: %w", err)
	}
	if touch {
		if _, err := br.Exec(); err != nil {
			return cur, false, fmt.Errorf("session touch: %w", err)
		}
	}
	return cur, true, nil
}

// BindCSRF binds the session sid of the person in ctx to the CSRF token whose hash is given:
// from now on only that token passes for it, on every app server.
func (s *Sessions) BindCSRF(ctx context.Context, sid uuid.UUID, hash string) error {
	return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Exec("UPDATE user_sessions SET csrf_hash = ? WHERE tenant_id = current_tenant_id() AND id = ?", hash, sid).Error; err != nil {
			return fmt.Errorf("bind CSRF token: %w", err)
		}
		return nil
	})
}

// Record lists a new session of the person in ctx. us.SessionKey is the server-side session's
// key as the cookie carries it; the list keeps only its SecretKey. While the organization is
// closing only an owner's session is listed; anyone else's is auth.ErrClosing. The check holds
// the organization's row, which closing locks, so a closing cannot slip in between.
func (s *Sessions) Record(ctx context.Context, us models.UserSession) error {
	us.SessionKey = token.Hash(us.SessionKey)
	return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var closing bool
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM tenant_closures WHERE tenant_id = current_tenant_id())
			FROM tenants WHERE id = current_tenant_id() FOR SHARE`).Scan(&closing).Error; err != nil {
			return fmt.Errorf("record session: %w", err)
		}
		if p, _ := auth.FromContext(tx.Statement.Context); closing && p.Role != models.RoleOwner {
			return auth.ErrClosing
		}
		if err := tx.Create(&us).Error; err != nil {
			return fmt.Errorf("record session: %w", err)
		}
		return nil
	})
}

// Rekey points a listed session at its new server-side key after the key was regenerated, and
// revokes the old key, so a request in flight with it cannot save it back.
func (s *Sessions) Rekey(ctx context.Context, id uuid.UUID, old, key string) error {
	return tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Model(&models.UserSession{}).Where("id = ?", id).Update("session_key", token.Hash(key)).Error; err != nil {
			return fmt.Errorf("rekey session: %w", err)
		}
		return tx.Exec("INSERT INTO revoked_sessions (k) VALUES (?) ON CONFLICT DO NOTHING", token.Hash(old)).Error
	})
}

// List returns the signed-in sessions of the person in ctx, most recently seen first, leaving
// out (and removing) those already past idle or absolute lifetime at now.
func (s *Sessions) List(ctx context.Context, now time.Time, idle, absolute time.Duration) ([]models.UserSession, error) {
	p, _ := auth.FromContext(ctx)
	var list []models.UserSession
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if _, err := endSessions(tx, "user_id = ? AND (last_seen_at < ? OR created_at < ?)", p.UserID, now.Add(-idle), now.Add(-absolute)); err != nil {
			return err
		}
		return tx.Where("user_id = ?", p.UserID).Order("last_seen_at DESC").Find(&list).Error
	})
	return list, err
}

// End ends one session of the person in ctx; another person's session is ErrNotFound. action
// and reason go to the trail: auth.sign_out, or session.end with "ended by the user", "idle
// timeout", "lifetime reached".
func (s *Sessions) End(ctx context.Context, action audit.Action, id, reason string) error {
	p, _ := auth.FromContext(ctx)
	uid, err := uuid.Parse(id)
	if err != nil {
		uid = uuid.Nil
	}
	var n int64
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		if n, err = endSessions(tx, "user_id = ? AND id = ?", p.UserID, uid); err != nil {
			return err
		}
		outcome := models.OutcomeAllowed
		if n == 0 {
			outcome = models.OutcomeDenied
		}
		return audit.Record(tx, audit.Event{Action: action, Entity: audit.EntitySession, EntityID: id, Outcome: outcome,
			Details: map[string]string{"reason": reason}})
	})
	if err == nil && n == 0 {
		err = models.ErrNotFound
	}
	return err
}

// EndOthers ends every session of the person in ctx but keep, and returns how many it ended.
func (s *Sessions) EndOthers(ctx context.Context, keep uuid.UUID) (int64, error) {
	p, _ := auth.FromContext(ctx)
	var n int64
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		if n, err = endSessions(tx, "user_id = ? AND id <> ?", p.UserID, keep); err != nil {
			return err
		}
		return audit.Record(tx, audit.Event{Action: audit.SessionEndOthers, Entity: audit.EntitySession, Outcome: models.OutcomeAllowed,
			Details: map[string]int64{"ended": n}})
	})
	return n, err
}

// endSessions deletes the listed sessions matching cond and their server-side sessions, and
// marks their keys revoked so that no request in flight can save them back, in the caller's
// tenant transaction. It returns how many listed sessions it ended.
func endSessions(tx *gorm.DB, cond string, args ...any) (int64, error) {
	var n int64
	err := tx.Raw(`WITH ended AS (DELETE FROM user_sessions WHERE `+cond+` RETURNING session_key),
		revoked AS (INSERT INTO revoked_sessions (k) SELECT session_key FROM ended ON CONFLICT DO NOTHING),
		-- A day outlives any request in flight: older tombstones can go.
		pruned AS (DELETE FROM revoked_sessions WHERE ended_at < now() - interval '1 day'),
		gone AS (DELETE FROM sessions WHERE k IN (SELECT session_key FROM ended))
		SELECT count(*) FROM ended`, args...).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	return n, nil
}
