package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
	membersview "accute/views/pages/members"
	settingsview "accute/views/pages/settings"
)

// SettingsShow shows the organization's settings: its name, its roles and
// the way out.
func (h *Handlers) SettingsShow(c echo.Context) error {
	p := principal(c)
	comp, err := h.settingsPage(c, settingsview.RenameForm{Name: p.Org.Name})
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, comp)
}

// SettingsUpdate renames the organization.
func (h *Handlers) SettingsUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.FormValue("name")
	org, err := h.Orgs.RenameOrganization(ctx, tenant.ActorOf(principal(c)), name)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		f := settingsview.RenameForm{Action: orgURL(c, "/settings"), Name: form.Clean(name), Error: fe["name"]}
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, settingsview.RenameFormFragment(f))
		}
		comp, err := h.settingsPage(c, f)
		if err != nil {
			return err
		}
		return h.render(c, http.StatusUnprocessableEntity, comp)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "The organization is now called "+org.Name+".")
	return h.redirect(c, orgURL(c, "/settings"))
}

func (h *Handlers) settingsPage(c echo.Context, rename settingsview.RenameForm) (templComponent, error) {
	p := principal(c)
	d, err := h.Orgs.LoadSettings(c.Request().Context(), p.Org.ID)
	if err != nil {
		return nil, err
	}
	rename.Action = orgURL(c, "/settings")
	v := settingsview.SettingsView{
		Rename: rename, Slug: p.Org.Slug, NewRoleURL: orgURL(c, "/roles/new"),
		Leave: membersview.LeaveView{OrgName: p.Org.Name, URL: orgURL(c, "/leave"), LastOwner: p.Membership.Role == tenant.RoleOwner && d.Owners <= 1},
	}
	if v.MFAPolicy, err = h.mfaPolicyView(c); err != nil {
		return nil, err
	}
	for _, r := range d.Roles {
		v.Custom = append(v.Custom, settingsview.CustomRole{
			Name: r.Name, Description: r.Description, Members: int(r.Members), Permissions: r.Permissions,
			EditURL: orgURL(c, "/roles/"+r.ID.String()+"/edit"),
		})
	}
	for _, b := range tenant.BuiltinRoles {
		row := settingsview.BuiltinRole{Label: b.Label, Description: b.Description}
		for _, perm := range b.Permissions {
			row.Permissions = append(row.Permissions, string(perm))
		}
		v.Builtin = append(v.Builtin, row)
	}
	return settingsview.SettingsPage(h.shell(c, "Settings", "settings"), v), nil
}
