package tenant

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// OpenDB returns database/sql over pool, for GORM. Its connections let a tenant transaction
// (Tx) put its statements on the wire in as few round trips as possible: BEGIN and the tenant
// setting go out with the first statement, and the last statement (Last) goes out with the
// deferred writes and COMMIT. Statements outside a tenant transaction are pgx's stdlib as is.
func OpenDB(pool *pgxpool.Pool, citus bool) *sql.DB {
	db := sql.OpenDB(connector{stdlib.GetPoolConnector(pool), citus})
	db.SetMaxIdleConns(0) // idle connections belong to pgxpool, which the sessions share
	return db
}

type connector struct {
	driver.Connector
	citus bool // the database is a Citus coordinator: see txConn.routed
}

// Connect waits for the database while it restarts (Retry), so a request arriving then is
// served late rather than failed.
func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	var dc driver.Conn
	err := Retry(ctx, func() (err error) {
		dc, err = c.Connector.Connect(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &pipeConn{Conn: dc.(*stdlib.Conn), citus: c.citus}, nil
}

// pipeConn is one pooled connection as database/sql sees it. A statement whose context carries
// a tenant transaction (see txConn.QueryContext) is sent in one batch with what that
// transaction has queued before and after it.
type pipeConn struct {
	*stdlib.Conn
	citus bool
}

// errEnded refuses a statement after the one marked Last: it would run outside the transaction.
var errEnded = errors.New("tenant: statement after the transaction's last one")

// QueryContext implements driver.QueryerContext.
func (c *pipeConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	query = c.routed(ctx, query)
	br, finish, ok, err := c.batched(ctx, query, args)
	if !ok {
		return c.Conn.QueryContext(ctx, query, args)
	}
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close() // reports the same failure
		return nil, err
	}
	r := &batchRows{rows: rows, types: c.Conn.Conn().TypeMap(), end: func() error {
		defer br.Close()
		return finish()
	}}
	// Read the first row now, as pgx's stdlib does: a failed statement fails here, not later.
	r.more, r.first = rows.Next(), true
	if err := rows.Err(); err != nil {
		rows.Close()
		_ = br.Close()
		return nil, err
	}
	return r, nil
}

// ExecContext implements driver.ExecerContext.
func (c *pipeConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	query = c.routed(ctx, query)
	br, finish, ok, err := c.batched(ctx, query, args)
	if !ok {
		return c.Conn.ExecContext(ctx, query, args)
	}
	if err != nil {
		return nil, err
	}
	defer br.Close()
	ct, err := br.Exec()
	if err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return driver.RowsAffected(ct.RowsAffected()), nil
}

// routed is query as c sends it in its context's tenant transaction: see txConn.routed.
func (c *pipeConn) routed(ctx context.Context, query string) string {
	if tc, ok := ctx.Value(pipeKey{}).(*txConn); ok && c.citus {
		return tc.routed(query)
	}
	return query
}

// batched sends query in one batch with what its tenant transaction queued around it, and
// reads the results ahead of it; finish reads those after it. ok is false, and nothing is
// sent, when the statement needs no batch: it belongs to no tenant transaction, or to one
// already open on this connection and it is not the last.
func (c *pipeConn) batched(ctx context.Context, query string, args []driver.NamedValue) (br pgx.BatchResults, finish func() error, ok bool, err error) {
	tc, ok := ctx.Value(pipeKey{}).(*txConn)
	if !ok {
		return nil, nil, false, nil
	}
	return c.batchedIn(ctx, tc, query, args)
}

// batchedIn is batched for a statement of tc's transaction.
func (c *pipeConn) batchedIn(ctx context.Context, tc *txConn, query string, args []driver.NamedValue) (br pgx.BatchResults, finish func() error, ok bool, err error) {
	if tc.state == open && !isLast(ctx) && tc.pipe == c {
		return nil, nil, false, nil
	}
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a.Value
	}
	closing := isLast(ctx)
	b, opening, err := tc.batch(c, closing, queued{query, vals})
	if err != nil {
		return nil, nil, true, err
	}
	br = c.Conn.Conn().SendBatch(ctx, b)
	if err := skip(br, opening); err != nil {
		_ = br.Close() // reports the same failure
		return nil, nil, true, err
	}
	return br, func() error { return tc.finish(br, closing) }, true, nil
}

// send sends b and reads all its results.
func (c *pipeConn) send(ctx context.Context, b *pgx.Batch) error {
	return c.Conn.Conn().SendBatch(ctx, b).Close()
}

// skip reads the results of the n statements queued ahead of the caller's.
func skip(br pgx.BatchResults, n int) error {
	for range n {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	return nil
}

// batchRows are the rows of a statement sent in a batch, given to database/sql as pgx's stdlib
// gives them: each column as bool, int64, float64, []byte (bytea, json), time.Time or string.
type batchRows struct {
	rows        pgx.Rows
	types       *pgtype.Map
	decoders    []decoder    // one a column, planned at the first row
	end         func() error // reads the results queued after the rows, once
	more, first bool         // the first row, read ahead
	closed      bool
}

func (r *batchRows) Columns() []string {
	fds := r.rows.FieldDescriptions()
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = fd.Name
	}
	return names
}

func (r *batchRows) Next(dest []driver.Value) error {
	more := r.more
	if !r.first {
		more = r.rows.Next()
	}
	r.first = false
	if !more {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	fds := r.rows.FieldDescriptions()
	if r.decoders == nil {
		r.decoders = make([]decoder, len(fds))
		for i, fd := range fds {
			r.decoders[i] = decoderOf(r.types, fd)
		}
	}
	for i, raw := range r.rows.RawValues() {
		if raw == nil {
			dest[i] = nil
			continue
		}
		v, err := r.decoders[i](raw)
		if err != nil {
			return fmt.Errorf("column %s: %w", fds[i].Name, err)
		}
		dest[i] = v
	}
	return nil
}

func (r *batchRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.rows.Close()
	return errors.Join(r.rows.Err(), r.end())
}

// decoder turns one column's non-NULL value into what database/sql expects.
type decoder func(raw []byte) (driver.Value, error)

func decoderOf(m *pgtype.Map, fd pgconn.FieldDescription) decoder {
	switch fd.DataTypeOID {
	case pgtype.BoolOID:
		return planned[bool](m, fd)
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		return planned[int64](m, fd)
	case pgtype.Float4OID, pgtype.Float8OID:
		return planned[float64](m, fd)
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID:
		return planned[[]byte](m, fd)
	case pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID:
		return planned[time.Time](m, fd)
	}
	text := planned[string](m, fd)
	return func(raw []byte) (driver.Value, error) {
		v, err := text(raw)
		if err != nil && fd.Format == pgtype.BinaryFormatCode {
			// Batches read binary, where stdlib asks for text (arrays, ranges): re-encode.
			var value any
			if err := m.Scan(fd.DataTypeOID, fd.Format, raw, &value); err != nil {
				return nil, err
			}
			encoded, err := m.Encode(fd.DataTypeOID, pgtype.TextFormatCode, value, nil)
			return string(encoded), err
		}
		return v, err
	}
}

// planned decodes into a T, with the scan plan worked out once.
func planned[T any](m *pgtype.Map, fd pgconn.FieldDescription) decoder {
	var probe T
	plan := m.PlanScan(fd.DataTypeOID, fd.Format, &probe)
	return func(raw []byte) (driver.Value, error) {
		var v T
		err := plan.Scan(raw, &v)
		return v, err
	}
}
