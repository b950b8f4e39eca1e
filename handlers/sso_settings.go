package handlers

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"accute/internal/form"
	"accute/internal/sso"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/views/components"
	ssoview "accute/views/pages/sso"
)

// The organization's single sign-on settings, under /o/:org/settings/sso
// (organization.manage; domains: owners).

// SSOSettingsShow shows the SSO settings page.
func (h *Handlers) SSOSettingsShow(c echo.Context) error {
	comp, err := h.ssoSettingsPage(c, nil)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, comp)
}

// SSOSettingsUpdate saves the identity provider and attribute mapping.
func (h *Handlers) SSOSettingsUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	in := sso.SettingsInput{
		Enabled: c.FormValue("enabled") == "on", Source: c.FormValue("source"),
		MetadataURL: c.FormValue("metadata_url"), MetadataXML: c.FormValue("metadata_xml"),
		AttrEmail: c.FormValue("attr_email"), AttrFirstName: c.FormValue("attr_first_name"), AttrLastName: c.FormValue("attr_last_name"),
		AttrDisplayName: c.FormValue("attr_display_name"), AttrGroups: c.FormValue("attr_groups"),
		DefaultRole: c.FormValue("default_role"), AllowIdPInitiated: c.FormValue("allow_idp_initiated") == "on",
	}
	conn, err := h.SSO.SaveSettings(ctx, tenant.ActorOf(principal(c)), in)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		return h.ssoInvalid(c, func(v *ssoview.SettingsView) {
			f := &v.Form
			f.Enabled, f.AllowIdPInitiated, f.Source = in.Enabled, in.AllowIdPInitiated, in.Source
			f.MetadataURL, f.MetadataXML = form.Clean(in.MetadataURL), in.MetadataXML
			f.AttrEmail, f.AttrFirstName, f.AttrLastName = form.Clean(in.AttrEmail), form.Clean(in.AttrFirstName), form.Clean(in.AttrLastName)
			f.AttrDisplayName, f.AttrGroups = form.Clean(in.AttrDisplayName), form.Clean(in.AttrGroups)
			f.Roles = reselect(f.Roles, in.DefaultRole)
			f.Errors = fe
		}, func(v ssoview.SettingsView) templComponent { return ssoview.IdPFormFragment(v.Form) })
	}
	if err != nil {
		return err
	}
	msg := "Single sign-on settings saved."
	switch {
	case conn.Enabled:
		msg = "Single sign-on is on. Use “Test sign-in” to check it."
	case conn.IdpEntityID == "":
		msg = "Saved. Give your identity provider the details on the right, then add its metadata."
	}
	h.flash(c, "success", msg)
	return h.redirect(c, orgURL(c, "/settings/sso"))
}

// SSOMetadataRefresh fetches the IdP metadata again from its URL.
func (h *Handlers) SSOMetadataRefresh(c echo.Context) error {
	ctx := c.Request().Context()
	info, err := h.SSO.RefreshMetadata(ctx, tenant.ActorOf(principal(c)))
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		return h.ssoInvalid(c, func(v *ssoview.SettingsView) { v.Form.Errors = fe },
			func(v ssoview.SettingsView) templComponent { return ssoview.IdPFormFragment(v.Form) })
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Metadata of "+info.EntityID+" fetched again.")
	return h.redirect(c, orgURL(c, "/settings/sso"))
}

// SSORequiredUpdate turns "SSO required" on or off.
func (h *Handlers) SSORequiredUpdate(c echo.Context) error {
	on := c.FormValue("required") == "on"
	_, err := h.SSO.SetRequired(c.Request().Context(), tenant.ActorOf(principal(c)), on)
	if err != nil {
		return h.orgRefusal(c, err, "Single sign-on not required", ssoBack(c))
	}
	if on {
		h.flash(c, "success", "Single sign-on is now required: password sign-in is refused for your verified domains.")
	} else {
		h.flash(c, "success", "Password sign-in is allowed again.")
	}
	return h.redirect(c, orgURL(c, "/settings/sso"))
}

// SSOGroupsCreate maps an IdP group to a role.
func (h *Handlers) SSOGroupsCreate(c echo.Context) error {
	ctx := c.Request().Context()
	group, role := c.FormValue("group"), c.FormValue("role")
	m, err := h.SSO.AddGroupRole(ctx, tenant.ActorOf(principal(c)), group, role)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		return h.ssoInvalid(c, func(v *ssoview.SettingsView) {
			v.Groups.Group, v.Groups.Errors = form.Clean(group), fe
			v.Groups.Roles = reselect(v.Groups.Roles, role)
		}, func(v ssoview.SettingsView) templComponent { return ssoview.GroupFormFragment(v.Groups) })
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Members of “"+m.GroupName+"” now get their role from the mapping.")
	return h.redirect(c, orgURL(c, "/settings/sso#sso-groups"))
}

// SSOGroupsDelete removes a group mapping.
func (h *Handlers) SSOGroupsDelete(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.SSO.RemoveGroupRole(c.Request().Context(), tenant.ActorOf(principal(c)), id)
	if err != nil {
		return err
	}
	h.flash(c, "success", "The mapping for “"+m.GroupName+"” was removed.")
	return h.redirect(c, orgURL(c, "/settings/sso#sso-groups"))
}

// SSODomainsCreate claims an e-mail domain (owners).
func (h *Handlers) SSODomainsCreate(c echo.Context) error {
	ctx := c.Request().Context()
	raw := c.FormValue("domain")
	d, err := h.SSO.ClaimDomain(ctx, tenant.ActorOf(principal(c)), raw)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		return h.ssoInvalid(c, func(v *ssoview.SettingsView) {
			v.Domains.Domain, v.Domains.Error = form.Clean(raw), fe["domain"]
		}, func(v ssoview.SettingsView) templComponent { return ssoview.DomainFormFragment(v.Domains) })
	}
	if err != nil {
		return h.orgRefusal(c, err, "Domain not added", ssoBack(c))
	}
	if d.VerifiedAt != nil {
		h.flash(c, "success", d.Domain+" is verified: your own confirmed address is on it.")
	} else {
		h.flash(c, "info", d.Domain+" was added and waits for verification by the Accute team.")
	}
	return h.redirect(c, orgURL(c, "/settings/sso#sso-domains"))
}

// SSODomainsDelete removes an e-mail domain (owners).
func (h *Handlers) SSODomainsDelete(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	d, err := h.SSO.RemoveDomain(c.Request().Context(), tenant.ActorOf(principal(c)), id)
	if err != nil {
		return h.orgRefusal(c, err, "Domain not removed", ssoBack(c))
	}
	h.flash(c, "success", d.Domain+" was removed.")
	return h.redirect(c, orgURL(c, "/settings/sso#sso-domains"))
}

func ssoBack(c echo.Context) orgBackLink {
	return orgBackLink{URL: orgURL(c, "/settings/sso"), Label: "Back to single sign-on"}
}

// ssoInvalid answers 422: the form fragment for HTMX, the page otherwise.
func (h *Handlers) ssoInvalid(c echo.Context, edit func(*ssoview.SettingsView), fragment func(ssoview.SettingsView) templComponent) error {
	v, err := h.ssoSettingsView(c, edit)
	if err != nil {
		return err
	}
	if isHTMX(c) {
		return h.render(c, http.StatusUnprocessableEntity, fragment(v))
	}
	return h.render(c, http.StatusUnprocessableEntity, ssoview.SettingsPage(h.shell(c, "Single sign-on", "settings"), v))
}

func (h *Handlers) ssoSettingsPage(c echo.Context, edit func(*ssoview.SettingsView)) (templComponent, error) {
	v, err := h.ssoSettingsView(c, edit)
	if err != nil {
		return nil, err
	}
	return ssoview.SettingsPage(h.shell(c, "Single sign-on", "settings"), v), nil
}

// ssoSettingsView maps the settings to the page's view model; edit then
// puts back what a refused form submitted.
func (h *Handlers) ssoSettingsView(c echo.Context, edit func(*ssoview.SettingsView)) (ssoview.SettingsView, error) {
	p := principal(c)
	a := tenant.ActorOf(p)
	st, err := h.SSO.LoadSettings(c.Request().Context(), a)
	if err != nil {
		return ssoview.SettingsView{}, err
	}
	base := orgURL(c, "/settings/sso")
	v := ssoview.SettingsView{
		SettingsURL: base, RefreshURL: base + "/refresh",
		StatusLabel: "Not set up", StatusKind: "neutral",
		Endpoints: ssoview.EndpointsView{EntityID: st.Endpoints.EntityID, ACS: st.Endpoints.ACS, SLO: st.Endpoints.SLO, MetadataURL: st.Endpoints.EntityID, Fingerprint: st.Fingerprint},
		Form:      ssoview.IdPForm{Action: base, Source: "url", AllowIdPInitiated: true},
		Groups:    ssoview.GroupsView{Action: base + "/groups"},
		Domains:   ssoview.DomainsView{Action: base + "/domains", CanManage: a.IsOwner()},
		Required:  ssoview.RequiredView{Action: base + "/required"},
	}
	defaultRole := tenant.RoleStaff
	if conn := st.Connection; conn != nil {
		v.Endpoints.HasKeys = true
		v.StatusLabel, v.StatusKind = "Off", "warn"
		if conn.Enabled {
			v.StatusLabel, v.StatusKind = "On", "success"
			if conn.SsoRequired {
				v.StatusLabel = "On · required"
			}
		}
		f := &v.Form
		f.Enabled, f.AllowIdPInitiated, f.MetadataURL = conn.Enabled, conn.AllowIdpInitiated, conn.MetadataUrl
		f.AttrEmail, f.AttrFirstName, f.AttrLastName = conn.AttrEmail, conn.AttrFirstName, conn.AttrLastName
		f.AttrDisplayName, f.AttrGroups = conn.AttrDisplayName, conn.AttrGroups
		if conn.MetadataUrl == "" && conn.MetadataXml != "" {
			f.Source, f.HasPastedXML = "xml", true
		}
		defaultRole = tenant.RoleValue(conn.DefaultRole, conn.DefaultCustomRoleID)
		if conn.MetadataXml != "" {
			v.IdP = ssoview.IdPSummary{Configured: true, EntityID: st.IdP.EntityID, SSOURL: st.IdP.SSOURL, SLOURL: st.IdP.SLOURL,
				FromURL: conn.MetadataUrl != "", Source: "Pasted XML", LastLogin: "Never"}
			if conn.MetadataUrl != "" {
				v.IdP.Source = "From " + conn.MetadataUrl
				if conn.MetadataFetchedAt != nil {
					v.IdP.Source += ", fetched " + conn.MetadataFetchedAt.UTC().Format("2 Jan 2006, 15:04 UTC")
				}
			}
			if conn.LastLoginAt != nil {
				v.IdP.LastLogin = conn.LastLoginAt.UTC().Format("2 Jan 2006, 15:04 UTC")
			}
			if conn.Enabled {
				v.TestURL = st.Endpoints.Login + "?next=" + url.QueryEscape(base)
			}
		}
		v.Required.Required = conn.SsoRequired
		if !conn.Enabled {
			v.Required.Blockers = append(v.Required.Blockers, "Turn single sign-on on.")
		}
		if conn.LastLoginAt == nil {
			v.Required.Blockers = append(v.Required.Blockers, "Sign in once with “Test sign-in” to check the connection.")
		}
	} else {
		v.Required.Blockers = append(v.Required.Blockers, "Set up single sign-on.")
	}
	if st.Verified == 0 {
		v.Required.Blockers = append(v.Required.Blockers, "Verify at least one e-mail domain.")
	}
	v.Form.Roles = ssoRoleOptions(st.Roles, defaultRole)
	v.Groups.Roles = ssoRoleOptions(st.Roles, tenant.RoleStaff)
	labels := map[string]string{}
	for _, rc := range st.Roles {
		labels[rc.Value] = rc.Label
	}
	for _, g := range st.Groups {
		label := labels[tenant.RoleValue(g.Role, g.CustomRoleID)]
		if label == "" {
			label = g.CustomRoleName
		}
		v.Groups.Rows = append(v.Groups.Rows, ssoview.GroupRow{Group: g.GroupName, Role: label, DeleteURL: base + "/groups/" + g.ID.String() + "/delete"})
	}
	for _, d := range st.Domains {
		row := ssoview.DomainRow{Domain: d.Domain, Verified: d.VerifiedAt != nil, ClaimedBy: d.ClaimedByEmail, DeleteURL: base + "/domains/" + d.ID.String() + "/delete"}
		if row.ClaimedBy == "" {
			row.ClaimedBy = "a former member"
		}
		switch d.Verification {
		case "admin_email":
			row.Method = "Verified through " + row.ClaimedBy + ", a confirmed address on it"
		case "platform_admin":
			row.Method = "Verified by the Accute team"
		}
		v.Domains.Rows = append(v.Domains.Rows, row)
	}
	if edit != nil {
		edit(&v)
	}
	return v, nil
}

// ssoRoleOptions lists the roles SSO may give (every role but owner).
func ssoRoleOptions(choices []tenant.RoleChoice, selected string) []components.Option {
	out := make([]components.Option, 0, len(choices))
	for _, rc := range choices {
		out = append(out, components.Option{Value: rc.Value, Label: rc.Label, Selected: rc.Value == selected})
	}
	return out
}

// reselect marks the option with value as the selected one.
func reselect(opts []components.Option, value string) []components.Option {
	out := make([]components.Option, len(opts))
	for i, o := range opts {
		o.Selected = o.Value == value
		out[i] = o
	}
	return out
}
