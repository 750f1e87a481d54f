package tenant

import (
	"database/sql/driver"
	"errors"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// Rows runs the query q builds, in q's tenant transaction, and hands its rows to scan as pgx
// reads them. q is built like any GORM query of the transaction, so the tenant scope adds its
// filter as ever; only the reading skips database/sql and GORM's reflection, which on a page
// of rows cost more CPU than the query itself. dest is what Find would fill (it sets the
// statement up; nothing is written to it). scan must only read rows.
func Rows(q *gorm.DB, dest any, scan func(pgx.Rows) error) error {
	tc, ok := q.Statement.Context.Value(deferredKey{}).(*txConn)
	if !ok || q.Statement.ConnPool != gorm.ConnPool(tc) {
		return errors.New("tenant: Rows needs a tenant transaction")
	}
	built := q.Session(&gorm.Session{DryRun: true}).Find(dest)
	if built.Error != nil {
		return built.Error
	}
	ctx := built.Statement.Context
	query, vars := built.Statement.SQL.String(), built.Statement.Vars
	return tc.raw(func(c *pipeConn) error {
		args := make([]driver.NamedValue, len(vars))
		for i, v := range vars {
			args[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
		}
		// Sent alone or with the transaction's opening or closing statements, as any query is.
		br, finish, batched, err := c.batchedIn(ctx, tc, query, args)
		if !batched {
			rows, err := c.Conn.Conn().Query(ctx, query, vars...)
			if err != nil {
				return err
			}
			return readAll(rows, scan)
		}
		if err != nil {
			return err
		}
		err = func() error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			if err := readAll(rows, scan); err != nil {
				return err
			}
			return finish()
		}()
		if cerr := br.Close(); err == nil {
			err = cerr // a failed batch reports its failure here too: keep the first
		}
		return err
	})
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
