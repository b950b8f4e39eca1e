package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

// Limits of the firm's settings.
const (
	MaxInstructions = 4000
	MaxTemperature  = 2.0
	maxModel        = 100
)

// Refusals of the marketplace (409 or 404 in the web layer, which words
// them for people).
var (
	ErrAlreadyInstalled = errors.New("agent already installed")
	ErrNotInstalled     = fmt.Errorf("%w: agent not installed", store.ErrNotFound)
	ErrUnavailable      = errors.New("agent withdrawn from the marketplace")
)

// Service is the registry and the marketplace.
type Service struct {
	Store *store.Store
}

// Actor is the member acting, as audited.
type Actor struct {
	OrgID  uuid.UUID
	UserID uuid.UUID
	Email  string
}

// Listing is one agent as an organization sees it in the marketplace.
type Listing struct {
	Agent     db.Agent
	Installed bool
	Enabled   bool
	Settings  Settings
	// Allowed: the organization's plan includes the agent; otherwise
	// Needed is the plan it needs.
	Allowed bool
	Needed  billing.Plan
}

// Marketplace is the marketplace page's data.
type Marketplace struct {
	Plan     billing.Plan
	Usage    billing.Usage // installed agents against the plan's limit
	Listings []Listing
}

// DecodeSettings reads stored settings over the defaults.
func DecodeSettings(defaults, stored []byte) Settings {
	var s Settings
	_ = json.Unmarshal(defaults, &s)
	_ = json.Unmarshal(stored, &s)
	return s
}

// Marketplace lists the registry for an organization: agents withdrawn by
// the platform appear only when the organization has them installed.
func (s *Service) Marketplace(ctx context.Context, orgID uuid.UUID) (Marketplace, error) {
	var m Marketplace
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		if m.Usage, err = billing.UsageOf(ctx, q, orgID, billing.Agents); err != nil {
			return err
		}
		m.Plan = m.Usage.Plan
		all, err := q.ListAgents(ctx)
		if err != nil {
			return err
		}
		inst, err := q.ListAgentInstallations(ctx, orgID)
		if err != nil {
			return err
		}
		bySlug := make(map[string]db.AgentInstallation, len(inst))
		for _, i := range inst {
			bySlug[i.AgentSlug] = i
		}
		for _, a := range all {
			i, ok := bySlug[a.Slug]
			if !a.Enabled && !ok {
				continue
			}
			m.Listings = append(m.Listings, listing(m.Plan, a, i, ok))
		}
		return nil
	})
	return m, err
}

func listing(p billing.Plan, a db.Agent, i db.AgentInstallation, installed bool) Listing {
	l := Listing{Agent: a, Installed: installed, Allowed: p.AtLeast(a.MinPlan), Needed: billing.PlanFor(a.MinPlan)}
	if installed {
		l.Enabled = i.Enabled && a.Enabled
		l.Settings = DecodeSettings(a.DefaultSettings, i.Settings)
	} else {
		l.Settings = DecodeSettings(a.DefaultSettings, nil)
	}
	return l
}

// Get returns one agent as the organization sees it (store.ErrNotFound for
// an unknown slug, or a withdrawn one the organization never installed).
func (s *Service) Get(ctx context.Context, orgID uuid.UUID, slug string) (Listing, billing.Plan, error) {
	var l Listing
	var p billing.Plan
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		if p, err = billing.PlanOf(ctx, q, orgID); err != nil {
			return err
		}
		a, err := q.GetAgent(ctx, slug)
		if err != nil {
			return err
		}
		i, err := q.GetAgentInstallation(ctx, db.GetAgentInstallationParams{OrganizationID: orgID, AgentSlug: slug})
		installed := err == nil
		if err != nil && !errors.Is(store.MapError(err), store.ErrNotFound) {
			return err
		}
		if !a.Enabled && !installed {
			return store.ErrNotFound
		}
		l = listing(p, a, i, installed)
		return nil
	})
	return l, p, store.MapError(err)
}

// Install installs an agent for the organization with its default
// settings. It is refused (*billing.LimitError) when the plan is below the
// agent's minimum plan or the installed-agents limit is reached.
func (s *Service) Install(ctx context.Context, a Actor, slug string) (db.AgentInstallation, error) {
	var inst db.AgentInstallation
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		ag, err := q.GetAgent(ctx, slug)
		if err != nil {
			return err
		}
		if !ag.Enabled {
			return ErrUnavailable
		}
		if _, err := q.GetAgentInstallation(ctx, db.GetAgentInstallationParams{OrganizationID: a.OrgID, AgentSlug: slug}); err == nil {
			return ErrAlreadyInstalled
		} else if !errors.Is(store.MapError(err), store.ErrNotFound) {
			return err
		}
		p, err := billing.PlanOf(ctx, q, a.OrgID)
		if err != nil {
			return err
		}
		if err := billing.RequirePlan(p, ag.MinPlan, ag.Name); err != nil {
			return err
		}
		if _, err := billing.Check(ctx, q, a.OrgID, billing.Agents); err != nil {
			return err
		}
		inst, err = q.InstallAgent(ctx, db.InstallAgentParams{OrganizationID: a.OrgID, AgentSlug: slug, Settings: ag.DefaultSettings, InstalledBy: &a.UserID})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return ErrAlreadyInstalled
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.AgentInstalled,
			TargetType: "agent", TargetID: slug, Summary: ag.Name + " installed"})
	})
	return inst, store.MapError(err)
}

// SetEnabled enables or disables an installed agent. Enabling is refused
// when the plan no longer includes the agent or the platform withdrew it.
func (s *Service) SetEnabled(ctx context.Context, a Actor, slug string, enabled bool) error {
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		ag, err := q.GetAgent(ctx, slug)
		if err != nil {
			return err
		}
		if enabled {
			if !ag.Enabled {
				return ErrUnavailable
			}
			p, err := billing.PlanOf(ctx, q, a.OrgID)
			if err != nil {
				return err
			}
			if err := billing.RequirePlan(p, ag.MinPlan, ag.Name); err != nil {
				return err
			}
		}
		if _, err := q.SetAgentInstallationEnabled(ctx, db.SetAgentInstallationEnabledParams{OrganizationID: a.OrgID, AgentSlug: slug, Enabled: enabled}); err != nil {
			if errors.Is(store.MapError(err), store.ErrNotFound) {
				return ErrNotInstalled
			}
			return err
		}
		action, verb := audit.AgentDisabled, " disabled"
		if enabled {
			action, verb = audit.AgentEnabled, " enabled"
		}
		return audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: action,
			TargetType: "agent", TargetID: slug, Summary: ag.Name + verb})
	})
	return store.MapError(err)
}

// SettingsInput is the configure form as typed.
type SettingsInput struct {
	Model        string
	Temperature  string
	Instructions string
}

// ParseSettings validates the configure form.
func ParseSettings(in SettingsInput) (Settings, form.Errors) {
	errs := form.Errors{}
	out := Settings{Model: strings.TrimSpace(in.Model), Instructions: strings.TrimSpace(strings.ReplaceAll(in.Instructions, "\r\n", "\n"))}
	switch {
	case out.Model == "":
		errs.Add("model", "Enter a model name, for example "+DefaultModel+".")
	case len(out.Model) > maxModel:
		errs.Add("model", fmt.Sprintf("Use at most %d characters.", maxModel))
	case strings.ContainsAny(out.Model, " \t\n"):
		errs.Add("model", "A model name has no spaces.")
	}
	t, err := strconv.ParseFloat(strings.TrimSpace(in.Temperature), 64)
	switch {
	case err != nil || math.IsNaN(t) || math.IsInf(t, 0):
		errs.Add("temperature", "Enter a number between 0 and 2, for example 0.2.")
	case t < 0 || t > MaxTemperature:
		errs.Add("temperature", "The temperature must be between 0 and 2.")
	default:
		out.Temperature = math.Round(t*100) / 100
	}
	if n := len([]rune(out.Instructions)); n > MaxInstructions {
		errs.Add("instructions", fmt.Sprintf("Use at most %d characters (this is %d).", MaxInstructions, n))
	}
	return out, errs
}

// Configure saves the firm's settings of an installed agent.
func (s *Service) Configure(ctx context.Context, a Actor, slug string, in SettingsInput) (Settings, error) {
	set, errs := ParseSettings(in)
	if errs.Any() {
		return Settings{}, errs
	}
	raw, err := json.Marshal(set)
	if err != nil {
		return Settings{}, err
	}
	err = s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		ag, err := q.GetAgent(ctx, slug)
		if err != nil {
			return err
		}
		if _, err := q.UpdateAgentInstallationSettings(ctx, db.UpdateAgentInstallationSettingsParams{OrganizationID: a.OrgID, AgentSlug: slug, Settings: raw}); err != nil {
			if errors.Is(store.MapError(err), store.ErrNotFound) {
				return ErrNotInstalled
			}
			return err
		}
		return audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.AgentConfigured,
			TargetType: "agent", TargetID: slug, Summary: fmt.Sprintf("%s configured: model %s, temperature %g", ag.Name, set.Model, set.Temperature)})
	})
	return set, store.MapError(err)
}

// InstallDefault installs Luca for a new organization in the caller's
// transaction (tenant.Service.CreateOrganization); nothing happens when the
// registry has not been synced.
func InstallDefault(ctx context.Context, q *db.Queries, orgID uuid.UUID, by *uuid.UUID) error {
	_, err := q.InstallDefaultAgent(ctx, db.InstallDefaultAgentParams{OrganizationID: orgID, AgentSlug: DefaultSlug, InstalledBy: by})
	return err
}

// RegistryInput is the console's edit of one registry entry.
type RegistryInput struct {
	Description string
	MinPlan     string
	Enabled     bool
}

// ListRegistry lists every agent for the console.
func (s *Service) ListRegistry(ctx context.Context) ([]db.Agent, error) {
	var out []db.Agent
	err := s.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		out, err = q.ListAgents(ctx)
		return err
	})
	return out, err
}

// GetRegistry reads one registry entry for the console.
func (s *Service) GetRegistry(ctx context.Context, slug string) (db.Agent, error) {
	var a db.Agent
	err := s.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		a, err = q.GetAgent(ctx, slug)
		return err
	})
	return a, store.MapError(err)
}

// UpdateRegistry edits an agent's description, minimum plan and enabled
// flag (platform administrators), audited in the platform trail.
func (s *Service) UpdateRegistry(ctx context.Context, adminID uuid.UUID, adminEmail, slug string, in RegistryInput) (db.Agent, error) {
	in.Description = strings.TrimSpace(strings.ReplaceAll(in.Description, "\r\n", "\n"))
	errs := form.Errors{}
	if in.Description == "" {
		errs.Add("description", "Describe what the agent does.")
	} else if n := len([]rune(in.Description)); n > 2000 {
		errs.Add("description", fmt.Sprintf("Use at most 2000 characters (this is %d).", n))
	}
	if !billing.ValidPlan(in.MinPlan) {
		errs.Add("min_plan", "Choose one of the plans.")
	}
	if errs.Any() {
		return db.Agent{}, errs
	}
	var a db.Agent
	err := s.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		if a, err = q.UpdateAgentListing(ctx, db.UpdateAgentListingParams{Slug: slug, Description: in.Description, MinPlan: in.MinPlan, Enabled: in.Enabled}); err != nil {
			return err
		}
		state := "enabled"
		if !in.Enabled {
			state = "disabled"
		}
		return audit.Record(ctx, q, audit.Event{ActorID: &adminID, ActorEmail: adminEmail, Action: audit.AdminAgentUpdated,
			TargetType: "agent", TargetID: slug, Summary: fmt.Sprintf("%s: minimum plan %s, %s", a.Name, billing.PlanFor(in.MinPlan).Name, state)})
	})
	return a, store.MapError(err)
}
