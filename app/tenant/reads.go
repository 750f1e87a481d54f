package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"moat/models"
)

// Reads are statements of one tenant transaction sent together, in one round trip where each
// would otherwise take its own: the independent reads of a page, say. Each is built as GORM
// would run it, so the tenant scope adds its filter as ever, and none may depend on another's
// result. Add them with Find or Rows inside Read; Read sends them.
type Reads struct {
	tx    *gorm.DB
	tc    *txConn
	last  bool // COMMIT travels with the reads
	reads []read
	err   error // the first failure to build a read
}

// read is one statement of Reads and what reads its rows.
type read struct {
	queued
	built *gorm.DB             // scanned as GORM's Find would, when scan is nil
	scan  func(pgx.Rows) error // or by the caller
}

// Read runs queue in one tenant transaction for the tenant in ctx, or in the one ctx is in (see
// Within), and then sends the reads queue added, in one round trip. queue's ctx is in the
// transaction: what it runs itself (a Get that must answer first) is part of it. In a
// transaction of its own, COMMIT and the deferred writes (the audit rows) travel with the
// reads, so a page's reads after its first statement take one round trip in all. When queue
// returns an answer (models.IsAnswer: a miss, a refusal), the reads are not sent, what queue
// did stands, its denied audit row included, and the answer is returned. A read the server
// refuses commits nothing; but the server runs the whole batch before Go sees a row, so when
// COMMIT went with the reads, a scan that fails in Go fails the call after it committed.
func Read(ctx context.Context, db *gorm.DB, queue func(ctx context.Context, r *Reads) error) error {
	var answer error
	err := Tx(ctx, db, func(tx *gorm.DB) error {
		tc, ok := tx.Statement.ConnPool.(*txConn)
		if !ok {
			return errors.New("tenant: Read needs a tenant transaction")
		}
		r := &Reads{tx: tx, tc: tc, last: tx.Statement.Context.Value(joinedKey{}) == nil}
		answer = queue(tx.Statement.Context, r)
		switch {
		case answer != nil && !models.IsAnswer(answer):
			return answer
		case answer != nil:
			return nil // commits what queue did
		}
		return r.send()
	})
	if err != nil {
		return err
	}
	return answer
}

// Tx is the transaction to build reads with (and to run anything that must come first).
func (r *Reads) Tx() *gorm.DB { return r.tx }

// Find queues q.Find(dest): dest is filled as GORM fills it, once Read sends the reads. q must
// be built from Tx and must not preload.
func (r *Reads) Find(q *gorm.DB, dest any) { r.add(q, dest, nil) }

// Rows queues q, built from Tx as for Find(dest), and hands its rows to scan as pgx reads them,
// skipping GORM's reflection. dest only sets the statement up; nothing is written to it. scan
// must only read rows, and must set its results afresh: a transaction lost to a restart runs
// again.
func (r *Reads) Rows(q *gorm.DB, dest any, scan func(pgx.Rows) error) { r.add(q, dest, scan) }

func (r *Reads) add(q *gorm.DB, dest any, scan func(pgx.Rows) error) {
	if r.err != nil {
		return
	}
	if t, ok := FromContext(q.Statement.Context); q.Statement.ConnPool != gorm.ConnPool(r.tc) || !ok || t.String() != r.tc.tenant {
		r.err = errors.New("tenant: a read built outside its Reads' transaction")
		return
	}
	if scan == nil && isMap(dest) {
		r.err = errors.New("tenant: Reads scan into structs, not maps")
		return
	}
	built := q.Session(&gorm.Session{DryRun: true}).Find(dest)
	switch {
	case built.Error != nil:
		r.err = built.Error
	case len(built.Statement.Preloads) > 0:
		r.err = errors.New("tenant: Reads do not preload")
	default:
		r.reads = append(r.reads, read{queued: queued{built.Statement.SQL.String(), built.Statement.Vars}, built: built, scan: scan})
	}
}

// send sends the reads in one batch, with BEGIN and the tenant setting if nothing went before,
// and COMMIT if last, and reads their rows.
func (r *Reads) send() error {
	if r.err != nil {
		return r.err
	}
	if len(r.reads) == 0 {
		return nil
	}
	ctx := r.tx.Statement.Context
	return r.tc.raw(func(c *pipeConn) error {
		queries := make([]queued, len(r.reads))
		for i, rd := range r.reads {
			queries[i] = rd.queued
		}
		b, opening, err := r.tc.batch(c, r.last, queries...)
		if err != nil {
			return err
		}
		br := c.Conn.Conn().SendBatch(ctx, b)
		err = func() error {
			if err := skip(br, opening); err != nil {
				return err
			}
			for i, rd := range r.reads {
				rows, err := br.Query()
				if err != nil {
					return err
				}
				if err := rd.read(rows); err != nil {
					// The server ran the whole batch before a row reached Go: read on, so the
					// transaction's state says whether its COMMIT went through.
					return errors.Join(err, skip(br, len(r.reads)-i-1), r.tc.finish(br, r.last))
				}
			}
			return r.tc.finish(br, r.last)
		}()
		if cerr := br.Close(); err == nil && r.tc.state != ended {
			err = cerr // a failed batch reports its failure here too: keep the first
		}
		return err
	})
}

// read hands rows to the read's scan, or to GORM's, and closes them.
func (rd read) read(rows pgx.Rows) error {
	if rd.scan != nil {
		return readAll(rows, rd.scan)
	}
	gorm.Scan(gormRows{rows}, rd.built, 0)
	rows.Close()
	if err := errors.Join(rd.built.Error, rows.Err()); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

// isMap reports whether dest is a map or a slice of maps, which GORM would fill with pgx's own
// values rather than database/sql's.
func isMap(dest any) bool {
	t := reflect.TypeOf(dest)
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice) {
		t = t.Elem()
	}
	return t != nil && t.Kind() == reflect.Map
}

// gormRows are pgx's rows as GORM's Scan reads them into a struct or a slice of them: pgx
// converts each column into the field GORM hands it.
type gormRows struct{ pgx.Rows }

func (r gormRows) Columns() ([]string, error) {
	fds := r.FieldDescriptions()
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = fd.Name
	}
	return names, nil
}

// ColumnTypes is what GORM asks only when it scans into maps, which Reads do not.
func (gormRows) ColumnTypes() ([]*sql.ColumnType, error) {
	return nil, errors.New("tenant: Reads scan into structs, not maps")
}

func (r gormRows) Close() error {
	r.Rows.Close()
	return nil
}
