package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"accute/internal/auth"
	"accute/internal/form"
	"accute/views/layouts"
	authview "accute/views/pages/auth"
)

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	return next
}

// Home sends everyone to their organizations (RequireUser sends visitors
// to the login page first).
func (h *Handlers) Home(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/orgs")
}

// SignupForm shows the sign-up page.
func (h *Handlers) SignupForm(c echo.Context) error {
	return h.render(c, http.StatusOK, authview.SignupPage(authview.SignupView{}))
}

// Signup creates the account and its first organization.
func (h *Handlers) Signup(c echo.Context) error {
	ctx := c.Request().Context()
	in := auth.SignupInput{Name: c.FormValue("name"), Email: c.FormValue("email"), Password: c.FormValue("password"), OrgName: c.FormValue("org_name")}
	user, org, err := h.Auth.Signup(ctx, in)
	var fe form.Errors
	if errors.As(err, &fe) {
		v := authview.SignupView{Name: in.Name, Email: in.Email, OrgName: in.OrgName, Errors: fe}
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, authview.SignupForm(v))
		}
		return h.render(c, http.StatusUnprocessableEntity, authview.SignupPage(v))
	}
	if err != nil {
		return err
	}
	if err := h.Sessions.Login(ctx, user.ID, user.SessionVersion); err != nil {
		return err
	}
	h.flash(c, "success", "Welcome to Accute! Your organization "+org.Name+" is ready. Check your inbox to confirm your e-mail.")
	return h.redirect(c, "/o/"+org.Slug)
}

// LoginForm shows the login page.
func (h *Handlers) LoginForm(c echo.Context) error {
	ctx := c.Request().Context()
	if _, _, ok := h.Sessions.Identity(ctx); ok {
		if next := safeNext(c.QueryParam("next")); next != "" {
			return c.Redirect(http.StatusSeeOther, next)
		}
		return c.Redirect(http.StatusSeeOther, "/orgs")
	}
	v := authview.LoginView{Next: safeNext(c.QueryParam("next"))}
	v.Providers = h.oauthButtons(v.Next) // OAuth/OIDC buttons (oauth.go)
	if f := h.Sessions.PopFlash(ctx); f != nil {
		v.Flash = &layouts.Flash{Kind: f.Kind, Message: f.Message}
	}
	return h.render(c, http.StatusOK, authview.LoginPage(v))
}

// Login signs a user in. Unknown e-mail and wrong password answer alike.
func (h *Handlers) Login(c echo.Context) error {
	ctx := c.Request().Context()
	email, password, next := c.FormValue("email"), c.FormValue("password"), safeNext(c.FormValue("next"))
	if msg, refused := h.SSO.RefusePassword(ctx, email); refused { // SSO required for this domain (sso.go)
		return h.loginSSORequired(c, email, next, msg)
	}
	user, err := h.Auth.Authenticate(ctx, email, password)
	if err != nil {
		var throttled *auth.ThrottledError
		v := authview.LoginView{Email: auth.NormalizeEmail(email), Next: next, Providers: h.oauthButtons(next)}
		switch {
		case errors.Is(err, auth.ErrInvalidCredentials):
			v.Error = "That e-mail and password do not match an account."
		case errors.Is(err, auth.ErrSuspended):
			v.Error = "This account is suspended. Contact your administrator."
		case errors.As(err, &throttled):
			return h.loginThrottled(c, v, throttled)
		default:
			return err
		}
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, authview.LoginForm(v))
		}
		return h.render(c, http.StatusUnprocessableEntity, authview.LoginPage(v))
	}
	return h.signIn(c, user, next) // asks for the second factor when the user has one
}

// Logout ends the session on the server.
func (h *Handlers) Logout(c echo.Context) error {
	ctx := c.Request().Context()
	if uid, _, ok := h.Sessions.Identity(ctx); ok {
		h.Auth.RecordLogout(ctx, uid)
	}
	slo := h.samlLogoutURL(c) // SAML single logout when the session began with SSO (sso.go)
	if err := h.Sessions.Destroy(ctx); err != nil {
		return err
	}
	if slo != "" {
		return h.redirect(c, slo)
	}
	h.flash(c, "info", "You have been logged out.")
	return h.redirect(c, "/login")
}

// VerifyEmail consumes the link from the verification e-mail.
func (h *Handlers) VerifyEmail(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.QueryParam("token")
	if token == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "The verification link is missing its token.")
	}
	if _, err := h.Auth.VerifyEmail(ctx, token); err != nil {
		if errors.Is(err, auth.ErrInvalidToken) {
			return h.render(c, http.StatusBadRequest, authview.MessagePage(authview.MessageView{
				Title: "Link expired", Message: "This confirmation link is invalid, was already used, or has expired. Log in and ask for a new one.",
				LinkText: "Go to Accute", LinkURL: "/",
			}))
		}
		return err
	}
	return h.render(c, http.StatusOK, authview.MessagePage(authview.MessageView{
		Title: "E-mail confirmed", Message: "Thank you: your e-mail address is confirmed.", LinkText: "Continue", LinkURL: "/",
	}))
}

// ResendVerification queues a new verification e-mail.
func (h *Handlers) ResendVerification(c echo.Context) error {
	p := principal(c)
	if err := h.Auth.ResendVerification(c.Request().Context(), p.User.ID); err != nil {
		return err
	}
	h.flash(c, "success", "We sent a new confirmation link to "+p.User.Email+".")
	back := safeNext(strings.TrimPrefix(c.Request().Referer(), h.Config.BaseURL))
	if back == "" {
		back = "/orgs"
	}
	return h.redirect(c, back)
}

// ForgotPasswordForm asks for the e-mail address.
func (h *Handlers) ForgotPasswordForm(c echo.Context) error {
	return h.render(c, http.StatusOK, authview.ForgotPage(authview.ForgotView{}))
}

// ForgotPassword sends a reset link; it answers the same for unknown
// addresses.
func (h *Handlers) ForgotPassword(c echo.Context) error {
	email := auth.NormalizeEmail(c.FormValue("email"))
	if !form.ValidEmail(email) {
		return h.render(c, http.StatusUnprocessableEntity, authview.ForgotPage(authview.ForgotView{Email: email, Error: "Enter a valid e-mail address."}))
	}
	if err := h.Auth.RequestPasswordReset(c.Request().Context(), email); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, authview.ForgotPage(authview.ForgotView{Sent: true}))
}

const resetPurpose = "reset"

// ResetPasswordForm takes the token from the e-mailed link into the
// session and redirects to a token-free address, then shows the form.
func (h *Handlers) ResetPasswordForm(c echo.Context) error {
	ctx := c.Request().Context()
	if token := c.QueryParam("token"); token != "" {
		h.Sessions.HoldToken(ctx, resetPurpose, token)
		return c.Redirect(http.StatusSeeOther, "/reset-password")
	}
	token := h.Sessions.HeldToken(ctx, resetPurpose)
	if token == "" || !h.Auth.CheckResetToken(ctx, token) {
		return h.render(c, http.StatusBadRequest, invalidResetLink())
	}
	return h.render(c, http.StatusOK, authview.ResetPage(authview.ResetView{}))
}

func invalidResetLink() templComponent {
	return authview.MessagePage(authview.MessageView{
		Title: "Link expired", Message: "This password reset link is invalid, was already used, or has expired. Ask for a new one.",
		LinkText: "Ask for a new link", LinkURL: "/forgot-password",
	})
}

// ResetPassword sets the new password, ends every other session of the
// user and signs this browser in.
func (h *Handlers) ResetPassword(c echo.Context) error {
	ctx := c.Request().Context()
	token := h.Sessions.HeldToken(ctx, resetPurpose)
	if token == "" {
		return h.render(c, http.StatusBadRequest, invalidResetLink())
	}
	user, err := h.Auth.ResetPassword(ctx, token, c.FormValue("password"))
	var fe form.Errors
	switch {
	case errors.As(err, &fe):
		return h.render(c, http.StatusUnprocessableEntity, authview.ResetPage(authview.ResetView{Error: fe["password"]}))
	case errors.Is(err, auth.ErrInvalidToken):
		h.Sessions.DropToken(ctx, resetPurpose)
		return h.render(c, http.StatusBadRequest, invalidResetLink())
	case err != nil:
		return err
	}
	h.Sessions.DropToken(ctx, resetPurpose)
	h.flash(c, "success", "Your password has been changed. Other sessions were signed out.")
	// A reset link proves the mailbox, not the second factor.
	return h.signIn(c, user, "/orgs")
}
