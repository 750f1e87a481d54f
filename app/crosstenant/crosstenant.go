// Package crosstenant tells operators when someone asks for a record that exists in another
// tenant. The request has already answered 404, exactly as for an unknown id: every miss is
// handed over here alike, and the database is asked only after the response, so neither the
// answer nor its timing depends on whether the id exists elsewhere.
package crosstenant

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

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

// queueSize bounds the misses waiting for their probe; past it they are dropped and counted,
// so a flood of probing costs the server memory it has not got.
const queueSize = 1024

// Recorder probes misses one at a time, in the background.
type Recorder struct {
	pool    *pgxpool.Pool
	m       *metrics.Metrics
	log     *slog.Logger
	queue   chan Miss
	pending sync.WaitGroup
	stopped chan struct{}
}

// New starts a Recorder that probes through pool.
func New(pool *pgxpool.Pool, m *metrics.Metrics, log *slog.Logger) *Recorder {
	r := &Recorder{pool: pool, m: m, log: log, queue: make(chan Miss, queueSize), stopped: make(chan struct{})}
	go r.run()
	return r
}

// Record queues a miss for probing and returns at once. Its strings must be copies: the probe
// runs after the request's buffers are reused.
func (r *Recorder) Record(m Miss) {
	r.pending.Add(1)
	select {
	case r.queue <- m:
	default:
		r.pending.Done()
		r.m.CrossTenantDropped.Inc()
	}
}

// Wait returns once every miss recorded so far has been probed.
func (r *Recorder) Wait() { r.pending.Wait() }

// Close probes what is queued and stops. Record must not be called after it.
func (r *Recorder) Close() {
	close(r.queue)
	<-r.stopped
}

func (r *Recorder) run() {
	defer close(r.stopped)
	for m := range r.queue {
		r.probe(m)
		r.pending.Done()
	}
}

// probe asks the id registry whether m's id exists in another tenant; if it does, the attempt is
// counted and logged.
func (r *Recorder) probe(m Miss) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
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
