package handlers

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"moat/app/htmx"
	"moat/app/middleware"
	"moat/app/store"
	"moat/models"
	"moat/views/fragments"
	"moat/views/pages"
)

// APITokens serves the API tokens page of owners and admins.
type APITokens struct {
	Store *store.APITokens
	Now   func() time.Time
}

// ShowTokens lists the tenant's tokens and the form to make one.
func (h *APITokens) ShowTokens(c *fiber.Ctx) error {
	notice := ""
	if c.Query("notice") == "revoked" {
		notice = "The token was revoked: it no longer works."
	}
	return h.render(c, fiber.StatusOK, fragments.APITokensProps{Notice: notice, Input: models.APITokenInput{Customers: "read", ExpiresIn: 90}})
}

// CreateToken makes a token and shows its secret, this once. The page is not cached, so going
// back to it does not show the secret again.
func (h *APITokens) CreateToken(c *fiber.Ctx) error {
	days, _ := strconv.Atoi(c.FormValue("expires_in"))
	in := models.APITokenInput{
		Name:      utils.CopyString(c.FormValue("name")),
		Customers: utils.CopyString(c.FormValue("scope_customers")),
		Invoices:  utils.CopyString(c.FormValue("scope_invoices")),
		Products:  utils.CopyString(c.FormValue("scope_products")),
		ExpiresIn: days,
	}
	secret, t, err := h.Store.Create(c.UserContext(), in, h.Now())
	if errs, ok := fieldErrors(err); ok {
		return h.render(c, fiber.StatusUnprocessableEntity, fragments.APITokensProps{Input: in, Errors: errs})
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.render(c, fiber.StatusCreated, fragments.APITokensProps{Secret: secret, Made: t.Name, Input: models.APITokenInput{Customers: "read", ExpiresIn: 90}})
}

// RevokeToken stops a token at once.
func (h *APITokens) RevokeToken(c *fiber.Ctx) error {
	if err := h.Store.Revoke(c.UserContext(), utils.CopyString(c.Params("id")), h.Now()); err != nil {
		return err
	}
	return htmx.Redirect(c, "/settings/api-tokens?notice=revoked")
}

func (h *APITokens) render(c *fiber.Ctx, status int, props fragments.APITokensProps) error {
	tokens, err := h.Store.List(c.UserContext())
	if err != nil {
		return err
	}
	props.Tokens, props.Now, props.CSRF = tokens, h.Now(), middleware.CSRFToken(c)
	return htmx.Render(c, status, pages.APITokens(meta(c, "API tokens", "api"), props), fragments.APITokens(props))
}

// APIDocs serves the API's reference page over the OpenAPI document at spec. It needs no
// sign-in: it describes the API and holds no data.
func APIDocs(spec string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return htmx.Render(c, fiber.StatusOK, pages.APIDocs(spec), pages.APIDocs(spec))
	}
}
