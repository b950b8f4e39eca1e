package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"accute/internal/agents"
	"accute/internal/billing"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
	agentsview "accute/views/pages/agents"
)

// The marketplace's service is stateless over the store, like the console's.
func (h *Handlers) agentsSvc() *agents.Service { return &agents.Service{Store: h.Store} }

func agentActor(c echo.Context) agents.Actor {
	p := principal(c)
	return agents.Actor{OrgID: p.Org.ID, UserID: p.User.ID, Email: p.User.Email}
}

// agentSlug reads :agent; anything that cannot be a slug is 404.
func agentSlug(c echo.Context) (string, error) {
	s := c.Param("agent")
	if len(s) < 2 || len(s) > 40 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return "", echo.ErrNotFound
	}
	return s, nil
}

func formatTemperature(t float64) string { return strconv.FormatFloat(t, 'f', -1, 64) }

// AgentsList is the marketplace: every agent with what it does, whether the
// plan allows it, and its state in this organization.
func (h *Handlers) AgentsList(c echo.Context) error {
	p := principal(c)
	m, err := h.agentsSvc().Marketplace(c.Request().Context(), p.Org.ID)
	if err != nil {
		return err
	}
	v := agentsview.MarketplaceView{
		PlanName: m.Plan.Name, Installed: int(m.Usage.Used), Limit: billing.FormatAmount(billing.Agents, m.Usage.Limit),
		AtLimit: m.Usage.Remaining() == 0, CanManage: p.Membership.Permissions.Has(tenant.AgentsManage),
	}
	for _, l := range m.Listings {
		base := orgURL(c, "/agents/"+l.Agent.Slug)
		v.Cards = append(v.Cards, agentsview.AgentCard{
			Slug: l.Agent.Slug, Name: l.Agent.Name, Tagline: l.Agent.Tagline, Description: l.Agent.Description,
			Capabilities: l.Agent.Capabilities, MinPlanName: l.Needed.Name, Allowed: l.Allowed, Available: l.Agent.Enabled,
			Installed: l.Installed, Enabled: l.Enabled, Model: l.Settings.Model, Temperature: formatTemperature(l.Settings.Temperature),
			HasOwnNotes: l.Settings.Instructions != "",
			InstallURL:  base + "/install", EnableURL: base + "/enable", DisableURL: base + "/disable", SettingsURL: base + "/settings",
			ChatURL: chatURL(l, base),
		})
	}
	return h.render(c, http.StatusOK, agentsview.MarketplacePage(h.shell(c, "AI agents", "agents"), v))
}

// agentRefusal answers the marketplace's refusals: plan limits go to the
// error handler (402); the others are 409 with their message.
func agentRefusal(err error) error {
	switch {
	case errors.Is(err, agents.ErrUnavailable):
		return echo.NewHTTPError(http.StatusConflict, "This agent is not available at the moment; the platform has withdrawn it from the marketplace.")
	case errors.Is(err, agents.ErrNotInstalled):
		return echo.NewHTTPError(http.StatusConflict, "Install this agent first.")
	}
	return err
}

// AgentsInstall installs an agent the plan allows, within the plan's
// installed-agents limit.
func (h *Handlers) AgentsInstall(c echo.Context) error {
	slug, err := agentSlug(c)
	if err != nil {
		return err
	}
	_, err = h.agentsSvc().Install(c.Request().Context(), agentActor(c), slug)
	if errors.Is(err, agents.ErrAlreadyInstalled) {
		store.RollbackRequest(c.Request().Context())
		h.flash(c, "info", "This agent is already installed.")
		return h.redirect(c, orgURL(c, "/agents"))
	}
	if err != nil {
		return agentRefusal(err)
	}
	h.flash(c, "success", "Agent installed and enabled. Configure it to add your firm's instructions.")
	return h.redirect(c, orgURL(c, "/agents"))
}

// AgentsEnable enables an installed agent.
func (h *Handlers) AgentsEnable(c echo.Context) error { return h.agentsSetEnabled(c, true) }

// AgentsDisable disables an installed agent (its settings are kept).
func (h *Handlers) AgentsDisable(c echo.Context) error { return h.agentsSetEnabled(c, false) }

func (h *Handlers) agentsSetEnabled(c echo.Context, enabled bool) error {
	slug, err := agentSlug(c)
	if err != nil {
		return err
	}
	if err := h.agentsSvc().SetEnabled(c.Request().Context(), agentActor(c), slug, enabled); err != nil {
		return agentRefusal(err)
	}
	if enabled {
		h.flash(c, "success", "Agent enabled.")
	} else {
		h.flash(c, "success", "Agent disabled. Its settings are kept for when you enable it again.")
	}
	return h.redirect(c, orgURL(c, "/agents"))
}

// AgentsSettings shows an installed agent's configuration form.
func (h *Handlers) AgentsSettings(c echo.Context) error {
	slug, err := agentSlug(c)
	if err != nil {
		return err
	}
	l, _, err := h.agentsSvc().Get(c.Request().Context(), principal(c).Org.ID, slug)
	if err != nil {
		return err
	}
	if !l.Installed {
		return echo.ErrNotFound
	}
	v := h.agentSettingsView(c, l)
	v.Model, v.Temperature, v.Instructions = l.Settings.Model, formatTemperature(l.Settings.Temperature), l.Settings.Instructions
	return h.render(c, http.StatusOK, agentsview.SettingsPage(h.shell(c, "Configure "+l.Agent.Name, "agents"), v))
}

func (h *Handlers) agentSettingsView(c echo.Context, l agents.Listing) agentsview.SettingsView {
	return agentsview.SettingsView{
		Name: l.Agent.Name, Tagline: l.Agent.Tagline, Enabled: l.Enabled,
		Action: orgURL(c, "/agents/"+l.Agent.Slug+"/settings"), BackURL: orgURL(c, "/agents"),
	}
}

// AgentsConfigure saves model, temperature and the firm's instructions.
func (h *Handlers) AgentsConfigure(c echo.Context) error {
	slug, err := agentSlug(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	in := agents.SettingsInput{Model: c.FormValue("model"), Temperature: c.FormValue("temperature"), Instructions: c.FormValue("instructions")}
	_, err = h.agentsSvc().Configure(ctx, agentActor(c), slug, in)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		l, _, err := h.agentsSvc().Get(ctx, principal(c).Org.ID, slug)
		if err != nil {
			return err
		}
		if !l.Installed {
			return echo.ErrNotFound
		}
		v := h.agentSettingsView(c, l)
		v.Model, v.Temperature, v.Instructions, v.Errors = in.Model, in.Temperature, in.Instructions, fe
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, agentsview.SettingsForm(v))
		}
		return h.render(c, http.StatusUnprocessableEntity, agentsview.SettingsPage(h.shell(c, "Configure "+l.Agent.Name, "agents"), v))
	}
	if errors.Is(err, agents.ErrNotInstalled) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Settings saved.")
	return h.redirect(c, orgURL(c, "/agents"))
}

// chatURL is the agent's conversations page when the member can talk to it.
func chatURL(l agents.Listing, base string) string {
	if l.Installed && l.Enabled && l.Allowed {
		return base
	}
	return ""
}
