package audit

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// namers read the names of one entity's records by id, in the tenant of the transaction; each
// statement selects entity, id, its name and whether it is in the trash. (No literal may hold a
// question mark: GORM would take it for a parameter.)
var namers = map[Entity]string{
	EntityCustomer: `SELECT 'customer', id::text, CASE WHEN erased_at IS NULL THEN name ELSE 'an erased customer' END,
		deleted_at IS NOT NULL FROM customers WHERE tenant_id = current_tenant_id() AND id IN ?`,
	EntityInvoice: `SELECT 'invoice', id::text, coalesce(number, 'a draft invoice'), false
		FROM invoices WHERE tenant_id = current_tenant_id() AND id IN ?`,
	EntityProduct: `SELECT 'product', id::text, name || ' (' || sku || ')', deleted_at IS NOT NULL
		FROM products WHERE tenant_id = current_tenant_id() AND id IN ?`,
	EntityTag:       `SELECT 'tag', id::text, name, false FROM tags WHERE tenant_id = current_tenant_id() AND id IN ?`,
	EntityUser:      `SELECT 'user', id::text, name, false FROM users WHERE tenant_id = current_tenant_id() AND id IN ?`,
	EntityWarehouse: `SELECT 'warehouse', id::text, name, false FROM warehouses WHERE tenant_id = current_tenant_id() AND id IN ?`,
	EntityImport:    `SELECT 'import', id::text, file_name, false FROM import_batches WHERE tenant_id = current_tenant_id() AND id IN ?`,
}

// pages are where a named record is shown, by entity, its id appended; people and warehouses
// have a page for all of them.
var pages = map[Entity]string{
	EntityCustomer: "/customers/", EntityInvoice: "/invoices/", EntityProduct: "/products/",
	EntityTag: "/customers?tag=", EntityImport: "/imports/",
}

// names reads, in one statement, the names of the records the events are about. Only the
// tenant's records are found: an id of another tenant's record finds nothing, exactly like an
// id that never existed, and the trail names both Unknown.
func names(tx *gorm.DB, events []Entry) (Names, error) {
	ids := map[Entity][]uuid.UUID{}
	for _, e := range events {
		if id, err := uuid.Parse(e.EntityID); err == nil && namers[Entity(e.Entity)] != "" {
			ids[Entity(e.Entity)] = append(ids[Entity(e.Entity)], id)
		}
	}
	if len(ids) == 0 {
		return Names{}, nil
	}
	var parts []string
	var args []any
	for _, entity := range Entities() {
		if len(ids[entity]) > 0 {
			parts, args = append(parts, "("+namers[entity]+")"), append(args, ids[entity])
		}
	}
	var rows []struct {
		Entity, ID, Text string
		Trashed          bool
	}
	// Named columns outside the union: a union takes its columns' names from its first part.
	q := "SELECT * FROM (" + strings.Join(parts, " UNION ALL ") + ") AS n (entity, id, text, trashed)"
	if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit record names: %w", err)
	}
	out := make(Names, len(rows))
	for _, r := range rows {
		n := Name{Text: r.Text}
		if prefix, ok := pages[Entity(r.Entity)]; ok {
			n.Link = prefix + r.ID
		}
		if r.Trashed {
			n = Name{Text: r.Text + " (in the trash)"} // its page answers 404 until restored
		}
		out[NameKey(r.Entity, r.ID)] = n
	}
	return out, nil
}
