// Package exports is the background work of full exports: building an export's ZIP, and
// deleting it when its time is up, each a job that acts for the tenant and owner who asked.
package exports

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"moat/app/jobs"
	"moat/app/store"
)

// Build builds an export's ZIP.
type Build struct {
	jobs.Who
	Export uuid.UUID `json:"export"`
}

// Kind names the job.
func (Build) Kind() string { return "export.build" }

// InsertOpts: a build that failed is marked failed for the owner to ask again, never retried.
func (Build) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// Expire deletes an export's ZIP when it expires.
type Expire struct {
	jobs.Who
	Export uuid.UUID `json:"export"`
}

// Kind names the job.
func (Expire) Kind() string { return "export.expire" }

// Register adds the export jobs' workers, over the store s, to w.
func Register(w *river.Workers, s *store.Exports) {
	river.AddWorker(w, &builder{store: s})
	river.AddWorker(w, &expirer{store: s})
}

type builder struct {
	river.WorkerDefaults[Build]
	store *store.Exports
}

// Timeout: a large organization's export takes minutes.
func (b *builder) Timeout(*river.Job[Build]) time.Duration { return time.Hour }

// Work builds the export as its tenant and owner, then queues its expiry.
func (b *builder) Work(ctx context.Context, j *river.Job[Build]) error {
	ctx = j.Args.Who.Context(ctx, "export "+j.Args.Export.String())
	expires, err := b.store.Build(ctx, j.Args.Export)
	if err != nil {
		if ferr := b.store.Fail(ctx, j.Args.Export, err); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	if expires.IsZero() {
		return nil // built already
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	if _, err := client.Insert(ctx, Expire(j.Args), &river.InsertOpts{ScheduledAt: expires}); err != nil {
		return fmt.Errorf("queue export expiry: %w", err)
	}
	return nil
}

type expirer struct {
	river.WorkerDefaults[Expire]
	store *store.Exports
}

// Work deletes the export's ZIP.
func (e *expirer) Work(ctx context.Context, j *river.Job[Expire]) error {
	return e.store.Expire(j.Args.Who.Context(ctx, "export "+j.Args.Export.String()), j.Args.Export)
}
