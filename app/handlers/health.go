package handlers

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"moat/app/posture"
	"moat/app/store"
	"moat/migrations"
)

// Live answers 200 while the process runs: the liveness probe, which must not fail because a
// dependency did.
func Live(c *fiber.Ctx) error { return c.SendString("ok") }

// Ready is the readiness probe: 200 when the database answers, its schema is the one this
// binary was built for, its posture check passes and no audit row waits in the default
// partition; otherwise 503. The reasons go to the log, not to whoever asks.
type Ready struct {
	DB  *store.DB
	Log *slog.Logger

	mu       sync.Mutex
	postured time.Time // when the posture last passed; rechecked after postureTTL
	ledgered time.Time // when the stock ledger's check last finished; run again after ledgerTTL
	ledger   []string  // what it found
	checking bool      // a ledger check is running
}

// postureTTL is how long a passed posture check is trusted: it takes a dozen catalog queries.
const postureTTL = 30 * time.Second

// ledgerTTL is how long the stock ledger's check stands, passed or not: it reads every
// tenant's ledger, which may take longer than a probe may wait, so it runs in the background
// and probes report what it last found.
const ledgerTTL = 10 * time.Minute

// ledgerProblems is what the stock ledger's last check found, and starts the next one when due.
func (r *Ready) ledgerProblems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.checking && time.Since(r.ledgered) >= ledgerTTL {
		r.checking = true
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), ledgerTTL)
			defer cancel()
			found, err := posture.Ledger(ctx, r.DB.Pool)
			if err != nil {
				found = []string{"ledger: " + err.Error()}
			}
			r.mu.Lock()
			r.ledger, r.ledgered, r.checking = found, time.Now(), false
			r.mu.Unlock()
		}()
	}
	return r.ledger
}

// Check runs the readiness probe.
func (r *Ready) Check(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	var problems []string
	if err := r.DB.Ping(ctx); err != nil {
		problems = append(problems, "database: "+err.Error())
	} else {
		problems = append(problems, r.schema(ctx)...)
		problems = append(problems, r.posture(ctx)...)
		problems = append(problems, r.ledgerProblems()...)
		problems = append(problems, r.partitions(ctx)...)
	}
	if len(problems) > 0 {
		r.Log.Error("not ready", "problems", strings.Join(problems, "; "))
		return c.Status(fiber.StatusServiceUnavailable).SendString("not ready")
	}
	return c.SendString("ready")
}

func (r *Ready) schema(ctx context.Context) []string {
	want, err := migrations.Latest()
	if err != nil {
		return []string{"migrations: " + err.Error()}
	}
	var have int64
	if err := r.DB.Pool.QueryRow(ctx, "SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&have); err != nil {
		return []string{"schema version: " + err.Error()}
	}
	if have != want {
		return []string{"schema version " + itoa64(have) + ", this build needs " + itoa64(want) + ": run moat migrate"}
	}
	return nil
}

// partitions reports audit rows in the default partition: their month had no partition, and
// until an operator moves them the month's partition cannot be created.
func (r *Ready) partitions(ctx context.Context) []string {
	var stray bool
	// The app role may not read the partition, nor other tenants' rows; the statistics say
	// whether it holds any.
	err := r.DB.Pool.QueryRow(ctx, `SELECT coalesce((SELECT n_live_tup FROM pg_stat_user_tables
		WHERE relid = to_regclass('public.audit_events_default')), 0) > 0`).Scan(&stray)
	if err != nil {
		return []string{"audit partitions: " + err.Error()}
	}
	if stray {
		return []string{"audit rows in audit_events_default: their month has no partition; see README, Operations"}
	}
	return nil
}

func (r *Ready) posture(ctx context.Context) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.postured) < postureTTL {
		return nil
	}
	problems, err := posture.Check(ctx, r.DB.Pool)
	if err != nil {
		return []string{"posture: " + err.Error()}
	}
	if len(problems) == 0 {
		r.postured = time.Now()
	}
	return problems
}
