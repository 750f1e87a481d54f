package tenant

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Patience is how long work waits for the database to come back (a restart, a failover) before
// it fails: long enough for a restart, short enough that a client gives up no sooner.
const Patience = 10 * time.Second

// Transient reports whether err means the connection failed, not the work: the database
// restarting or shutting down, a connection refused, reset or closed. Work that failed so can
// run again on a new connection, if it never reached COMMIT.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// Connection exceptions; an administrator's or a crash's shutdown; not accepting yet.
		return strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	return pgconn.SafeToRetry(err) || errors.As(err, &connect) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "conn closed")
}

// Retry runs f until it succeeds, fails for a reason that is not Transient, ctx ends or Patience
// runs out, waiting a little longer between tries. f must be safe to run again after a
// transient failure: a read, an idempotent write, or a transaction that never reached COMMIT.
func Retry(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(Patience)
	wait := 20 * time.Millisecond
	for {
		err := f()
		if err == nil || !Transient(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}
