package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/audit"
	"moat/app/money"
	"moat/app/tenant"
	"moat/models"
)

// stockKey names one balance: a product in a warehouse.
type stockKey struct{ Product, Warehouse uuid.UUID }

func (k stockKey) less(o stockKey) int {
	if c := strings.Compare(k.Product.String(), o.Product.String()); c != 0 {
		return c
	}
	return strings.Compare(k.Warehouse.String(), o.Warehouse.String())
}

// lockStock locks the balances of keys (creating the missing ones) in the one order every
// request locks them in, and returns them. Everything that reserves or takes stock calls it
// before it checks what is available: the check then holds until the transaction ends, and no
// two requests wait for each other in a circle.
func lockStock(tx *gorm.DB, keys []stockKey) (map[stockKey]models.StockBalance, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, stockKey.less)
	keys = slices.Compact(keys)
	products, warehouses := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		products[i], warehouses[i] = k.Product.String(), k.Warehouse.String()
	}
	var rows []models.StockBalance
	if len(keys) > 0 {
		t, _ := tenant.FromContext(tx.Statement.Context)
		err := tx.Raw("SELECT * FROM lock_stock(?, ?::uuid[], ?::uuid[])", t.UUID(),
			"{"+strings.Join(products, ",")+"}", "{"+strings.Join(warehouses, ",")+"}").Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("lock stock: %w", err)
		}
	}
	out := make(map[stockKey]models.StockBalance, len(rows))
	for _, b := range rows {
		out[stockKey{b.ProductID, b.WarehouseID}] = b
	}
	return out, nil
}

// negativeAllowed reports whether the tenant may sell stock it does not have.
func negativeAllowed(tx *gorm.DB) (allowed bool, err error) {
	err = tx.Raw("SELECT allow_negative_stock FROM tenants WHERE id = current_tenant_id()").Scan(&allowed).Error
	if err != nil {
		return false, fmt.Errorf("stock setting: %w", err)
	}
	return allowed, nil
}

// warehouses are the tenant's warehouses, the default first. A tenant that has none yet (made
// before inventory, or by bulk loading) gets its default one here.
func warehouses(tx *gorm.DB) ([]models.Warehouse, error) {
	var ws []models.Warehouse
	if err := tx.Order("is_default DESC, lower(name), id").Find(&ws).Error; err != nil {
		return nil, fmt.Errorf("warehouses: %w", err)
	}
	if len(ws) > 0 {
		return ws, nil
	}
	err := tx.Exec("INSERT INTO warehouses (tenant_id, name, is_default) VALUES (current_tenant_id(), 'Main warehouse', true) ON CONFLICT DO NOTHING").Error
	if err != nil {
		return nil, fmt.Errorf("default warehouse: %w", err)
	}
	return ws, tx.Order("is_default DESC, lower(name), id").Find(&ws).Error
}

// warehouseFor is the tenant's warehouse with id; an unknown or another tenant's id is the
// same field error.
func warehouseFor(tx *gorm.DB, id, field string) (models.Warehouse, error) {
	w, err := byID[models.Warehouse](tx, id)
	if errors.Is(err, models.ErrNotFound) {
		return w, &models.ValidationError{Fields: map[string]string{field: "Choose a warehouse from the list."}}
	}
	return w, err
}

// latestMovement is the day of the product's latest movement, zero when it has none.
func latestMovement(tx *gorm.DB, product uuid.UUID) (time.Time, error) {
	var latest time.Time
	err := tx.Raw("SELECT coalesce(max(occurred_on), '0001-01-01') FROM stock_movements WHERE tenant_id = current_tenant_id() AND product_id = ?", product).
		Scan(&latest).Error
	return latest, err
}

// short is a refusal for lack of stock: what is available, where.
func short(available string, unit string, w models.Warehouse) string {
	return fmt.Sprintf("Only %s %s available in %s.", money.Trim(available), unit, w.Name)
}

// Move records a movement by hand of the product with id: goods received, an adjustment, a
// stock count (the difference from what the ledger says) or a transfer between warehouses (two
// movements). Stock going out must be available, unless the tenant allows negative stock; a
// movement may not be dated before the product's latest one.
func (s *Products) Move(ctx context.Context, id string, in models.StockInput, today time.Time) error {
	invalid := in.Validate(today)
	return audited(ctx, s.db, audit.Event{Action: audit.ProductStock, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		p, err := byID[models.Product](tx, id, notTrashed)
		if err != nil {
			return err
		}
		switch {
		case invalid != nil:
			return invalid
		case !p.Stocked:
			return &models.ValidationError{Fields: map[string]string{"kind": "A service has no stock."}}
		}
		// In a savepoint: a refusal leaves nothing behind (lock_stock makes missing balances).
		return tx.Transaction(func(tx *gorm.DB) error { return move(tx, p, in, ev) })
	})
}

// move is Move's work on the product p, found and stocked.
func move(tx *gorm.DB, p models.Product, in models.StockInput, ev *audit.Event) error {
	var err error
	var from models.Warehouse
	if in.WarehouseID == "" {
		ws, err := warehouses(tx)
		if err != nil {
			return err
		}
		from = ws[0]
	} else if from, err = warehouseFor(tx, in.WarehouseID, "warehouse"); err != nil {
		return err
	}
	keys := []stockKey{{p.ID, from.ID}}
	var to models.Warehouse
	if in.Kind == models.ReasonTransfer {
		if to, err = warehouseFor(tx, in.ToWarehouse, "to_warehouse"); err != nil {
			return err
		}
		if to.ID == from.ID {
			return &models.ValidationError{Fields: map[string]string{"to_warehouse": "Choose another warehouse than the one the goods leave."}}
		}
		keys = append(keys, stockKey{p.ID, to.ID})
	}
	balances, err := lockStock(tx, keys)
	if err != nil {
		return err
	}
	day, _ := time.Parse(time.DateOnly, in.OccurredOn)
	latest, err := latestMovement(tx, p.ID)
	if err != nil {
		return fmt.Errorf("latest movement: %w", err)
	}
	if day.Before(latest) {
		return &models.ValidationError{Fields: map[string]string{"occurred_on": "The latest movement of this product is dated " +
			latest.Format(time.DateOnly) + ": date this one on or after it, or correct with a movement today."}}
	}
	b := balances[keys[0]]
	m := models.StockMovement{ProductID: p.ID, WarehouseID: from.ID, Reason: in.Kind, Note: in.Note, OccurredOn: day, CreatedBy: requestUser(tx),
		Quantity: in.Quantity, UnitCost: in.UnitCost}
	switch in.Kind {
	case models.ReasonCount:
		m.Quantity = money.Difference(in.Quantity, b.OnHand)
		if money.Compare(m.Quantity, "0") == 0 {
			return &models.ValidationError{Fields: map[string]string{"quantity": "That is what the ledger says already: there is nothing to record."}}
		}
	case models.ReasonTransfer:
		m.Quantity = "-" + in.Quantity
		t := uuid.New()
		m.TransferID = &t
	}
	if m.UnitCost == "" {
		m.UnitCost = b.AvgCost // goods found by an adjustment or count are valued at the average
	}
	if after := money.Sum(b.OnHand, m.Quantity); money.Compare(after, maxStock) > 0 || money.Compare(after, "-"+maxStock) < 0 {
		return &models.ValidationError{Fields: map[string]string{"quantity": "That is more than a balance can hold (" + maxStock + ")."}}
	}
	if in.Kind == models.ReasonTransfer {
		if after := money.Sum(balances[keys[1]].OnHand, in.Quantity); money.Compare(after, maxStock) > 0 {
			return &models.ValidationError{Fields: map[string]string{"quantity": "That is more than a balance can hold (" + maxStock + ")."}}
		}
	}
	if money.Compare(m.Quantity, "0") < 0 {
		allowed, err := negativeAllowed(tx)
		if err != nil {
			return err
		}
		if !allowed && money.Compare(money.Sum(b.Available(), m.Quantity), "0") < 0 {
			msg := short(b.Available(), p.Unit, from)
			if in.Kind == models.ReasonCount {
				msg = fmt.Sprintf("%s %s are reserved by draft invoices: a count below that needs those drafts changed first.", money.Trim(b.Reserved), p.Unit)
			}
			return &models.ValidationError{Fields: map[string]string{"quantity": msg}}
		}
	}
	if err := tx.Create(&m).Error; err != nil {
		return fmt.Errorf("stock movement: %w", err)
	}
	details := map[string]string{"kind": string(in.Kind), "sku": p.SKU, "warehouse": from.Name, "quantity": money.Trim(m.Quantity),
		"occurred_on": in.OccurredOn}
	if in.Note != "" {
		details["note"] = in.Note
	}
	if in.Kind == models.ReasonReceipt {
		details["unit_cost"] = money.Trim(m.UnitCost)
	}
	if in.Kind == models.ReasonTransfer {
		// The goods arrive valued at what they left at.
		in := models.StockMovement{ProductID: p.ID, WarehouseID: to.ID, Reason: in.Kind, Note: in.Note, OccurredOn: day, CreatedBy: m.CreatedBy,
			Quantity: in.Quantity, UnitCost: b.AvgCost, TransferID: m.TransferID}
		if err := tx.Create(&in).Error; err != nil {
			return fmt.Errorf("stock transfer: %w", err)
		}
		details["to_warehouse"] = to.Name
	}
	ev.Details = details
	return nil
}

// maxStock is the most a balance holds, either way: numeric(18,4).
const maxStock = "99999999999999"

// Reverse records movements that undo the movement with id (both of a transfer's), dated today,
// saying why. Stock an invoice moved is corrected through the invoice; a movement is reversed
// once; a reversal taking stock out needs it available.
func (s *Products) Reverse(ctx context.Context, id, note string, today time.Time) (product uuid.UUID, err error) {
	note, invalidNote := models.ReversalNote(note)
	err = audited(ctx, s.db, audit.Event{Action: audit.ProductReverse, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		m, err := byID[models.StockMovement](tx, id)
		if err != nil {
			return err
		}
		product = m.ProductID
		ev.EntityID = m.ProductID.String()
		return tx.Transaction(func(tx *gorm.DB) error { return reverse(tx, m, note, invalidNote, today, ev) })
	})
	return product, err
}

// reverse is Reverse's work on the movement m, in a savepoint.
func reverse(tx *gorm.DB, m models.StockMovement, note string, invalidNote error, today time.Time, ev *audit.Event) error {
	switch m.Reason {
	case models.ReasonSale, models.ReasonVoid, models.ReasonReturn:
		return &models.ValidationError{Fields: map[string]string{"movement": "Stock an invoice moved is corrected through the invoice: void it, or issue a credit note that returns the goods."}}
	case models.ReasonReversal:
		return &models.ValidationError{Fields: map[string]string{"movement": "A reversal is not reversed: record a new movement instead."}}
	}
	if invalidNote != nil {
		return invalidNote
	}
	legs := []models.StockMovement{m}
	if m.TransferID != nil {
		if err := tx.Where("transfer_id = ?", *m.TransferID).Order("created_at").Find(&legs).Error; err != nil {
			return fmt.Errorf("transfer legs: %w", err)
		}
	}
	keys := make([]stockKey, len(legs))
	for i, l := range legs {
		keys[i] = stockKey{l.ProductID, l.WarehouseID}
	}
	balances, err := lockStock(tx, keys)
	if err != nil {
		return err
	}
	var reversed bool
	if err := tx.Raw("SELECT EXISTS (SELECT 1 FROM stock_movements WHERE tenant_id = current_tenant_id() AND reverses_id IN ?)", ids(legs)).
		Scan(&reversed).Error; err != nil {
		return fmt.Errorf("reversals: %w", err)
	}
	if reversed {
		return &models.ValidationError{Fields: map[string]string{"movement": "This movement was reversed already."}}
	}
	allowed, err := negativeAllowed(tx)
	if err != nil {
		return err
	}
	// Stock leaving first, so a transfer reversed takes from where it arrived before it
	// returns where it left.
	slices.SortStableFunc(legs, func(a, b models.StockMovement) int { return -money.Compare(a.Quantity, b.Quantity) })
	for _, l := range legs {
		b := balances[stockKey{l.ProductID, l.WarehouseID}]
		if money.Compare(money.Difference(b.OnHand, l.Quantity), maxStock) > 0 {
			return &models.ValidationError{Fields: map[string]string{"movement": "It cannot be reversed: that is more than a balance can hold (" + maxStock + ")."}}
		}
		if !allowed && money.Compare(l.Quantity, "0") > 0 && money.Compare(b.Available(), l.Quantity) < 0 {
			var w models.Warehouse
			tx.Where("id = ?", l.WarehouseID).Take(&w) //nolint:errcheck // a name for the message
			return &models.ValidationError{Fields: map[string]string{"movement": "It cannot be reversed: " + short(b.Available(), "", w)}}
		}
		r := models.StockMovement{ProductID: l.ProductID, WarehouseID: l.WarehouseID, Quantity: money.Difference("0", l.Quantity),
			UnitCost: l.UnitCost, Reason: models.ReasonReversal, Note: note, ReversesID: &l.ID, OccurredOn: today.UTC().Truncate(24 * time.Hour),
			CreatedBy: requestUser(tx)}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("reverse movement: %w", err)
		}
	}
	ev.Details = map[string]string{"movement": m.ID.String(), "reason": string(m.Reason), "quantity": money.Trim(m.Quantity), "note": note}
	return nil
}

func ids(ms []models.StockMovement) []uuid.UUID {
	out := make([]uuid.UUID, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// WarehouseRow is a warehouse with what it holds, valued at average cost.
type WarehouseRow struct {
	models.Warehouse `gorm:"embedded"`
	Products         int64  // products with stock on hand there
	Value            string // in the tenant's base currency
}

// TableName is warehouses.
func (WarehouseRow) TableName() string { return "warehouses" }

// StockReport is the warehouses page: each warehouse's stock value and the stock setting.
type StockReport struct {
	Warehouses    []WarehouseRow
	Total         string
	Currency      string // the tenant's base currency, which costs are in
	AllowNegative bool
}

// Report returns the tenant's warehouses with the value of the stock in each.
func (s *Products) Report(ctx context.Context) (r StockReport, err error) {
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if _, err := warehouses(tx); err != nil {
			return err
		}
		if err := tx.Model(&models.Warehouse{}).Select("warehouses.*",
			"(SELECT count(*) FROM stock_balances b WHERE b.tenant_id = current_tenant_id() AND b.warehouse_id = warehouses.id AND b.on_hand <> 0) AS products",
			"coalesce((SELECT sum(round(b.on_hand * b.avg_cost, 4)) FROM stock_balances b WHERE b.tenant_id = current_tenant_id() AND b.warehouse_id = warehouses.id), 0)::text AS value").
			Order("is_default DESC, lower(name), id").Find(&r.Warehouses).Error; err != nil {
			return fmt.Errorf("stock report: %w", err)
		}
		if err := tx.Raw("SELECT base_currency, allow_negative_stock FROM tenants WHERE id = current_tenant_id()").Row().
			Scan(&r.Currency, &r.AllowNegative); err != nil {
			return fmt.Errorf("stock report: %w", err)
		}
		r.Total = "0"
		for _, w := range r.Warehouses {
			r.Total = money.Sum(r.Total, w.Value)
		}
		return audit.Record(tx, audit.Event{Action: audit.WarehouseList, Outcome: models.OutcomeAllowed})
	})
	return r, err
}

// writeWarehouse runs write in a savepoint and answers a field error when another warehouse
// has the name.
func writeWarehouse(tx *gorm.DB, write func(tx *gorm.DB) error) error {
	err := tx.Transaction(write)
	if violates(err, "warehouses_tenant_name") {
		return &models.ValidationError{Fields: map[string]string{"name": "Another warehouse has this name."}}
	}
	return err
}

// CreateWarehouse adds a warehouse.
func (s *Products) CreateWarehouse(ctx context.Context, name string) (w models.Warehouse, err error) {
	name, invalid := models.WarehouseName(name)
	err = audited(ctx, s.db, audit.Event{Action: audit.WarehouseCreate}, func(tx *gorm.DB, ev *audit.Event) error {
		if invalid != nil {
			return invalid
		}
		w = models.Warehouse{Name: name}
		// The default one first, for a tenant that has none, in the savepoint a refusal undoes.
		if err := writeWarehouse(tx, func(tx *gorm.DB) error {
			if _, err := warehouses(tx); err != nil {
				return err
			}
			return tx.Create(&w).Error
		}); err != nil {
			return err
		}
		ev.EntityID, ev.Details = w.ID.String(), map[string]string{"name": name}
		return nil
	})
	return w, err
}

// UpdateWarehouse renames the warehouse with id and, asked to, makes it the default one, which
// invoice lines take stock from unless they say otherwise.
func (s *Products) UpdateWarehouse(ctx context.Context, id, name string, makeDefault bool) error {
	name, invalid := models.WarehouseName(name)
	return audited(ctx, s.db, audit.Event{Action: audit.WarehouseUpdate, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		w, err := byID[models.Warehouse](tx, id, forUpdate)
		if err != nil {
			return err
		}
		if invalid != nil {
			return invalid
		}
		details := map[string]string{}
		if name != w.Name {
			details["name"] = w.Name + " → " + name
		}
		if err := writeWarehouse(tx, func(tx *gorm.DB) error {
			if makeDefault && !w.IsDefault {
				details["default"] = "true"
				if err := tx.Model(&models.Warehouse{}).Where("is_default").Update("is_default", false).Error; err != nil {
					return err
				}
			}
			return tx.Model(&w).Updates(map[string]any{"name": name, "is_default": w.IsDefault || makeDefault}).Error
		}); err != nil {
			return err
		}
		ev.Details = details
		return nil
	})
}

// SetNegativeStock says whether the tenant may sell stock it does not have. While it may, draft
// invoices reserve nothing and stock may go below zero.
func (s *Products) SetNegativeStock(ctx context.Context, allow bool) error {
	return audited(ctx, s.db, audit.Event{Action: audit.SettingsStock}, func(tx *gorm.DB, ev *audit.Event) error {
		if err := tx.Exec("UPDATE tenants SET allow_negative_stock = ? WHERE id = current_tenant_id()", allow).Error; err != nil {
			return fmt.Errorf("stock setting: %w", err)
		}
		ev.Details = map[string]bool{"allow_negative_stock": allow}
		return nil
	})
}
