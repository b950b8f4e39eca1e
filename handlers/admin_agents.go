package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"accute/internal/agents"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/views/components"
	adminview "accute/views/pages/admin"
)

// planOptions lists the plans with current selected.
func planOptions(current string) []components.Option {
	out := make([]components.Option, 0, len(billing.Plans))
	for _, p := range billing.Plans {
		out = append(out, components.Option{Value: p.Key, Label: p.Name, Selected: p.Key == current})
	}
	return out
}

// AdminOrgPlan changes an organization's plan (audited).
func (h *Handlers) AdminOrgPlan(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	org, err := billing.ChangePlan(c.Request().Context(), h.Store, billing.Admin{ID: p.User.ID, Email: p.User.Email}, id, c.FormValue("plan"))
	var fe form.Errors
	if errors.As(err, &fe) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "Choose one of the plans.")
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", org.Name+" is now on the "+billing.PlanFor(org.Plan).Name+" plan.")
	return h.redirect(c, "/admin/organizations")
}

// AdminAgents lists the agent registry.
func (h *Handlers) AdminAgents(c echo.Context) error {
	rows, err := h.agentsSvc().ListRegistry(c.Request().Context())
	if err != nil {
		return err
	}
	var v adminview.AgentsView
	for _, a := range rows {
		v.Rows = append(v.Rows, adminview.AgentRow{
			Slug: a.Slug, Name: a.Name, Tagline: a.Tagline, MinPlanName: billing.PlanFor(a.MinPlan).Name,
			Version: int(a.Version), Enabled: a.Enabled, EditURL: "/admin/agents/" + a.Slug,
		})
	}
	return h.render(c, http.StatusOK, adminview.AgentsPage(h.adminShell(c, "Agent registry", "agents"), v))
}

func agentEditView(a db.Agent) adminview.AgentEditView {
	return adminview.AgentEditView{Slug: a.Slug, Name: a.Name, Action: "/admin/agents/" + a.Slug,
		Description: a.Description, MinPlan: a.MinPlan, Enabled: a.Enabled, Plans: planOptions(a.MinPlan)}
}

// AdminAgentEdit shows a registry entry's edit form.
func (h *Handlers) AdminAgentEdit(c echo.Context) error {
	slug, err := agentSlug(c)
	if err != nil {
		return err
	}
	a, err := h.agentsSvc().GetRegistry(c.Request().Context(), slug)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, adminview.AgentEditPage(h.adminShell(c, "Edit "+a.Name, "agents"), agentEditView(a)))
}

// AdminAgentUpdate saves description, minimum plan and the enabled flag.
func (h *Handlers) AdminAgentUpdate(c echo.Context) error {
	slug, err := agentSlug(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	in := agents.RegistryInput{Description: c.FormValue("description"), MinPlan: c.FormValue("min_plan"), Enabled: c.FormValue("enabled") == "on"}
	a, err := h.agentsSvc().UpdateRegistry(ctx, p.User.ID, p.User.Email, slug, in)
	var fe form.Errors
	if errors.As(err, &fe) {
		cur, err := h.agentsSvc().GetRegistry(ctx, slug)
		if err != nil {
			return err
		}
		v := agentEditView(cur)
		v.Description, v.MinPlan, v.Enabled, v.Errors, v.Plans = in.Description, in.MinPlan, in.Enabled, fe, planOptions(in.MinPlan)
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, adminview.AgentEditForm(v))
		}
		return h.render(c, http.StatusUnprocessableEntity, adminview.AgentEditPage(h.adminShell(c, "Edit "+cur.Name, "agents"), v))
	}
	if errors.Is(err, store.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", a.Name+" saved.")
	return h.redirect(c, "/admin/agents")
}
