package handlers

import (
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"

	"moat/app/auth"
	"moat/app/htmx"
	"moat/app/middleware"
	"moat/app/money"
	"moat/app/store"
	"moat/models"
	"moat/views/components"
	"moat/views/fragments"
	"moat/views/pages"
)

// Products serves the product, stock and warehouse pages.
type Products struct {
	Store *store.Products
	Tags  *store.Tags
	Now   func() time.Time
}

func (h *Products) today() time.Time { return h.Now().UTC() }

// ListProducts shows a page of products: filters, order and page come from the URL.
func (h *Products) ListProducts(c *fiber.Ctx) error {
	q := store.ProductQuery{ProductFilter: store.ProductFilter{Search: utils.CopyString(c.Query("q")), Type: utils.CopyString(c.Query("type")),
		Low: c.Query("low") == "1", Tag: utils.CopyString(c.Query("tag"))}, Sort: utils.CopyString(c.Query("sort")), After: utils.CopyString(c.Query("after"))}
	page, err := h.Store.List(c.UserContext(), q)
	if err != nil {
		return err
	}
	state := fragments.ProductListState{Search: page.Query.Search, Type: page.Query.Type, Sort: page.Query.Sort, Low: page.Query.Low, Tag: page.Query.Tag}
	props := fragments.ProductListProps{State: state, Count: page.Count, Capped: page.Count > store.CountCap,
		Pager: components.PagerProps{Page: 1, Target: "product-results"}}
	if !htmx.IsRequest(c) { // the filters are not swapped
		tags, err := h.Tags.List(c.UserContext())
		if err != nil {
			return err
		}
		for _, t := range tags {
			props.Tags = append(props.Tags, t.Tag)
		}
	}
	for _, r := range page.Products {
		props.Rows = append(props.Rows, productRow(r))
	}
	if page.Paged {
		props.Pager.Page, props.Pager.Prev, props.Pager.PrevLabel = 2, "/products"+productQuery(state, ""), "← First page"
	}
	if page.Next != "" {
		props.Pager.Next = "/products" + productQuery(state, page.Next)
	}
	return htmx.Render(c, fiber.StatusOK, pages.Products(meta(c, "Products", "products"), props), fragments.ProductResults(props))
}

func productRow(r store.ProductRow) fragments.ProductRowView {
	return fragments.ProductRowView{ID: r.ID.String(), SKU: r.SKU, Name: r.Name, Tags: r.Tags, Stocked: r.Stocked, Unit: r.Unit,
		Price: format(r.SalePrice, r.Currency), OnHand: money.Trim(r.OnHand), Available: money.Trim(r.Available), Low: r.Low()}
}

// productQuery is the list's state as a query string ("" or "?..."), with a cursor when given.
func productQuery(s fragments.ProductListState, after string) string {
	v := url.Values{}
	for k, val := range map[string]string{"q": s.Search, "type": s.Type, "tag": s.Tag, "after": after} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if s.Sort != "sku" {
		v.Set("sort", s.Sort)
	}
	if s.Low {
		v.Set("low", "1")
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// ShowProduct shows a product with its stock and ledger.
func (h *Products) ShowProduct(c *fiber.Ctx) error {
	return h.detail(c, fiber.StatusOK, utils.CopyString(c.Params("id")), models.StockInput{}, nil)
}

// detail renders a product's page with status; errs are the stock form's, a reversal's or a
// refused action's (under "product").
func (h *Products) detail(c *fiber.Ctx, status int, id string, in models.StockInput, errs map[string]string) error {
	d, err := h.Store.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	today := h.today().Format(time.DateOnly)
	p := fragments.ProductDetailProps{Product: d.Product, Price: format(d.SalePrice, d.Currency), OnHand: money.Trim(d.OnHand),
		Available: money.Trim(d.Available), Low: d.Stocked && money.Compare(d.Available, d.ReorderLevel) <= 0,
		Stock: in, Errors: errs, Problem: errs["product"], Currency: d.CostCurrency, Today: today, CSRF: middleware.CSRFToken(c)}
	p.Product.TaxRate, p.Product.ReorderLevel = money.Trim(d.TaxRate), money.Trim(d.ReorderLevel)
	if canSeeTrail(c) {
		p.CanReverse, p.Trail = true, "/audit?entity=product&record="+d.ID.String()
	}
	for _, w := range d.Warehouses {
		p.Warehouses = append(p.Warehouses, fragments.WarehouseChoice{ID: w.ID.String(), Name: w.Name, Default: w.IsDefault})
	}
	if p.Stock.Kind == "" {
		p.Stock = models.StockInput{Kind: models.ReasonReceipt, OccurredOn: today}
	}
	if p.Stock.WarehouseID == "" && len(p.Warehouses) > 0 {
		p.Stock.WarehouseID = p.Warehouses[0].ID
	}
	for _, b := range d.Balances {
		value := format(money.Product(b.OnHand, b.AvgCost), d.CostCurrency)
		p.Balances = append(p.Balances, fragments.BalanceView{Warehouse: b.Warehouse, OnHand: money.Trim(b.OnHand), Reserved: money.Trim(b.Reserved),
			Available: money.Trim(b.Available()), AvgCost: money.Trim(b.AvgCost), Value: value})
	}
	for _, m := range d.Movements {
		mv := fragments.MovementView{ID: m.ID.String(), Date: m.OccurredOn.Format(time.DateOnly), Reason: fragments.StockKindLabel(m.Reason),
			Warehouse: m.Warehouse, Quantity: signed(m.Quantity), UnitCost: money.Trim(m.UnitCost), After: money.Trim(m.OnHandAfter),
			Note: m.Note, Author: m.Author, Invoice: m.Invoice,
			Reversible: !m.Reversed && m.ReversesID == nil && m.InvoiceID == nil}
		if m.InvoiceID != nil {
			mv.InvoiceURL = "/invoices/" + m.InvoiceID.String()
		}
		p.Movements = append(p.Movements, mv)
	}
	frag := fragments.ProductDetail(p)
	return htmx.Render(c, status, pages.Page(meta(c, d.SKU, "products"), frag), frag)
}

// signed is a quantity with its sign: +5, -2.
func signed(q string) string {
	q = money.Trim(q)
	if money.Compare(q, "0") > 0 {
		return "+" + q
	}
	return q
}

// NewProduct shows the editor for a new product.
func (h *Products) NewProduct(c *fiber.Ctx) error {
	return h.form(c, fiber.StatusOK, fragments.ProductFormProps{Title: "New product", Action: "/products", Cancel: "/products",
		Input: models.ProductInput{Unit: "pc", Currency: "EUR", TaxRate: "20", ReorderLevel: "0", Stocked: true}})
}

func (h *Products) form(c *fiber.Ctx, status int, p fragments.ProductFormProps) error {
	p.CSRF, p.Currencies = middleware.CSRFToken(c), models.Currencies
	tags, err := h.Tags.List(c.UserContext())
	if err != nil {
		return err
	}
	for _, t := range tags {
		p.Tags = append(p.Tags, t.Tag)
	}
	return htmx.Render(c, status, pages.Page(meta(c, p.Title, "products"), fragments.ProductForm(p)), fragments.ProductForm(p))
}

// bindProduct reads the product form. It has no tenant, id or stock.
func bindProduct(c *fiber.Ctx) models.ProductInput {
	v := func(k string) string { return utils.CopyString(c.FormValue(k)) }
	in := models.ProductInput{SKU: v("sku"), Name: v("name"), Unit: v("unit"), SalePrice: v("sale_price"), Currency: v("currency"),
		TaxRate: v("tax_rate"), ReorderLevel: v("reorder_level"), Description: v("description"), Stocked: c.FormValue("stocked") != ""}
	for i, t := range c.Request().PostArgs().PeekMulti("tag") {
		if i > 50 {
			break // more than Validate allows: it says so
		}
		in.TagIDs = append(in.TagIDs, string(t))
	}
	return in
}

// CreateProduct adds a product, or re-renders the form with 422.
func (h *Products) CreateProduct(c *fiber.Ctx) error {
	in := bindProduct(c)
	typed := in
	p, err := h.Store.Create(c.UserContext(), in)
	if errs, ok := fieldErrors(err); ok {
		return h.form(c, fiber.StatusUnprocessableEntity, fragments.ProductFormProps{Title: "New product", Action: "/products", Cancel: "/products",
			Input: typed, Errors: errs})
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Product added.")
	return htmx.Redirect(c, "/products/"+p.ID.String())
}

// EditProduct shows a product's editor.
func (h *Products) EditProduct(c *fiber.Ctx) error {
	d, err := h.Store.Get(c.UserContext(), utils.CopyString(c.Params("id")))
	if err != nil {
		return err
	}
	u := "/products/" + d.ID.String()
	return h.form(c, fiber.StatusOK, fragments.ProductFormProps{Title: "Edit " + d.SKU, Action: u, Cancel: u, Input: models.ProductInputOf(d.Product)})
}

// UpdateProduct saves a product, or re-renders the form with 422.
func (h *Products) UpdateProduct(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	in := bindProduct(c)
	typed := in
	p, err := h.Store.Update(c.UserContext(), id, in)
	if errs, ok := fieldErrors(err); ok {
		u := "/products/" + models.CleanID(id)
		return h.form(c, fiber.StatusUnprocessableEntity, fragments.ProductFormProps{Title: "Edit product", Action: u, Cancel: u, Input: typed, Errors: errs})
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Product saved.")
	return htmx.Redirect(c, "/products/"+p.ID.String())
}

// asked reports whether the request confirmed its action; if not, it answers with a page asking
// to, for the product with id (an unknown id answers 404 like every route).
func (h *Products) asked(c *fiber.Ctx, id, action, title, text, button string) (bool, error) {
	if c.FormValue("confirm") == "yes" {
		return true, nil
	}
	d, err := h.Store.Get(c.UserContext(), id)
	if err != nil {
		return false, err
	}
	u := "/products/" + d.ID.String()
	return false, confirm(c, components.ConfirmProps{Title: title, Text: d.SKU + ": " + text, Action: u + "/" + action, Button: button, Cancel: u})
}

// TrashProduct moves a product without stock to the trash.
func (h *Products) TrashProduct(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	if ok, err := h.asked(c, id, "delete", "Move this product to the trash?", "It can be restored from the trash.", "Move to trash"); !ok {
		return err
	}
	if err := h.Store.Trash(c.UserContext(), id); err != nil {
		return h.refused(c, id, models.StockInput{}, err)
	}
	htmx.Toast(c, "Moved to the trash.")
	return htmx.Redirect(c, "/products")
}

// RestoreProduct takes a product out of the trash.
func (h *Products) RestoreProduct(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	if ok, err := h.asked(c, id, "restore", "Restore this product?", "It comes back to the list.", "Restore"); !ok {
		return err
	}
	if err := h.Store.Restore(c.UserContext(), id); err != nil {
		if errs, ok := fieldErrors(err); ok {
			return h.detail(c, fiber.StatusUnprocessableEntity, id, models.StockInput{}, map[string]string{"product": errs["sku"]})
		}
		return err
	}
	htmx.Toast(c, "Product restored.")
	return htmx.Redirect(c, "/products/"+models.CleanID(id))
}

// refused re-renders the product with 422 when err is a refusal.
func (h *Products) refused(c *fiber.Ctx, id string, in models.StockInput, err error) error {
	if errs, ok := fieldErrors(err); ok {
		return h.detail(c, fiber.StatusUnprocessableEntity, id, in, errs)
	}
	return err
}

// ShowTrash lists the products in the trash.
func (h *Products) ShowTrash(c *fiber.Ctx) error {
	ps, err := h.Store.Trashed(c.UserContext())
	if err != nil {
		return err
	}
	rows := make([]fragments.ProductRowView, len(ps))
	for i, p := range ps {
		rows[i] = fragments.ProductRowView{ID: p.ID.String(), SKU: p.SKU, Name: p.Name}
	}
	frag := fragments.ProductTrash(rows)
	return htmx.Render(c, fiber.StatusOK, pages.Page(meta(c, "Products in the trash", "products"), frag), frag)
}

// MoveStock records a receipt, adjustment, count or transfer, or re-renders the page with the
// form's errors.
func (h *Products) MoveStock(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	v := func(k string) string { return utils.CopyString(c.FormValue(k)) }
	in := models.StockInput{Kind: models.MovementReason(v("kind")), WarehouseID: v("warehouse"), ToWarehouse: v("to_warehouse"),
		Quantity: v("quantity"), UnitCost: v("unit_cost"), Note: v("note"), OccurredOn: v("occurred_on")}
	typed := in
	if err := h.Store.Move(c.UserContext(), id, in, h.today()); err != nil {
		return h.refused(c, id, typed, err)
	}
	htmx.Toast(c, "Stock recorded.")
	return htmx.Redirect(c, "/products/"+models.CleanID(id))
}

// ReverseMovement undoes a movement by hand with reversing movements.
func (h *Products) ReverseMovement(c *fiber.Ctx) error {
	product, err := h.Store.Reverse(c.UserContext(), utils.CopyString(c.Params("id")), utils.CopyString(c.FormValue("note")), h.today())
	if errs, ok := fieldErrors(err); ok && product != uuid.Nil {
		return h.detail(c, fiber.StatusUnprocessableEntity, product.String(), models.StockInput{}, errs)
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Movement reversed.")
	return htmx.Redirect(c, "/products/"+product.String())
}

// ShowWarehouses lists the warehouses with their stock value.
func (h *Products) ShowWarehouses(c *fiber.Ctx) error {
	return h.warehouses(c, fiber.StatusOK, "", nil)
}

func (h *Products) warehouses(c *fiber.Ctx, status int, name string, errs map[string]string) error {
	r, err := h.Store.Report(c.UserContext())
	if err != nil {
		return err
	}
	p := fragments.WarehousesProps{Total: format(r.Total, r.Currency), AllowNegative: r.AllowNegative, Name: name, Errors: errs,
		CSRF: middleware.CSRFToken(c)}
	if pr, ok := auth.FromContext(c.UserContext()); ok {
		p.CanSet = pr.Role == models.RoleOwner
	}
	for _, w := range r.Warehouses {
		p.Rows = append(p.Rows, fragments.WarehouseView{ID: w.ID.String(), Name: w.Name, Default: w.IsDefault, Products: w.Products,
			Value: format(w.Value, r.Currency)})
	}
	frag := fragments.Warehouses(p)
	return htmx.Render(c, status, pages.Page(meta(c, "Warehouses", "products"), frag), frag)
}

// CreateWarehouse adds a warehouse.
func (h *Products) CreateWarehouse(c *fiber.Ctx) error {
	name := utils.CopyString(c.FormValue("name"))
	_, err := h.Store.CreateWarehouse(c.UserContext(), name)
	if errs, ok := fieldErrors(err); ok {
		return h.warehouses(c, fiber.StatusUnprocessableEntity, name, errs)
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Warehouse added.")
	return htmx.Redirect(c, "/warehouses")
}

// UpdateWarehouse renames a warehouse and may make it the default.
func (h *Products) UpdateWarehouse(c *fiber.Ctx) error {
	err := h.Store.UpdateWarehouse(c.UserContext(), utils.CopyString(c.Params("id")), utils.CopyString(c.FormValue("name")), c.FormValue("default") == "1")
	if errs, ok := fieldErrors(err); ok {
		return h.warehouses(c, fiber.StatusUnprocessableEntity, "", map[string]string{"warehouse": errs["name"]})
	}
	if err != nil {
		return err
	}
	htmx.Toast(c, "Warehouse saved.")
	return htmx.Redirect(c, "/warehouses")
}

// SetNegativeStock saves whether the organization may sell stock it does not have.
func (h *Products) SetNegativeStock(c *fiber.Ctx) error {
	if err := h.Store.SetNegativeStock(c.UserContext(), c.FormValue("allow_negative") == "1"); err != nil {
		return err
	}
	htmx.Toast(c, "Setting saved.")
	return htmx.Redirect(c, "/warehouses")
}
