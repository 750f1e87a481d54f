package server_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// createProduct adds a stocked product with sku and returns its id.
func (c *client) createProduct(sku string) string {
	c.t.Helper()
	res, body := c.do("POST", "/products", c.form("sku", sku, "name", "Product "+sku, "sale_price", "25", "currency", "EUR", "tax_rate", "20",
		"unit", "pc", "stocked", "1"))
	loc := res.Header.Get("Location")
	if res.StatusCode != fiber.StatusSeeOther || !strings.HasPrefix(loc, "/products/") {
		c.t.Fatalf("create product %s: %d %q\n%s", sku, res.StatusCode, loc, body)
	}
	return strings.TrimPrefix(loc, "/products/")
}

// trashedProduct adds a product and moves it to the trash.
func (c *client) trashedProduct(sku string) string {
	c.t.Helper()
	id := c.createProduct(sku)
	if res, body := c.do("POST", "/products/"+id+"/delete", c.form("confirm", "yes")); res.StatusCode != fiber.StatusSeeOther {
		c.t.Fatalf("trash product %s: %d\n%s", sku, res.StatusCode, body)
	}
	return id
}

var warehouseLink = regexp.MustCompile(`action="/warehouses/([0-9a-f-]{36})"`)

// warehouse adds a warehouse named name and returns its id.
func (c *client) warehouse(name string) string {
	c.t.Helper()
	if res, body := c.do("POST", "/warehouses", c.form("name", name)); res.StatusCode != fiber.StatusSeeOther {
		c.t.Fatalf("add warehouse %s: %d\n%s", name, res.StatusCode, body)
	}
	_, body := c.do("GET", "/warehouses", "")
	ids := warehouseLink.FindAllStringSubmatch(body, -1)
	for _, m := range ids {
		if strings.Contains(body, `id="rename-`+m[1]+`" name="name" value="`+name+`"`) {
			return m[1]
		}
	}
	c.t.Fatalf("warehouse %s is not listed:\n%s", name, body)
	return ""
}

// receive records a receipt of quantity units of the product with id in the default warehouse.
func (c *client) receive(id, quantity string) {
	c.t.Helper()
	if res, body := c.do("POST", "/products/"+id+"/stock", c.form("kind", "receipt", "quantity", quantity, "unit_cost", "10")); res.StatusCode != fiber.StatusSeeOther {
		c.t.Fatalf("receive %s of %s: %d\n%s", quantity, id, res.StatusCode, body)
	}
}

var reverseLink = regexp.MustCompile(`action="/stock/movements/([0-9a-f-]{36})/reverse"`)

// movement receives goods of a new product and returns the receipt's id.
func (c *client) movement() string {
	c.t.Helper()
	id := c.createProduct("MOVE-" + suffix())
	c.receive(id, "3")
	_, body := c.do("GET", "/products/"+id, "")
	m := reverseLink.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("the product's page offers no reversal:\n%s", body)
	}
	return m[1]
}

// Stock through the forms a browser without JavaScript posts: a receipt without a warehouse
// chosen goes to the default one, a draft line names the product by SKU and reserves, asking for
// more than is available is a 422 on the line with the form kept, and the product's page shows
// what is reserved.
func TestStockThroughTheForms(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	product := c.createProduct("DESK-1")
	c.receive(product, "5")
	customer := c.createCustomer("Grace Hopper")
	draft := func(q string) (int, string) {
		res, body := c.do("POST", "/invoices", c.form("customer_id", customer, "currency", "EUR", "payment_terms", "30", "exchange_rate", "1",
			"line_sku", "desk-1", "line_quantity", q, "line_description", "", "line_unit_price", "", "line_tax_rate", ""))
		return res.StatusCode, body
	}
	if status, body := draft("6"); status != fiber.StatusUnprocessableEntity || !strings.Contains(body, "Only 5 pc available in Main warehouse.") ||
		!strings.Contains(body, `value="6"`) {
		t.Fatalf("a draft of 6 of 5: %d\n%s", status, body)
	}
	if status, body := draft("2"); status != fiber.StatusSeeOther {
		t.Fatalf("a draft of 2: %d\n%s", status, body)
	}
	_, body := c.do("GET", "/products/"+product, "")
	if !strings.Contains(body, "5 pc on hand, <strong>3 available</strong>") {
		t.Fatalf("the product's page after a draft of 2:\n%s", body)
	}
	res, body := c.do("POST", "/products/"+product+"/stock", c.form("kind", "adjustment", "quantity", "-1"))
	if res.StatusCode != fiber.StatusUnprocessableEntity || !strings.Contains(body, "an adjustment or count needs a reason") {
		t.Fatalf("an adjustment without a reason: %d\n%s", res.StatusCode, body)
	}
}

// A refusal that names a field other than the invoice (here its customer, in the trash) still
// says why on the invoice's page, and leaves no credit note behind.
func TestCreditRefusalSaysWhy(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	id := c.issuedInvoice()
	_, page := c.do("GET", "/invoices/"+id, "")
	customer := regexp.MustCompile(`href="/customers/([0-9a-f-]{36})"`).FindStringSubmatch(page)
	if customer == nil {
		t.Fatalf("the invoice page links no customer:\n%s", page)
	}
	if res, _ := c.do("POST", "/customers/"+customer[1]+"/delete", c.form()); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("trash the customer: %d", res.StatusCode)
	}
	res, body := c.do("POST", "/invoices/"+id+"/credit", c.form("confirm", "yes"))
	if res.StatusCode != fiber.StatusUnprocessableEntity || !strings.Contains(body, "The customer is in the trash") {
		t.Fatalf("crediting an invoice of a trashed customer: %d\n%s", res.StatusCode, body)
	}
	if _, list := c.do("GET", "/invoices?q=CN-", ""); strings.Contains(list, `data-testid="invoice-row"`) {
		t.Fatal("a refused credit left a credit note")
	}
}
