package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"moat/app/auth"
	"moat/app/htmx"
	"moat/app/mail"
	"moat/app/middleware"
	"moat/models"
	"moat/views/pages"
)

// Auth serves signing up, signing in and out, choosing an organization, forgotten passwords and
// invitations: everything a person does before a tenant is theirs. Every answer about an email
// address is the same whatever Moat knows of it; only a link sent to the address says more.
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

// Signup emails the address a link that creates the organization, and says to check the inbox:
// the same answer whether or not the address is known to Moat.
func (h *Auth) Signup(c *fiber.Ctx) error {
	in := models.SignUpInput{
		Organization: utils.CopyString(c.FormValue("organization")),
		Name:         utils.CopyString(c.FormValue("name")),
		Email:        utils.CopyString(c.FormValue("email")),
		Password:     c.FormValue("password"),
	}
	_, err := h.Service.RequestSignUp(c.UserContext(), in)
	if errs, ok := fieldErrors(err); ok {
		in.Password = ""
		page := pages.Signup(meta(c, "Create your organization", ""), pages.SignupProps{Input: in, Errors: errs})
		return htmx.Render(c, fiber.StatusUnprocessableEntity, page, page)
	}
	if err != nil {
		return err
	}
	return htmx.FullRedirect(c, "/signup/sent")
}

// ShowSignupSent says a sign-up link is on its way.
func (h *Auth) ShowSignupSent(c *fiber.Ctx) error {
	page := pages.CheckInbox(meta(c, "Check your inbox", ""), "create your organization")
	return htmx.Render(c, fiber.StatusOK, page, page)
}

// ShowConfirmSignup asks to confirm the organization a sign-up link is for. It reads nothing: a
// GET changes nothing, and the confirmation says whether the link is good.
func (h *Auth) ShowConfirmSignup(c *fiber.Ctx) error {
	page := pages.ConfirmSignup(meta(c, "Create your organization", ""), "/signup/confirm/"+c.Params("token"))
	return htmx.Render(c, fiber.StatusOK, page, page)
}

// ConfirmSignup creates the organization and signs its owner in.
func (h *Auth) ConfirmSignup(c *fiber.Ctx) error {
	su, err := h.Service.ConfirmSignUp(c.UserContext(), utils.CopyString(c.Params("token")))
	if errors.Is(err, auth.ErrLinkInvalid) {
		return h.linkInvalid(c, "/signup", "Sign up again")
	}
	if err != nil {
		return err
	}
	if err := h.Sessions.Start(c, su.Principal); err != nil {
		return err
	}
	return htmx.FullRedirect(c, "/customers")
}

func (h *Auth) linkInvalid(c *fiber.Ctx, again, label string) error {
	page := pages.LinkInvalid(meta(c, "This link no longer works", ""), again, label)
	return htmx.Render(c, fiber.StatusGone, page, page)
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
	case c.Query("reset") != "":
		props.Notice = "Your password was changed. Sign in with the new one."
	}
	page := pages.Login(meta(c, "Sign in", ""), props)
	return htmx.Render(c, fiber.StatusOK, page, page)
}

// Login signs a person in with a new session id and sends them to the page they wanted, or,
// when their account belongs to several organizations, to choose one. A refusal is a 401 with
// one generic message.
func (h *Auth) Login(c *fiber.Ctx) error {
	email := utils.CopyString(c.FormValue("email"))
	next := utils.CopyString(middleware.SafeNext(c.FormValue("next")))
	acc, err := h.Service.SignIn(c.UserContext(), email, c.FormValue("password"))
	if errors.Is(err, auth.ErrBadCredentials) {
		h.Failures.Inc()
		page := pages.Login(meta(c, "Sign in", ""), pages.LoginProps{Email: email, Next: next, Error: "The email or password is incorrect."})
		return htmx.Render(c, fiber.StatusUnauthorized, page, page)
	}
	if err != nil {
		return err
	}
	if len(acc.Memberships) > 1 {
		if err := h.Sessions.Choose(c, acc); err != nil {
			return err
		}
		return htmx.FullRedirect(c, "/login/organization")
	}
	return h.enter(c, acc, acc.Memberships[0], next)
}

func (h *Auth) enter(c *fiber.Ctx, acc auth.Account, m auth.Membership, next string) error {
	p, closing, err := h.Service.Enter(c.UserContext(), acc, m)
	if err == nil {
		err = h.Sessions.Start(c, p) // refused too if the closing came meanwhile
	}
	if errors.Is(err, auth.ErrClosing) {
		return closingRefusal(c, acc.Email, m.Organization)
	}
	if err != nil {
		return err
	}
	if closing {
		next = "/settings/organization" // where an owner reopens it
	}
	return htmx.FullRedirect(c, orDefault(next, "/customers"))
}

// ShowChooseOrganization lists the organizations the account that just signed in may enter.
func (h *Auth) ShowChooseOrganization(c *fiber.Ctx) error {
	return h.choose(c, fiber.StatusOK, "")
}

func (h *Auth) choose(c *fiber.Ctx, status int, problem string) error {
	acc, ok := h.Sessions.Choosing(c)
	if !ok {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	props := pages.ChooseProps{Error: problem}
	for _, m := range acc.Memberships {
		props.Choices = append(props.Choices, pages.Choice{Membership: m.UserID.String(), Organization: m.Organization, Role: string(m.Role)})
	}
	page := pages.ChooseOrganization(meta(c, "Choose an organization", ""), props)
	return htmx.Render(c, status, page, page)
}

// ChooseOrganization signs the account in to the organization chosen: one of those kept in its
// session, never one the request names otherwise.
func (h *Auth) ChooseOrganization(c *fiber.Ctx) error {
	acc, ok := h.Sessions.Choosing(c)
	if !ok {
		return htmx.FullRedirect(c, "/login")
	}
	chosen := c.FormValue("membership")
	for _, m := range acc.Memberships {
		if m.UserID.String() == chosen {
			return h.enter(c, acc, m, "")
		}
	}
	return h.choose(c, fiber.StatusUnprocessableEntity, "Choose one of the organizations listed.")
}

// Logout ends the session on the server.
func (h *Auth) Logout(c *fiber.Ctx) error {
	if err := h.Sessions.End(c); err != nil {
		return err
	}
	return htmx.FullRedirect(c, "/login")
}

// ShowForgot asks for the address to send a password reset link to.
func (h *Auth) ShowForgot(c *fiber.Ctx) error {
	page := pages.Forgot(meta(c, "Forgot your password?", ""), pages.ForgotProps{})
	return htmx.Render(c, fiber.StatusOK, page, page)
}

// Forgot emails the address a reset link and says to check the inbox, for any address alike.
func (h *Auth) Forgot(c *fiber.Ctx) error {
	in := models.EmailInput{Email: utils.CopyString(c.FormValue("email"))}
	_, err := h.Service.RequestPasswordReset(c.UserContext(), in)
	if errs, ok := fieldErrors(err); ok {
		page := pages.Forgot(meta(c, "Forgot your password?", ""), pages.ForgotProps{Email: in.Email, Errors: errs})
		return htmx.Render(c, fiber.StatusUnprocessableEntity, page, page)
	}
	if err != nil {
		return err
	}
	return htmx.FullRedirect(c, "/password/sent")
}

// ShowPasswordSent says a reset link is on its way.
func (h *Auth) ShowPasswordSent(c *fiber.Ctx) error {
	page := pages.CheckInbox(meta(c, "Check your inbox", ""), "choose a new password")
	return htmx.Render(c, fiber.StatusOK, page, page)
}

// ShowReset shows the new-password form of a reset link.
func (h *Auth) ShowReset(c *fiber.Ctx) error {
	return h.reset(c, fiber.StatusOK, nil)
}

func (h *Auth) reset(c *fiber.Ctx, status int, errs map[string]string) error {
	page := pages.ResetPassword(meta(c, "Choose a new password", ""),
		pages.NewPasswordProps{Action: "/password/reset/" + c.Params("token"), Errors: errs})
	return htmx.Render(c, status, page, page)
}

// Reset gives the link's account the new password, ends its sessions and asks to sign in.
func (h *Auth) Reset(c *fiber.Ctx) error {
	in := models.NewPasswordInput{New: c.FormValue("new_password"), Confirm: c.FormValue("confirm_password")}
	err := h.Service.ResetPassword(c.UserContext(), utils.CopyString(c.Params("token")), in)
	if errs, ok := fieldErrors(err); ok {
		return h.reset(c, fiber.StatusUnprocessableEntity, errs)
	}
	if errors.Is(err, auth.ErrLinkInvalid) {
		return h.linkInvalid(c, "/password/forgot", "Ask for a new link")
	}
	if err != nil {
		return err
	}
	return htmx.FullRedirect(c, "/login?reset=1")
}

// ShowInvitation shows the invitation of a link, to accept it.
func (h *Auth) ShowInvitation(c *fiber.Ctx) error {
	return h.invitation(c, fiber.StatusOK, nil)
}

func (h *Auth) invitation(c *fiber.Ctx, status int, errs map[string]string) error {
	tok := utils.CopyString(c.Params("token"))
	inv, err := h.Service.Invitation(c.UserContext(), tok)
	if errors.Is(err, auth.ErrLinkInvalid) {
		return h.linkInvalid(c, "/login", "Sign in")
	}
	if err != nil {
		return err
	}
	page := pages.Invitation(meta(c, "Join "+inv.Organization, ""), pages.InvitationProps{
		Action: "/invitations/" + tok, Organization: inv.Organization, Role: string(inv.Role), Email: inv.Email,
		AccountExists: inv.AccountExists, Errors: errs,
	})
	return htmx.Render(c, status, page, page)
}

// AcceptInvitation joins the invitation's organization and signs the person in there.
func (h *Auth) AcceptInvitation(c *fiber.Ctx) error {
	in := models.NewPasswordInput{New: c.FormValue("new_password"), Confirm: c.FormValue("confirm_password")}
	p, err := h.Service.AcceptInvitation(c.UserContext(), utils.CopyString(c.Params("token")), c.FormValue("password"), in)
	if errs, ok := fieldErrors(err); ok {
		return h.invitation(c, fiber.StatusUnprocessableEntity, errs)
	}
	if errors.Is(err, auth.ErrLinkInvalid) {
		return h.linkInvalid(c, "/login", "Sign in")
	}
	if err != nil {
		return err
	}
	if err := h.Sessions.Start(c, p); errors.Is(err, auth.ErrClosing) {
		return closingRefusal(c, p.Email, "The organization")
	} else if err != nil {
		return err
	}
	return htmx.FullRedirect(c, "/customers")
}

// closingRefusal answers a sign-in to a closing organization by someone other than an owner.
func closingRefusal(c *fiber.Ctx, email, org string) error {
	page := pages.Login(meta(c, "Sign in", ""), pages.LoginProps{Email: email,
		Error: org + " is closing: until it is deleted, only its owners can sign in, to reopen it."})
	return htmx.Render(c, fiber.StatusForbidden, page, page)
}

// Outbox shows the mail Moat would have sent: development only, in place of a mail server.
type Outbox struct{ Pool *pgxpool.Pool }

// ShowOutbox lists the newest mail.
func (h *Outbox) ShowOutbox(c *fiber.Ctx) error {
	recent, err := mail.Recent(c.UserContext(), h.Pool, 50)
	if err != nil {
		return err
	}
	mails := make([]pages.Mail, len(recent))
	for i, q := range recent {
		mails[i] = pages.Mail{To: q.To, Subject: q.Subject, Body: q.Body, At: q.At}
	}
	page := pages.Outbox(meta(c, "Outbox", ""), mails)
	return htmx.Render(c, fiber.StatusOK, page, page)
}

func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
