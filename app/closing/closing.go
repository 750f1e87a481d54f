// Package closing is the background work of closing an organization: the job, scheduled for
// the end of the grace period, that deletes it for good unless an owner reopened it.
package closing

import (
	"context"
	"fmt"
	"time"

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

// Register adds the purge's worker, over the store s, to w.
func Register(w *river.Workers, s *store.Organization) { river.AddWorker(w, &purger{store: s}) }

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
