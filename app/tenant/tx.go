package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"moat/models"
)

// Tx runs fn in one transaction working for the tenant in ctx, with as few round trips as the
// work allows: BEGIN and the tenant setting travel together ahead of fn's first statement, and
// the writes fn defers (see Defer: the audit row) travel together with COMMIT. The setting is
// transaction-local (set_config's is_local), so a pooled connection never carries one tenant
// into another's work. With no tenant in ctx it returns models.ErrNoTenant and runs nothing.
// If fn or any deferred write fails, nothing of the transaction commits.
func Tx(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) (err error) {
	t, ok := FromContext(ctx)
	if !ok {
		return models.ErrNoTenant
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("tenant transaction: %w", err)
	}
	defer conn.Close()
	pipe := func(ctx context.Context, b *pgx.Batch) error {
		return conn.Raw(func(dc any) error { return dc.(*stdlib.Conn).Conn().SendBatch(ctx, b).Close() })
	}
	begin := &pgx.Batch{}
	begin.Queue("BEGIN")
	begin.Queue("SELECT set_config('app.tenant_id', $1, true)", t.String())
	if err := pipe(ctx, begin); err != nil {
		return fmt.Errorf("begin tenant transaction: %w", err)
	}
	tc := &txConn{Conn: conn}
	done := false
	defer func() {
		if !done {
			// A failure or a panic: the transaction must not survive on the pooled connection.
			// Sent even if the request was cancelled (were it not, pgxpool would close the
			// connection rather than reuse it in a transaction).
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			rb := &pgx.Batch{}
			rb.Queue("ROLLBACK")
			err = errors.Join(err, pipe(rctx, rb))
		}
	}()
	gtx := db.Session(&gorm.Session{Context: withDeferred(ctx, tc), NewDB: true})
	gtx.Statement.ConnPool = tc
	if err := fn(gtx); err != nil {
		return err
	}
	commit := &pgx.Batch{}
	for _, d := range tc.deferred {
		commit.Queue(d.sql, d.args...)
	}
	// A transaction already failed answers COMMIT with ROLLBACK and no error: check the tag.
	commit.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		if ct.String() != "COMMIT" {
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
	if err := pipe(ctx, commit); err != nil {
		return fmt.Errorf("commit tenant transaction: %w", err)
	}
	done = true
	return nil
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
	tc.deferred = append(tc.deferred, deferred{sql, args})
	return nil
}

type deferredKey struct{}

func withDeferred(ctx context.Context, tc *txConn) context.Context {
	return context.WithValue(ctx, deferredKey{}, tc)
}

type deferred struct {
	sql  string
	args []any
}

// txConn is the connection of a tenant transaction as GORM sees it: a pool of one connection
// already in a transaction. Commit and Rollback make GORM treat it as one, so a nested
// Transaction becomes a savepoint instead of a second BEGIN; the real end is Tx's.
type txConn struct {
	*sql.Conn
	deferred []deferred
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
