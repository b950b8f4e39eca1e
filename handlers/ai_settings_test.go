package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"accute/internal/agents/provider/providertest"
	"accute/internal/audit"
	"accute/internal/tenant"
)

func TestAISettingsPageShowsThePlatformDefault(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	settings := ownerC.Get("/o/" + org.Slug + "/settings").AssertStatus(http.StatusOK)
	if settings.Attr("[data-testid=ai-settings-link]", "href") != "/o/"+org.Slug+"/settings/ai" {
		t.Error("the settings page does not link to the AI provider")
	}
	res := ownerC.Get("/o/" + org.Slug + "/settings/ai").AssertStatus(http.StatusOK)
	if got := res.Text("[data-testid=ai-in-use-provider]"); got != "Built-in (offline)" {
		t.Errorf("in use: %q", got)
	}
	if res.Attr("[data-testid=ai-provider-default]", "checked") != "checked" && res.Find("[data-testid=ai-provider-default][checked]").Length() != 1 {
		t.Error("the platform default is not the selected choice")
	}
	if res.Find("input[name=api_key]").AttrOr("value", "") != "" || res.Count("[data-testid=ai-remove-key]") != 0 {
		t.Error("key field filled, or a remove option without a key")
	}

	admin, _ := app.member(org, tenant.RoleAdmin)
	admin.Get("/o/" + org.Slug + "/settings/ai").AssertStatus(http.StatusOK)
	staff, _ := app.member(org, tenant.RoleStaff)
	staff.Get("/o/" + org.Slug + "/settings/ai").AssertStatus(http.StatusForbidden)
	staff.PostForm("/o/"+org.Slug+"/settings/ai", url.Values{"provider": {"offline"}}).AssertStatus(http.StatusForbidden)
}

func TestAISettingsSaveKeyNeverShownAndTest(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	srv := providertest.NewServer(t)
	srv.APIKey = "sk-live-4f9a0c2e"
	page := "/o/" + org.Slug + "/settings/ai"

	res := ownerC.PostForm(page, url.Values{"provider": {"compatible"}, "base_url": {srv.BaseURL()}, "model": {"llama3.1"}, "api_key": {"sk-live-4f9a0c2e"}})
	if res.StatusCode != http.StatusSeeOther || res.Location() != page {
		t.Fatalf("save: %d %q\n%.600s", res.StatusCode, res.Location(), res.Body)
	}
	res = ownerC.Follow(res).AssertStatus(http.StatusOK)
	if strings.Contains(res.Body, "sk-live-4f9a0c2e") || strings.Contains(res.Body, "4f9a0c2e") {
		t.Fatal("the API key is shown back")
	}
	res.AssertContains("AI provider saved: OpenAI-compatible endpoint.")
	if got := res.Text("[data-testid=ai-in-use-provider]"); got != "OpenAI-compatible endpoint" {
		t.Errorf("in use: %q", got)
	}
	if got := res.Text("[data-testid=ai-in-use-model]"); got != "llama3.1" {
		t.Errorf("model: %q", got)
	}
	if got := res.Text("[data-testid=ai-in-use-key]"); !strings.HasPrefix(got, "Set on ") {
		t.Errorf("key status: %q", got)
	}
	if res.Find("[data-testid=ai-provider-compatible][checked]").Length() != 1 || res.Count("[data-testid=ai-remove-key]") != 1 ||
		res.Find("input[name=base_url]").AttrOr("value", "") != srv.BaseURL() {
		t.Error("the form does not show the saved settings")
	}
	if n := app.orgAudit(org, audit.AISettingsUpdated); n != 1 {
		t.Errorf("%d settings audit events", n)
	}
	if n := app.orgAudit(org, audit.AIKeySet); n != 1 {
		t.Errorf("%d key audit events", n)
	}

	// Test connection, as HTMX sends it: the result fragment only.
	srv.Enqueue(providertest.Response{Text: []string{"OK"}})
	res = ownerC.HTMX(http.MethodPost, page+"/test", nil).AssertStatus(http.StatusOK)
	if strings.Contains(res.Body, "<html") || res.Attr("[data-testid=ai-test-result]", "data-ok") != "true" {
		t.Fatalf("test fragment:\n%s", res.Body)
	}
	if msg := res.Text("[data-testid=ai-test-result]"); !strings.Contains(msg, "Connected to OpenAI-compatible endpoint with model llama3.1") || !strings.Contains(msg, "It replied: “OK”") {
		t.Errorf("result: %q", msg)
	}
	if got := srv.Requests(); len(got) != 1 || got[0].Header.Get("Authorization") != "Bearer sk-live-4f9a0c2e" {
		t.Errorf("the test did not use the stored key: %+v", got)
	}

	// A provider failure is a result in words, not an error page.
	srv.Enqueue(providertest.Response{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"20"}}})
	res = ownerC.HTMX(http.MethodPost, page+"/test", nil).AssertStatus(http.StatusOK)
	if res.Attr("[data-testid=ai-test-result]", "data-ok") != "false" || !strings.Contains(res.Body, "Try again in 20s") || !strings.Contains(res.Body, "HTTP 429") {
		t.Errorf("rate limited result:\n%s", res.Body)
	}

	// Without HTMX: the whole page with the result.
	srv.Enqueue(providertest.Response{Status: http.StatusUnauthorized})
	res = ownerC.PostForm(page+"/test", nil).AssertStatus(http.StatusOK)
	if res.Attr("[data-testid=ai-test-result]", "data-ok") != "false" || !strings.Contains(res.Text("[data-testid=ai-test-result]"), "refused the API key") ||
		res.Count("[data-testid=ai-settings-form]") != 1 {
		t.Errorf("page with result:\n%.2000s", res.Body)
	}

	// Remove the key; then back to the platform default.
	res = ownerC.PostForm(page, url.Values{"provider": {"compatible"}, "base_url": {srv.BaseURL()}, "remove_key": {"on"}})
	res = ownerC.Follow(res).AssertStatus(http.StatusOK)
	if got := res.Text("[data-testid=ai-in-use-key]"); got != "Not set" || res.Count("[data-testid=ai-remove-key]") != 0 {
		t.Errorf("after removal: %q", got)
	}
	res = ownerC.Follow(ownerC.PostForm(page, url.Values{"provider": {"default"}})).AssertStatus(http.StatusOK)
	res.AssertContains("Your agents now use the platform default.")
	if got := res.Text("[data-testid=ai-in-use-provider]"); got != "Built-in (offline)" {
		t.Errorf("after reset: %q", got)
	}
	if app.orgAudit(org, audit.AIKeyRemoved) != 1 || app.orgAudit(org, audit.AISettingsReset) != 1 {
		t.Error("removal and reset are not audited")
	}
}

func TestAISettingsInvalidInput(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	page := "/o/" + org.Slug + "/settings/ai"
	bad := url.Values{"provider": {"compatible"}, "base_url": {"https://user:secret@llm.example/v1"}, "model": {"llama3.1"}, "api_key": {"sk-typed-key-123"}}

	res := ownerC.PostForm(page, bad).AssertStatus(http.StatusUnprocessableEntity)
	if res.Text("[data-testid=error-base_url]") == "" || res.Count("[data-testid=ai-in-use]") != 1 {
		t.Errorf("page with the error:\n%.1500s", res.Body)
	}
	if strings.Contains(res.Body, "sk-typed-key-123") {
		t.Error("the typed key is echoed back")
	}
	if res.Find("input[name=model]").AttrOr("value", "") != "llama3.1" || res.Find("[data-testid=ai-provider-compatible][checked]").Length() != 1 {
		t.Error("what was typed is not kept")
	}

	res = ownerC.HTMX(http.MethodPost, page, url.Values{"provider": {"azure"}, "base_url": {"https://firm.openai.azure.com"}}).AssertStatus(http.StatusUnprocessableEntity)
	if strings.Contains(res.Body, "<html") || res.Text("[data-testid=error-azure_deployment]") == "" || res.Text("[data-testid=error-api_key]") == "" {
		t.Errorf("HTMX fragment:\n%s", res.Body)
	}
	res = ownerC.PostForm(page, url.Values{"provider": {"nonsense"}}).AssertStatus(http.StatusUnprocessableEntity)
	if res.Text("[data-testid=error-provider]") == "" {
		t.Error("unknown provider accepted")
	}
	if n := app.orgAudit(org, audit.AISettingsUpdated); n != 0 {
		t.Errorf("refused forms were audited: %d", n)
	}
}

func TestAISettingsTestTimesOut(t *testing.T) {
	app := newTestApp(t)
	app.AI.TestTimeout = 300 * time.Millisecond
	ownerC, _, org := app.owner()
	srv := providertest.NewServer(t)
	page := "/o/" + org.Slug + "/settings/ai"
	ownerC.PostForm(page, url.Values{"provider": {"compatible"}, "base_url": {srv.BaseURL()}}).AssertStatus(http.StatusSeeOther)
	srv.Enqueue(providertest.Response{Fault: providertest.HangBeforeHeaders})
	start := time.Now()
	res := ownerC.HTMX(http.MethodPost, page+"/test", nil).AssertStatus(http.StatusOK)
	if res.Attr("[data-testid=ai-test-result]", "data-ok") != "false" || !strings.Contains(res.Body, "did not answer in time") {
		t.Errorf("result:\n%s", res.Body)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the test took %s", d)
	}
}
