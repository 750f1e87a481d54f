package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/app/tenant"
	"moat/models"
)

// TrashPageSize is how many trashed customers a page of the trash shows.
const TrashPageSize = 50

// Trashed is a customer in the trash, with who put it there.
type Trashed struct {
	ID        uuid.UUID
	Number    string
	Name      string
	Company   string
	DeletedAt time.Time
	DeletedBy string // the person's name; empty if they have since been removed
	Invoiced  bool   // it has invoices, which are kept, so it stays in the trash
}

// uninvoiced keeps customers with invoices out of a purge: invoices are kept for years and name
// their customer.
const uninvoiced = "NOT EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = current_tenant_id() AND i.customer_id = customers.id)"

// TrashPage is one page of the trash, most recently trashed first.
type TrashPage struct {
	Customers []Trashed
	Page      int
	More      bool
}

// Trash lists a page of the tenant's trash.
func (s *Customers) Trashed(ctx context.Context, page int) (TrashPage, error) {
	if page < 1 || page > 10000 {
		page = 1
	}
	p := TrashPage{Page: page}
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		err := tx.Model(&models.Customer{}).
			Select("id", "number", "name", "company", "deleted_at",
				"coalesce((SELECT u.name FROM users u WHERE u.tenant_id = current_tenant_id() AND u.id = customers.deleted_by), '') AS deleted_by",
				"NOT "+uninvoiced+" AS invoiced").
			Where("deleted_at IS NOT NULL").Order("deleted_at DESC, id").
			Offset((page - 1) * TrashPageSize).Limit(TrashPageSize + 1).Find(&p.Customers).Error
		if err != nil {
			return fmt.Errorf("list trash: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: audit.CustomerTrashList, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed,
			Details: map[string]int{"page": page}})
	})
	if len(p.Customers) > TrashPageSize {
		p.Customers, p.More = p.Customers[:TrashPageSize], true
	}
	return p, err
}

// Restore takes the customers with ids out of the trash and says how many it restored. Ids
// that name no customer in this tenant's trash are skipped; when none is restored the answer
// is ErrNotFound, as for any unknown id.
func (s *Customers) Restore(ctx context.Context, ids []string) (int64, error) {
	return s.fromTrash(ctx, audit.CustomerRestore, ids, func(q *gorm.DB, moved *[]models.Customer) error {
		err := q.Model(moved).Clauses(clause.Returning{}).Updates(map[string]any{"deleted_at": nil, "deleted_by": nil}).Error
		if err != nil {
			return err
		}
		// Customers written while these were in the trash were not compared with them.
		tx := q.Session(&gorm.Session{NewDB: true})
		for _, c := range *moved {
			if err := checkDuplicates(tx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// Purge deletes the customers with ids from the trash for good, with their notes and tags;
// their audit trail stays. No ids empties the whole trash. Customers with invoices stay, and
// kept says how many of those were asked for.
func (s *Customers) Purge(ctx context.Context, ids []string) (purged, kept int64, err error) {
	err = tenant.Within(ctx, s.db, func(ctx context.Context) error {
		err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
			q := tx.Model(&models.Customer{}).Where("deleted_at IS NOT NULL").Not(uninvoiced)
			if len(ids) > 0 {
				uids, _ := parseIDs(ids) // none when any is not an id: that counts nothing
				q = q.Where("id IN ?", uids)
			}
			return q.Count(&kept).Error
		})
		if err != nil {
			return fmt.Errorf("count invoiced: %w", err)
		}
		purged, err = s.fromTrash(ctx, audit.CustomerPurge, ids, func(q *gorm.DB, gone *[]models.Customer) error {
			q = q.Where(uninvoiced)
			if len(ids) == 0 {
				q = q.Session(&gorm.Session{AllowGlobalUpdate: true})
			}
			return q.Clauses(returningID).Delete(gone).Error
		})
		if kept > 0 && errors.Is(err, models.ErrNotFound) {
			return nil // it named customers, which were kept
		}
		return err
	})
	return purged, kept, err
}

// returningID has a write return the ids it touched, for their audit rows.
var returningID = clause.Returning{Columns: []clause.Column{{Name: "id"}}}

func (s *Customers) fromTrash(ctx context.Context, action audit.Action, ids []string, apply func(*gorm.DB, *[]models.Customer) error) (int64, error) {
	uids := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		uids = append(uids, models.ParseID(id))
	}
	var n int64
	var miss error
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var err error
		q := tx.Model(&models.Customer{}).Where("deleted_at IS NOT NULL")
		if len(ids) > 0 {
			q = q.Where("id IN ?", uids)
		}
		var touched []models.Customer
		if err := apply(q, &touched); err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		n = int64(len(touched))
		if n == 0 && len(ids) > 0 {
			// The trail keeps the id as parsed: what a request sent may not even be text.
			if miss, err = trashMiss(tx, uids[0]); err != nil {
				return err
			}
			return audit.Record(tx, audit.Event{Action: action, Entity: audit.EntityCustomer, EntityID: uids[0].String(), Outcome: models.OutcomeDenied})
		}
		return audit.RecordEach(tx, audit.Event{Action: action, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed, Details: map[string]int64{"batch": n}}, idsOf(touched))
	})
	if err == nil {
		err = miss
	}
	return n, err
}

// idsOf lists the customers' ids as the trail records them.
func idsOf(cs []models.Customer) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID.String()
	}
	return out
}

// trashMiss answers an id that named nothing in the trash. One of the tenant's own customers
// outside the trash (restored twice, say) is a plain miss, not a cross-tenant attempt; only
// ids the tenant cannot see go on to the probe, so foreign and unknown ids still cost the same
// statements.
func trashMiss(tx *gorm.DB, id uuid.UUID) (miss, err error) {
	var own int64
	if err := tx.Model(&models.Customer{}).Where("id = ?", id).Count(&own).Error; err != nil {
		return nil, fmt.Errorf("trash miss: %w", err)
	}
	if own > 0 {
		return models.ErrNotFound, nil
	}
	return missing("customers", id), nil
}
