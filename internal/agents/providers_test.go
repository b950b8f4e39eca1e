package agents_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"accute/internal/agents"
	"accute/internal/agents/provider"
	"accute/internal/agents/provider/providertest"
	"accute/internal/config"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/testutil"
)

type aiFixture struct {
	s     *store.Store
	keys  *crypto.KeyRing
	org   db.Organization
	actor agents.Actor
	f     testutil.Factory
}

func newAIFixture(t *testing.T) aiFixture {
	t.Helper()
	s, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: s}
	owner := f.User("")
	org := f.Org(owner, "")
	keys, err := crypto.NewKeyRing(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return aiFixture{s: s, keys: keys, org: org, f: f, actor: agents.Actor{OrgID: org.ID, UserID: owner.ID, Email: owner.Email}}
}

// devAI is the platform default outside production: offline, private
// endpoints allowed.
func devAI() config.AI { return config.AI{Provider: "offline", AllowPrivateEndpoints: true} }

func (fx aiFixture) providers(platform config.AI) *agents.Providers {
	return agents.NewProviders(fx.s, fx.keys, platform)
}

func auditActions(t *testing.T, fx aiFixture) ([]string, []string) {
	t.Helper()
	ctx := context.Background()
	var actions, summaries []string
	err := fx.s.InOrgTx(ctx, fx.org.ID, func(tx pgx.Tx, _ *db.Queries) error {
		rows, err := tx.Query(ctx, "SELECT action, summary FROM audit_events WHERE organization_id = $1 AND action LIKE 'ai.%' ORDER BY created_at, id", fx.org.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a, s string
			if err := rows.Scan(&a, &s); err != nil {
				return err
			}
			actions, summaries = append(actions, a), append(summaries, s)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return actions, summaries
}

func TestEffectiveModel(t *testing.T) {
	cases := []struct{ configured, agentDefault, installed, want string }{
		{"", "gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini"},      // nothing chosen anywhere
		{"llama3.1", "gpt-4o-mini", "gpt-4o-mini", "llama3.1"}, // the organization's model over the agent's default
		{"llama3.1", "gpt-4o-mini", "qwen2.5", "qwen2.5"},      // the firm configured the agent
		{"", "gpt-4o-mini", "", "gpt-4o-mini"},                 // not installed
		{"", "", "", agents.DefaultModel},
	}
	for _, c := range cases {
		if got := agents.EffectiveModel(c.configured, c.agentDefault, c.installed); got != c.want {
			t.Errorf("EffectiveModel(%q, %q, %q) = %q, want %q", c.configured, c.agentDefault, c.installed, got, c.want)
		}
	}
}

func TestProvidersPlatformDefault(t *testing.T) {
	fx := newAIFixture(t)
	ctx := context.Background()
	r, err := fx.providers(devAI()).For(ctx, fx.org.ID, "luca")
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != provider.KindOffline || r.Provider.Name() != "offline" || r.Model != "offline" || r.FromOrganization {
		t.Errorf("default = %+v", r)
	}
	// A platform OpenAI default: the agent's model, the platform's key.
	srv := providertest.NewServer(t)
	srv.APIKey = "sk-platform"
	srv.Enqueue(providertest.Response{Text: []string{"ok"}})
	r, err = fx.providers(config.AI{Provider: "compatible", BaseURL: srv.BaseURL(), APIKey: "sk-platform", AllowPrivateEndpoints: true}).For(ctx, fx.org.ID, "luca")
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != provider.KindCompatible || r.Model != agents.DefaultModel || r.FromOrganization {
		t.Errorf("platform compatible = %+v", r)
	}
	if text := streamText(t, r); text != "ok" {
		t.Errorf("answer %q", text)
	}
	if _, err := fx.providers(devAI()).For(ctx, fx.org.ID, "no-such-agent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown agent: %v", err)
	}
}

func streamText(t *testing.T, r agents.Resolved) string {
	t.Helper()
	s, err := r.Provider.Stream(context.Background(), provider.Request{Model: r.Model, Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b strings.Builder
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return b.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(c.Text)
	}
}

func TestProvidersOrganizationSettingsAndKey(t *testing.T) {
	fx := newAIFixture(t)
	ctx := context.Background()
	srv := providertest.NewServer(t)
	srv.APIKey = "sk-org-secret-1"
	p := fx.providers(devAI())

	st, err := p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "compatible", BaseURL: srv.BaseURL() + "/", Model: "llama3.1", APIKey: " sk-org-secret-1 "})
	if err != nil {
		t.Fatal(err)
	}
	if st.Own == nil || !st.HasKey || st.KeySetAt == nil || st.Own.BaseUrl != srv.BaseURL() || st.Own.Model != "llama3.1" {
		t.Fatalf("saved = %+v", st)
	}
	if bytes.Contains(st.Own.ApiKey, []byte("sk-org")) {
		t.Fatal("the key is stored in clear")
	}

	// The organization's provider, with its model over the agent's default.
	r, err := p.For(ctx, fx.org.ID, "luca")
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != provider.KindCompatible || r.Model != "llama3.1" || !r.FromOrganization || r.Provider.Name() != "openai-compatible" {
		t.Errorf("resolved = %+v", r)
	}
	srv.Enqueue(providertest.Response{Text: []string{"from", " the", " org"}})
	if text := streamText(t, r); text != "from the org" {
		t.Errorf("answer %q", text)
	}
	if got := srv.Requests()[0]; got.Header.Get("Authorization") != "Bearer sk-org-secret-1" || got.Chat.Model != "llama3.1" {
		t.Errorf("request: auth %q model %q", got.Header.Get("Authorization"), got.Chat.Model)
	}

	// The firm configures Luca's model apart: that wins.
	if _, err := (&agents.Service{Store: fx.s}).Configure(ctx, fx.actor, "luca", agents.SettingsInput{Model: "qwen2.5", Temperature: "0.2"}); err != nil {
		t.Fatal(err)
	}
	if r, err = p.For(ctx, fx.org.ID, "luca"); err != nil || r.Model != "qwen2.5" {
		t.Errorf("installation model: %+v %v", r, err)
	}
	if r, err = p.For(ctx, fx.org.ID, ""); err != nil || r.Model != "llama3.1" {
		t.Errorf("organization model without agent: %+v %v", r, err)
	}

	// Saving again without a key keeps the stored one.
	if st, err = p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "compatible", BaseURL: srv.BaseURL(), Model: "llama3.2"}); err != nil || !st.HasKey {
		t.Fatalf("resave: %+v %v", st, err)
	}
	// Replace, then remove.
	if _, err = p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "compatible", BaseURL: srv.BaseURL(), APIKey: "sk-org-secret-2"}); err != nil {
		t.Fatal(err)
	}
	if st, err = p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "compatible", BaseURL: srv.BaseURL(), RemoveKey: true}); err != nil || st.HasKey || st.KeySetAt != nil {
		t.Fatalf("remove: %+v %v", st, err)
	}
	// Back to the platform default.
	if st, err = p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "default"}); err != nil || st.Own != nil {
		t.Fatalf("reset: %+v %v", st, err)
	}
	if r, err = p.For(ctx, fx.org.ID, "luca"); err != nil || r.Kind != provider.KindOffline || r.FromOrganization {
		t.Errorf("after reset: %+v %v", r, err)
	}

	actions, summaries := auditActions(t, fx)
	// Events of one save share a timestamp: compare as a set.
	want := []string{"ai.key_removed", "ai.key_set", "ai.key_set", "ai.settings_reset", "ai.settings_updated", "ai.settings_updated", "ai.settings_updated", "ai.settings_updated"}
	sort.Strings(actions)
	if strings.Join(actions, ",") != strings.Join(want, ",") {
		t.Errorf("audit = %v, want %v", actions, want)
	}
	all := strings.Join(summaries, "\n")
	if strings.Contains(all, "sk-org-secret") {
		t.Error("the audit trail contains the key")
	}
	for _, s := range []string{"OpenAI-compatible endpoint at " + srv.BaseURL() + ", model llama3.1", "API key set", "API key replaced", "API key removed", "platform default"} {
		if !strings.Contains(all, s) {
			t.Errorf("audit lacks %q:\n%s", s, all)
		}
	}
}

// A stored key goes only where it was entered for: a new provider or
// address drops it (or asks for it again), so nobody who may edit the
// settings can send the firm's key to a server of their own.
func TestProvidersKeyStaysWithItsAddress(t *testing.T) {
	fx := newAIFixture(t)
	ctx := context.Background()
	srv := providertest.NewServer(t)
	p := fx.providers(devAI())
	save := func(in agents.AISettingsInput) (agents.AISettings, error) {
		t.Helper()
		return p.SaveSettings(ctx, fx.actor, in)
	}
	if st, err := save(agents.AISettingsInput{Provider: "compatible", BaseURL: srv.BaseURL(), APIKey: "sk-org-secret-1"}); err != nil || !st.HasKey {
		t.Fatalf("saved: %+v %v", st, err)
	}
	// Offline sends it nowhere: kept.
	if st, err := save(agents.AISettingsInput{Provider: "offline"}); err != nil || !st.HasKey {
		t.Fatalf("offline: %+v %v", st, err)
	}
	// OpenAI elsewhere: the key must be entered again.
	_, err := save(agents.AISettingsInput{Provider: "openai", BaseURL: srv.BaseURL() + "/elsewhere"})
	var fe form.Errors
	if !errors.As(err, &fe) || !strings.Contains(fe["api_key"], "again") {
		t.Fatalf("openai at another address without the key: %v", err)
	}
	// An endpoint that needs no key, at another address: the key is dropped.
	if st, err := save(agents.AISettingsInput{Provider: "compatible", BaseURL: srv.BaseURL() + "/elsewhere"}); err != nil || st.HasKey {
		t.Fatalf("another address: %+v %v", st, err)
	}
	_, summaries := auditActions(t, fx)
	if !strings.Contains(strings.Join(summaries, "\n"), "the provider or its address changed") {
		t.Errorf("the dropped key is not in the audit trail: %v", summaries)
	}
}

func TestProvidersKeyIsBoundToItsOrganization(t *testing.T) {
	fx := newAIFixture(t)
	ctx := context.Background()
	p := fx.providers(devAI())
	if _, err := p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "openai", APIKey: "sk-first-org"}); err != nil {
		t.Fatal(err)
	}
	other := fx.f.Org(fx.f.User(""), "")
	otherActor := agents.Actor{OrgID: other.ID, UserID: fx.actor.UserID, Email: fx.actor.Email}
	if _, err := p.SaveSettings(ctx, otherActor, agents.AISettingsInput{Provider: "openai", APIKey: "sk-second-org"}); err != nil {
		t.Fatal(err)
	}
	// Copy the first organization's sealed key into the second's row: it
	// does not open there.
	if err := fx.s.AsPlatformTx(ctx, func(tx pgx.Tx, _ *db.Queries) error {
		_, err := tx.Exec(ctx, `UPDATE org_ai_settings SET api_key = (SELECT api_key FROM org_ai_settings WHERE organization_id = $1)
			WHERE organization_id = $2`, fx.org.ID, other.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.For(ctx, other.ID, ""); !errors.Is(err, provider.ErrUnauthorized) {
		t.Errorf("a key copied from another organization opened: %v", err)
	}
	if r, err := p.For(ctx, fx.org.ID, ""); err != nil || r.Kind != provider.KindOpenAI {
		t.Errorf("the original still works: %+v %v", r, err)
	}
}

func TestProvidersUnopenableKey(t *testing.T) {
	fx := newAIFixture(t)
	ctx := context.Background()
	if _, err := fx.providers(devAI()).SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "openai", APIKey: "sk-sealed-with-old-key"}); err != nil {
		t.Fatal(err)
	}
	otherRing, _ := crypto.NewKeyRing(bytes.Repeat([]byte{9}, 32))
	_, err := agents.NewProviders(fx.s, otherRing, devAI()).For(ctx, fx.org.ID, "luca")
	if !errors.Is(err, provider.ErrUnauthorized) || !strings.Contains(provider.UserMessage(err), "Settings → AI provider") {
		t.Errorf("err = %v", err)
	}
}

func TestProvidersValidation(t *testing.T) {
	fx := newAIFixture(t)
	ctx := context.Background()
	p := fx.providers(devAI())
	cases := []struct {
		in    agents.AISettingsInput
		field string
	}{
		{agents.AISettingsInput{Provider: "skynet"}, "provider"},
		{agents.AISettingsInput{Provider: "openai"}, "api_key"},
		{agents.AISettingsInput{Provider: "openai", APIKey: "sk with spaces"}, "api_key"},
		{agents.AISettingsInput{Provider: "openai", APIKey: "sk-x", RemoveKey: true}, "api_key"},
		{agents.AISettingsInput{Provider: "openai", APIKey: "sk-x", BaseURL: "https://user:pass@api.example/v1"}, "base_url"},
		{agents.AISettingsInput{Provider: "openai", APIKey: "sk-x", Model: "gpt 4o"}, "model"},
		{agents.AISettingsInput{Provider: "azure", BaseURL: "https://firm.openai.azure.com", APIKey: "k"}, "azure_deployment"},
		{agents.AISettingsInput{Provider: "azure", AzureDeployment: "d", APIKey: "k"}, "base_url"},
		{agents.AISettingsInput{Provider: "azure", BaseURL: "https://firm.openai.azure.com", AzureDeployment: "d", AzureAPIVersion: "latest", APIKey: "k"}, "azure_api_version"},
		{agents.AISettingsInput{Provider: "compatible"}, "base_url"},
		{agents.AISettingsInput{Provider: "compatible", BaseURL: "ftp://files.example"}, "base_url"},
		{agents.AISettingsInput{Provider: "compatible", BaseURL: "https://x.example/v1?api_key=1"}, "base_url"},
	}
	for _, c := range cases {
		_, err := p.SaveSettings(ctx, fx.actor, c.in)
		var fe form.Errors
		if !errors.As(err, &fe) || fe[c.field] == "" {
			t.Errorf("%+v: err %v, want an error on %s", c.in, err, c.field)
		}
	}
	if st, _ := p.LoadSettings(ctx, fx.org.ID); st.Own != nil {
		t.Error("a refused form saved something")
	}
	// Azure's API version defaults; a compatible endpoint needs no key.
	st, err := p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "azure", BaseURL: "https://firm.openai.azure.com", AzureDeployment: "gpt-4o", APIKey: "k"})
	if err != nil || st.Own.AzureApiVersion != provider.DefaultAzureAPIVersion {
		t.Errorf("azure: %+v %v", st.Own, err)
	}
	if _, err := p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "compatible", BaseURL: "http://localhost:11434/v1"}); err != nil {
		t.Errorf("keyless Ollama outside production: %v", err)
	}
	// Offline keeps no endpoint details.
	st, err = p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "offline", BaseURL: "https://ignored.example", Model: "ignored"})
	if err != nil || st.Own.Provider != "offline" || st.Own.BaseUrl != "" || st.Own.Model != "" {
		t.Errorf("offline: %+v %v", st.Own, err)
	}
}

func TestProvidersStrictEndpoints(t *testing.T) {
	fx := newAIFixture(t)
	ctx := context.Background()
	p := fx.providers(config.AI{Provider: "offline"}) // production default: no private endpoints
	for _, u := range []string{"http://api.example.com/v1", "https://127.0.0.1/v1", "https://10.1.2.3/v1", "https://169.254.169.254/v1",
		"https://[::1]/v1", "https://localhost/v1", "https://ollama.internal/v1"} {
		_, err := p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "compatible", BaseURL: u})
		var fe form.Errors
		if !errors.As(err, &fe) || fe["base_url"] == "" {
			t.Errorf("%s accepted in strict mode: %v", u, err)
		}
	}
	if _, err := p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "compatible", BaseURL: "https://api.anthropic.com/v1", APIKey: "k"}); err != nil {
		t.Errorf("public https refused: %v", err)
	}
	if st, _ := p.LoadSettings(ctx, fx.org.ID); !st.RequireHTTPS {
		t.Error("strict mode not reported to the page")
	}
	// A hostname that resolves to a private address is refused when
	// connecting, not only when saving.
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"should not be reached"}})
	if err := fx.s.InOrg(ctx, fx.org.ID, func(q *db.Queries) error {
		_, err := q.UpsertOrgAISettings(ctx, db.UpsertOrgAISettingsParams{OrganizationID: fx.org.ID, Provider: "compatible",
			BaseUrl: strings.Replace(srv.BaseURL(), "127.0.0.1", "localhost", 1), UpdatedBy: &fx.actor.UserID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res, err := p.TestConnection(ctx, fx.org.ID)
	if err != nil || res.OK || !strings.Contains(res.Message, "private network") {
		t.Errorf("test connection to a private address: %+v %v", res, err)
	}
	if len(srv.Requests()) != 0 {
		t.Error("a request reached the private address")
	}
}

func TestProvidersTestConnection(t *testing.T) {
	fx := newAIFixture(t)
	ctx := context.Background()
	p := fx.providers(devAI())
	res, err := p.TestConnection(ctx, fx.org.ID)
	if err != nil || !res.OK || !strings.Contains(res.Message, "offline provider needs no connection") {
		t.Errorf("offline: %+v %v", res, err)
	}

	srv := providertest.NewServer(t)
	srv.APIKey = "sk-right"
	if _, err := p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "compatible", BaseURL: srv.BaseURL(), Model: "llama3.1", APIKey: "sk-right"}); err != nil {
		t.Fatal(err)
	}
	srv.Enqueue(providertest.Response{Text: []string{"OK"}})
	res, err = p.TestConnection(ctx, fx.org.ID)
	if err != nil || !res.OK || !strings.HasPrefix(res.Message, "Connected to OpenAI-compatible endpoint with model llama3.1: it answered in") || res.Detail != "It replied: “OK”" {
		t.Errorf("success: %+v %v", res, err)
	}
	if got := srv.Requests()[0].Chat; got.MaxTokens != 16 || len(got.Messages) != 1 {
		t.Errorf("test request = %+v", got)
	}

	srv.Enqueue(providertest.Response{Status: http.StatusNotFound, Body: `{"error":{"message":"model 'llama3.1' not found"}}`})
	res, err = p.TestConnection(ctx, fx.org.ID)
	if err != nil || res.OK || !strings.Contains(res.Message, "refused the request") || res.Detail != "HTTP 404. model 'llama3.1' not found" {
		t.Errorf("404: %+v %v", res, err)
	}

	if _, err := p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "compatible", BaseURL: srv.BaseURL(), APIKey: "sk-wrong"}); err != nil {
		t.Fatal(err)
	}
	res, _ = p.TestConnection(ctx, fx.org.ID)
	if res.OK || !strings.Contains(res.Message, "refused the API key") || !strings.Contains(res.Detail, "HTTP 401") {
		t.Errorf("401: %+v", res)
	}

	p.TestTimeout = 200 * time.Millisecond
	if _, err := p.SaveSettings(ctx, fx.actor, agents.AISettingsInput{Provider: "compatible", BaseURL: srv.BaseURL(), APIKey: "sk-right"}); err != nil {
		t.Fatal(err)
	}
	srv.Enqueue(providertest.Response{Fault: providertest.HangBeforeHeaders})
	start := time.Now()
	res, _ = p.TestConnection(ctx, fx.org.ID)
	if res.OK || !strings.Contains(res.Message, "did not answer in time") || time.Since(start) > 5*time.Second {
		t.Errorf("hang: %+v after %s", res, time.Since(start))
	}
}
