package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"moat/app/auth"
	"moat/app/htmx"
	"moat/app/middleware"
	"moat/app/store"
	"moat/models"
	"moat/views/fragments"
	"moat/views/pages"
)

// Team serves the team page of owners and admins.
type Team struct {
	Users    *store.Users
	Sessions *middleware.Sessions
}

// ShowTeam lists the tenant's people, its open invitations and the form to invite someone.
func (h *Team) ShowTeam(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, models.InviteInput{}, nil, noticeFrom(c), "")
}

func (h *Team) render(c *fiber.Ctx, status int, in models.InviteInput, errs map[string]string, notice, problem string) error {
	p, _ := auth.FromContext(c.UserContext())
	people, invited, err := h.Users.List(c.UserContext())
	if err != nil {
		return err
	}
	props := fragments.TeamProps{People: people, Invitations: invited, Me: p.UserID.String(), CanOwners: p.Role == models.RoleOwner,
		Input: in, Errors: errs, Notice: notice, Problem: problem, CSRF: middleware.CSRFToken(c)}
	return htmx.Render(c, status, pages.Team(meta(c, "Team", "team"), props), fragments.Team(props))
}

// Invite emails a person a link to join. The answer is the same whether or not the address is
// known to Moat elsewhere.
func (h *Team) Invite(c *fiber.Ctx) error {
	in := models.InviteInput{
		Name:  utils.CopyString(c.FormValue("name")),
		Email: utils.CopyString(c.FormValue("email")),
		Role:  models.Role(utils.CopyString(c.FormValue("role"))),
	}
	_, err := h.Users.Invite(c.UserContext(), in)
	if errs, ok := fieldErrors(err); ok {
		return h.render(c, fiber.StatusUnprocessableEntity, in, errs, "", "")
	}
	if err != nil {
		return err
	}
	return htmx.Redirect(c, "/team?notice=invited")
}

// RevokeInvitation withdraws an open invitation.
func (h *Team) RevokeInvitation(c *fiber.Ctx) error {
	if err := h.Users.RevokeInvitation(c.UserContext(), utils.CopyString(c.Params("id"))); err != nil {
		return err
	}
	return htmx.Redirect(c, "/team?notice=withdrawn")
}

// ChangeRole gives a person another role.
func (h *Team) ChangeRole(c *fiber.Ctx) error {
	return h.after(c, h.Users.ChangeRole(c.UserContext(), utils.CopyString(c.Params("id")), models.Role(utils.CopyString(c.FormValue("role")))))
}

// Deactivate stops a person from signing in.
func (h *Team) Deactivate(c *fiber.Ctx) error {
	return h.after(c, h.Users.Deactivate(c.UserContext(), utils.CopyString(c.Params("id")), h.Sessions.Now()))
}

// Reactivate lets a deactivated person sign in again.
func (h *Team) Reactivate(c *fiber.Ctx) error {
	return h.after(c, h.Users.Reactivate(c.UserContext(), utils.CopyString(c.Params("id"))))
}

// Remove deletes a person.
func (h *Team) Remove(c *fiber.Ctx) error {
	return h.after(c, h.Users.Remove(c.UserContext(), utils.CopyString(c.Params("id"))))
}

// after answers a team change: the refusals a person can act on are the team page again with
// the reason, 422; the rest go to the error handler (404 for ids not in the tenant).
func (h *Team) after(c *fiber.Ctx, err error) error {
	var invalid *models.ValidationError
	switch {
	case err == nil:
		// A change to oneself ended one's own sessions: sign in again.
		if p, _ := auth.FromContext(c.UserContext()); c.Params("id") == p.UserID.String() {
			return htmx.FullRedirect(c, "/login")
		}
		return htmx.Redirect(c, "/team?notice=changed")
	case errors.Is(err, models.ErrLastOwner):
		return h.render(c, fiber.StatusUnprocessableEntity, models.InviteInput{}, nil, "",
			"The team needs an active owner: make someone else an owner first.")
	case errors.Is(err, models.ErrForbidden):
		return h.render(c, fiber.StatusUnprocessableEntity, models.InviteInput{}, nil, "",
			"Only an owner can change an owner or grant the owner role.")
	case errors.As(err, &invalid):
		return h.render(c, fiber.StatusUnprocessableEntity, models.InviteInput{}, nil, "", "Choose one of the offered roles.")
	}
	return err
}
