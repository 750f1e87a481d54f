package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"moat/app/keyset"
	"moat/app/money"
	"moat/app/store"
	"moat/models"
)

// Product is goods (stocked) or a service. Prices are decimal strings in its currency;
// quantities are decimal strings in its unit.
type Product struct {
	ID           string    `json:"id" format:"uuid"`
	SKU          string    `json:"sku"`
	Name         string    `json:"name"`
	Unit         string    `json:"unit"`
	SalePrice    string    `json:"sale_price"`
	Currency     string    `json:"currency" doc:"ISO 4217"`
	TaxRate      string    `json:"tax_rate" doc:"Percent"`
	Stocked      bool      `json:"stocked" doc:"Goods are stocked; a service moves nothing"`
	ReorderLevel string    `json:"reorder_level"`
	Description  string    `json:"description"`
	Tags         []Tag     `json:"tags"`
	OnHand       string    `json:"on_hand" doc:"In every warehouse together"`
	Available    string    `json:"available" doc:"On hand less what drafts reserve"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ProductDetail is a product with its stock per warehouse and its latest movements.
type ProductDetail struct {
	Product
	Stock     []Stock    `json:"stock"`
	Movements []Movement `json:"movements" doc:"The latest 50, newest first"`
}

// Stock is a product's stock in one warehouse.
type Stock struct {
	WarehouseID string `json:"warehouse_id" format:"uuid"`
	Warehouse   string `json:"warehouse"`
	OnHand      string `json:"on_hand"`
	Reserved    string `json:"reserved"`
	Available   string `json:"available"`
}

// Movement is one entry of a product's stock ledger.
type Movement struct {
	ID          string `json:"id" format:"uuid"`
	WarehouseID string `json:"warehouse_id" format:"uuid"`
	Quantity    string `json:"quantity" doc:"Signed: in is positive"`
	Reason      string `json:"reason" enum:"receipt,adjustment,count,transfer,sale,void,return,reversal"`
	Note        string `json:"note"`
	OccurredOn  string `json:"occurred_on" format:"date"`
	OnHandAfter string `json:"on_hand_after"`
}

// ProductFields are a product's editable fields: a create fills those it leaves out with
// defaults; an update changes only those it names.
type ProductFields struct {
	SKU          *string   `json:"sku,omitempty" doc:"Unique outside the trash; required on create"`
	Name         *string   `json:"name,omitempty" doc:"Required on create"`
	Unit         *string   `json:"unit,omitempty" doc:"pc when left out"`
	SalePrice    *string   `json:"sale_price,omitempty"`
	Currency     *string   `json:"currency,omitempty" doc:"ISO 4217; EUR when left out"`
	TaxRate      *string   `json:"tax_rate,omitempty" doc:"Percent"`
	Stocked      *bool     `json:"stocked,omitempty" doc:"true when left out on create; fixed once it has stock records"`
	ReorderLevel *string   `json:"reorder_level,omitempty"`
	Description  *string   `json:"description,omitempty"`
	Tags         *[]string `json:"tags,omitempty" maxItems:"50" doc:"Tag ids; an update replaces the product's tags"`
}

func (f ProductFields) apply(in *models.ProductInput) {
	for dst, v := range map[*string]*string{&in.SKU: f.SKU, &in.Name: f.Name, &in.Unit: f.Unit, &in.SalePrice: f.SalePrice,
		&in.Currency: f.Currency, &in.TaxRate: f.TaxRate, &in.ReorderLevel: f.ReorderLevel, &in.Description: f.Description} {
		if v != nil {
			*dst = *v
		}
	}
	if f.Stocked != nil {
		in.Stocked = *f.Stocked
	}
	if f.Tags != nil {
		in.TagIDs = *f.Tags
	}
}

var productFields = fieldNames{names: map[string]string{"tag": "tags"}}

func productOf(p models.Product, onHand, available string) Product {
	return Product{ID: p.ID.String(), SKU: p.SKU, Name: p.Name, Unit: p.Unit, SalePrice: money.Trim(p.SalePrice), Currency: p.Currency,
		TaxRate: money.Trim(p.TaxRate), Stocked: p.Stocked, ReorderLevel: money.Trim(p.ReorderLevel), Description: p.Description,
		Tags: tagsOf(p.Tags), OnHand: money.Trim(onHand), Available: money.Trim(available), CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

func productDetailOf(d store.ProductDetail) ProductDetail {
	out := ProductDetail{Product: productOf(d.Product, d.OnHand, d.Available), Stock: []Stock{}, Movements: []Movement{}}
	for _, b := range d.Balances {
		out.Stock = append(out.Stock, Stock{WarehouseID: b.WarehouseID.String(), Warehouse: b.Warehouse, OnHand: money.Trim(b.OnHand),
			Reserved: money.Trim(b.Reserved), Available: money.Trim(b.Available())})
	}
	for _, m := range d.Movements {
		out.Movements = append(out.Movements, Movement{ID: m.ID.String(), WarehouseID: m.WarehouseID.String(), Quantity: money.Trim(m.Quantity),
			Reason: string(m.Reason), Note: m.Note, OccurredOn: m.OccurredOn.Format(time.DateOnly), OnHandAfter: money.Trim(m.OnHandAfter)})
	}
	return out
}

type listProductsInput struct {
	Q    string `query:"q" maxLength:"200" doc:"A SKU's beginning, or part of the name"`
	Type string `query:"type" enum:"goods,services"`
	Low  bool   `query:"low" doc:"Stocked and at or below the reorder level"`
	Tag  string `query:"tag" format:"uuid"`
	Sort string `query:"sort" enum:"sku,name,updated" default:"sku"`
	Paging
}

// ProductList is one page of products.
type ProductList struct {
	Data []Product `json:"data"`
	Page
}

// ProductPath names a product.
type ProductPath struct {
	ID string `path:"id" doc:"The product's id"`
}

type productOutput struct {
	Location string `header:"Location"`
	Body     ProductDetail
}

// NewMovement is stock moved by hand.
type NewMovement struct {
	Kind        string `json:"kind" enum:"receipt,adjustment,count,transfer"`
	WarehouseID string `json:"warehouse_id,omitempty" doc:"The default warehouse when left out"`
	ToWarehouse string `json:"to_warehouse_id,omitempty" doc:"A transfer's destination"`
	Quantity    string `json:"quantity" doc:"Received, adjusted by (signed), counted (the new on-hand) or transferred"`
	UnitCost    string `json:"unit_cost,omitempty" doc:"A receipt's cost per unit, in the organization's base currency"`
	Note        string `json:"note,omitempty" doc:"Why: required for adjustments and counts"`
	OccurredOn  string `json:"occurred_on,omitempty" format:"date" doc:"Today when left out"`
}

// WarehouseList is the organization's warehouses.
type WarehouseList struct {
	Data []Warehouse `json:"data"`
}

// Warehouse is a place stock is kept.
type Warehouse struct {
	ID        string `json:"id" format:"uuid"`
	Name      string `json:"name"`
	IsDefault bool   `json:"is_default"`
}

func (a *api) products(h huma.API) {
	huma.Register(h, operation("list-products", http.MethodGet, "/products", "products", "read", "List products"),
		func(ctx context.Context, in *listProductsInput) (*struct{ Body ProductList }, error) {
			q := store.ProductQuery{ProductFilter: store.ProductFilter{Search: in.Q, Type: in.Type, Low: in.Low, Tag: in.Tag},
				Sort: in.Sort, Limit: in.Limit}
			if in.StartingAfter != "" {
				if _, ok := keyset.Decode(in.StartingAfter, in.Sort); !ok {
					return nil, badCursor()
				}
				q.After = in.StartingAfter
			}
			p, err := a.Products.List(ctx, q)
			if err != nil {
				return nil, a.fail(ctx, err, fieldNames{})
			}
			out := &struct{ Body ProductList }{Body: ProductList{Data: make([]Product, len(p.Products)), Page: page(p.Next)}}
			for i, r := range p.Products {
				out.Body.Data[i] = productOf(r.Product, r.OnHand, r.Available)
			}
			return out, nil
		})

	read := func(ctx context.Context, id string) (*productOutput, error) {
		d, err := a.Products.Get(ctx, id)
		if err == nil && d.DeletedAt != nil {
			err = models.ErrNotFound // the trash is the pages' business
		}
		return &productOutput{Body: productDetailOf(d)}, err
	}
	huma.Register(h, operation("get-product", http.MethodGet, "/products/{id}", "products", "read", "Get a product with its stock"),
		func(ctx context.Context, in *ProductPath) (*productOutput, error) {
			return written(a, ctx, productFields, func(context.Context) (string, error) { return in.ID, nil }, read)
		})
	write := func(ctx context.Context, w func(ctx context.Context) (string, error)) (*productOutput, error) {
		return written(a, ctx, productFields, w, read)
	}

	huma.Register(h, operation("create-product", http.MethodPost, "/products", "products", "write", "Create a product"),
		func(ctx context.Context, in *struct{ Body ProductFields }) (*productOutput, error) {
			fields := models.ProductInput{Stocked: true}
			in.Body.apply(&fields)
			out, err := write(ctx, func(ctx context.Context) (string, error) {
				p, err := a.Products.Create(ctx, fields)
				return p.ID.String(), err
			})
			if out != nil {
				out.Location = Prefix + "/products/" + out.Body.ID
			}
			return out, err
		})

	huma.Register(h, operation("update-product", http.MethodPatch, "/products/{id}", "products", "write", "Update a product"),
		func(ctx context.Context, in *struct {
			ProductPath
			Body ProductFields
		}) (*productOutput, error) {
			return write(ctx, func(ctx context.Context) (string, error) {
				_, err := a.Products.Patch(ctx, in.ID, in.Body.apply)
				return in.ID, err
			})
		})

	trash := operation("trash-product", http.MethodDelete, "/products/{id}", "products", "write", "Move a product to the trash")
	trash.DefaultStatus = http.StatusNoContent
	huma.Register(h, trash, func(ctx context.Context, in *ProductPath) (*noContent, error) {
		if err := a.Products.Trash(ctx, in.ID); err != nil {
			return nil, a.fail(ctx, err, productFields)
		}
		return &noContent{}, nil
	})

	restore := operation("restore-product", http.MethodPost, "/products/{id}/restore", "products", "write", "Restore a product from the trash")
	restore.DefaultStatus = http.StatusNoContent
	huma.Register(h, restore, func(ctx context.Context, in *ProductPath) (*noContent, error) {
		if err := a.Products.Restore(ctx, in.ID); err != nil {
			return nil, a.fail(ctx, err, productFields)
		}
		return &noContent{}, nil
	})

	huma.Register(h, operation("move-stock", http.MethodPost, "/products/{id}/movements", "products", "write", "Record a stock movement"),
		func(ctx context.Context, in *struct {
			ProductPath
			Body NewMovement
		}) (*productOutput, error) {
			return write(ctx, func(ctx context.Context) (string, error) {
				return in.ID, a.Products.Move(ctx, in.ID, models.StockInput{Kind: models.MovementReason(in.Body.Kind), WarehouseID: in.Body.WarehouseID,
					ToWarehouse: in.Body.ToWarehouse, Quantity: in.Body.Quantity, UnitCost: in.Body.UnitCost, Note: in.Body.Note,
					OccurredOn: in.Body.OccurredOn}, a.Now())
			})
		})

	huma.Register(h, operation("list-warehouses", http.MethodGet, "/warehouses", "products", "read", "List the warehouses"),
		func(ctx context.Context, _ *struct{}) (*struct{ Body WarehouseList }, error) {
			ws, err := a.Products.Warehouses(ctx)
			if err != nil {
				return nil, a.fail(ctx, err, fieldNames{})
			}
			out := &struct{ Body WarehouseList }{}
			out.Body.Data = make([]Warehouse, len(ws))
			for i, w := range ws {
				out.Body.Data[i] = Warehouse{ID: w.ID.String(), Name: w.Name, IsDefault: w.IsDefault}
			}
			return out, nil
		})
}
