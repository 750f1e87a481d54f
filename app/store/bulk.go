package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/app/csvexport"
	"moat/app/tenant"
	"moat/models"
)

// MaxSelected is how many ids one bulk request may name; more are chosen with "all that match".
const MaxSelected = 1000

// Selection is what a bulk action applies to: the customers with IDs, or, with All, every
// customer outside the trash that matches Filter.
type Selection struct {
	IDs    []string
	All    bool
	Filter Filter
}

// Clean normalizes the selection's filter and drops what is not an id.
func (sel Selection) Clean() Selection {
	sel.Filter = sel.Filter.Clean()
	var ids []string
	for _, id := range sel.IDs {
		if models.ParseID(id) != uuid.Nil && len(ids) < MaxSelected {
			ids = append(ids, id)
		}
	}
	sel.IDs = ids
	if sel.All {
		sel.IDs = nil
	}
	return sel
}

func (sel Selection) details(n int64) map[string]any {
	d := map[string]any{"count": n}
	if sel.All {
		d["filter"] = sel.Filter
	} else {
		d["ids"] = sel.IDs
	}
	return d
}

// selected is the selection's customers, scoped like every query.
func selected(tx *gorm.DB, sel Selection) (*gorm.DB, error) {
	if !sel.All {
		ids, _ := parseIDs(sel.IDs)
		return tx.Model(&models.Customer{}).Where("deleted_at IS NULL AND id IN ?", append(ids, uuid.Nil)), nil
	}
	words, err := searchWords(tx, sel.Filter.Search)
	if err != nil {
		return nil, err
	}
	return filtered(tx, sel.Filter, words), nil
}

// Count says how many customers sel holds, for the confirmation before a bulk action, and
// audits the look as part of the action.
func (s *Customers) Count(ctx context.Context, sel Selection, action string) (int64, error) {
	var n int64
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		q, err := selected(tx, sel)
		if err != nil {
			return err
		}
		if err := q.Count(&n).Error; err != nil {
			return err
		}
		d := sel.details(n)
		d["action"] = action
		return audit.Record(tx, audit.Event{Action: audit.CustomerBulkCount, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed, Details: d})
	})
	if err != nil {
		return 0, fmt.Errorf("count selection: %w", err)
	}
	return n, nil
}

// RejectBulk audits a bulk request refused before it acted (nothing selected, no action,
// a tag the tenant does not have). action is one of the actions there are, or "".
func (s *Customers) RejectBulk(ctx context.Context, sel Selection, action, reason string) error {
	d := sel.details(-1)
	d["action"], d["reason"] = action, reason
	return audit.RecordAlone(ctx, s.db, audit.Event{Action: audit.CustomerBulk, Entity: audit.EntityCustomer, Outcome: models.OutcomeRejected, Details: d})
}

// BulkTrash moves the selected customers to the trash and says how many it moved; each gets
// its own audit row, so its timeline shows the move.
func (s *Customers) BulkTrash(ctx context.Context, sel Selection) (int64, error) {
	var n int64
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		q, err := selected(tx, sel)
		if err != nil {
			return err
		}
		// One set-based statement, however many match: "all" may be a whole large tenant.
		var moved []models.Customer
		res := tx.Model(&moved).Clauses(returningID).Where("id IN (?)", q.Select("id")).Where("deleted_at IS NULL").
			Updates(map[string]any{"deleted_at": gorm.Expr("now()"), "deleted_by": requestUser(tx)})
		if res.Error != nil {
			return fmt.Errorf("bulk trash: %w", res.Error)
		}
		n = int64(len(moved))
		return audit.RecordEach(tx, audit.Event{Action: audit.CustomerTrash, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed,
			Details: map[string]int64{"batch": n}}, idsOf(moved))
	})
	return n, err
}

// BulkTag puts the tag with tagID on the selected customers, or with add false takes it off,
// and says how many customers changed, each audited on its own. A tag the tenant does not
// have is ErrNotFound.
func (s *Customers) BulkTag(ctx context.Context, sel Selection, tagID string, add bool) (int64, error) {
	action := audit.CustomerUntag
	if add {
		action = audit.CustomerTag
	}
	var n int64
	var miss error // a tag the tenant does not have: one denied row, about the tag
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		tag, err := takeTag(tx, tagID)
		if errors.Is(err, models.ErrNotFound) {
			miss = err
			return audit.Record(tx, audit.Event{Action: action, Entity: audit.EntityTag, EntityID: entityID(tagID), Outcome: models.OutcomeDenied})
		}
		if err != nil {
			return err
		}
		q, err := selected(tx, sel)
		if err != nil {
			return err
		}
		var changed []string
		if add {
			// The rows take the tenant and the customers from the scoped selection; row level
			// security and the tenant-carrying foreign keys check both again.
			err = tx.Raw("INSERT INTO customer_tags (tenant_id, customer_id, tag_id) SELECT tenant_id, id, ? FROM (?) m ON CONFLICT DO NOTHING RETURNING customer_id::text",
				tag.ID, q.Select("tenant_id", "id")).Scan(&changed).Error
		} else {
			var gone []models.CustomerTag
			err = tx.Clauses(clause.Returning{Columns: []clause.Column{{Name: "customer_id"}}}).
				Where("tag_id = ? AND customer_id IN (?)", tag.ID, q.Select("id")).Delete(&gone).Error
			for _, g := range gone {
				changed = append(changed, g.CustomerID.String())
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		n = int64(len(changed))
		return audit.RecordEach(tx, audit.Event{Action: action, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed,
			Details: map[string]any{"tag": tag.Name, "batch": n}}, changed)
	})
	if err == nil {
		err = miss
	}
	return n, err
}

// exportBatch is how many customers Export holds in memory at once.
const exportBatch = 1000

// RecordExport records that sel is being exported. Callers record before they stream, so an
// export is audited even if the download breaks off.
func (s *Customers) RecordExport(ctx context.Context, sel Selection) error {
	return audit.RecordAlone(ctx, s.db, audit.Event{Action: audit.CustomerExport, Entity: audit.EntityCustomer, Outcome: models.OutcomeAllowed, Details: sel.details(-1)})
}

// Export writes the selected customers as CSV to w in name order, a batch at a time in short
// transactions, so memory stays the same at any size.
func (s *Customers) Export(ctx context.Context, sel Selection, w io.Writer) error {
	header := []string{"number", "name", "kind", "company", "emails", "phones", "website", "tax_id",
		"billing_address", "shipping_address", "currency", "payment_terms", "tags", "created_at"}
	return csvexport.Stream(w, header, exportBatch, func(last *customerRow) (rows []customerRow, err error) {
		err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
			q, err := selected(tx, sel)
			if err != nil {
				return err
			}
			if last != nil {
				q = q.Where("(lower(name), id) > (?, ?)", last.SortKey, last.ID)
			}
			return q.Select("*", tagList, "lower(name) AS sort_key").Order("lower(name), id").Limit(exportBatch).Find(&rows).Error
		})
		return rows, err
	}, func(r customerRow) []string {
		c := r.customer()
		tags := make([]string, len(c.Tags))
		for i, t := range c.Tags {
			tags[i] = t.Name
		}
		return []string{c.Number, c.Name, string(c.Kind), c.Company, contactText(c.Emails), contactText(c.Phones), c.Website,
			c.TaxID, c.BillingAddress, c.ShippingAddress, c.Currency, strconv.Itoa(c.PaymentTerms), strings.Join(tags, ", "),
			c.CreatedAt.UTC().Format(time.RFC3339)}
	})
}
