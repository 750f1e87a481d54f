// Package closing is the background work of closing an organization: the job, scheduled for
// the end of the grace period, that deletes it for good unless an owner reopened it, and an
// hourly sweep that queues that job again for any closing whose job was lost.
package closing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"moat/app/jobs"
	"moat/app/store"
)

// Purge deletes a closed organization once its grace period is over.
type Purge struct {
	jobs.Who
}

// Kind names the job.
func (Purge) Kind() string { return "organization.purge" }

// InsertOpts: a purge that failed (the database was away) is tried again, later.
func (Purge) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

// Sweep queues the purge of every organization whose deletion is due.
type Sweep struct{}

// Kind names the job.
func (Sweep) Kind() string { return "organization.sweep" }

// Register adds the purge's and the sweep's workers, over the store s, to w, and returns the
// sweep's schedule.
func Register(w *river.Workers, s *store.Organization) *river.PeriodicJob {
	river.AddWorker(w, &purger{store: s})
	river.AddWorker(w, &sweeper{store: s})
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return Sweep{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
}

type sweeper struct {
	river.WorkerDefaults[Sweep]
	store *store.Organization
}

// Work queues a purge for each organization due, as its tenant; a purge already queued for
// it makes a second one that finds nothing left to delete.
func (s *sweeper) Work(ctx context.Context, _ *river.Job[Sweep]) error {
	ids, err := s.store.Due(ctx)
	if err != nil {
		return err
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	for _, id := range ids {
		if _, err := client.Insert(ctx, Purge{Who: jobs.Who{Tenant: id}}, nil); err != nil {
			return fmt.Errorf("queue purge: %w", err)
		}
	}
	return nil
}

type purger struct {
	river.WorkerDefaults[Purge]
	store *store.Organization
}

// Timeout: a large organization takes a while to delete.
func (p *purger) Timeout(*river.Job[Purge]) time.Duration { return 30 * time.Minute }

// Work deletes the organization, if it is still closing and its time has come; a reopened
// organization, or one closed again later, is left alone (the later closing has its own job).
func (p *purger) Work(ctx context.Context, j *river.Job[Purge]) error {
	if _, err := p.store.Purge(j.Args.Who.Context(ctx, "closing")); err != nil {
		return fmt.Errorf("purge organization: %w", err)
	}
	return nil
}
