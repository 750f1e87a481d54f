// Package crosstenant tells operators when someone asks for a record that exists in another
// tenant. The request has already answered 404, exactly as for an unknown id: every miss is
// handed over here alike, and the database is asked only after the response, so neither the
// answer nor its timing depends on whether the id exists elsewhere.
package crosstenant

import (
	"context"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"moat/app/background"
	"moat/app/metrics"
)

// Miss is one request's miss on an id, with what operators need to follow it up.
type Miss struct {
	Entity    string // the table the id was looked up in
	ID        uuid.UUID
	Tenant    uuid.UUID // who asked
	User      uuid.UUID
	Route     string // the route pattern, a metric label
	Method    string
	RequestID string
}

// Recorder probes misses in the background.
type Recorder struct {
	pool  *pgxpool.Pool
	m     *metrics.Metrics
	log   *slog.Logger
	after *background.Queue
}

// New returns a Recorder that probes through pool, on after.
func New(pool *pgxpool.Pool, m *metrics.Metrics, log *slog.Logger, after *background.Queue) *Recorder {
	return &Recorder{pool: pool, m: m, log: log, after: after}
}

// Record queues a miss for probing and returns at once; when the queue is full the miss is
// dropped and counted, so a flood of probing costs no memory. Its strings must be copies: the
// probe runs after the request's buffers are reused.
func (r *Recorder) Record(m Miss) {
	if !r.after.Do(func(ctx context.Context) { r.probe(ctx, m) }) {
		r.m.CrossTenantDropped.Inc()
	}
}

// probe asks the id registry whether m's id exists in another tenant; if it does, the attempt is
// counted and logged.
func (r *Recorder) probe(ctx context.Context, m Miss) {
	var attempts int
	if err := r.pool.QueryRow(ctx, "SELECT probe_record_id($1, $2, $3, $4)", m.ID, m.Entity, m.Tenant, m.User).Scan(&attempts); err != nil {
		r.log.Error("cross-tenant probe", "request_id", m.RequestID, "err", err)
		return
	}
	if attempts == 0 {
		return
	}
	r.m.CrossTenant.WithLabelValues(m.Route).Inc()
	if attempts >= 3 {
		r.m.CrossTenantRepeats.Inc()
	}
	r.log.Warn("cross-tenant access attempt", "request_id", m.RequestID, "method", m.Method, "route", m.Route,
		"entity", m.Entity, "attempts_5m", attempts, "tenant_id", m.Tenant.String(), "user_id", m.User.String())
}
