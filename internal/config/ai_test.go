package config

import (
	"strings"
	"testing"
	"time"
)

func TestAIDefaultsToOffline(t *testing.T) {
	cfg, err := FromEnv(lookup(map[string]string{"ACCUTE_DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.AI
	if a.Provider != "offline" || a.APIKey != "" || a.OfflineDelay != 20*time.Millisecond || !a.AllowPrivateEndpoints {
		t.Fatalf("defaults: %+v", a)
	}
}

func TestAISettings(t *testing.T) {
	cfg, err := FromEnv(lookup(map[string]string{
		"ACCUTE_DATA_DIR": t.TempDir(), "AI_PROVIDER": "Azure", "AI_BASE_URL": "https://firm.openai.azure.com/",
		"AI_API_KEY": "k", "AI_AZURE_DEPLOYMENT": "gpt-4o-prod", "AI_AZURE_API_VERSION": "2025-01-01-preview",
		"AI_MODEL": "gpt-4o", "AI_OFFLINE_DELAY": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.AI
	if a.Provider != "azure" || a.BaseURL != "https://firm.openai.azure.com" || a.AzureDeployment != "gpt-4o-prod" ||
		a.AzureAPIVersion != "2025-01-01-preview" || a.Model != "gpt-4o" || a.OfflineDelay != 0 {
		t.Fatalf("settings: %+v", a)
	}
	// An Ollama sidecar over plain http, no key.
	cfg, err = FromEnv(lookup(map[string]string{"ACCUTE_DATA_DIR": t.TempDir(), "AI_PROVIDER": "compatible", "AI_BASE_URL": "http://ollama:11434/v1", "AI_MODEL": "llama3.1"}))
	if err != nil || cfg.AI.BaseURL != "http://ollama:11434/v1" {
		t.Fatalf("compatible: %v %+v", err, cfg)
	}
}

func TestAIInvalidSettingsAreAllReported(t *testing.T) {
	_, err := FromEnv(lookup(map[string]string{"ACCUTE_DATA_DIR": t.TempDir(), "AI_PROVIDER": "gpt", "AI_BASE_URL": "https://user:pw@x.example/v1",
		"AI_MODEL": "gpt 4", "AI_OFFLINE_DELAY": "forever", "AI_ALLOW_PRIVATE_ENDPOINTS": "maybe"}))
	if err == nil {
		t.Fatal("accepted invalid values")
	}
	for _, want := range []string{"AI_PROVIDER", "AI_BASE_URL: must not contain a user name", "AI_MODEL", "AI_OFFLINE_DELAY", "AI_ALLOW_PRIVATE_ENDPOINTS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	cases := map[string]map[string]string{
		"AI_API_KEY: required with AI_PROVIDER=openai":      {"AI_PROVIDER": "openai"},
		"AI_AZURE_DEPLOYMENT":                               {"AI_PROVIDER": "azure", "AI_BASE_URL": "https://x.openai.azure.com", "AI_API_KEY": "k"},
		"AI_BASE_URL: required with AI_PROVIDER=azure":      {"AI_PROVIDER": "azure", "AI_API_KEY": "k", "AI_AZURE_DEPLOYMENT": "d"},
		"AI_AZURE_API_VERSION":                              {"AI_PROVIDER": "azure", "AI_BASE_URL": "https://x.openai.azure.com", "AI_API_KEY": "k", "AI_AZURE_DEPLOYMENT": "d", "AI_AZURE_API_VERSION": "latest"},
		"AI_BASE_URL: required with AI_PROVIDER=compatible": {"AI_PROVIDER": "compatible"},
		"AI_BASE_URL: must be an absolute":                  {"AI_BASE_URL": "localhost:11434"},
	}
	for want, env := range cases {
		env["ACCUTE_DATA_DIR"] = t.TempDir()
		if _, err := FromEnv(lookup(env)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q, got %v", env, want, err)
		}
	}
}

func TestAIPrivateEndpointsOnlyOnRequestInProduction(t *testing.T) {
	env := map[string]string{
		"ACCUTE_ENV": "production", "DATABASE_URL": "postgres://app@db/accute", "BASE_URL": "https://accute.example",
		"SESSION_SECRET": strings.Repeat("s", 32), "JWT_SECRET": strings.Repeat("j", 32),
		"ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	cfg, err := FromEnv(lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AI.AllowPrivateEndpoints {
		t.Error("production allows private endpoints by default")
	}
	env["AI_ALLOW_PRIVATE_ENDPOINTS"] = "1"
	if cfg, err = FromEnv(lookup(env)); err != nil || !cfg.AI.AllowPrivateEndpoints {
		t.Errorf("AI_ALLOW_PRIVATE_ENDPOINTS=1 ignored: %v", err)
	}
}
