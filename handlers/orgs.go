package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/tenant"
	orgsview "accute/views/pages/orgs"
)

// OrgsList shows the user's organizations; with exactly one, it goes there.
func (h *Handlers) OrgsList(c echo.Context) error {
	p := principal(c)
	if len(p.Orgs) == 1 && c.QueryParam("all") == "" {
		return c.Redirect(http.StatusSeeOther, "/o/"+p.Orgs[0].Slug)
	}
	return h.render(c, http.StatusOK, orgsview.OrgsPage(h.shell(c, "Organizations", "orgs")))
}

// OrgsNew shows the new-organization form.
func (h *Handlers) OrgsNew(c echo.Context) error {
	return h.render(c, http.StatusOK, orgsview.NewOrgPage(h.shell(c, "New organization", "orgs"), orgsview.NewOrgView{}))
}

// OrgsCreate creates an organization owned by the user.
func (h *Handlers) OrgsCreate(c echo.Context) error {
	p := principal(c)
	name := c.FormValue("name")
	org, err := h.Orgs.CreateOrganization(c.Request().Context(), p.User.ID, p.User.Email, name)
	var fe form.Errors
	if errors.As(err, &fe) {
		v := orgsview.NewOrgView{Name: name, Error: fe["name"]}
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, orgsview.NewOrgForm(v))
		}
		return h.render(c, http.StatusUnprocessableEntity, orgsview.NewOrgPage(h.shell(c, "New organization", "orgs"), v))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", org.Name+" is ready.")
	return h.redirect(c, "/o/"+org.Slug)
}

// Dashboard is the organization's home.
func (h *Handlers) Dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	perms := p.Membership.Permissions
	v := orgsview.DashboardView{
		CanClients:      perms.Has(tenant.ClientsRead),
		CanWriteClients: perms.Has(tenant.ClientsWrite),
		CanMembers:      perms.Has(tenant.MembersRead),
	}
	err := h.Store.InOrg(ctx, p.Org.ID, func(q *db.Queries) error {
		stats, err := q.GetDashboardStats(ctx, p.Org.ID)
		if err != nil {
			return err
		}
		v.ActiveClients, v.NewClients, v.Members, v.PendingInvitations = int(stats.ActiveClients), int(stats.NewClients), int(stats.Members), int(stats.PendingInvitations)
		if !v.CanClients {
			return nil
		}
		recent, err := q.ListRecentClients(ctx, p.Org.ID)
		for _, r := range recent {
			v.RecentClients = append(v.RecentClients, orgsview.RecentClient{
				URL: "/o/" + p.Org.Slug + "/clients/" + r.ID.String(), Name: r.Name, Kind: kindLabel(r.Kind), Updated: r.UpdatedAt.Format("2 Jan 2006"),
			})
		}
		return err
	})
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, orgsview.DashboardPage(h.shell(c, p.Org.Name, "dashboard"), v))
}

func kindLabel(kind string) string {
	if kind == "individual" {
		return "Individual"
	}
	return "Business"
}

// AccountShow shows the user's profile.
func (h *Handlers) AccountShow(c echo.Context) error {
	p := principal(c)
	return h.render(c, http.StatusOK, orgsview.AccountPage(h.shell(c, "Your account", "account"),
		orgsview.AccountView{Name: p.User.Name, Email: p.User.Email, Verified: p.User.EmailVerifiedAt != nil}))
}

// AccountUpdate renames the user.
func (h *Handlers) AccountUpdate(c echo.Context) error {
	p := principal(c)
	name := form.Clean(c.FormValue("name"))
	errs := form.Errors{}
	errs.Required("name", name, 100)
	if errs.Any() {
		return h.render(c, http.StatusUnprocessableEntity, orgsview.AccountPage(h.shell(c, "Your account", "account"),
			orgsview.AccountView{Name: name, Email: p.User.Email, Verified: p.User.EmailVerifiedAt != nil, Error: errs["name"]}))
	}
	if err := h.Store.Q().UpdateUserName(c.Request().Context(), db.UpdateUserNameParams{ID: p.User.ID, Name: name}); err != nil {
		return err
	}
	h.flash(c, "success", "Your name was saved.")
	return h.redirect(c, "/account")
}
