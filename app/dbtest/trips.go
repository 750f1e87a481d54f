package dbtest

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Trips counts round trips to the database as a pool's tracer (store.Config.Tracer): a
// statement sent alone is one, and so is a batch however many statements it carries. It keeps
// the statements' text, in order.
type Trips struct {
	mu    sync.Mutex
	n     int
	stmts []string
}

func (c *Trips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	c.stmts = append(c.stmts, d.SQL)
	return ctx
}

func (c *Trips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *Trips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return ctx
}

func (c *Trips) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stmts = append(c.stmts, d.SQL)
}

func (c *Trips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// Reset forgets what was counted.
func (c *Trips) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.stmts = 0, nil
}

// Count returns the round trips so far and the statements they carried.
func (c *Trips) Count() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, append([]string(nil), c.stmts...)
}
