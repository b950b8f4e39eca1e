package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"accute/internal/auth"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
	invitationsview "accute/views/pages/invitations"
)

// invitePurpose names the invitation token held in the session.
const invitePurpose = "invite"

// InvitationsShow is where the invitation e-mail's link leads. The token
// is moved from the address into the session at once, so it never stays
// in a URL, a log line, the browser history or a Referer; the page then
// adapts to who is (or is not) signed in.
func (h *Handlers) InvitationsShow(c echo.Context) error {
	ctx := c.Request().Context()
	c.Response().Header().Set("Cache-Control", "no-store")
	if token := c.QueryParam("token"); token != "" {
		h.Sessions.HoldToken(ctx, invitePurpose, token)
		return c.Redirect(http.StatusSeeOther, "/invitations/accept")
	}
	token := h.Sessions.HeldToken(ctx, invitePurpose)
	if token == "" {
		return h.invitationInvalid(c, tenant.ErrInvitationInvalid)
	}
	info, err := h.Orgs.LookupInvitation(ctx, token)
	if err != nil {
		return h.invitationInvalid(c, err)
	}
	user, signedIn, err := h.invitationUser(ctx)
	if err != nil {
		return err
	}
	v := acceptView(info)
	status := http.StatusOK
	switch {
	case signedIn && user.Email == info.Email:
		v.State = invitationsview.StateJoin
	case signedIn:
		v.State, v.SignedInAs = invitationsview.StateWrongUser, user.Email
		status = http.StatusForbidden
	case info.AccountExists:
		v.State = invitationsview.StateLogin
	default:
		v.State = invitationsview.StateSignup
	}
	return h.render(c, status, invitationsview.AcceptPage(v))
}

// InvitationsAccept accepts the held invitation: as the signed-in user
// when there is one, otherwise by creating the invited person's account.
func (h *Handlers) InvitationsAccept(c echo.Context) error {
	ctx := c.Request().Context()
	c.Response().Header().Set("Cache-Control", "no-store")
	token := h.Sessions.HeldToken(ctx, invitePurpose)
	if token == "" {
		return h.invitationInvalid(c, tenant.ErrInvitationInvalid)
	}
	user, signedIn, err := h.invitationUser(ctx)
	if err != nil {
		return err
	}
	if signedIn {
		info, err := h.Orgs.AcceptInvitation(ctx, token, user.ID)
		var wrong *tenant.WrongUserError
		switch {
		case errors.As(err, &wrong):
			// Keep the token: after logging out and in with the invited
			// address the link works again.
			if isHTMX(c) {
				return echo.NewHTTPError(http.StatusForbidden, wrong.Error())
			}
			return h.render(c, http.StatusForbidden, invitationsview.InvalidPage(invitationsview.InvalidView{Title: "This invitation is for someone else", Message: wrong.Error()}))
		case errors.Is(err, tenant.ErrAlreadyMember):
			h.Sessions.DropToken(ctx, invitePurpose)
			h.flash(c, "info", tenant.ErrAlreadyMember.Message)
			return h.redirect(c, "/orgs?all=1")
		case err != nil:
			return h.invitationInvalid(c, err)
		}
		h.Sessions.DropToken(ctx, invitePurpose)
		// Joining an organization is a privilege change: renew the token.
		if err := h.Sessions.RenewToken(ctx); err != nil {
			return err
		}
		h.flash(c, "success", "Welcome to "+info.OrgName+". You joined as "+info.RoleLabel+".")
		return h.redirect(c, "/o/"+info.OrgSlug)
	}

	// Not signed in: create the account of the invited address.
	name, password := form.Clean(c.FormValue("name")), c.FormValue("password")
	errs := form.Errors{}
	errs.Required("name", name, 100)
	if msg := auth.ValidatePassword(password); msg != "" {
		errs.Add("password", msg)
	}
	if errs.Any() {
		return h.invitationSignupAgain(c, token, name, errs)
	}
	hash, err := auth.HashPassword(password, h.Auth.Cost)
	if err != nil {
		return err
	}
	newUser, info, err := h.Orgs.AcceptInvitationAsNewUser(ctx, token, tenant.NewMemberInput{Name: name, PasswordHash: hash})
	switch {
	case errors.Is(err, tenant.ErrAccountExists):
		return h.invitationSignupAgain(c, token, name, form.Errors{"_": tenant.ErrAccountExists.Message})
	case err != nil:
		return h.invitationInvalid(c, err)
	}
	h.Sessions.DropToken(ctx, invitePurpose)
	if err := h.Sessions.Login(ctx, newUser.ID, newUser.SessionVersion); err != nil {
		return err
	}
	h.flash(c, "success", "Welcome to Accute and to "+info.OrgName+". You joined as "+info.RoleLabel+".")
	return h.redirect(c, "/o/"+info.OrgSlug)
}

// invitationSignupAgain shows the sign-up form again with its errors.
func (h *Handlers) invitationSignupAgain(c echo.Context, token, name string, errs form.Errors) error {
	info, err := h.Orgs.LookupInvitation(c.Request().Context(), token)
	if err != nil {
		return h.invitationInvalid(c, err)
	}
	v := acceptView(info)
	v.State, v.Name, v.Errors = invitationsview.StateSignup, name, errs
	status := http.StatusUnprocessableEntity
	if errs["_"] != "" {
		status = http.StatusConflict
	}
	if isHTMX(c) {
		return h.render(c, status, invitationsview.SignupForm(v))
	}
	return h.render(c, status, invitationsview.AcceptPage(v))
}

// invitationInvalid answers a link that cannot be used (unknown, expired,
// revoked, already used) with a page that says which, and forgets it.
func (h *Handlers) invitationInvalid(c echo.Context, err error) error {
	var re *tenant.RuleError
	if !errors.As(err, &re) {
		return err
	}
	h.Sessions.DropToken(c.Request().Context(), invitePurpose)
	title := "Invitation not valid"
	switch {
	case errors.Is(err, tenant.ErrInvitationExpired):
		title = "Invitation expired"
	case errors.Is(err, tenant.ErrInvitationRevoked):
		title = "Invitation withdrawn"
	case errors.Is(err, tenant.ErrInvitationUsed):
		title = "Invitation already used"
	}
	status := ruleStatus(re.Kind)
	if isHTMX(c) {
		return echo.NewHTTPError(status, re.Message)
	}
	return h.render(c, status, invitationsview.InvalidPage(invitationsview.InvalidView{Title: title, Message: re.Message}))
}

// invitationUser returns the signed-in user of this public page; ok is
// false when nobody is signed in, or the session is no longer valid (the
// same checks as tenant.Middleware).
func (h *Handlers) invitationUser(ctx context.Context) (u db.User, ok bool, err error) {
	uid, version, ok := h.Sessions.Identity(ctx)
	if !ok {
		return db.User{}, false, nil
	}
	u, err = h.Store.Q().GetUser(ctx, uid)
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return db.User{}, false, nil
	}
	if err != nil {
		return db.User{}, false, err
	}
	if u.SuspendedAt != nil || u.SessionVersion != version {
		return db.User{}, false, nil
	}
	return u, true, nil
}

func acceptView(info tenant.InvitationInfo) invitationsview.AcceptView {
	return invitationsview.AcceptView{
		OrgName: info.OrgName, RoleLabel: info.RoleLabel, Email: info.Email,
		Expires: info.ExpiresAt.UTC().Format("2 Jan 2006, 15:04 UTC"),
	}
}
