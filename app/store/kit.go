package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/app/tenant"
	"moat/models"
)

// audited runs work as one audited operation of the tenant in ctx: in its tenant transaction
// (or the one ctx is already in, see tenant.Within), then ev goes into the trail in the same
// transaction with the outcome work's answer implies:
//
//	nil                                           allowed
//	a miss (models.ErrNotFound, a MissError)      denied
//	models.ErrForbidden, models.ErrLastOwner      denied, with the reason
//	a *models.ValidationError                     rejected, with its fields unless work set details
//
// and audited returns that answer once the row has committed. Any other error is a failure:
// nothing commits, and it is returned. work may set ev's EntityID and Details. A statement that
// may fail for the data (a unique index) must run in a savepoint (tx.Transaction), so that the
// rejection can still be recorded.
func audited(ctx context.Context, db *gorm.DB, ev audit.Event, work func(tx *gorm.DB, ev *audit.Event) error) error {
	var answer error
	err := tenant.Tx(ctx, db, func(tx *gorm.DB) error {
		e := ev // afresh on each try: tenant.Tx may run this again after a lost connection
		answer = work(tx, &e)
		var invalid *models.ValidationError
		switch {
		case answer == nil:
			e.Outcome = models.OutcomeAllowed
		case errors.Is(answer, models.ErrNotFound):
			e.Outcome = models.OutcomeDenied
		case errors.Is(answer, models.ErrForbidden), errors.Is(answer, models.ErrLastOwner):
			e.Outcome, e.Details = models.OutcomeDenied, map[string]string{"refused": answer.Error()}
		case errors.As(answer, &invalid):
			e.Outcome = models.OutcomeRejected
			if e.Details == nil {
				e.Details = invalid
			}
		default:
			return answer
		}
		return audit.Record(tx, e)
	})
	if err != nil {
		return err
	}
	return answer
}

// byID loads the record of model T with id as a request spelled it, through the tenant scope,
// narrowed by where (a customer in the trash is not found, say). Unknown, malformed and another
// tenant's ids are all a *models.MissError, at the cost of the same one statement: a malformed
// id is looked up as the nil UUID, which names nothing.
func byID[T any](tx *gorm.DB, id string, where ...func(*gorm.DB) *gorm.DB) (T, error) {
	var rec T
	uid := models.ParseID(id)
	q := tx.Model(&rec).Where("id = ?", uid)
	for _, w := range where {
		q = w(q)
	}
	err := q.Take(&rec).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return rec, missing(q.Statement.Table, uid)
	case err != nil:
		return rec, fmt.Errorf("load %s: %w", q.Statement.Table, err)
	}
	return rec, nil
}

// forUpdate locks the rows a lookup reads until the transaction ends.
func forUpdate(q *gorm.DB) *gorm.DB { return q.Clauses(clause.Locking{Strength: "UPDATE"}) }

// missing is the answer to every lookup by id that found nothing the tenant may see, whether
// the id is unknown, trashed, malformed or another tenant's: the same error at the same cost.
// Whether it was another tenant's is asked after the response, by the cross-tenant probe the
// error handler hands it to.
func missing(table string, id uuid.UUID) error { return &models.MissError{Entity: table, ID: id} }

// entityID is id as the trail records it: a UUID in its canonical form, so that a record's
// history finds it however the request spelled it; anything else as it was asked for (cleaned
// by the trail).
func entityID(id string) string {
	if u, err := uuid.Parse(id); err == nil {
		return u.String()
	}
	return id
}

// violates says whether err is a unique index refusing a duplicate, the index named constraint.
// On Citus the worker's error reaches the app with its message only, which names the shard's
// copy of the index, the shard's id appended (unique constraint "tags_tenant_name_102041").
func violates(err error, constraint string) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "23505" {
		return false
	}
	name := pg.ConstraintName
	if name == "" {
		_, quoted, _ := strings.Cut(pg.Message, `unique constraint "`)
		name, _, _ = strings.Cut(quoted, `"`)
	}
	shard, ok := strings.CutPrefix(name, constraint)
	return ok && (shard == "" || len(shard) > 1 && shard[0] == '_' && strings.Trim(shard[1:], "0123456789") == "")
}
