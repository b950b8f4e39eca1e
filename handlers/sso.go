package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"accute/internal/auth"
	"accute/internal/sso"
	"accute/views/layouts"
	authview "accute/views/pages/auth"
	ssoview "accute/views/pages/sso"
)

// SAML endpoints are public and live outside /o/: the IdP and a browser
// that is not signed in reach them.

// samlTrackingCookie binds SP-initiated SAML requests to the browser that
// started them (see internal/sso). The session cookie is SameSite=Lax, so
// browsers do not send it with the IdP's cross-site POST to the ACS; this
// separate, short-lived cookie is SameSite=None (with Secure) for that one
// POST. Its path is the organization's SAML prefix, so it reaches nothing
// else. Over plain HTTP (development) browsers refuse SameSite=None, so it
// is Lax there: an IdP on another site then completes IdP-initiated logins
// only.
const samlTrackingCookie = "accute_saml"

// Session keys of an SSO sign-in, for SP-initiated single logout.
const (
	sessSSOOrg          = "sso_org"
	sessSSONameID       = "sso_name_id"
	sessSSONameIDFormat = "sso_name_id_format"
	sessSSOSession      = "sso_session_index"
)

func samlCookiePath(slug string) string { return "/sso/saml/" + slug + "/" }

// samlBrowserToken returns the tracking cookie's value, setting a fresh
// cookie when create is true and there is none. The cookie is shared by the
// sign-ins a browser starts in parallel (two tabs).
func (h *Handlers) samlBrowserToken(c echo.Context, slug string, create bool) string {
	if ck, err := c.Cookie(samlTrackingCookie); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
		return ck.Value
	}
	if !create {
		return ""
	}
	token := sso.NewBrowserToken()
	secure := strings.HasPrefix(h.Config.BaseURL, "https://") || h.Config.Production()
	ck := &http.Cookie{
		Name: samlTrackingCookie, Value: token, Path: samlCookiePath(slug),
		MaxAge: int(sso.RequestTTL.Seconds()), HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	}
	if secure {
		ck.SameSite = http.SameSiteNoneMode
	}
	c.SetCookie(ck)
	return token
}

// SSOStartForm shows "Sign in with SSO".
func (h *Handlers) SSOStartForm(c echo.Context) error {
	ctx := c.Request().Context()
	v := ssoview.StartView{Next: safeNext(c.QueryParam("next")), Identifier: c.QueryParam("email")}
	if f := h.Sessions.PopFlash(ctx); f != nil {
		v.Flash = &layouts.Flash{Kind: f.Kind, Message: f.Message}
	}
	return h.render(c, http.StatusOK, ssoview.StartPage(v))
}

// SSOStart finds the organization from a work e-mail or a slug and starts
// its SAML sign-in.
func (h *Handlers) SSOStart(c echo.Context) error {
	ctx := c.Request().Context()
	identifier, next := strings.TrimSpace(c.FormValue("identifier")), safeNext(c.FormValue("next"))
	v := ssoview.StartView{Identifier: identifier, Next: next}
	slug := ""
	var err error
	if identifier == "" || len(identifier) > 254 {
		v.Error = "Enter your work e-mail or your organization's address."
	} else if slug, err = h.SSO.Resolve(ctx, identifier); errors.Is(err, sso.ErrNoSSO) {
		v.Error = "Single sign-on is not set up for that organization or e-mail domain. Sign in with your password, or ask your administrator."
	} else if err != nil {
		return err
	}
	if v.Error != "" {
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, ssoview.StartForm(v))
		}
		return h.render(c, http.StatusUnprocessableEntity, ssoview.StartPage(v))
	}
	target := samlCookiePath(slug) + "login"
	if next != "" {
		target += "?next=" + url.QueryEscape(next)
	}
	return h.redirect(c, target)
}

// SAMLMetadata serves the organization's SP metadata.
func (h *Handlers) SAMLMetadata(c echo.Context) error {
	xml, err := h.SSO.Metadata(c.Request().Context(), c.Param("slug"))
	if errors.Is(err, sso.ErrNoSSO) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "application/samlmetadata+xml", xml)
}

// SAMLLogin starts an SP-initiated sign-in: it tracks the request for this
// browser and sends the browser to the IdP.
func (h *Handlers) SAMLLogin(c echo.Context) error {
	slug := c.Param("slug")
	token := h.samlBrowserToken(c, slug, true)
	target, err := h.SSO.StartLogin(c.Request().Context(), slug, safeNext(c.QueryParam("next")), token)
	if errors.Is(err, sso.ErrNoSSO) {
		return h.render(c, http.StatusNotFound, authview.MessagePage(authview.MessageView{
			Title: "Single sign-on is not available", Message: "Single sign-on is not set up for this organization. Sign in with your password, or ask your administrator.",
			LinkText: "Go to the login page", LinkURL: "/login",
		}))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// SAMLACS is the assertion consumer service: the IdP's browser POST.
// It is exempt from the cross-origin check (see crossOrigin).
func (h *Handlers) SAMLACS(c echo.Context) error {
	ctx := c.Request().Context()
	slug := c.Param("slug")
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, 2<<20)
	if err := req.ParseForm(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The sign-in response could not be read.")
	}
	res, err := h.SSO.CompleteLogin(ctx, slug, req.PostForm, h.samlBrowserToken(c, slug, false))
	var le *sso.LoginError
	switch {
	case errors.Is(err, sso.ErrNoSSO):
		return echo.ErrNotFound
	case errors.As(err, &le):
		return h.render(c, http.StatusForbidden, authview.MessagePage(authview.MessageView{
			Title: "Sign-in refused", Message: le.Message, LinkText: "Back to the login page", LinkURL: "/login",
		}))
	case err != nil:
		return err
	}
	// What single logout needs later; set before signing in (the session
	// data carries over to the renewed session token).
	h.Sessions.Put(ctx, sessSSOOrg, res.OrgSlug)
	h.Sessions.Put(ctx, sessSSONameID, res.NameID)
	h.Sessions.Put(ctx, sessSSONameIDFormat, res.NameIDFormat)
	h.Sessions.Put(ctx, sessSSOSession, res.SessionIndex)
	next := res.Next
	if next == "" {
		next = "/o/" + res.OrgSlug
	}
	if res.Provisioned {
		h.flash(c, "success", "Welcome to "+res.OrgName+"! Your account was set up through your company sign-in.")
	}
	// Like every sign-in: a user who turned on two-factor authentication
	// is still asked for the code.
	return h.signIn(c, res.User, next)
}

// SAMLSLO is the single logout endpoint (HTTP-Redirect and HTTP-POST): a
// LogoutRequest from the IdP, or its LogoutResponse to ours. The POST is
// exempt from the cross-origin check, like the ACS.
func (h *Handlers) SAMLSLO(c echo.Context) error {
	ctx := c.Request().Context()
	slug := c.Param("slug")
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, 2<<20)
	res, err := h.SSO.HandleSLO(ctx, slug, req, h.samlBrowserToken(c, slug, false))
	var le *sso.LoginError
	switch {
	case errors.Is(err, sso.ErrNoSSO):
		return echo.ErrNotFound
	case errors.As(err, &le):
		return h.render(c, http.StatusBadRequest, authview.MessagePage(authview.MessageView{
			Title: "Logout", Message: le.Message, LinkText: "Go to the login page", LinkURL: "/login",
		}))
	case err != nil:
		return err
	}
	// The IdP ended the user's sessions (their version was bumped); this
	// browser's session, if it carried one, ends now too.
	if uid, _, ok := h.Sessions.Identity(ctx); ok && (res.EndedUser == nil || *res.EndedUser == uid) {
		if err := h.Sessions.Destroy(ctx); err != nil {
			return err
		}
	}
	if res.Redirect != "" {
		return c.Redirect(http.StatusSeeOther, res.Redirect)
	}
	return h.render(c, http.StatusOK, authview.MessagePage(authview.MessageView{
		Title: "Signed out", Message: "You are signed out of Accute and of " + res.OrgName + "'s single sign-on.",
		LinkText: "Sign in again", LinkURL: "/login",
	}))
}

// samlLogoutURL is called by Logout before the session ends: for a session
// that began with an SSO sign-in whose IdP offers single logout, it returns
// the IdP address that ends the IdP session too ("" otherwise).
func (h *Handlers) samlLogoutURL(c echo.Context) string {
	ctx := c.Request().Context()
	slug := h.Sessions.GetString(ctx, sessSSOOrg)
	if slug == "" {
		return ""
	}
	target, err := h.SSO.StartLogout(ctx, slug, h.Sessions.GetString(ctx, sessSSONameID), h.Sessions.GetString(ctx, sessSSONameIDFormat),
		h.Sessions.GetString(ctx, sessSSOSession), h.samlBrowserToken(c, slug, true))
	if err != nil {
		// The local logout still happens; the IdP session outlives it.
		h.Logger.ErrorContext(ctx, "saml single logout", "error", err)
		return ""
	}
	return target
}

// loginSSORequired answers a password sign-in for an address whose
// organization requires single sign-on: 403 with the login form and a
// message pointing to "Sign in with SSO".
func (h *Handlers) loginSSORequired(c echo.Context, email, next, msg string) error {
	v := authview.LoginView{Email: auth.NormalizeEmail(email), Next: next, Error: msg}
	if isHTMX(c) {
		return h.render(c, http.StatusForbidden, authview.LoginForm(v))
	}
	return h.render(c, http.StatusForbidden, authview.LoginPage(v))
}
