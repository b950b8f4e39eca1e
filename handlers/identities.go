package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"accute/internal/auth/oauth"
	identitiesview "accute/views/pages/identities"
)

// IdentitiesList shows the account's linked sign-in identities and the
// providers it can still link.
func (h *Handlers) IdentitiesList(c echo.Context) error {
	v, err := h.identitiesView(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, identitiesview.Page(h.shell(c, "Linked accounts", "account"), v))
}

func (h *Handlers) identitiesView(c echo.Context) (identitiesview.PageView, error) {
	p := principal(c)
	list, passwordSet, err := h.OAuth.Identities(c.Request().Context(), p.User.ID)
	if err != nil {
		return identitiesview.PageView{}, err
	}
	v := identitiesview.PageView{PasswordSet: passwordSet}
	linked := map[string]bool{}
	for _, id := range list {
		label := h.OAuth.Label(id.Provider)
		if label == "" {
			label = id.Provider + " (no longer enabled)"
		}
		row := identitiesview.Linked{Label: label, Email: id.Email, Since: id.CreatedAt.Format("2 Jan 2006"),
			UnlinkURL: "/account/identities/" + id.ID.String() + "/unlink", Last: !passwordSet && len(list) == 1}
		if id.LastUsedAt != nil {
			row.LastUsed = id.LastUsedAt.Format("2 Jan 2006 15:04")
		}
		v.Linked = append(v.Linked, row)
		linked[id.Provider] = true
	}
	for _, pr := range h.OAuth.Providers() {
		if !linked[pr.Key] {
			v.Available = append(v.Available, identitiesview.Available{Key: pr.Key, Label: pr.Label, LinkURL: "/account/identities/link/" + pr.Key})
		}
	}
	return v, nil
}

// IdentitiesUnlink removes a linked identity, unless it is the account's
// only way to sign in.
func (h *Handlers) IdentitiesUnlink(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ident, err := h.OAuth.Unlink(c.Request().Context(), principal(c).User.ID, id)
	var refusal *oauth.Refusal
	if errors.As(err, &refusal) {
		if isHTMX(c) {
			return echo.NewHTTPError(refusal.Status, refusal.Message) // a toast
		}
		v, verr := h.identitiesView(c)
		if verr != nil {
			return verr
		}
		v.Error = refusal.Message
		return h.render(c, refusal.Status, identitiesview.Page(h.shell(c, "Linked accounts", "account"), v))
	}
	if err != nil {
		return err
	}
	label := h.OAuth.Label(ident.Provider)
	if label == "" {
		label = ident.Provider
	}
	h.flash(c, "success", label+" is no longer linked to your account.")
	return h.redirect(c, "/account/identities")
}
