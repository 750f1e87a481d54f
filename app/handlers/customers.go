package handlers

import (
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"moat/app/audit"
	"moat/app/htmx"
	"moat/app/middleware"
	"moat/app/store"
	"moat/models"
	"moat/views/components"
	"moat/views/fragments"
	"moat/views/pages"
)

// Customers serves the customer pages.
type Customers struct {
	Store   *store.Customers
	History *audit.Reader
}

// historyLength is how many events of a customer's history its page shows.
const historyLength = 50

// ListCustomers shows a page of customers, searched by q.
func (h *Customers) ListCustomers(c *fiber.Ctx) error {
	page, err := h.Store.List(c.UserContext(), store.ListQuery{
		Search: utils.CopyString(c.Query("q")),
		Page:   pageNumber(c),
		After:  utils.CopyString(c.Query("after")),
	})
	if err != nil {
		return err
	}
	props := fragments.CustomerListProps{
		Customers: page.Customers,
		Search:    page.Search,
		CSRF:      middleware.CSRFToken(c),
		Pager:     components.PagerProps{Page: page.Page, Target: "customer-results"},
	}
	if page.Page > 1 {
		props.Pager.Prev = listURL(page.Search, page.Page-1, "")
	}
	if page.Next != "" {
		props.Pager.Next = listURL(page.Search, page.Page+1, page.Next)
	}
	return htmx.Render(c, fiber.StatusOK, pages.Customers(meta(c, "Customers", "customers"), props), fragments.CustomerResults(props))
}

func listURL(search string, page int, after string) string {
	v := url.Values{}
	if search != "" {
		v.Set("q", search)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if after != "" {
		v.Set("after", after)
	}
	if len(v) == 0 {
		return "/customers"
	}
	return "/customers?" + v.Encode()
}

// ShowCustomer shows one customer, with who viewed and changed it.
func (h *Customers) ShowCustomer(c *fiber.Ctx) error {
	cust, err := h.Store.Get(c.UserContext(), utils.CopyString(c.Params("id")))
	if err != nil {
		return err
	}
	events, err := h.History.History(c.UserContext(), "customer", cust.ID.String(), historyLength)
	if err != nil {
		return err
	}
	frag := fragments.CustomerDetail(cust, middleware.CSRFToken(c), historyOf(events))
	return htmx.Render(c, fiber.StatusOK, pages.Page(meta(c, cust.Name, "customers"), frag), frag)
}

// NewCustomer shows the empty form.
func (h *Customers) NewCustomer(c *fiber.Ctx) error {
	return h.form(c, fiber.StatusOK, fragments.CustomerFormProps{Title: "New customer", Action: "/customers", Cancel: "/customers"})
}

// CreateCustomer adds a customer, or re-renders the form with 422.
func (h *Customers) CreateCustomer(c *fiber.Ctx) error {
	in := bindCustomer(c)
	cust, err := h.Store.Create(c.UserContext(), in)
	if errs, ok := fieldErrors(err); ok {
		return h.form(c, fiber.StatusUnprocessableEntity, fragments.CustomerFormProps{
			Title: "New customer", Action: "/customers", Cancel: "/customers", Input: in, Errors: errs,
		})
	}
	if err != nil {
		return err
	}
	return htmx.Redirect(c, "/customers/"+cust.ID.String())
}

// EditCustomer shows the filled form.
func (h *Customers) EditCustomer(c *fiber.Ctx) error {
	cust, err := h.Store.Get(c.UserContext(), utils.CopyString(c.Params("id")))
	if err != nil {
		return err
	}
	return h.form(c, fiber.StatusOK, editProps(cust, models.CustomerInput{
		Name: cust.Name, Email: cust.Email, Phone: cust.Phone, Company: cust.Company, Notes: cust.Notes,
	}, nil))
}

// UpdateCustomer saves an edit (POST or PUT), or re-renders the form with 422.
func (h *Customers) UpdateCustomer(c *fiber.Ctx) error {
	in := bindCustomer(c)
	cust, err := h.Store.Update(c.UserContext(), utils.CopyString(c.Params("id")), in)
	if errs, ok := fieldErrors(err); ok {
		return h.form(c, fiber.StatusUnprocessableEntity, editProps(cust, in, errs))
	}
	if err != nil {
		return err
	}
	return htmx.Redirect(c, "/customers/"+cust.ID.String())
}

// DeleteCustomer removes a customer. The plain form's POST goes back to the list; htmx's
// DELETE from a list row gets an empty 200, so the row disappears in place.
func (h *Customers) DeleteCustomer(c *fiber.Ctx) error {
	if err := h.Store.Delete(c.UserContext(), utils.CopyString(c.Params("id"))); err != nil {
		return err
	}
	if c.Method() == fiber.MethodDelete && htmx.IsRequest(c) {
		return c.SendString("")
	}
	return htmx.Redirect(c, "/customers")
}

func (h *Customers) form(c *fiber.Ctx, status int, p fragments.CustomerFormProps) error {
	p.CSRF = middleware.CSRFToken(c)
	return htmx.Render(c, status, pages.CustomerForm(meta(c, p.Title, "customers"), p), fragments.CustomerForm(p))
}

func editProps(cust models.Customer, in models.CustomerInput, errs map[string]string) fragments.CustomerFormProps {
	u := "/customers/" + cust.ID.String()
	return fragments.CustomerFormProps{Title: "Edit " + cust.Name, Action: u, HXPut: true, Cancel: u, Input: in, Errors: errs}
}

// bindCustomer reads the customer fields from a form or JSON body into a struct that has no
// tenant and no id. A body that does not parse binds nothing, so validation reports it.
func bindCustomer(c *fiber.Ctx) models.CustomerInput {
	var in models.CustomerInput
	if err := c.BodyParser(&in); err != nil {
		return models.CustomerInput{}
	}
	in.Name = utils.CopyString(in.Name)
	in.Email = utils.CopyString(in.Email)
	in.Phone = utils.CopyString(in.Phone)
	in.Company = utils.CopyString(in.Company)
	in.Notes = utils.CopyString(in.Notes)
	return in
}

// historyOf turns audit events into history lines, with each change's before and after.
func historyOf(events []audit.Entry) []fragments.HistoryEntry {
	out := make([]fragments.HistoryEntry, 0, len(events))
	for _, e := range events {
		h := fragments.HistoryEntry{When: e.OccurredAt, Who: e.UserName, Action: e.Action, Outcome: e.Outcome}
		var changes map[string]struct{ From, To string }
		if e.Outcome == models.OutcomeAllowed && json.Unmarshal(e.Details, &changes) == nil {
			for _, field := range []string{"name", "email", "phone", "company", "notes"} {
				if ch, ok := changes[field]; ok {
					h.Changes = append(h.Changes, fragments.Change{Field: field, From: ch.From, To: ch.To})
				}
			}
		}
		out = append(out, h)
	}
	return out
}
