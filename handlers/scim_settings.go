package handlers

import (
	"errors"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/form"
	"accute/internal/scim"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/views/components"
	scimview "accute/views/pages/scim"
)

// The provisioning (SCIM) settings page: tokens and group-to-role
// mappings, for members who manage members.

// SCIMSettingsShow shows the page.
func (h *Handlers) SCIMSettingsShow(c echo.Context) error {
	return h.scimSettingsPage(c, http.StatusOK, scimview.TokenForm{}, scimview.MappingForm{})
}

func (h *Handlers) scimSettingsPage(c echo.Context, status int, tf scimview.TokenForm, mf scimview.MappingForm) error {
	v, err := h.scimSettingsView(c, tf, mf)
	if err != nil {
		return err
	}
	return h.render(c, status, scimview.Page(h.shell(c, "Provisioning (SCIM)", "settings"), v))
}

func (h *Handlers) scimEndpoint() string { return h.Config.BaseURL + "/scim/v2" }

func (h *Handlers) scimSettingsView(c echo.Context, tf scimview.TokenForm, mf scimview.MappingForm) (scimview.PageView, error) {
	p := principal(c)
	d, err := h.SCIM.LoadSettings(c.Request().Context(), p.Org.ID)
	if err != nil {
		return scimview.PageView{}, err
	}
	v := scimview.PageView{
		Endpoint: h.scimEndpoint(), NoDomains: d.VerifiedDomains == 0, DomainsURL: orgURL(c, "/settings/sso"),
		Summary: scimview.Summary{Active: int(d.Summary.ActiveUsers), Inactive: int(d.Summary.InactiveUsers), Groups: int(d.Summary.Groups)},
	}
	v.TokenForm = h.scimTokenForm(c, tf)
	for _, t := range d.Tokens {
		row := scimview.TokenRow{Name: t.Name, Hint: t.Hint, CreatedBy: t.CreatedByName, Created: t.CreatedAt.Format("2 Jan 2006"),
			RevokeURL: orgURL(c, "/settings/scim/tokens/"+t.ID.String()+"/revoke")}
		if t.LastUsedAt != nil {
			row.LastUsed = t.LastUsedAt.Format("2 Jan 2006 15:04")
		}
		if t.RevokedAt != nil {
			row.Revoked = t.RevokedAt.Format("2 Jan 2006")
		}
		v.Tokens = append(v.Tokens, row)
	}
	for _, m := range d.Mappings {
		row := scimview.MappingRow{GroupName: m.GroupName, Custom: m.Role == tenant.RoleCustom, DeleteURL: orgURL(c, "/settings/scim/mappings/"+m.ID.String()+"/delete")}
		if row.Custom {
			row.RoleLabel = m.CustomRoleName
		} else {
			b, _ := tenant.Builtin(m.Role)
			row.RoleLabel = b.Label
		}
		v.Mappings = append(v.Mappings, row)
	}
	mf.Groups = d.Groups
	v.MappingForm = h.scimMappingForm(c, mf, tenant.RoleChoices(d.Roles))
	return v, nil
}

func (h *Handlers) scimTokenForm(c echo.Context, f scimview.TokenForm) scimview.TokenForm {
	f.Action, f.Endpoint, f.DoneURL = orgURL(c, "/settings/scim/tokens"), h.scimEndpoint(), orgURL(c, "/settings/scim")
	return f
}

// scimMappingForm fills the role choices: every role but Owner.
func (h *Handlers) scimMappingForm(c echo.Context, f scimview.MappingForm, choices []tenant.RoleChoice) scimview.MappingForm {
	f.Action = orgURL(c, "/settings/scim/mappings")
	selected := c.FormValue("role")
	if selected == "" {
		selected = tenant.RoleStaff
	}
	for _, r := range choices {
		if r.Role == tenant.RoleOwner {
			continue
		}
		f.Roles = append(f.Roles, components.Option{Value: r.Value, Label: r.Label, Selected: r.Value == selected})
	}
	return f
}

// SCIMTokensCreate creates a token and shows it, once.
func (h *Handlers) SCIMTokensCreate(c echo.Context) error {
	name := c.FormValue("name")
	raw, err := h.SCIM.CreateToken(c.Request().Context(), tenant.ActorOf(principal(c)), name)
	var fe form.Errors
	switch {
	case errors.As(err, &fe):
		f := scimview.TokenForm{Name: form.Clean(name), Error: fe["name"]}
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, scimview.TokenFormFragment(h.scimTokenForm(c, f)))
		}
		return h.scimSettingsPage(c, http.StatusUnprocessableEntity, f, scimview.MappingForm{})
	case err != nil:
		return err
	}
	// The token is rendered into this answer only: it is never stored in
	// clear, nor put in the session for a flash.
	c.Response().Header().Set("Cache-Control", "no-store")
	f := scimview.TokenForm{NewToken: raw}
	if isHTMX(c) {
		return h.render(c, http.StatusCreated, scimview.TokenFormFragment(h.scimTokenForm(c, f)))
	}
	return h.scimSettingsPage(c, http.StatusCreated, f, scimview.MappingForm{})
}

// SCIMTokensRevoke revokes a token.
func (h *Handlers) SCIMTokensRevoke(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	t, err := h.SCIM.RevokeToken(c.Request().Context(), tenant.ActorOf(principal(c)), id)
	if err != nil {
		return err // not found, or already revoked: 404
	}
	h.flash(c, "success", "The token "+t.Name+" was revoked.")
	return h.redirect(c, orgURL(c, "/settings/scim"))
}

// SCIMMappingsCreate maps a group to a role.
func (h *Handlers) SCIMMappingsCreate(c echo.Context) error {
	ctx := c.Request().Context()
	in := scim.MappingInput{GroupName: c.FormValue("group_name"), Role: c.FormValue("role")}
	err := h.SCIM.CreateMapping(ctx, tenant.ActorOf(principal(c)), in)
	var fe form.Errors
	switch {
	case errors.As(err, &fe):
		// The failed statement aborted the request transaction: drop it
		// before reading the page again.
		store.RollbackRequest(ctx)
		mf := scimview.MappingForm{GroupName: form.Clean(in.GroupName), Errors: fe}
		if isHTMX(c) {
			d, err := h.SCIM.LoadSettings(ctx, principal(c).Org.ID)
			if err != nil {
				return err
			}
			mf.Groups = d.Groups
			return h.render(c, http.StatusUnprocessableEntity, scimview.MappingFormFragment(h.scimMappingForm(c, mf, tenant.RoleChoices(d.Roles))))
		}
		return h.scimSettingsPage(c, http.StatusUnprocessableEntity, scimview.TokenForm{}, mf)
	case err != nil:
		return err
	}
	h.flash(c, "success", "Members of "+form.Clean(in.GroupName)+" now get that role.")
	return h.redirect(c, orgURL(c, "/settings/scim"))
}

// SCIMMappingsDelete removes a mapping.
func (h *Handlers) SCIMMappingsDelete(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	m, err := h.SCIM.DeleteMapping(c.Request().Context(), tenant.ActorOf(principal(c)), id)
	if err != nil {
		return err
	}
	h.flash(c, "success", "The mapping for "+m.GroupName+" was removed.")
	return h.redirect(c, orgURL(c, "/settings/scim"))
}
