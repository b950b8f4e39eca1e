package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"accute/internal/agents"
	"accute/internal/agents/provider"
	"accute/internal/form"
	"accute/internal/store"
	aiview "accute/views/pages/aisettings"
)

// The organization's AI provider, under /o/:org/settings/ai
// (organization.manage): which provider and model its agents use, its API
// key (sealed; only ever set, replaced or removed), and "Test connection".

// AISettingsShow shows the page.
func (h *Handlers) AISettingsShow(c echo.Context) error {
	return h.aiSettingsPage(c, http.StatusOK, nil, nil)
}

// AISettingsUpdate saves the settings.
func (h *Handlers) AISettingsUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	in := agents.AISettingsInput{
		Provider: c.FormValue("provider"), BaseURL: c.FormValue("base_url"), Model: c.FormValue("model"),
		AzureAPIVersion: c.FormValue("azure_api_version"), AzureDeployment: c.FormValue("azure_deployment"),
		APIKey: c.FormValue("api_key"), RemoveKey: c.FormValue("remove_key") == "on",
	}
	st, err := h.AI.SaveSettings(ctx, agentActor(c), in)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		// What was typed comes back, except the key.
		edit := func(f *aiview.Form) {
			f.Choices = aiChoices(f.Choices, form.Clean(in.Provider))
			f.BaseURL, f.Model = form.Clean(in.BaseURL), form.Clean(in.Model)
			f.AzureAPIVersion, f.AzureDeployment = form.Clean(in.AzureAPIVersion), form.Clean(in.AzureDeployment)
			f.RemoveKey, f.Errors = in.RemoveKey, fe
		}
		if isHTMX(c) {
			v, err := h.aiSettingsView(c, edit, nil)
			if err != nil {
				return err
			}
			return h.render(c, http.StatusUnprocessableEntity, aiview.FormFragment(v.Form))
		}
		return h.aiSettingsPage(c, http.StatusUnprocessableEntity, edit, nil)
	}
	if err != nil {
		return err
	}
	var msg string
	switch {
	case st.Own == nil:
		msg = "Your agents now use the platform default."
	case st.Own.Provider == provider.KindOffline:
		msg = "Your agents now use the built-in offline provider: they answer by quoting your documents."
	default:
		msg = "AI provider saved: " + agents.KindLabel(st.Own.Provider) + ". Use “Test connection” to check it."
	}
	h.flash(c, "success", msg)
	return h.redirect(c, orgURL(c, "/settings/ai"))
}

// AISettingsTest sends a tiny completion with the saved settings and shows
// the outcome in words: the fragment for HTMX, the page otherwise.
func (h *Handlers) AISettingsTest(c echo.Context) error {
	ctx := c.Request().Context()
	// Nothing is written: release the request's database connection before
	// waiting on the provider (up to its test timeout).
	if err := store.CommitRequest(ctx); err != nil {
		return err
	}
	res, err := h.AI.TestConnection(ctx, principal(c).Org.ID)
	if err != nil {
		return err
	}
	r := &aiview.TestResult{OK: res.OK, Message: res.Message, Detail: res.Detail}
	if isHTMX(c) {
		return h.render(c, http.StatusOK, aiview.TestResultFragment(r))
	}
	return h.aiSettingsPage(c, http.StatusOK, nil, r)
}

func (h *Handlers) aiSettingsPage(c echo.Context, status int, edit func(*aiview.Form), test *aiview.TestResult) error {
	v, err := h.aiSettingsView(c, edit, test)
	if err != nil {
		return err
	}
	return h.render(c, status, aiview.Page(h.shell(c, "AI provider", "settings"), v))
}

// aiSettingsView maps the settings to the page's view model.
func (h *Handlers) aiSettingsView(c echo.Context, edit func(*aiview.Form), test *aiview.TestResult) (aiview.PageView, error) {
	st, err := h.AI.LoadSettings(c.Request().Context(), principal(c).Org.ID)
	if err != nil {
		return aiview.PageView{}, err
	}
	base := orgURL(c, "/settings/ai")
	v := aiview.PageView{TestURL: base + "/test", Test: test}
	f := aiview.Form{Action: base, RequireHTTPS: st.RequireHTTPS}
	platform := agents.KindLabel(st.PlatformKind)
	if st.PlatformModel != "" && st.PlatformKind != provider.KindOffline {
		platform += ", " + st.PlatformModel
	}
	f.Choices = []aiview.Choice{
		{Value: agents.ProviderDefault, Label: "Platform default", Hint: "What this platform provides: " + platform + "."},
		{Value: provider.KindOffline, Label: "Built-in (offline)", Hint: "Answers only by quoting your documents, with their sources. No key; nothing leaves the platform."},
		{Value: provider.KindOpenAI, Label: "OpenAI", Hint: "OpenAI's API with your firm's key."},
		{Value: provider.KindAzure, Label: "Azure OpenAI", Hint: "Your firm's Azure OpenAI resource and deployment."},
		{Value: provider.KindCompatible, Label: "OpenAI-compatible endpoint", Hint: "Anthropic's compatible API, Ollama, vLLM and other servers that speak the OpenAI API."},
	}
	selected := agents.ProviderDefault
	if own := st.Own; own != nil {
		selected = own.Provider
		f.BaseURL, f.Model, f.AzureAPIVersion, f.AzureDeployment = own.BaseUrl, own.Model, own.AzureApiVersion, own.AzureDeployment
		f.HasKey = st.HasKey
		if st.KeySetAt != nil {
			f.KeySetAt = st.KeySetAt.UTC().Format("2 Jan 2006")
		}
		v.InUse = aiview.InUse{Label: agents.KindLabel(own.Provider), Source: "Your organization's settings", Model: own.Model, Endpoint: own.BaseUrl}
		if own.Provider != provider.KindOffline {
			v.InUse.Key = "Not set"
			if st.HasKey {
				v.InUse.Key = "Set on " + f.KeySetAt
			}
			if own.Provider == provider.KindOpenAI && own.BaseUrl == "" {
				v.InUse.Endpoint = provider.DefaultOpenAIBaseURL
			}
			if v.InUse.Model == "" {
				v.InUse.Model = "Each agent's own (" + agents.DefaultModel + " unless configured)"
			}
		}
	} else {
		// The platform's address and key are the operator's: not shown.
		v.InUse = aiview.InUse{Label: agents.KindLabel(st.PlatformKind), Source: "The platform default"}
		if st.PlatformKind != provider.KindOffline {
			v.InUse.Model = st.PlatformModel
			if v.InUse.Model == "" {
				v.InUse.Model = "Each agent's own (" + agents.DefaultModel + " unless configured)"
			}
		}
	}
	f.Choices = aiChoices(f.Choices, selected)
	if edit != nil {
		edit(&f)
	}
	v.Form = f
	return v, nil
}

// aiChoices marks the selected provider; an unknown value selects none.
func aiChoices(choices []aiview.Choice, selected string) []aiview.Choice {
	out := make([]aiview.Choice, len(choices))
	for i, ch := range choices {
		ch.Selected = ch.Value == selected
		out[i] = ch
	}
	return out
}
