// Package background runs work after a response has gone, one job at a time: what a request
// must cause but must not wait for, because its cost would depend on a secret (whether an id is
// another tenant's, whether an address has an account).
package background

import (
	"context"
	"sync"
	"time"
)

// Queue runs jobs one at a time, in order. A job gets a context that ends after timeout.
type Queue struct {
	jobs    chan func(context.Context)
	timeout time.Duration
	pending sync.WaitGroup
	stopped chan struct{}
}

// New starts a Queue holding up to size waiting jobs.
func New(size int, timeout time.Duration) *Queue {
	q := &Queue{jobs: make(chan func(context.Context), size), timeout: timeout, stopped: make(chan struct{})}
	go q.run()
	return q
}

// Do queues job and returns at once; false, and nothing queued, when the queue is full.
func (q *Queue) Do(job func(context.Context)) bool {
	q.pending.Add(1)
	select {
	case q.jobs <- job:
		return true
	default:
		q.pending.Done()
		return false
	}
}

// Wait returns once every job queued so far has run.
func (q *Queue) Wait() { q.pending.Wait() }

// Close runs what is queued and stops. Do must not be called after it.
func (q *Queue) Close() {
	close(q.jobs)
	<-q.stopped
}

func (q *Queue) run() {
	defer close(q.stopped)
	for job := range q.jobs {
		ctx, cancel := context.WithTimeout(context.Background(), q.timeout)
		job(ctx)
		cancel()
		q.pending.Done()
	}
}
