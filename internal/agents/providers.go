package agents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"accute/internal/agents/provider"
	"accute/internal/audit"
	"accute/internal/config"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

// Providers decides which AI provider answers for an organization: its own
// settings (Settings → AI provider) when it has any, else the platform
// default from the environment (config.AI); and which model: an agent's
// installation settings name one when the firm chose it, else the
// organization's (or platform's) model. It also keeps the organization's
// settings, with the API key sealed by the key ring.
type Providers struct {
	store    *store.Store
	keys     *crypto.KeyRing
	platform config.AI
	offline  *provider.Offline
	// Organizations' endpoints go through a transport that refuses
	// private addresses unless the platform allows them; the platform's
	// own endpoint is the operator's choice.
	orgTransport      http.RoundTripper
	platformTransport http.RoundTripper
	// strict: organizations' base URLs must be https and public.
	strict bool
	// TestTimeout bounds "Test connection" (default 20s).
	TestTimeout time.Duration
}

// NewProviders builds the resolver; platform is the validated AI
// configuration.
func NewProviders(st *store.Store, keys *crypto.KeyRing, platform config.AI) *Providers {
	return &Providers{
		store: st, keys: keys, platform: platform,
		offline:           provider.NewOffline(platform.OfflineDelay),
		orgTransport:      provider.NewTransport(provider.TransportOptions{BlockPrivate: !platform.AllowPrivateEndpoints}),
		platformTransport: provider.NewTransport(provider.TransportOptions{}),
		strict:            !platform.AllowPrivateEndpoints,
		TestTimeout:       20 * time.Second,
	}
}

// EncryptedColumns are the agents' sealed columns, for `accute keys rotate`.
var EncryptedColumns = []crypto.Column{{
	Table: "org_ai_settings", Column: "api_key",
	Key: []string{"organization_id", "id"},
	AD:  func(key []string) []byte { return AIKeyAD(key[0], key[1]) },
}}

// AIKeyAD is the associated data an organization's API key is sealed with:
// a sealed key copied to another organization's row does not open.
func AIKeyAD(orgID, settingsID string) []byte {
	return []byte("org_ai_settings.api_key:" + orgID + ":" + settingsID)
}

// Resolved is the provider and model that answer for an organization.
type Resolved struct {
	Provider provider.Provider
	// Kind is provider.KindOffline, KindOpenAI, KindAzure or
	// KindCompatible.
	Kind string
	// Model is the model to put in provider.Request ("offline" for the
	// offline provider, which ignores it).
	Model string
	// FromOrganization: the organization's own settings, not the platform
	// default.
	FromOrganization bool
}

// KindLabel names a provider kind for people.
func KindLabel(kind string) string {
	switch kind {
	case provider.KindOffline:
		return "Built-in (offline)"
	case provider.KindOpenAI:
		return "OpenAI"
	case provider.KindAzure:
		return "Azure OpenAI"
	case provider.KindCompatible:
		return "OpenAI-compatible endpoint"
	}
	return kind
}

// For returns the provider and effective model for agentSlug's runs in
// orgID (agentSlug "" for the organization's provider as such). The model
// is the agent installation's when the firm set one different from the
// agent's default, else the organization's (or platform's) model, else the
// agent's default. An unknown agent is store.ErrNotFound. A key that is
// missing or cannot be opened is a *provider.Error (ErrUnauthorized), so
// the run ends with a message the user understands.
func (p *Providers) For(ctx context.Context, orgID uuid.UUID, agentSlug string) (Resolved, error) {
	var (
		own       *db.OrgAiSetting
		agentDef  string
		installed string
	)
	err := p.store.InOrg(ctx, orgID, func(q *db.Queries) error {
		s, err := q.GetOrgAISettings(ctx, orgID)
		switch {
		case err == nil:
			own = &s
		case !errors.Is(store.MapError(err), store.ErrNotFound):
			return err
		}
		if agentSlug == "" {
			return nil
		}
		a, err := q.GetAgent(ctx, agentSlug)
		if err != nil {
			return err
		}
		agentDef = DecodeSettings(a.DefaultSettings, nil).Model
		i, err := q.GetAgentInstallation(ctx, db.GetAgentInstallationParams{OrganizationID: orgID, AgentSlug: agentSlug})
		switch {
		case err == nil:
			installed = DecodeSettings(a.DefaultSettings, i.Settings).Model
		case !errors.Is(store.MapError(err), store.ErrNotFound):
			return err
		}
		return nil
	})
	if err != nil {
		return Resolved{}, fmt.Errorf("resolve AI provider: %w", store.MapError(err))
	}
	ep, err := p.endpoint(own)
	if err != nil {
		return Resolved{}, err
	}
	r := Resolved{Kind: ep.kind, FromOrganization: own != nil, Model: EffectiveModel(ep.model, agentDef, installed)}
	if ep.kind == provider.KindOffline {
		r.Provider, r.Model = p.offline, provider.KindOffline
		return r, nil
	}
	if r.Provider, err = p.build(ep); err != nil {
		return Resolved{}, err
	}
	return r, nil
}

// EffectiveModel picks the model of a run: the installation's when the
// firm changed it from the agent's default; otherwise the organization's
// or platform's model when set; otherwise the agent's (DefaultModel when
// even that is empty). A firm that points its provider at Ollama with
// llama3.1 thus gets llama3.1 for every agent it has not configured apart.
func EffectiveModel(configured, agentDefault, installed string) string {
	switch {
	case installed != "" && installed != agentDefault:
		return installed
	case configured != "":
		return configured
	case installed != "":
		return installed
	case agentDefault != "":
		return agentDefault
	}
	return DefaultModel
}

// endpoint is a provider configuration with the key opened.
type endpoint struct {
	kind, baseURL, key, model, apiVersion, deployment string
	fromOrg                                           bool
}

func (p *Providers) endpoint(own *db.OrgAiSetting) (endpoint, error) {
	if own == nil {
		a := p.platform
		return endpoint{kind: a.Provider, baseURL: a.BaseURL, key: a.APIKey, model: a.Model, apiVersion: a.AzureAPIVersion, deployment: a.AzureDeployment}, nil
	}
	ep := endpoint{kind: own.Provider, baseURL: own.BaseUrl, model: own.Model, apiVersion: own.AzureApiVersion, deployment: own.AzureDeployment, fromOrg: true}
	if own.ApiKey != nil {
		key, err := p.keys.Open(own.ApiKey, AIKeyAD(own.OrganizationID.String(), own.ID.String()))
		if err != nil {
			return endpoint{}, &provider.Error{Kind: provider.ErrUnauthorized,
				Detail: "the stored API key could not be decrypted (the platform's encryption key may have changed); set the key again"}
		}
		ep.key = string(key)
	}
	return ep, nil
}

func (p *Providers) build(ep endpoint) (provider.Provider, error) {
	if ep.key == "" && (ep.kind == provider.KindOpenAI || ep.kind == provider.KindAzure) {
		return nil, &provider.Error{Kind: provider.ErrUnauthorized, Detail: "no API key is set"}
	}
	rt := p.platformTransport
	if ep.fromOrg {
		rt = p.orgTransport
	}
	prov, err := provider.NewOpenAI(provider.OpenAIConfig{Kind: ep.kind, BaseURL: ep.baseURL, APIKey: ep.key,
		AzureAPIVersion: ep.apiVersion, AzureDeployment: ep.deployment, Transport: rt})
	if err != nil {
		// Saved settings are validated; this is a platform default that
		// config let through, or a row written by hand.
		return nil, &provider.Error{Kind: provider.ErrBadRequest, Detail: err.Error()}
	}
	return prov, nil
}

// AISettings is the settings page's data.
type AISettings struct {
	// Own is the organization's settings; nil when it uses the platform
	// default.
	Own *db.OrgAiSetting
	// HasKey: a key is stored (it is never shown again).
	HasKey   bool
	KeySetAt *time.Time
	// PlatformKind and PlatformModel describe the platform default.
	PlatformKind  string
	PlatformModel string
	// RequireHTTPS: organizations' endpoints must be https and public.
	RequireHTTPS bool
}

// AISettingsInput is the settings form as typed.
type AISettingsInput struct {
	// Provider is "default" (the platform's) or a provider kind.
	Provider        string
	BaseURL         string
	Model           string
	AzureAPIVersion string
	AzureDeployment string
	// APIKey, when not empty, sets or replaces the stored key; RemoveKey
	// removes it.
	APIKey    string
	RemoveKey bool
}

// ProviderDefault is the form's choice of the platform default.
const ProviderDefault = "default"

// Limits of the AI settings form.
const (
	maxBaseURL = 500
	maxAPIKey  = 1000
)

var (
	azureDeploymentPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	azureVersionPattern    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)
)

// LoadSettings reads the organization's settings for the settings page.
func (p *Providers) LoadSettings(ctx context.Context, orgID uuid.UUID) (AISettings, error) {
	out := AISettings{PlatformKind: p.platform.Provider, PlatformModel: p.platform.Model, RequireHTTPS: p.strict}
	err := p.store.InOrg(ctx, orgID, func(q *db.Queries) error {
		s, err := q.GetOrgAISettings(ctx, orgID)
		if err != nil {
			return err
		}
		out.Own, out.HasKey, out.KeySetAt = &s, s.ApiKey != nil, s.ApiKeySetAt
		return nil
	})
	if err != nil && !errors.Is(store.MapError(err), store.ErrNotFound) {
		return AISettings{}, fmt.Errorf("load AI settings: %w", err)
	}
	return out, nil
}

// cleanAI is a validated form.
type cleanAI struct {
	kind, baseURL, model, apiVersion, deployment, key string
	removeKey                                         bool
}

// keepsKey says whether a stored key may stay with the settings c: only
// while it would still go where it was entered for (the same provider and
// address), or nowhere (offline). Otherwise whoever may edit the settings
// could point the firm's key at a server of their own: it must be entered
// again.
func keepsKey(current *db.OrgAiSetting, c cleanAI) bool {
	return current != nil && current.ApiKey != nil &&
		(c.kind == provider.KindOffline || current.Provider == c.kind && current.BaseUrl == c.baseURL)
}

// parseAISettings validates in against the stored settings (nil when
// none).
func (p *Providers) parseAISettings(in AISettingsInput, current *db.OrgAiSetting) (cleanAI, form.Errors) {
	errs := form.Errors{}
	c := cleanAI{
		kind: strings.TrimSpace(in.Provider), baseURL: strings.TrimRight(strings.TrimSpace(in.BaseURL), "/"),
		model: strings.TrimSpace(in.Model), apiVersion: strings.TrimSpace(in.AzureAPIVersion),
		deployment: strings.TrimSpace(in.AzureDeployment), key: strings.TrimSpace(in.APIKey), removeKey: in.RemoveKey,
	}
	switch c.kind {
	case ProviderDefault, provider.KindOffline, provider.KindOpenAI, provider.KindAzure, provider.KindCompatible:
	default:
		errs.Add("provider", "Choose one of the providers.")
		return c, errs
	}
	if c.kind == ProviderDefault {
		return c, errs
	}
	if c.kind == provider.KindOffline {
		// Nothing to connect to (a stored key stays, unused; see
		// keepsKey).
		c.baseURL, c.model, c.apiVersion, c.deployment = "", "", "", ""
	}
	if c.kind != provider.KindAzure {
		c.apiVersion, c.deployment = "", ""
	}
	switch {
	case c.key != "" && c.removeKey:
		errs.Add("api_key", "Either enter a new key or remove the stored one, not both.")
	case len(c.key) > maxAPIKey:
		errs.Add("api_key", fmt.Sprintf("An API key has at most %d characters.", maxAPIKey))
	case strings.IndexFunc(c.key, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0:
		errs.Add("api_key", "An API key has no spaces or special characters; paste it exactly as the provider shows it.")
	}
	keyAfter := c.key != "" || (keepsKey(current, c) && !c.removeKey)
	switch c.kind {
	case provider.KindOpenAI:
		if c.baseURL != "" {
			p.checkBaseURL(errs, c.baseURL)
		}
		if !keyAfter {
			errs.Add("api_key", "OpenAI needs an API key (it starts with sk-).")
		}
	case provider.KindAzure:
		if c.baseURL == "" {
			errs.Add("base_url", "Enter your Azure OpenAI resource's address, for example https://your-resource.openai.azure.com.")
		} else {
			p.checkBaseURL(errs, c.baseURL)
		}
		if !azureDeploymentPattern.MatchString(c.deployment) {
			errs.Add("azure_deployment", "Enter the deployment name from Azure AI Foundry (letters, digits, dots, dashes and underscores).")
		}
		if c.apiVersion == "" {
			c.apiVersion = provider.DefaultAzureAPIVersion
		} else if !azureVersionPattern.MatchString(c.apiVersion) {
			errs.Add("azure_api_version", "Enter an API version such as "+provider.DefaultAzureAPIVersion+" or 2025-01-01-preview.")
		}
		if !keyAfter {
			errs.Add("api_key", "Azure OpenAI needs the resource's API key.")
		}
	case provider.KindCompatible:
		if c.baseURL == "" {
			errs.Add("base_url", "Enter the endpoint's address, for example https://api.anthropic.com/v1 or http://localhost:11434/v1 for Ollama.")
		} else {
			p.checkBaseURL(errs, c.baseURL)
		}
	}
	if _, missing := errs["api_key"]; missing && c.key == "" && !c.removeKey && current != nil && current.ApiKey != nil {
		errs["api_key"] = "Enter the API key again: a stored key is only sent to the provider and address it was entered for."
	}
	switch {
	case len(c.model) > maxModel:
		errs.Add("model", fmt.Sprintf("Use at most %d characters.", maxModel))
	case strings.ContainsAny(c.model, " \t\n"):
		errs.Add("model", "A model name has no spaces.")
	}
	return c, errs
}

// checkBaseURL adds the base URL's problem to errs. With strict endpoints
// (production, unless the platform allows private ones) the address must
// be https and must not name a private host; the dialer checks the
// resolved address again at every connection.
func (p *Providers) checkBaseURL(errs form.Errors, raw string) {
	if len(raw) > maxBaseURL {
		errs.Add("base_url", fmt.Sprintf("Use at most %d characters.", maxBaseURL))
		return
	}
	if err := provider.CheckBaseURL(raw, !p.strict); err != nil {
		msg := err.Error()
		errs.Add("base_url", strings.ToUpper(msg[:1])+msg[1:]+".")
		return
	}
	if !p.strict {
		return
	}
	u, _ := url.Parse(raw)
	host := strings.ToLower(u.Hostname())
	if ip, err := netip.ParseAddr(host); (err == nil && !provider.PublicAddr(ip)) || host == "localhost" ||
		strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") || strings.HasSuffix(host, ".internal") {
		errs.Add("base_url", "This address is in a private network, which this platform does not connect to. Use the provider's public https address.")
	}
}

// SaveSettings validates and saves the organization's settings, sealing a
// new key; "default" removes them (and the key) so the platform default
// applies. Every change is audited, the key only as "set" or "removed".
// Refusals are form.Errors.
func (p *Providers) SaveSettings(ctx context.Context, a Actor, in AISettingsInput) (AISettings, error) {
	err := p.store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var current *db.OrgAiSetting
		s, err := q.GetOrgAISettings(ctx, a.OrgID)
		switch {
		case err == nil:
			current = &s
		case !errors.Is(store.MapError(err), store.ErrNotFound):
			return err
		}
		c, errs := p.parseAISettings(in, current)
		if errs.Any() {
			return errs
		}
		if c.kind == ProviderDefault {
			if current == nil {
				return nil
			}
			if _, err := q.DeleteOrgAISettings(ctx, a.OrgID); err != nil {
				return err
			}
			return p.audit(ctx, q, a, audit.AISettingsReset, "AI provider set back to the platform default"+keyNote(current.ApiKey != nil, "; the stored API key was deleted"))
		}
		row, err := q.UpsertOrgAISettings(ctx, db.UpsertOrgAISettingsParams{OrganizationID: a.OrgID, Provider: c.kind, BaseUrl: c.baseURL,
			Model: c.model, AzureApiVersion: c.apiVersion, AzureDeployment: c.deployment, UpdatedBy: &a.UserID})
		if err != nil {
			return err
		}
		if err := p.audit(ctx, q, a, audit.AISettingsUpdated, "AI provider: "+describe(c)); err != nil {
			return err
		}
		switch {
		case c.key != "":
			sealed, err := p.keys.Seal([]byte(c.key), AIKeyAD(a.OrgID.String(), row.ID.String()))
			if err != nil {
				return fmt.Errorf("seal AI key: %w", err)
			}
			if _, err := q.SetOrgAIKey(ctx, db.SetOrgAIKeyParams{OrganizationID: a.OrgID, ID: row.ID, ApiKey: sealed, UpdatedBy: &a.UserID}); err != nil {
				return err
			}
			verb := "API key set"
			if row.ApiKey != nil {
				verb = "API key replaced"
			}
			return p.audit(ctx, q, a, audit.AIKeySet, verb+" for "+KindLabel(c.kind))
		case row.ApiKey != nil && (c.removeKey || !keepsKey(current, c)):
			if _, err := q.SetOrgAIKey(ctx, db.SetOrgAIKeyParams{OrganizationID: a.OrgID, ID: row.ID, ApiKey: nil, UpdatedBy: &a.UserID}); err != nil {
				return err
			}
			why := "API key removed"
			if !c.removeKey {
				why += ": the provider or its address changed"
			}
			return p.audit(ctx, q, a, audit.AIKeyRemoved, why)
		}
		return nil
	})
	if err != nil {
		var fe form.Errors
		if errors.As(err, &fe) {
			return AISettings{}, fe
		}
		return AISettings{}, fmt.Errorf("save AI settings: %w", store.MapError(err))
	}
	return p.LoadSettings(ctx, a.OrgID)
}

func keyNote(cond bool, note string) string {
	if cond {
		return note
	}
	return ""
}

// describe words saved settings for the audit trail (never the key).
func describe(c cleanAI) string {
	s := KindLabel(c.kind)
	switch c.kind {
	case provider.KindOffline:
		return s
	case provider.KindAzure:
		s += " at " + c.baseURL + ", deployment " + c.deployment + ", API version " + c.apiVersion
	default:
		if c.baseURL != "" {
			s += " at " + c.baseURL
		}
	}
	if c.model != "" {
		s += ", model " + c.model
	}
	return s
}

func (p *Providers) audit(ctx context.Context, q *db.Queries, a Actor, action, summary string) error {
	return audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: action,
		TargetType: "ai_settings", TargetID: a.OrgID.String(), Summary: summary})
}

// TestResult is the outcome of "Test connection", in words.
type TestResult struct {
	OK      bool
	Kind    string
	Model   string
	Message string
	// Detail is the provider's own words on a failure, for the
	// administrator (plain text).
	Detail  string
	Elapsed time.Duration
}

// TestConnection sends a tiny completion through the organization's
// provider (its settings as saved) and says how it went. Only a failure to
// read the settings is an error; a provider's refusal is a result. It
// waits on the network for up to TestTimeout: callers inside a request
// should release the request's transaction first.
func (p *Providers) TestConnection(ctx context.Context, orgID uuid.UUID) (TestResult, error) {
	r, err := p.For(ctx, orgID, "")
	var pe *provider.Error
	if errors.As(err, &pe) {
		return TestResult{Message: provider.UserMessage(err), Detail: pe.Detail}, nil
	}
	if err != nil {
		return TestResult{}, err
	}
	res := TestResult{Kind: r.Kind, Model: r.Model}
	if r.Kind == provider.KindOffline {
		res.OK = true
		res.Message = "The built-in offline provider needs no connection: it answers by quoting your firm's documents."
		return res, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.TestTimeout)
	defer cancel()
	start := time.Now()
	reply, err := complete(ctx, r.Provider, provider.Request{Model: r.Model, MaxTokens: 16,
		Messages: []provider.Message{{Role: provider.RoleUser, Content: "Reply with the single word OK."}}})
	res.Elapsed = time.Since(start)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = &provider.Error{Kind: provider.ErrTimeout, Detail: fmt.Sprintf("no complete answer within %s", p.TestTimeout)}
		}
		res.Message = provider.UserMessage(err)
		if errors.As(err, &pe) {
			res.Detail = pe.Detail
			if pe.Status != 0 {
				res.Detail = strings.TrimSuffix(fmt.Sprintf("HTTP %d. %s", pe.Status, pe.Detail), " ")
			}
		}
		return res, nil
	}
	res.OK = true
	res.Message = fmt.Sprintf("Connected to %s with model %s: it answered in %.1f s.", KindLabel(r.Kind), r.Model, res.Elapsed.Seconds())
	if reply = strings.Join(strings.Fields(reply), " "); reply != "" {
		if len([]rune(reply)) > 80 {
			reply = string([]rune(reply)[:80]) + "…"
		}
		res.Detail = "It replied: “" + reply + "”"
	}
	return res, nil
}

// complete reads a whole answer's text.
func complete(ctx context.Context, prov provider.Provider, req provider.Request) (string, error) {
	s, err := prov.Stream(ctx, req)
	if err != nil {
		return "", err
	}
	defer s.Close()
	var b strings.Builder
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		b.WriteString(c.Text)
	}
}
