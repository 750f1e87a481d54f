package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"moat/app/tenant"
)

// Attempts counts sign-in and sign-up attempts per key (an address, an email) in a sliding
// window, in PostgreSQL, so that every app server counts together.
type Attempts struct{ pool *pgxpool.Pool }

// NewAttempts returns Attempts over pool.
func NewAttempts(pool *pgxpool.Pool) *Attempts { return &Attempts{pool: pool} }

// Count records one attempt for key at now and returns how many the window holds with it, and
// how long until its window ends. One statement (count_attempt): attempts on any servers at the
// same moment each count from the other's number. A retry after a lost connection may count
// an attempt twice: the strict side.
func (a *Attempts) Count(ctx context.Context, key string, window time.Duration, now time.Time) (n int, reset time.Duration, err error) {
	err = tenant.Retry(ctx, func() error {
		return a.pool.QueryRow(ctx, "SELECT rate, reset FROM count_attempt($1, $2, $3)", key, window, now).Scan(&n, &reset)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("count attempt: %w", err)
	}
	return n, reset, nil
}
