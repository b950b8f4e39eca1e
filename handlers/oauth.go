package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/auth/oauth"
	authview "accute/views/pages/auth"
)

// oauthFlowKey holds the sign-in in progress (state, PKCE verifier, nonce)
// in the server-side session: nothing of it travels through the browser
// but the state the provider echoes.
const oauthFlowKey = "oauth_flow"

// oauthButtons are the login page's provider buttons.
func (h *Handlers) oauthButtons(next string) []authview.OAuthButton {
	var out []authview.OAuthButton
	for _, p := range h.OAuth.Providers() {
		u := "/auth/oauth/" + p.Key
		if next != "" {
			u += "?next=" + url.QueryEscape(next)
		}
		out = append(out, authview.OAuthButton{Key: p.Key, Label: p.Label, URL: u})
	}
	return out
}

// OAuthStart sends the browser to the provider to sign in.
func (h *Handlers) OAuthStart(c echo.Context) error {
	return h.oauthBegin(c, oauth.ModeLogin, uuid.Nil, safeNext(c.QueryParam("next")))
}

// IdentitiesLink sends the signed-in user to the provider to link an
// identity to their account.
func (h *Handlers) IdentitiesLink(c echo.Context) error {
	return h.oauthBegin(c, oauth.ModeLink, principal(c).User.ID, "/account/identities")
}

func (h *Handlers) oauthBegin(c echo.Context, mode string, userID uuid.UUID, next string) error {
	ctx := c.Request().Context()
	key := c.Param("provider")
	authURL, flow, err := h.OAuth.Begin(ctx, key, mode, userID, next)
	if err != nil {
		return h.oauthFailure(c, key, mode, err)
	}
	h.Sessions.Put(ctx, oauthFlowKey, flow.Encode())
	return h.redirect(c, authURL)
}

// OAuthCallback is where the provider sends the browser back: the flow is
// taken out of the session (single use), checked and completed.
func (h *Handlers) OAuthCallback(c echo.Context) error {
	ctx := c.Request().Context()
	key := c.Param("provider")
	if h.OAuth.Label(key) == "" {
		return echo.ErrNotFound
	}
	flow, _ := oauth.DecodeFlow(h.Sessions.PopString(ctx, oauthFlowKey))
	id, err := h.OAuth.Complete(ctx, key, flow, c.QueryParams())
	if err != nil {
		return h.oauthFailure(c, key, flow.Mode, err)
	}
	label := h.OAuth.Label(key)
	if flow.Mode == oauth.ModeLink {
		// The browser that comes back must still be the user who asked.
		uid, _, ok := h.Sessions.Identity(ctx)
		if !ok || uid.String() != flow.UserID {
			return h.oauthFailure(c, key, flow.Mode, oauth.ErrNoFlow)
		}
		if err := h.OAuth.Link(ctx, uid, id); err != nil {
			return h.oauthFailure(c, key, flow.Mode, err)
		}
		h.flash(c, "success", label+" is now linked to your account.")
		return h.redirect(c, "/account/identities")
	}
	res, err := h.OAuth.SignIn(ctx, id)
	if err != nil {
		return h.oauthFailure(c, key, flow.Mode, err)
	}
	next := flow.Next
	switch {
	case res.Created:
		h.flash(c, "success", "Welcome to Accute! Create your firm's organization to get started, or open an invitation from a colleague.")
		if next == "" {
			next = "/orgs/new"
		}
	case res.Linked:
		h.flash(c, "success", label+" is now linked to your account: you can sign in with it from now on.")
	}
	return h.signIn(c, res.User, next) // the second factor still applies
}

// oauthFailure answers a sign-in that cannot go ahead with a page saying
// why, and the status that fits (never 200).
func (h *Handlers) oauthFailure(c echo.Context, key, mode string, err error) error {
	var refusal *oauth.Refusal
	var down *oauth.Unavailable
	status, msg := 0, ""
	switch {
	case errors.Is(err, oauth.ErrUnknownProvider):
		return echo.ErrNotFound
	case errors.As(err, &refusal):
		status, msg = refusal.Status, refusal.Message
	case errors.As(err, &down):
		h.Logger.WarnContext(c.Request().Context(), "oauth provider unavailable", slog.String("provider", key), slog.String("error", down.Error()))
		status, msg = http.StatusBadGateway, h.OAuth.Label(key)+" is not reachable right now. Please try again in a moment, or log in with your password."
	default:
		return err
	}
	v := authview.MessageView{Title: "Sign-in did not complete", Message: msg, LinkText: "Back to log in", LinkURL: "/login"}
	if mode == oauth.ModeLink {
		v.Title, v.LinkText, v.LinkURL = "Linking did not complete", "Back to linked accounts", "/account/identities"
	}
	return h.render(c, status, authview.MessagePage(v))
}
