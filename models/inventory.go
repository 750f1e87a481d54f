package models

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"moat/app/money"
)

// Warehouse is a place a tenant keeps stock. Each tenant has one default warehouse.
type Warehouse struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID        uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	Name      string
	IsDefault bool
	CreatedAt time.Time
}

// Product is something a tenant sells: goods, which are stocked, or a service. Amounts and
// quantities are decimals as text.
type Product struct {
	TenantID     uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID           uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	SKU          string    `gorm:"column:sku"`
	Name         string
	Unit         string
	SalePrice    string `gorm:"type:numeric"`
	Currency     string
	TaxRate      string `gorm:"type:numeric"`
	Stocked      bool
	ReorderLevel string `gorm:"type:numeric"`
	Description  string
	CreatedBy    *uuid.UUID `gorm:"type:uuid"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DeletedAt    *time.Time
	Tags         []Tag `gorm:"-"` // loaded by the store where a page shows them
}

// ProductTag puts a tag on a product.
type ProductTag struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ProductID uuid.UUID `gorm:"type:uuid;primaryKey"`
	TagID     uuid.UUID `gorm:"type:uuid;primaryKey"`
}

// StockBalance is how much of a product one warehouse has: on hand, of which reserved by
// draft invoices, and what one unit is worth on average. Only the database's triggers write it.
type StockBalance struct {
	TenantID    uuid.UUID `gorm:"type:uuid;primaryKey"`
	ProductID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	WarehouseID uuid.UUID `gorm:"type:uuid;primaryKey"`
	OnHand      string    `gorm:"type:numeric"`
	Reserved    string    `gorm:"type:numeric"`
	AvgCost     string    `gorm:"type:numeric"`
}

// Available is what may still be reserved or taken out: on hand less reserved.
func (b StockBalance) Available() string { return money.Difference(b.OnHand, b.Reserved) }

// MovementReason is why stock moved.
type MovementReason string

// The reasons: by hand (receipt, adjustment, count, transfer, reversal) or by an invoice (sale,
// void, return).
const (
	ReasonReceipt    MovementReason = "receipt"
	ReasonAdjustment MovementReason = "adjustment"
	ReasonCount      MovementReason = "count"
	ReasonTransfer   MovementReason = "transfer"
	ReasonSale       MovementReason = "sale"
	ReasonVoid       MovementReason = "void"
	ReasonReturn     MovementReason = "return"
	ReasonReversal   MovementReason = "reversal"
)

// StockMovement is one row of the ledger: never changed, never deleted.
type StockMovement struct {
	TenantID     uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID           uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	ProductID    uuid.UUID `gorm:"type:uuid"`
	WarehouseID  uuid.UUID `gorm:"type:uuid"`
	Quantity     string    `gorm:"type:numeric"`
	UnitCost     string    `gorm:"type:numeric"`
	Reason       MovementReason
	Note         string
	InvoiceID    *uuid.UUID `gorm:"type:uuid"`
	ReversesID   *uuid.UUID `gorm:"type:uuid"`
	TransferID   *uuid.UUID `gorm:"type:uuid"`
	OccurredOn   time.Time  `gorm:"type:date"`
	OnHandAfter  string     `gorm:"type:numeric;<-:false"` // set by the database
	AvgCostAfter string     `gorm:"type:numeric;<-:false"`
	CreatedBy    *uuid.UUID `gorm:"type:uuid"`
	CreatedAt    time.Time  `gorm:"<-:false"`
}

// ProductInput is what a person may set on a product. It has no tenant, id or stock: stock
// moves only through the ledger.
type ProductInput struct {
	SKU, Name, Unit, SalePrice, Currency, TaxRate, ReorderLevel, Description string
	Stocked                                                                  bool
	TagIDs                                                                   []string // the tenant's tags, by id
}

// ProductInputOf is the form filled with p, for editing.
func ProductInputOf(p Product) ProductInput {
	in := ProductInput{SKU: p.SKU, Name: p.Name, Unit: p.Unit, SalePrice: money.Trim(p.SalePrice), Currency: p.Currency,
		TaxRate: money.Trim(p.TaxRate), ReorderLevel: money.Trim(p.ReorderLevel), Description: p.Description, Stocked: p.Stocked}
	for _, t := range p.Tags {
		in.TagIDs = append(in.TagIDs, t.ID.String())
	}
	return in
}

// Validate normalizes the input (trimmed NFC text, canonical decimals; defaults: unit "pc",
// EUR, no tax, reorder level 0) and returns a *ValidationError naming each bad field, or nil.
func (in *ProductInput) Validate() error {
	fields := map[string]string{}
	nfc := func(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }
	in.SKU = nfc(in.SKU)
	if in.SKU == "" || len([]rune(in.SKU)) > 64 || !cleanText(in.SKU, false) || strings.ContainsAny(in.SKU, " \t") {
		fields["sku"] = "Enter a SKU of at most 64 characters, without spaces."
	}
	in.Name = nfc(in.Name)
	if in.Name == "" || len([]rune(in.Name)) > 200 || !cleanText(in.Name, false) {
		fields["name"] = "Enter a name of at most 200 characters."
	}
	in.Unit = nfc(in.Unit)
	if in.Unit == "" {
		in.Unit = "pc"
	}
	if len([]rune(in.Unit)) > 20 || !cleanText(in.Unit, false) {
		fields["unit"] = "Enter a unit of at most 20 characters, such as pc, kg or h."
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.Currency == "" {
		in.Currency = "EUR"
	}
	if !money.ValidCurrency(in.Currency) {
		fields["currency"] = "Enter a three-letter currency code, such as EUR."
	}
	decimal := func(v *string, name, def string, intDigits, scale int, max, message string) {
		if strings.TrimSpace(*v) == "" {
			*v = def
		}
		d, err := money.Parse(*v, intDigits, scale, "0", max)
		if err != nil {
			fields[name] = message
			return
		}
		*v = d
	}
	decimal(&in.SalePrice, "sale_price", "0", 15, 4, "999999999999999", "Enter a price of 0 or more, with at most 4 decimals.")
	decimal(&in.TaxRate, "tax_rate", "0", 3, 3, "100", "Enter a tax rate from 0 to 100 %.")
	decimal(&in.ReorderLevel, "reorder_level", "0", 14, 4, "99999999999999", "Enter a quantity of 0 or more, with at most 4 decimals.")
	in.Description = nfc(in.Description)
	if len([]rune(in.Description)) > 2000 || !cleanText(in.Description, true) {
		fields["description"] = "Use at most 2000 characters, without control characters."
	}
	if len(in.TagIDs) > 50 {
		fields["tag"] = "Choose at most 50 tags."
	}
	if len(fields) > 0 {
		return &ValidationError{Fields: fields}
	}
	return nil
}

// StockInput is a movement by hand: goods received, an adjustment, a stock count or a
// transfer. Quantities and costs are as typed; the store checks them against the balance.
type StockInput struct {
	Kind        MovementReason // receipt, adjustment, count or transfer
	WarehouseID string         // the default warehouse when empty
	ToWarehouse string         // a transfer's destination
	Quantity    string         // received, adjusted by (signed), counted (the new on-hand) or transferred
	UnitCost    string         // a receipt's cost per unit
	Note        string         // why: required for adjustments and counts
	OccurredOn  string         // YYYY-MM-DD; today when empty
}

// StockKinds are the movements a person may record by hand, in the order the form offers them.
var StockKinds = []MovementReason{ReasonReceipt, ReasonAdjustment, ReasonCount, ReasonTransfer}

// Validate normalizes the input and returns a *ValidationError naming each bad field, or nil.
func (in *StockInput) Validate(today time.Time) error {
	fields := map[string]string{}
	known := false
	for _, k := range StockKinds {
		known = known || in.Kind == k
	}
	if !known {
		fields["kind"] = messages["oneof"]
	}
	in.WarehouseID = strings.TrimSpace(in.WarehouseID)
	if in.WarehouseID != "" && ParseID(in.WarehouseID) == uuid.Nil {
		fields["warehouse"] = "Choose a warehouse from the list."
	}
	if in.Kind == ReasonTransfer {
		in.ToWarehouse = strings.TrimSpace(in.ToWarehouse)
		switch {
		case ParseID(in.ToWarehouse) == uuid.Nil:
			fields["to_warehouse"] = "Choose the warehouse the goods go to."
		case strings.EqualFold(in.ToWarehouse, in.WarehouseID):
			fields["to_warehouse"] = "Choose another warehouse than the one the goods leave."
		}
	}
	min, message := "0.0001", "Enter a quantity above 0, with at most 4 decimals."
	switch in.Kind {
	case ReasonAdjustment:
		min, message = "-99999999999999", "Enter the change, such as -2 or 5, with at most 4 decimals (not 0)."
	case ReasonCount:
		min, message = "0", "Enter the quantity counted, 0 or more, with at most 4 decimals."
	}
	q, err := money.Parse(in.Quantity, 14, 4, min, "99999999999999")
	if err != nil || (in.Kind == ReasonAdjustment && q == "0") {
		fields["quantity"] = message
	}
	in.Quantity = q
	// A cost is read whatever the kind (goods found by an adjustment or count may be valued
	// by it); goods leaving are valued at the average whatever was typed.
	in.UnitCost = strings.TrimSpace(in.UnitCost)
	switch {
	case in.UnitCost == "" && in.Kind == ReasonReceipt:
		fields["unit_cost"] = "Enter what one unit cost, 0 or more."
	case in.UnitCost != "":
		c, err := money.Parse(in.UnitCost, 15, 4, "0", "999999999999999")
		if err != nil {
			fields["unit_cost"] = "Enter what one unit cost, 0 or more, with at most 4 decimals."
		}
		in.UnitCost = c
	}
	if in.Kind == ReasonTransfer || strings.HasPrefix(in.Quantity, "-") {
		in.UnitCost = ""
	}
	in.Note = norm.NFC.String(strings.TrimSpace(in.Note))
	if len([]rune(in.Note)) > 500 || !cleanText(in.Note, false) {
		fields["note"] = "Use at most 500 characters, without control characters."
	} else if in.Note == "" && (in.Kind == ReasonAdjustment || in.Kind == ReasonCount) {
		fields["note"] = "Say why: an adjustment or count needs a reason."
	}
	in.OccurredOn = strings.TrimSpace(in.OccurredOn)
	if in.OccurredOn == "" {
		in.OccurredOn = today.Format(time.DateOnly)
	}
	if d, err := time.Parse(time.DateOnly, in.OccurredOn); err != nil || d.Year() < 2000 || d.After(today) {
		fields["occurred_on"] = "Enter the day it happened, not in the future."
	}
	if len(fields) > 0 {
		return &ValidationError{Fields: fields}
	}
	return nil
}

// WarehouseName is a warehouse's name as typed, trimmed and in NFC, or a *ValidationError.
func WarehouseName(name string) (string, error) {
	name = norm.NFC.String(strings.TrimSpace(name))
	if name == "" || len([]rune(name)) > 100 || !cleanText(name, false) {
		return name, &ValidationError{Fields: map[string]string{"name": "Enter a name of at most 100 characters."}}
	}
	return name, nil
}

// ReversalNote is why a movement is reversed, as typed, or a *ValidationError.
func ReversalNote(note string) (string, error) {
	note = norm.NFC.String(strings.TrimSpace(note))
	if note == "" || len([]rune(note)) > 500 || !cleanText(note, false) {
		return note, &ValidationError{Fields: map[string]string{"note": "Say why, in at most 500 characters."}}
	}
	return note, nil
}
