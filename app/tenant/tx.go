package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"moat/models"
)

// Tx runs fn in one transaction working for the tenant in ctx, with as few round trips as the
// work allows: BEGIN and the tenant setting travel with fn's first statement, and the writes fn
// defers (see Defer: the audit row) travel with COMMIT, which travels with the statement fn
// marks Last, or else after fn returns. A read of one statement is one round trip. The setting
// is transaction-local (SET LOCAL, through enter_tenant), so a pooled connection never carries one
// tenant into another's work. With no tenant in ctx it returns models.ErrNoTenant and runs
// nothing. If fn or any deferred write fails, nothing of the transaction commits.
//
// When the connection fails under it (the database restarted, say) before COMMIT went out, or
// the server ended the session rather than answer, nothing of it committed, and it runs again,
// fn included, on a new connection, for up to Patience: fn must leave its results in variables
// it sets, not ones it appends to. A connection lost after COMMIT went out fails: its outcome
// is unknown.
//
// A Tx whose ctx is already in a tenant transaction (see Within) joins it: fn's statements and
// deferred writes become part of it, Last marks nothing, and the enclosing transaction commits.
func Tx(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	t, ok := FromContext(ctx)
	if !ok {
		return models.ErrNoTenant
	}
	if tc, ok := ctx.Value(deferredKey{}).(*txConn); ok {
		return tc.join(ctx, db, t, fn)
	}
	// After a restart every pooled connection may be dead: each try discards one.
	deadline := time.Now().Add(Patience)
	for wait := time.Duration(0); ; wait = min(2*wait+10*time.Millisecond, 250*time.Millisecond) {
		committing, err := attempt(ctx, db, t, fn)
		if err == nil || !Transient(err) || committing && !pgconn.SafeToRetry(err) && !terminated(err) ||
			time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// terminated reports whether the server said it ended the session (a shutdown): it does so
// instead of completing what it was given, so nothing it had not acknowledged committed.
func terminated(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03")
}

// attempt runs fn in one tenant transaction; committing reports whether COMMIT was sent, after
// which the outcome of a failure is unknown.
func attempt(ctx context.Context, db *gorm.DB, t ID, fn func(tx *gorm.DB) error) (committing bool, err error) {
	sqlDB, err := db.DB()
	if err != nil {
		return false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("tenant transaction: %w", err)
	}
	defer conn.Close()
	tc := &txConn{Conn: conn, tenant: t.String()}
	defer func() { committing = tc.committing }()
	defer func() {
		if tc.state == open {
			// A failure or a panic: the transaction must not survive on the pooled connection.
			// Sent even if the request was cancelled (were it not, pgxpool would close the
			// connection rather than reuse it in a transaction).
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			err = errors.Join(err, tc.raw(func(c *pipeConn) error {
				b := &pgx.Batch{}
				b.Queue("ROLLBACK")
				return c.send(rctx, b)
			}))
		}
	}()
	gtx := db.Session(&gorm.Session{Context: context.WithValue(ctx, deferredKey{}, tc), NewDB: true})
	gtx.Statement.ConnPool = tc
	if err := fn(gtx); err != nil {
		return false, err
	}
	if err := tc.commit(ctx); err != nil {
		return false, fmt.Errorf("commit tenant transaction: %w", err)
	}
	return false, nil
}

// Within runs fn in one tenant transaction for the tenant in ctx: every Tx that fn's ctx reaches
// joins it, so the work of several stores (the reads of one page, say) is one transaction, and
// all its audit rows commit with it, in one round trip with COMMIT. When fn returns an answer
// (models.IsAnswer: a miss, a refusal, invalid input) rather than a failure, what it did stands,
// its denied or rejected audit rows included, and the answer is returned.
func Within(ctx context.Context, db *gorm.DB, fn func(ctx context.Context) error) error {
	var answer error
	err := Tx(ctx, db, func(tx *gorm.DB) error {
		answer = fn(tx.Statement.Context)
		if answer != nil && !models.IsAnswer(answer) {
			return answer
		}
		return nil
	})
	if err != nil {
		return err
	}
	return answer
}

// join runs fn as part of tc, the transaction ctx is in.
func (t *txConn) join(ctx context.Context, db *gorm.DB, tenant ID, fn func(tx *gorm.DB) error) error {
	switch {
	case t.tenant != tenant.String():
		return errors.New("tenant: the context's transaction works for another tenant")
	case t.state == ended:
		return errEnded
	}
	gtx := db.Session(&gorm.Session{Context: context.WithValue(ctx, joinedKey{}, true), NewDB: true})
	gtx.Statement.ConnPool = t
	return fn(gtx)
}

// joinedKey marks the context of a Tx that joined an enclosing one.
type joinedKey struct{}

// Last marks tx's next statement as the last of its tenant transaction: the statement travels
// in one round trip with the deferred writes and COMMIT (and, if it is also the first, with
// BEGIN and the tenant setting). The transaction has committed once it returns; a statement
// after it fails, and so does Defer. In a Tx that joined an enclosing one it marks nothing: the
// enclosing transaction decides when it ends.
func Last(tx *gorm.DB) *gorm.DB {
	return tx.WithContext(context.WithValue(tx.Statement.Context, lastKey{}, true))
}

type lastKey struct{}

func isLast(ctx context.Context) bool {
	return ctx.Value(lastKey{}) != nil && ctx.Value(joinedKey{}) == nil
}

// Defer queues a write to run at the end of tx's tenant transaction, in the same round trip as
// its COMMIT: for writes nothing later in the transaction reads, such as the audit row. sql
// takes PostgreSQL's $n placeholders. If it fails, the whole transaction rolls back. Do not
// defer inside a savepoint (a nested Transaction): the write is sent even if it rolls back.
func Defer(tx *gorm.DB, sql string, args ...any) error {
	tc, ok := tx.Statement.Context.Value(deferredKey{}).(*txConn)
	if !ok || tx.Statement.ConnPool != gorm.ConnPool(tc) {
		return errors.New("tenant: a deferred write needs a tenant transaction")
	}
	if tc.state == ended {
		return errEnded
	}
	tc.deferred = append(tc.deferred, queued{sql, args})
	return nil
}

type deferredKey struct{}

// txConn is the connection of a tenant transaction as GORM sees it: a pool of one connection
// in a transaction. Its statements reach the driver (pipeConn) marked as the transaction's, so
// the first carries BEGIN and the tenant setting, and the Last carries COMMIT. Commit and
// Rollback make GORM treat it as a transaction, so a nested Transaction becomes a savepoint
// instead of a second BEGIN; the real end is Tx's.
type txConn struct {
	*sql.Conn
	tenant     string
	state      txState
	deferred   []queued
	pipe       *pipeConn // the driver connection, once a statement has reached it
	committing bool      // COMMIT has been queued to send: a failure now may or may not have committed
}

// txState is how far a tenant transaction has got on the wire.
type txState int

const (
	fresh txState = iota // nothing sent
	open                 // BEGIN sent: a failure must roll back
	ended                // committed
)

type pipeKey struct{}

// QueryContext implements gorm.ConnPool.
func (t *txConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Conn.QueryContext(context.WithValue(ctx, pipeKey{}, t), query, args...)
}

// ExecContext implements gorm.ConnPool.
func (t *txConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Conn.ExecContext(context.WithValue(ctx, pipeKey{}, t), query, args...)
}

// QueryRowContext implements gorm.ConnPool.
func (t *txConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.Conn.QueryRowContext(context.WithValue(ctx, pipeKey{}, t), query, args...)
}

// batch is the queries queued after what must precede them (BEGIN and the tenant setting, the
// first time; opening says how many) and before what must follow them (the deferred writes and
// COMMIT, when last; read them with finish).
func (t *txConn) batch(c *pipeConn, last bool, queries ...queued) (b *pgx.Batch, opening int, err error) {
	switch {
	case t.state == ended:
		return nil, 0, errEnded
	case t.pipe != nil && t.pipe != c:
		return nil, 0, errors.New("tenant: a transaction's statement reached another connection")
	}
	t.pipe = c
	b = &pgx.Batch{}
	if t.state == fresh {
		opening = t.open(b)
	}
	for _, q := range queries {
		b.Queue(t.routed(q.sql), q.args...)
	}
	if last {
		t.close(b)
	}
	return b, opening, nil
}

// queued is one statement of a batch.
type queued struct {
	sql  string
	args []any
}

// EnterSQL sets the transaction's tenant, given as its one parameter: SET LOCAL, through the
// function enter_tenant(uuid) (migration 00029 says why).
const EnterSQL = "SELECT enter_tenant($1)"

// open queues BEGIN and the tenant setting, and returns how many statements that is.
func (t *txConn) open(b *pgx.Batch) int {
	b.Queue("BEGIN")
	b.Queue(EnterSQL, t.tenant)
	t.state = open
	return 2
}

// close queues the deferred writes and COMMIT.
func (t *txConn) close(b *pgx.Batch) {
	for _, d := range t.deferred {
		b.Queue(t.routed(d.sql), d.args...)
	}
	b.Queue("COMMIT")
	t.committing = true
}

// finish reads what close queued, if closing.
func (t *txConn) finish(br pgx.BatchResults, closing bool) error {
	if !closing {
		return nil
	}
	if err := skip(br, len(t.deferred)); err != nil {
		return err
	}
	ct, err := br.Exec()
	if err != nil {
		return err
	}
	// A transaction already failed answers COMMIT with ROLLBACK and no error: check the tag.
	if ct.String() != "COMMIT" {
		return pgx.ErrTxCommitRollback
	}
	t.state = ended
	return nil
}

// commit ends the transaction after fn, unless its Last statement did: deferred writes and
// COMMIT in one round trip (with BEGIN and the setting, if fn sent nothing).
func (t *txConn) commit(ctx context.Context) error {
	if t.state == ended || t.state == fresh && len(t.deferred) == 0 {
		return nil
	}
	return t.raw(func(c *pipeConn) error {
		t.pipe = c
		b := &pgx.Batch{}
		opening := 0
		if t.state == fresh {
			opening = t.open(b)
		}
		t.close(b)
		br := c.Conn.Conn().SendBatch(ctx, b)
		defer br.Close()
		if err := skip(br, opening); err != nil {
			return err
		}
		return t.finish(br, true)
	})
}

// raw runs f on the driver connection.
func (t *txConn) raw(f func(*pipeConn) error) error {
	return t.Conn.Raw(func(dc any) error { return f(dc.(*pipeConn)) })
}

// Commit implements gorm.TxCommitter; Tx commits.
func (*txConn) Commit() error { return nil }

// Rollback implements gorm.TxCommitter; Tx rolls back.
func (*txConn) Rollback() error { return nil }

// BeginTx refuses: a second BEGIN would let its COMMIT end the tenant transaction early. GORM
// nests with savepoints here, since txConn is a TxCommitter.
func (*txConn) BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error) {
	return nil, errors.New("tenant: already in a tenant transaction")
}

// routed is query with the transaction's tenant written in place of current_tenant_id(), on a
// Citus coordinator. Citus sends a statement to the one worker holding a tenant only when it
// sees the tenant as a value: filtered by the function it asks every shard, and in a join or a
// subquery it refuses ("complex joins are only supported when all distributed tables are
// co-located and joined on their distribution columns"). Row level security still checks every
// row against current_tenant_id() on the worker. The tenant is a canonical UUID (an ID's
// String), so the literal cannot be anything else.
func (t *txConn) routed(query string) string {
	if t.pipe == nil || !t.pipe.citus || !strings.Contains(query, "current_tenant_id()") {
		return query
	}
	lit := "'" + t.tenant + "'::uuid"
	return strings.ReplaceAll(strings.ReplaceAll(query, "public.current_tenant_id()", lit), "current_tenant_id()", lit)
}
