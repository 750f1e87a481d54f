package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"moat/app/audit"
	"moat/app/keyset"
	"moat/app/money"
	"moat/app/tenant"
	"moat/models"
)

// Products is the product catalogue and its stock: products, warehouses and the ledger.
type Products struct{ db *gorm.DB }

// NewProducts returns the product store over db.
func NewProducts(db *gorm.DB) *Products { return &Products{db: db} }

// stockTotals are a product's quantities over all warehouses, read beside it.
const stockTotals = `coalesce((SELECT sum(b.on_hand) FROM stock_balances b WHERE b.tenant_id = current_tenant_id() AND b.product_id = products.id), 0)::text AS on_hand,
	coalesce((SELECT sum(b.on_hand - b.reserved) FROM stock_balances b WHERE b.tenant_id = current_tenant_id() AND b.product_id = products.id), 0)::text AS available`

// available is what each of the tenant's products has available over all warehouses, joined
// once: as a filter, a subquery per product costs twice as much.
const available = `LEFT JOIN (SELECT product_id, sum(on_hand - reserved) AS available FROM stock_balances
	WHERE tenant_id = current_tenant_id() GROUP BY product_id) stock ON stock.product_id = products.id`

// ProductRow is a product with its stock over all warehouses.
type ProductRow struct {
	models.Product `gorm:"embedded"`
	OnHand         string
	Available      string
}

// TableName is the products table: a ProductRow is a product read with more.
func (ProductRow) TableName() string { return "products" }

// Low reports whether the product is stocked and at or below its reorder level.
func (r ProductRow) Low() bool {
	return r.Stocked && money.Compare(r.Available, r.ReorderLevel) <= 0
}

// ProductFilter picks products outside the trash; Clean drops what does not parse.
type ProductFilter struct {
	Search string // a SKU's beginning, or part of the name
	Type   string // "goods", "services" or any
	Low    bool   // stocked and at or below the reorder level
	Tag    string // one of the tenant's tags, by id
}

// ProductSorts are the list's orders by their names in the URL.
var ProductSorts = []string{"sku", "name", "updated"}

// ProductQuery asks for a page of the list in an order; After is a previous page's Next.
type ProductQuery struct {
	ProductFilter
	Sort  string
	After string
	Limit int // products a page, 1 to 100; PageSize when 0
}

// ProductPage is one page of the list.
type ProductPage struct {
	Products []ProductRow
	Query    ProductQuery // as cleaned and run
	Next     string
	Paged    bool
	Count    int64 // products matching, counted up to CountCap+1
}

// clean normalizes q.
func (q ProductQuery) clean() ProductQuery {
	q.Search = cleanSearch(q.Search)
	if q.Type != "goods" && q.Type != "services" {
		q.Type = ""
	}
	if !slices.Contains(ProductSorts, q.Sort) {
		q.Sort = "sku"
	}
	q.Tag = models.CleanID(q.Tag)
	return q
}

// List returns a page of the tenant's products matching the filter, in the order asked for
// (by SKU, by name, or most recently changed first), with their stock.
func (s *Products) List(ctx context.Context, q ProductQuery) (ProductPage, error) {
	q = q.clean()
	p := ProductPage{Query: q}
	after, paged := keyset.Decode(q.After, q.Sort)
	if !paged {
		p.Query.After = ""
	}
	p.Paged = paged
	err := tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := audit.Record(tx, audit.Event{Action: audit.ProductList, Outcome: models.OutcomeAllowed,
			Details: map[string]any{"filter": q.ProductFilter, "sort": q.Sort, "paged": paged}}); err != nil {
			return err
		}
		rows := productsMatching(tx, q.ProductFilter).Select("products.*", stockTotals)
		var key string
		switch q.Sort {
		case "name":
			key = "lower(name)"
		case "updated":
			key = "updated_at"
		default:
			key = "lower(sku)"
		}
		switch {
		case paged && q.Sort == "updated":
			rows = rows.Where("(updated_at, id) < (?, ?)", after.At, after.ID)
		case paged:
			rows = rows.Where("("+key+", id) > (?, ?)", after.Value, after.ID)
		}
		if q.Sort == "updated" {
			rows = rows.Order("updated_at DESC, id DESC")
		} else {
			rows = rows.Order(key + ", id")
		}
		if err := rows.Limit(pageSize(q.Limit) + 1).Find(&p.Products).Error; err != nil {
			return fmt.Errorf("list products: %w", err)
		}
		if err := rowTags(tx, p.Products); err != nil {
			return err
		}
		if len(p.Products) > pageSize(q.Limit) {
			p.Products = p.Products[:pageSize(q.Limit)]
			last := p.Products[len(p.Products)-1]
			c := keyset.Cursor{Sort: q.Sort, ID: last.ID}
			switch q.Sort {
			case "name":
				c.Value = strings.ToLower(last.Name)
			case "updated":
				c.Desc, c.At = true, last.UpdatedAt
			default:
				c.Value = strings.ToLower(last.SKU)
			}
			p.Next = c.Encode()
		}
		count := productsMatching(tx, q.ProductFilter).Select("1").Limit(CountCap + 1)
		return tx.Raw("SELECT count(*) FROM (?) m", count).Scan(&p.Count).Error
	})
	return p, err
}

// productsMatching is the tenant's products outside the trash that match f.
func productsMatching(tx *gorm.DB, f ProductFilter) *gorm.DB {
	q := tx.Model(&models.Product{}).Where("deleted_at IS NULL")
	if f.Search != "" {
		s := strings.ToLower(f.Search)
		q = q.Where("(lower(sku) LIKE ? ESCAPE '\\' OR lower(name) LIKE ? ESCAPE '\\')", likeEscape(s)+"%", "%"+likeEscape(s)+"%")
	}
	switch f.Type {
	case "goods":
		q = q.Where("stocked")
	case "services":
		q = q.Where("NOT stocked")
	}
	if f.Low { // stocked, with no more available than the reorder level
		q = q.Joins(available).Where("stocked AND coalesce(stock.available, 0) <= reorder_level")
	}
	if f.Tag != "" {
		q = q.Where("id IN (SELECT product_id FROM product_tags WHERE tenant_id = current_tenant_id() AND tag_id = ?)", uuid.MustParse(f.Tag))
	}
	return q
}

// rowTags puts their tags on rows, in one query.
func rowTags(tx *gorm.DB, rows []ProductRow) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var links []struct {
		ProductID uuid.UUID
		models.Tag
	}
	err := tx.Table("product_tags pt").Select("pt.product_id, t.*").Joins("JOIN tags t ON t.tenant_id = pt.tenant_id AND t.id = pt.tag_id").
		Where("pt.tenant_id = current_tenant_id() AND pt.product_id IN ?", ids).Order("lower(t.name)").Scan(&links).Error
	if err != nil {
		return fmt.Errorf("product tags: %w", err)
	}
	at := make(map[uuid.UUID]int, len(rows))
	for i, r := range rows {
		at[r.ID] = i
	}
	for _, l := range links {
		i := at[l.ProductID]
		rows[i].Tags = append(rows[i].Tags, l.Tag)
	}
	return nil
}

// tagsFor are the tenant's tags with ids, locked FOR SHARE (a tag deleted meanwhile would fail
// the link's foreign key); an id that is not one of them, another tenant's included, is the
// same field error as an unknown one.
func tagsFor(tx *gorm.DB, ids []string) ([]models.Tag, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	uids, ok := parseIDs(ids)
	var tags []models.Tag
	if ok {
		if err := tx.Clauses(clause.Locking{Strength: "SHARE"}).Where("id IN ?", uids).Order("lower(name)").Find(&tags).Error; err != nil {
			return nil, fmt.Errorf("check tags: %w", err)
		}
	}
	if !ok || len(tags) != len(uids) {
		return nil, &models.ValidationError{Fields: map[string]string{"tag": "Choose tags from the list."}}
	}
	return tags, nil
}

// setProductTags makes tags the tags of the product with id.
func setProductTags(tx *gorm.DB, id uuid.UUID, tags []models.Tag) error {
	if err := tx.Where("product_id = ?", id).Delete(&models.ProductTag{}).Error; err != nil {
		return fmt.Errorf("product tags: %w", err)
	}
	if len(tags) == 0 {
		return nil
	}
	links := make([]models.ProductTag, len(tags))
	for i, t := range tags {
		links[i] = models.ProductTag{ProductID: id, TagID: t.ID}
	}
	if err := tx.Create(&links).Error; err != nil {
		return fmt.Errorf("product tags: %w", err)
	}
	return nil
}

func tagNames(tags []models.Tag) string {
	names := make([]string, len(tags))
	for i, t := range tags {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

// likeEscape makes s match itself in a LIKE pattern.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// notTrashed narrows a lookup to products outside the trash.
func notTrashed(q *gorm.DB) *gorm.DB { return q.Where("deleted_at IS NULL") }

// ProductDetail is a product with what its page shows.
type ProductDetail struct {
	models.Product
	Balances     []BalanceRow
	Movements    []MovementRow
	Warehouses   []models.Warehouse
	OnHand       string
	Available    string
	CostCurrency string // the tenant's base currency, which costs and values are in
}

// BalanceRow is a product's stock in one warehouse.
type BalanceRow struct {
	models.StockBalance `gorm:"embedded"`
	Warehouse           string
}

// TableName is stock_balances: a BalanceRow is a balance read with its warehouse's name.
func (BalanceRow) TableName() string { return "stock_balances" }

// MovementRow is a row of a product's ledger, with the names it refers to.
type MovementRow struct {
	models.StockMovement `gorm:"embedded"`
	Warehouse            string
	Invoice              string // the invoice's number
	Author               string
	Reversed             bool // a later movement reverses it
}

// TableName is stock_movements.
func (MovementRow) TableName() string { return "stock_movements" }

// LedgerSize is how many of a product's latest movements its page shows.
const LedgerSize = 50

// Get returns the product with id (in the trash too, so that its page can offer a restore),
// with its stock per warehouse and its latest movements; each look is audited as a view.
func (s *Products) Get(ctx context.Context, id string) (d ProductDetail, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.ProductView, EntityID: entityID(id)}, func(tx *gorm.DB, _ *audit.Event) error {
		d = ProductDetail{}
		if d.Product, err = byID[models.Product](tx, id); err != nil {
			return err
		}
		rows := []ProductRow{{Product: d.Product}}
		if err := rowTags(tx, rows); err != nil {
			return err
		}
		d.Tags = rows[0].Tags
		if err := tx.Model(&models.StockBalance{}).
			Select("stock_balances.*", "(SELECT w.name FROM warehouses w WHERE w.tenant_id = current_tenant_id() AND w.id = stock_balances.warehouse_id) AS warehouse").
			Where("product_id = ? AND (on_hand <> 0 OR reserved <> 0)", d.ID).Order("warehouse").Find(&d.Balances).Error; err != nil {
			return fmt.Errorf("product balances: %w", err)
		}
		d.OnHand, d.Available = "0", "0"
		for _, b := range d.Balances {
			d.OnHand, d.Available = money.Sum(d.OnHand, b.OnHand), money.Sum(d.Available, b.Available())
		}
		if err := tx.Model(&models.StockMovement{}).Select("stock_movements.*",
			"(SELECT w.name FROM warehouses w WHERE w.tenant_id = current_tenant_id() AND w.id = stock_movements.warehouse_id) AS warehouse",
			"coalesce((SELECT i.number FROM invoices i WHERE i.tenant_id = current_tenant_id() AND i.id = stock_movements.invoice_id), '') AS invoice",
			"coalesce((SELECT u.name FROM users u WHERE u.tenant_id = current_tenant_id() AND u.id = stock_movements.created_by), '') AS author",
			"EXISTS (SELECT 1 FROM stock_movements r WHERE r.tenant_id = current_tenant_id() AND r.reverses_id = stock_movements.id) AS reversed").
			Where("product_id = ?", d.ID).Order("occurred_on DESC, created_at DESC, id DESC").Limit(LedgerSize).
			Find(&d.Movements).Error; err != nil {
			return fmt.Errorf("product ledger: %w", err)
		}
		if d.Warehouses, err = warehouses(tx); err != nil {
			return err
		}
		return tx.Raw("SELECT base_currency FROM tenants WHERE id = current_tenant_id()").Scan(&d.CostCurrency).Error
	})
	return d, err
}

// skuTaken is the answer when another product outside the trash has the SKU.
func skuTaken() *models.ValidationError {
	return &models.ValidationError{Fields: map[string]string{"sku": "Another product has this SKU: choose another."}}
}

// writeProduct runs write in a savepoint and answers skuTaken when the unique index refuses
// the SKU, so that the refusal can still be recorded in the trail.
func writeProduct(tx *gorm.DB, write func(tx *gorm.DB) error) error {
	err := tx.Transaction(write)
	if violates(err, "products_tenant_sku") {
		return skuTaken()
	}
	return err
}

// Create adds a product. Invalid input, and a SKU another product outside the trash has, are a
// *models.ValidationError.
func (s *Products) Create(ctx context.Context, in models.ProductInput) (p models.Product, err error) {
	invalid := in.Validate()
	err = audited(ctx, s.db, audit.Event{Action: audit.ProductCreate}, func(tx *gorm.DB, ev *audit.Event) error {
		if invalid != nil {
			return invalid
		}
		tags, err := tagsFor(tx, in.TagIDs)
		if err != nil {
			return err
		}
		p = models.Product{CreatedBy: requestUser(tx), Tags: tags}
		apply(&p, in)
		if err := writeProduct(tx, func(tx *gorm.DB) error {
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
			return setProductTags(tx, p.ID, tags)
		}); err != nil {
			return err
		}
		ev.EntityID, ev.Details = p.ID.String(), map[string]string{"sku": p.SKU, "name": p.Name, "tags": tagNames(tags)}
		return nil
	})
	return p, err
}

func apply(p *models.Product, in models.ProductInput) {
	p.SKU, p.Name, p.Unit, p.SalePrice, p.Currency = in.SKU, in.Name, in.Unit, in.SalePrice, in.Currency
	p.TaxRate, p.Stocked, p.ReorderLevel, p.Description = in.TaxRate, in.Stocked, in.ReorderLevel, in.Description
}

// Update changes the product with id. A product with stock records stays stocked (or not).
func (s *Products) Update(ctx context.Context, id string, in models.ProductInput) (models.Product, error) {
	return s.Patch(ctx, id, func(cur *models.ProductInput) { *cur = in })
}

// Patch changes the product with id as change says, applied to its current values (as the edit
// form shows them) while it is locked. It answers as Update does.
func (s *Products) Patch(ctx context.Context, id string, change func(*models.ProductInput)) (p models.Product, err error) {
	err = audited(ctx, s.db, audit.Event{Action: audit.ProductUpdate, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		if p, err = byID[models.Product](tx, id, notTrashed, forUpdate); err != nil {
			return err
		}
		rows := []ProductRow{{Product: p}}
		if err := rowTags(tx, rows); err != nil {
			return err
		}
		p.Tags = rows[0].Tags
		in := models.ProductInputOf(p)
		change(&in)
		if invalid := in.Validate(); invalid != nil {
			return invalid
		}
		tags, err := tagsFor(tx, in.TagIDs)
		if err != nil {
			return err
		}
		if in.Stocked != p.Stocked {
			var moved bool
			if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM stock_movements WHERE tenant_id = current_tenant_id() AND product_id = ?)
				OR EXISTS (SELECT 1 FROM invoice_lines WHERE tenant_id = current_tenant_id() AND product_id = ? AND warehouse_id IS NOT NULL)`, p.ID, p.ID).
				Scan(&moved).Error; err != nil {
				return fmt.Errorf("product stock: %w", err)
			}
			if moved {
				return &models.ValidationError{Fields: map[string]string{"stocked": "This product has stock records, so it stays as it is."}}
			}
		}
		before := p
		apply(&p, in)
		p.UpdatedAt, p.Tags = time.Now(), tags
		if err := writeProduct(tx, func(tx *gorm.DB) error {
			if err := tx.Model(&p).Select("sku", "name", "unit", "sale_price", "currency", "tax_rate", "stocked", "reorder_level",
				"description", "updated_at").Updates(&p).Error; err != nil {
				return err
			}
			return setProductTags(tx, p.ID, tags)
		}); err != nil {
			return err
		}
		ev.Details = productChanges(before, p)
		return nil
	})
	return p, err
}

// productChanges is what an update changed, field by field, for the trail.
func productChanges(a, b models.Product) map[string][2]string {
	out := map[string][2]string{}
	for _, p := range [][3]string{{"sku", a.SKU, b.SKU}, {"name", a.Name, b.Name}, {"unit", a.Unit, b.Unit},
		{"currency", a.Currency, b.Currency}, {"stocked", fmt.Sprint(a.Stocked), fmt.Sprint(b.Stocked)}, {"description", a.Description, b.Description},
		{"tags", tagNames(a.Tags), tagNames(b.Tags)}} {
		if p[1] != p[2] {
			out[p[0]] = [2]string{p[1], p[2]}
		}
	}
	for _, p := range [][3]string{{"sale_price", a.SalePrice, b.SalePrice}, {"tax_rate", a.TaxRate, b.TaxRate}, {"reorder_level", a.ReorderLevel, b.ReorderLevel}} {
		if money.Compare(p[1], p[2]) != 0 {
			out[p[0]] = [2]string{money.Trim(p[1]), money.Trim(p[2])}
		}
	}
	return out
}

// Trash moves the product with id to the trash. A product with stock on hand or reserved
// stays: its stock would be valued nowhere.
func (s *Products) Trash(ctx context.Context, id string) error {
	return audited(ctx, s.db, audit.Event{Action: audit.ProductTrash, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		p, err := byID[models.Product](tx, id, notTrashed, forUpdate)
		if err != nil {
			return err
		}
		var held bool
		// Draft lines count even when they reserve nothing (negative stock allowed): finalizing
		// them would move a trashed product's stock.
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM stock_balances WHERE tenant_id = current_tenant_id() AND product_id = ? AND (on_hand <> 0 OR reserved <> 0))
			OR EXISTS (SELECT 1 FROM invoice_lines l JOIN invoices i ON i.tenant_id = l.tenant_id AND i.id = l.invoice_id
			           WHERE l.tenant_id = current_tenant_id() AND l.product_id = ? AND l.warehouse_id IS NOT NULL AND i.status = 'draft')`, p.ID, p.ID).
			Scan(&held).Error; err != nil {
			return fmt.Errorf("product stock: %w", err)
		}
		if held {
			return &models.ValidationError{Fields: map[string]string{"product": "This product has stock on hand or reserved: count it to zero, or finish its draft invoices, first."}}
		}
		if err := tx.Model(&p).Update("deleted_at", time.Now()).Error; err != nil {
			return fmt.Errorf("trash product: %w", err)
		}
		ev.Details = map[string]string{"sku": p.SKU, "name": p.Name}
		return nil
	})
}

// Restore takes the product with id out of the trash, unless another product has its SKU now.
func (s *Products) Restore(ctx context.Context, id string) error {
	return audited(ctx, s.db, audit.Event{Action: audit.ProductRestore, EntityID: entityID(id)}, func(tx *gorm.DB, ev *audit.Event) error {
		p, err := byID[models.Product](tx, id, func(q *gorm.DB) *gorm.DB { return q.Where("deleted_at IS NOT NULL") }, forUpdate)
		if err != nil {
			return err
		}
		if err := writeProduct(tx, func(tx *gorm.DB) error {
			return tx.Model(&p).Updates(map[string]any{"deleted_at": nil, "updated_at": time.Now()}).Error
		}); err != nil {
			return err
		}
		ev.Details = map[string]string{"sku": p.SKU, "name": p.Name}
		return nil
	})
}

// Trashed returns the products in the trash, most recently trashed first (at most 200).
func (s *Products) Trashed(ctx context.Context) (ps []models.Product, err error) {
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Where("deleted_at IS NOT NULL").Order("deleted_at DESC, id").Limit(200).Find(&ps).Error; err != nil {
			return fmt.Errorf("products trash: %w", err)
		}
		return audit.Record(tx, audit.Event{Action: audit.ProductTrashList, Outcome: models.OutcomeAllowed})
	})
	return ps, err
}

// Warehouses are the tenant's warehouses, the default first, for forms to offer.
func (s *Products) Warehouses(ctx context.Context) (ws []models.Warehouse, err error) {
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		ws, err = warehouses(tx)
		return err
	})
	return ws, err
}

// Choices are the tenant's products outside the trash, by SKU, for the invoice editor to offer
// (at most 2,000: beyond that a person types the SKU).
func (s *Products) Choices(ctx context.Context) (ps []models.Product, err error) {
	err = tenant.Tx(ctx, s.db, func(tx *gorm.DB) error {
		return tx.Select("id", "sku", "name", "stocked").Where("deleted_at IS NULL").Order("lower(sku)").Limit(2000).Find(&ps).Error
	})
	return ps, err
}
