package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/prometheus/client_golang/prometheus"

	"moat/app/auth"
	"moat/app/htmx"
	"moat/app/middleware"
	"moat/models"
	"moat/views/pages"
)

// Auth serves sign-up, sign-in and sign-out.
type Auth struct {
	Service  *auth.Service
	Sessions *middleware.Sessions
	Failures prometheus.Counter // refused sign-ins, for operators
}

// signedIn reports whether the request already has a signed-in session.
func signedIn(c *fiber.Ctx) bool {
	_, ok := auth.FromContext(c.UserContext())
	return ok
}

// ShowSignup shows the sign-up form.
func (h *Auth) ShowSignup(c *fiber.Ctx) error {
	if signedIn(c) {
		return c.Redirect("/customers", fiber.StatusSeeOther)
	}
	page := pages.Signup(meta(c, "Create your organization", ""), pages.SignupProps{})
	return htmx.Render(c, fiber.StatusOK, page, page)
}

// Signup creates an organization and its owner, and signs the owner in.
func (h *Auth) Signup(c *fiber.Ctx) error {
	in := models.SignUpInput{
		Organization: utils.CopyString(c.FormValue("organization")),
		Name:         utils.CopyString(c.FormValue("name")),
		Email:        utils.CopyString(c.FormValue("email")),
		Password:     c.FormValue("password"),
	}
	p, err := h.Service.SignUp(c.UserContext(), in)
	if errs, ok := fieldErrors(err); ok {
		in.Password = ""
		page := pages.Signup(meta(c, "Create your organization", ""), pages.SignupProps{Input: in, Errors: errs})
		return htmx.Render(c, fiber.StatusUnprocessableEntity, page, page)
	}
	if err != nil {
		return err
	}
	if err := h.Sessions.Start(c, p); err != nil {
		return err
	}
	return htmx.FullRedirect(c, "/customers")
}

// ShowLogin shows the sign-in form, with a notice when a session just expired, and remembers
// the page to return to.
func (h *Auth) ShowLogin(c *fiber.Ctx) error {
	next := middleware.SafeNext(c.Query("next"))
	if signedIn(c) {
		return c.Redirect(orDefault(next, "/customers"), fiber.StatusSeeOther)
	}
	props := pages.LoginProps{Next: utils.CopyString(next)}
	switch {
	case c.Query("expired") != "":
		props.Notice = "Your session expired. Please sign in again."
	case c.Query("signed_out") != "":
		props.Notice = "You have signed out."
	}
	page := pages.Login(meta(c, "Sign in", ""), props)
	return htmx.Render(c, fiber.StatusOK, page, page)
}

// Login signs a person in with a new session id and sends them to the page they wanted, or
// answers 401 with one generic message.
func (h *Auth) Login(c *fiber.Ctx) error {
	email := utils.CopyString(c.FormValue("email"))
	next := utils.CopyString(middleware.SafeNext(c.FormValue("next")))
	p, err := h.Service.SignIn(c.UserContext(), email, c.FormValue("password"))
	if errors.Is(err, auth.ErrBadCredentials) {
		h.Failures.Inc()
		page := pages.Login(meta(c, "Sign in", ""), pages.LoginProps{Email: email, Next: next, Error: "The email or password is incorrect."})
		return htmx.Render(c, fiber.StatusUnauthorized, page, page)
	}
	if err != nil {
		return err
	}
	if err := h.Sessions.Start(c, p); err != nil {
		return err
	}
	if p.MustChangePassword {
		next = middleware.PasswordPage
	}
	return htmx.FullRedirect(c, orDefault(next, "/customers"))
}

// Logout ends the session on the server.
func (h *Auth) Logout(c *fiber.Ctx) error {
	if err := h.Sessions.End(c); err != nil {
		return err
	}
	return htmx.FullRedirect(c, "/login")
}

func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
