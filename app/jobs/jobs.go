// Package jobs runs work after the request, durably, on PostgreSQL's job queue (River, in the
// schema migrations.JobSchema). A job names its tenant and its person, and nothing of the
// tenant's data: its work runs in that tenant's own transactions, as that person, exactly like
// a request's, and lands in the same trail.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/tenant"
	"moat/migrations"
)

// Who is the tenant and person a job works for, taken from the request that asked for it.
type Who struct {
	Tenant uuid.UUID `json:"tenant"`
	User   uuid.UUID `json:"user"`
}

// WhoOf is the tenant and person of the request in ctx.
func WhoOf(ctx context.Context) Who {
	p, _ := auth.FromContext(ctx)
	return Who{Tenant: p.Tenant.UUID(), User: p.UserID}
}

// Context returns ctx acting for w: its tenant for the tenant scope and row level security,
// its person for the trail, whose rows name the work as their request (an import's id, say).
func (w Who) Context(ctx context.Context, request string) context.Context {
	p := auth.Principal{Tenant: tenant.FromUUID(w.Tenant), UserID: w.User}
	return audit.NewContext(auth.NewContext(ctx, p), audit.Request{UserID: w.User, RequestID: request})
}

// Queue adds jobs, and works them when it was made with workers.
type Queue struct {
	client *river.Client[pgx.Tx]
	works  bool
}

// New returns a queue over pool. With workers it also works jobs, two at a time (the app
// serves requests on the same machine), and, on whichever server River elects leader, adds the
// periodic jobs on their schedules; with nil workers it only adds jobs.
func New(pool *pgxpool.Pool, log *slog.Logger, workers *river.Workers, periodic ...*river.PeriodicJob) (*Queue, error) {
	cfg := &river.Config{Schema: migrations.JobSchema, Logger: log, Workers: workers, FetchPollInterval: 200 * time.Millisecond}
	if workers != nil {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}}
		cfg.PeriodicJobs = periodic
	}
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: client, works: workers != nil}, nil
}

// Start starts working jobs, until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if !q.works {
		return nil
	}
	return q.client.Start(ctx)
}

// Stop lets the jobs being worked finish (or be retried later) and stops.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.works {
		return nil
	}
	return q.client.Stop(ctx)
}

// Add queues a job.
func (q *Queue) Add(ctx context.Context, args river.JobArgs) error {
	return q.AddAt(ctx, args, time.Time{})
}

// AddAt queues a job to run at at (now, when zero).
func (q *Queue) AddAt(ctx context.Context, args river.JobArgs, at time.Time) error {
	if _, err := q.client.Insert(ctx, args, &river.InsertOpts{ScheduledAt: at}); err != nil {
		return fmt.Errorf("queue %s: %w", args.Kind(), err)
	}
	return nil
}
