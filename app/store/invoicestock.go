package store

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/app/money"
	"moat/models"
)

// lineStock is what an invoice line sells: its product, and the warehouse its goods leave (or,
// on a credit note, return to) when the line moves stock.
type lineStock struct {
	Product, Warehouse *uuid.UUID
	unit, place        string // for messages: the product's unit, the warehouse's name
}

// resolveLines looks up the products in's lines name (by SKU as typed, or by id on a copy),
// fills the description, price and tax rate a line left blank from its product, and picks the
// warehouse of each line of goods: the one it names or the default one. On a credit note a
// line moves stock only when it names its warehouse (the goods come back). Lines that name no
// product sell nothing from stock.
func resolveLines(tx *gorm.DB, kind models.InvoiceKind, in *models.InvoiceInput) ([]lineStock, error) {
	fields := map[string]string{}
	out := make([]lineStock, len(in.Lines))
	var fallback *models.Warehouse
	for i := range in.Lines {
		l := &in.Lines[i]
		if !l.ForProduct() {
			continue
		}
		key := func(f string) string { return fmt.Sprintf("line_%s[%d]", f, i+1) }
		var found []models.Product
		q := tx.Limit(1)
		if l.SKU != "" {
			q = q.Where("sku_key = lower(?) AND deleted_at IS NULL", l.SKU)
		} else {
			q = q.Where("id = ?", models.ParseID(l.ProductID)) // a copy keeps a product since trashed
		}
		if err := q.Find(&found).Error; err != nil {
			return nil, fmt.Errorf("line product: %w", err)
		}
		if len(found) == 0 {
			fields[key("sku")] = "No product has this SKU: choose one from the list."
			continue
		}
		p := found[0]
		l.SKU = p.SKU
		if l.Description == "" {
			l.Description = p.Name
		}
		if l.TaxRate == "" {
			l.TaxRate = money.Trim(p.TaxRate)
		}
		if l.UnitPrice == "" {
			if p.Currency == in.Currency {
				l.UnitPrice = money.Trim(p.SalePrice)
			} else {
				fields[key("unit_price")] = fmt.Sprintf("Enter a price: %s is priced in %s.", p.SKU, p.Currency)
			}
		}
		out[i] = lineStock{Product: &p.ID, unit: p.Unit}
		if !p.Stocked || (kind == models.KindCreditNote && l.Warehouse == "") {
			l.Warehouse = ""
			continue
		}
		var w models.Warehouse
		if l.Warehouse != "" {
			var err error
			if w, err = warehouseFor(tx, l.Warehouse, key("warehouse")); err != nil {
				if v, ok := err.(*models.ValidationError); ok {
					fields[key("warehouse")] = v.Fields[key("warehouse")]
					continue
				}
				return nil, err
			}
		} else {
			if fallback == nil {
				ws, err := warehouses(tx)
				if err != nil {
					return nil, err
				}
				fallback = &ws[0]
			}
			w = *fallback
		}
		out[i].Warehouse, out[i].place = &w.ID, w.Name
	}
	if len(fields) > 0 {
		return nil, &models.ValidationError{Fields: fields}
	}
	return out, nil
}

// reserveFor locks the balances a draft's lines touch (old, being replaced, and new) and
// refuses new lines that ask for more than is available, counting back what the old lines
// reserved. With negative stock allowed nothing is reserved, so nothing is refused.
func reserveFor(tx *gorm.DB, old []models.InvoiceLine, in models.InvoiceInput, stock []lineStock) error {
	var keys []stockKey
	for _, l := range old {
		if l.WarehouseID != nil {
			keys = append(keys, stockKey{*l.ProductID, *l.WarehouseID})
		}
	}
	need := map[stockKey]string{}
	for i, s := range stock {
		if s.Warehouse != nil {
			k := stockKey{*s.Product, *s.Warehouse}
			keys = append(keys, k)
			need[k] = money.Sum(orZero(need[k]), in.Lines[i].Quantity)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	balances, err := lockStock(tx, keys)
	if err != nil {
		return err
	}
	if allowed, err := negativeAllowed(tx); err != nil || allowed {
		return err
	}
	held := map[stockKey]string{}
	for _, l := range old {
		if l.Reserved {
			k := stockKey{*l.ProductID, *l.WarehouseID}
			held[k] = money.Sum(orZero(held[k]), l.Quantity)
		}
	}
	fields := map[string]string{}
	for i, s := range stock {
		if s.Warehouse == nil {
			continue
		}
		k := stockKey{*s.Product, *s.Warehouse}
		available := money.Sum(balances[k].Available(), orZero(held[k]))
		if money.Compare(need[k], available) > 0 {
			msg := short(available, s.unit, models.Warehouse{Name: s.place})
			if money.Compare(need[k], in.Lines[i].Quantity) != 0 {
				msg += " The lines for it ask for " + money.Trim(need[k]) + " together."
			}
			fields[fmt.Sprintf("line_quantity[%d]", i+1)] = msg
		}
	}
	if len(fields) > 0 {
		return &models.ValidationError{Fields: fields}
	}
	return nil
}

// keysOf are the balances lines take stock from.
func keysOf(lines []models.InvoiceLine) []stockKey {
	var keys []stockKey
	for _, l := range lines {
		if l.WarehouseID != nil {
			keys = append(keys, stockKey{*l.ProductID, *l.WarehouseID})
		}
	}
	return keys
}

// takeFor locks the balances a draft about to be issued on day takes stock from, refuses it
// when a product has a movement dated after that day, and refuses lines that hold no
// reservation (drafted while negative stock was allowed) when their stock is not available
// now, or, with negative stock allowed, when it would go below what a balance can hold.
func takeFor(tx *gorm.DB, lines []models.InvoiceLine, day time.Time) error {
	keys := keysOf(lines)
	if len(keys) == 0 {
		return nil
	}
	balances, err := lockStock(tx, keys)
	if err != nil {
		return err
	}
	day = day.UTC().Truncate(24 * time.Hour)
	need := map[stockKey]string{}
	for _, l := range lines {
		if l.WarehouseID == nil {
			continue
		}
		latest, err := latestMovement(tx, *l.ProductID)
		if err != nil {
			return fmt.Errorf("latest movement: %w", err)
		}
		if latest.After(day) {
			return &models.ValidationError{Fields: map[string]string{"lines": fmt.Sprintf(
				"Line %d: its product has stock movements dated %s, after this invoice's date.", l.Position, latest.Format(time.DateOnly))}}
		}
		if !l.Reserved {
			k := stockKey{*l.ProductID, *l.WarehouseID}
			need[k] = money.Sum(orZero(need[k]), l.Quantity)
		}
	}
	if len(need) == 0 {
		return nil
	}
	allowed, err := negativeAllowed(tx)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if l.WarehouseID == nil || l.Reserved {
			continue
		}
		k := stockKey{*l.ProductID, *l.WarehouseID}
		b := balances[k]
		short := money.Compare(need[k], b.Available()) > 0
		if allowed {
			short = money.Compare(money.Difference(b.OnHand, need[k]), "-"+maxStock) < 0
		}
		if short {
			return &models.ValidationError{Fields: map[string]string{"lines": fmt.Sprintf(
				"Line %d: only %s available, and the draft's lines for it ask for %s: receive stock, or change the draft, first.",
				l.Position, money.Trim(b.Available()), money.Trim(need[k]))}}
		}
	}
	return nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
