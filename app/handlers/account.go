package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"moat/app/audit"
	"moat/app/auth"
	"moat/app/htmx"
	"moat/app/middleware"
	"moat/app/store"
	"moat/models"
	"moat/views/fragments"
	"moat/views/pages"
)

// Account serves a person's own account: their sessions and their password.
type Account struct {
	Service  *auth.Service
	List     *store.Sessions
	Sessions *middleware.Sessions
}

// ShowAccount lists the person's signed-in sessions and the password form.
func (h *Account) ShowAccount(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, noticeFrom(c), nil)
}

func (h *Account) render(c *fiber.Ctx, status int, notice string, pwErrors map[string]string) error {
	p, _ := auth.FromContext(c.UserContext())
	s := h.Sessions
	list, err := h.List.List(c.UserContext(), s.Now(), s.Idle, s.Absolute)
	if err != nil {
		return err
	}
	csrf := middleware.CSRFToken(c)
	props := fragments.AccountProps{
		Name: p.Name, Email: p.Email, Sessions: list, Current: p.SessionID.String(), Notice: notice, CSRF: csrf,
		Password: fragments.PasswordProps{Errors: pwErrors, CSRF: csrf},
	}
	page := pages.Account(meta(c, "Your account", "account"), props)
	return htmx.Render(c, status, page, fragments.Account(props))
}

// EndSession ends one of the person's other sessions.
func (h *Account) EndSession(c *fiber.Ctx) error {
	if err := h.List.End(c.UserContext(), audit.SessionEnd, utils.CopyString(c.Params("id")), "ended by the user"); err != nil {
		return err
	}
	return htmx.Redirect(c, "/account?notice=ended")
}

// EndOtherSessions ends every session of the person but this one.
func (h *Account) EndOtherSessions(c *fiber.Ctx) error {
	p, _ := auth.FromContext(c.UserContext())
	if _, err := h.List.EndOthers(c.UserContext(), p.SessionID); err != nil {
		return err
	}
	return htmx.Redirect(c, "/account?notice=ended")
}

// ChangePassword sets a new password, ends every other session of the person's account, in
// every organization, and gives this session a new id.
func (h *Account) ChangePassword(c *fiber.Ctx) error {
	p, _ := auth.FromContext(c.UserContext())
	in := models.PasswordChangeInput{
		Current: c.FormValue("current_password"), New: c.FormValue("new_password"), Confirm: c.FormValue("confirm_password"),
	}
	err := h.Service.ChangePassword(c.UserContext(), in)
	if errs, ok := fieldErrors(err); ok {
		return h.render(c, fiber.StatusUnprocessableEntity, "", errs)
	}
	if err != nil {
		return err
	}
	if err := h.Sessions.Renew(c, p); err != nil {
		return err
	}
	return htmx.FullRedirect(c, "/account?notice=password")
}

// noticeFrom turns a ?notice= code into the message shown after a redirect.
func noticeFrom(c *fiber.Ctx) string {
	return map[string]string{
		"ended":     "The session was ended.",
		"password":  "Your password was changed. Every other session was signed out.",
		"invited":   "The invitation was sent. It stays open for a week.",
		"withdrawn": "The invitation was withdrawn: its link no longer works.",
		"changed":   "The change was saved. It applies from their next click.",
	}[c.Query("notice")]
}
