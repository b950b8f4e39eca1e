package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// AI is the platform's default AI provider, used by every organization that
// has not configured its own (Settings → AI provider).
type AI struct {
	// Provider is offline (the default: answers by quoting the
	// organization's documents, no key, no network), openai, azure or
	// compatible (any OpenAI-compatible endpoint: Anthropic's, Ollama,
	// vLLM). AI_PROVIDER.
	Provider string
	// BaseURL is the API root (AI_BASE_URL): optional for openai, the
	// resource URL for azure (https://NAME.openai.azure.com), the endpoint
	// for compatible (e.g. http://localhost:11434/v1).
	BaseURL string
	// APIKey (AI_API_KEY): required for openai and azure.
	APIKey string
	// Model (AI_MODEL): the model organizations on the platform default
	// use, unless an agent's settings name another. Empty: the agents'
	// own (gpt-4o-mini).
	Model string
	// AzureAPIVersion and AzureDeployment (AI_AZURE_API_VERSION,
	// AI_AZURE_DEPLOYMENT) for azure.
	AzureAPIVersion string
	AzureDeployment string
	// AllowPrivateEndpoints lets organizations point their own provider at
	// private network addresses and plain http in production
	// (AI_ALLOW_PRIVATE_ENDPOINTS). Off by default, so an organization
	// cannot use the server to reach the platform's internal network.
	// Outside production it is always allowed.
	AllowPrivateEndpoints bool
	// OfflineDelay is the pause between the pieces the offline provider
	// streams (AI_OFFLINE_DELAY, default 20ms; 0 streams at once).
	OfflineDelay time.Duration
}

// AI provider kinds (the same words as internal/agents/provider).
var aiProviders = []string{"offline", "openai", "azure", "compatible"}

var (
	azureVersionPattern    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)
	azureDeploymentPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// loadAI reads the AI_* variables into c.AI.
func (c *Config) loadAI(get func(string) string, bad func(string, ...any)) {
	a := AI{
		Provider: strings.ToLower(get("AI_PROVIDER")), BaseURL: strings.TrimRight(get("AI_BASE_URL"), "/"),
		APIKey: get("AI_API_KEY"), Model: get("AI_MODEL"),
		AzureAPIVersion: get("AI_AZURE_API_VERSION"), AzureDeployment: get("AI_AZURE_DEPLOYMENT"),
		OfflineDelay: 20 * time.Millisecond,
	}
	if a.Provider == "" {
		a.Provider = "offline"
	}
	known := false
	for _, p := range aiProviders {
		known = known || p == a.Provider
	}
	if !known {
		bad("AI_PROVIDER: must be offline, openai, azure or compatible, got %q", a.Provider)
	}
	if a.BaseURL != "" {
		// The operator's own endpoint may be plain http (a sidecar); the
		// key belongs in AI_API_KEY, not in the URL.
		u, err := url.Parse(a.BaseURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			bad("AI_BASE_URL: must be an absolute http(s) URL, got %q", a.BaseURL)
		case u.User != nil:
			bad("AI_BASE_URL: must not contain a user name or password; put the key in AI_API_KEY")
		case u.RawQuery != "" || u.Fragment != "":
			bad("AI_BASE_URL: must not have a query or fragment")
		}
	}
	if strings.ContainsAny(a.Model, " \t") || len(a.Model) > 100 {
		bad("AI_MODEL: must be a model name without spaces, at most 100 characters")
	}
	switch a.Provider {
	case "openai":
		if a.APIKey == "" {
			bad("AI_API_KEY: required with AI_PROVIDER=openai")
		}
	case "azure":
		if a.BaseURL == "" {
			bad("AI_BASE_URL: required with AI_PROVIDER=azure (https://YOUR-RESOURCE.openai.azure.com)")
		}
		if a.APIKey == "" {
			bad("AI_API_KEY: required with AI_PROVIDER=azure")
		}
		if !azureDeploymentPattern.MatchString(a.AzureDeployment) {
			bad("AI_AZURE_DEPLOYMENT: required with AI_PROVIDER=azure: the deployment name (letters, digits, . _ -)")
		}
		if a.AzureAPIVersion != "" && !azureVersionPattern.MatchString(a.AzureAPIVersion) {
			bad("AI_AZURE_API_VERSION: must look like 2024-10-21 or 2025-01-01-preview, got %q", a.AzureAPIVersion)
		}
	case "compatible":
		if a.BaseURL == "" {
			bad("AI_BASE_URL: required with AI_PROVIDER=compatible (for example http://localhost:11434/v1 for Ollama)")
		}
	}
	switch v := strings.ToLower(get("AI_ALLOW_PRIVATE_ENDPOINTS")); v {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		a.AllowPrivateEndpoints = true
	default:
		bad("AI_ALLOW_PRIVATE_ENDPOINTS: must be 0 or 1, got %q", v)
	}
	if !c.Production() {
		a.AllowPrivateEndpoints = true
	}
	if v := get("AI_OFFLINE_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Second {
			bad("AI_OFFLINE_DELAY: must be a duration between 0 and 1s, such as 20ms, got %q", v)
		} else {
			a.OfflineDelay = d
		}
	}
	c.AI = a
}
