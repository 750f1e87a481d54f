package tenant

import (
	"errors"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// Rows runs the query q builds, in q's tenant transaction, and hands its rows to scan as pgx
// reads them. q is built like any GORM query of the transaction, so the tenant scope adds its
// filter as ever; only the reading skips database/sql and GORM's reflection, which on a page
// of rows cost more CPU than the query itself. dest is what Find would fill (it sets the
// statement up; nothing is written to it). scan must only read rows. A q marked Last commits
// in the same round trip.
func Rows(q *gorm.DB, dest any, scan func(pgx.Rows) error) error {
	tc, ok := q.Statement.Context.Value(deferredKey{}).(*txConn)
	if !ok || q.Statement.ConnPool != gorm.ConnPool(tc) {
		return errors.New("tenant: Rows needs a tenant transaction")
	}
	r := &Reads{tx: q, tc: tc, last: isLast(q.Statement.Context)}
	r.Rows(q, dest, scan)
	return r.send()
}

// readAll hands rows to scan and closes them, reporting the first failure.
func readAll(rows pgx.Rows, scan func(pgx.Rows) error) error {
	err := scan(rows)
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	return err
}
