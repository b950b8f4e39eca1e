package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"accute/internal/auth"
	"accute/internal/db"
	"accute/internal/store"
	"accute/views/layouts"
	authview "accute/views/pages/auth"
	securityview "accute/views/pages/security"
)

// The login's second step, and what every way of proving a password ends
// in (signIn).

const loginMFAURL = "/login/mfa"

// signIn finishes a login whose password (or reset link) was accepted:
// users without two-factor authentication, or on a remembered device, are
// signed in; the others are sent to the code page, with the session NOT
// signed in until the code passes. Any new way of signing in with a
// password should end here.
func (h *Handlers) signIn(c echo.Context, user db.User, next string) error {
	ctx := c.Request().Context()
	if next == "" {
		next = "/orgs"
	}
	on, err := h.MFA.Enabled(ctx, user.ID)
	if err != nil {
		return err
	}
	if on {
		if ck, err := c.Cookie(auth.RememberCookie); err == nil && h.MFA.RememberedDevice(ctx, user.ID, ck.Value) {
			on = false
		}
	}
	if !on {
		if err := h.Sessions.Login(ctx, user.ID, user.SessionVersion); err != nil {
			return err
		}
		return h.redirect(c, next)
	}
	if err := h.Sessions.BeginSecondFactor(ctx, user.ID, user.SessionVersion, next); err != nil {
		return err
	}
	return h.redirect(c, loginMFAURL)
}

// loginThrottled answers a login refused for too many failures: 429 with
// Retry-After, the form fragment for HTMX, the page otherwise.
func (h *Handlers) loginThrottled(c echo.Context, v authview.LoginView, te *auth.ThrottledError) error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds()))
	v.Error = "Too many failed sign-in attempts. For your security, try again in " + retryWaitText(te.RetryAfterSeconds()) + ", or reset your password."
	if isHTMX(c) {
		return h.render(c, http.StatusTooManyRequests, authview.LoginForm(v))
	}
	return h.render(c, http.StatusTooManyRequests, authview.LoginPage(v))
}

// LoginMFAForm asks for the second factor.
func (h *Handlers) LoginMFAForm(c echo.Context) error {
	ctx := c.Request().Context()
	if _, ok := h.Sessions.PendingSecondFactor(ctx); !ok {
		return h.secondFactorExpired(c)
	}
	v := securityview.LoginView{}
	if f := h.Sessions.PopFlash(ctx); f != nil {
		v.Flash = &layouts.Flash{Kind: f.Kind, Message: f.Message}
	}
	return h.render(c, http.StatusOK, securityview.LoginPage(v))
}

// LoginMFA checks the code (TOTP or backup) and signs the user in.
func (h *Handlers) LoginMFA(c echo.Context) error {
	ctx := c.Request().Context()
	pending, ok := h.Sessions.PendingSecondFactor(ctx)
	if !ok {
		return h.secondFactorExpired(c)
	}
	user, err := h.Store.Q().GetUser(ctx, pending.UserID)
	if err != nil && !errors.Is(store.MapError(err), store.ErrNotFound) {
		return err
	}
	// Suspended, deleted, or the password changed meanwhile: start over.
	if err != nil || user.SuspendedAt != nil || user.SessionVersion != pending.Version {
		h.Sessions.CancelSecondFactor(ctx)
		return h.secondFactorExpired(c)
	}
	remember := c.FormValue("remember") != ""
	res, err := h.MFA.Verify(ctx, user.ID, user.Email, c.FormValue("code"))
	if msg, status := codeError(err); msg != "" {
		setRetryAfter(c, err)
		v := securityview.LoginView{Error: msg, Remember: remember}
		if isHTMX(c) {
			return h.render(c, status, securityview.LoginForm(v))
		}
		return h.render(c, status, securityview.LoginPage(v))
	}
	if errors.Is(err, auth.ErrMFANotEnabled) {
		// Turned off since the password step: nothing left to check.
		err = nil
	}
	if err != nil {
		return err
	}
	if err := h.Sessions.Login(ctx, user.ID, user.SessionVersion); err != nil {
		return err
	}
	if remember {
		if token, exp, err := h.MFA.RememberDevice(ctx, user.ID); err == nil {
			c.SetCookie(h.rememberCookie(token, exp))
		}
	}
	if res.BackupCode {
		h.flash(c, "info", "You signed in with a backup code; "+strconv.Itoa(res.BackupCodesLeft)+" left. You can generate new ones under Account → Security.")
	}
	return h.redirect(c, pending.Next)
}

func (h *Handlers) secondFactorExpired(c echo.Context) error {
	h.flash(c, "info", "Your sign-in took too long or was interrupted. Enter your password again.")
	return h.redirect(c, "/login")
}

// rememberCookie is the "remember this device" cookie: HttpOnly, signed
// (see auth.MFA.RememberDevice). Its path is the whole site, because every
// way of signing in ends in signIn: the password form under /login, and
// the OAuth and SSO callbacks under /auth and /sso.
func (h *Handlers) rememberCookie(token string, exp time.Time) *http.Cookie {
	return &http.Cookie{
		Name: auth.RememberCookie, Value: token, Path: "/", Expires: exp, MaxAge: int(auth.RememberDeviceFor / time.Second),
		HttpOnly: true, Secure: h.Config.Production(), SameSite: http.SameSiteLaxMode,
	}
}

// clearRememberedDevice deletes this browser's remember-device cookie
// (the server-side revocation is the MFA reset itself), also one set
// under /login by earlier versions.
func (h *Handlers) clearRememberedDevice(c echo.Context) {
	for _, path := range []string{"/", "/login"} {
		c.SetCookie(&http.Cookie{Name: auth.RememberCookie, Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: h.Config.Production(), SameSite: http.SameSiteLaxMode})
	}
}

// waitText says how long to wait, in words.
func retryWaitText(seconds int) string {
	switch {
	case seconds <= 60:
		return "a minute"
	case seconds < 3600:
		m := (seconds + 59) / 60
		return strconv.Itoa(m) + " minutes"
	default:
		h := (seconds + 3599) / 3600
		if h == 1 {
			return "an hour"
		}
		return strconv.Itoa(h) + " hours"
	}
}
