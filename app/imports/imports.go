// Package imports is the background work of customer imports: checking a file, importing it
// and undoing an import, each a job on the queue that acts for the tenant and person who asked.
package imports

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"moat/app/jobs"
	"moat/app/store"
)

// Check checks an import's file as its mapping says, writing nothing but the verdicts.
type Check struct {
	jobs.Who
	Batch uuid.UUID `json:"batch"`
}

// Kind names the job.
func (Check) Kind() string { return "import.check" }

// Run imports a checked file.
type Run struct {
	jobs.Who
	Batch uuid.UUID `json:"batch"`
}

// Kind names the job.
func (Run) Kind() string { return "import.run" }

// Undo undoes an import.
type Undo struct {
	jobs.Who
	Batch uuid.UUID `json:"batch"`
}

// Kind names the job.
func (Undo) Kind() string { return "import.undo" }

// InsertOpts: an import that failed halfway is marked failed and left for a person to look at
// (and undo what it did), never run again by itself.
func (Check) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// InsertOpts: see Check.
func (Run) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// InsertOpts: see Check.
func (Undo) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// Register adds the import jobs' workers, over the store s, to w.
func Register(w *river.Workers, s *store.Imports) {
	river.AddWorker(w, &worker[Check]{store: s, work: func(ctx context.Context, id uuid.UUID) error { return s.Process(ctx, id, true) }})
	river.AddWorker(w, &worker[Run]{store: s, work: func(ctx context.Context, id uuid.UUID) error { return s.Process(ctx, id, false) }})
	river.AddWorker(w, &worker[Undo]{store: s, work: s.Undo})
}

// job is what every import job holds.
type job interface {
	river.JobArgs
	who() jobs.Who
	batch() uuid.UUID
}

func (c Check) who() jobs.Who    { return c.Who }
func (c Check) batch() uuid.UUID { return c.Batch }
func (r Run) who() jobs.Who      { return r.Who }
func (r Run) batch() uuid.UUID   { return r.Batch }
func (u Undo) who() jobs.Who     { return u.Who }
func (u Undo) batch() uuid.UUID  { return u.Batch }

type worker[T job] struct {
	river.WorkerDefaults[T]
	store *store.Imports
	work  func(ctx context.Context, id uuid.UUID) error
}

// Timeout: a 100,000-row import takes minutes.
func (w *worker[T]) Timeout(*river.Job[T]) time.Duration { return time.Hour }

// Work runs the job as its tenant and person; its trail rows name the import as their request.
// On an error the import is marked failed, and the job is not tried again.
func (w *worker[T]) Work(ctx context.Context, j *river.Job[T]) error {
	id := j.Args.batch()
	ctx = j.Args.who().Context(ctx, "import "+id.String())
	if err := w.work(ctx, id); err != nil {
		if ferr := w.store.Fail(ctx, id, err); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	return nil
}

// Enqueue queues args, the job of the import batch; an import whose job could not be queued is
// marked failed, so that it can be started again.
func Enqueue(ctx context.Context, q *jobs.Queue, s *store.Imports, args river.JobArgs, batch uuid.UUID) error {
	if err := q.Add(ctx, args); err != nil {
		if ferr := s.Fail(ctx, batch, errors.New("the work could not be queued: try again")); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	return nil
}
