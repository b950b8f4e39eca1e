package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"accute/internal/agents"
	"accute/internal/audit"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// count runs a count query with row-level security opened.
func (a *testApp) count(sql string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.platformQueryRow(sql, args, &n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func (a *testApp) installation(org db.Organization, slug string) (db.AgentInstallation, bool) {
	a.t.Helper()
	var inst db.AgentInstallation
	err := a.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		var err error
		inst, err = q.GetAgentInstallation(context.Background(), db.GetAgentInstallationParams{OrganizationID: org.ID, AgentSlug: slug})
		return err
	})
	return inst, err == nil
}

func TestAgentsMarketplaceShowsTheRegistry(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	res := ownerC.Get("/o/" + org.Slug + "/agents").AssertStatus(http.StatusOK)
	if n := res.Count("[data-testid=agent-cards] article"); n != len(agents.Catalogue) {
		t.Fatalf("cards: %d, want %d", n, len(agents.Catalogue))
	}
	for _, d := range agents.Catalogue {
		if res.Count("[data-testid=agent-"+d.Slug+"]") != 1 {
			t.Errorf("no card for %s", d.Slug)
		}
	}
	luca := res.Find("[data-testid=agent-luca]")
	if !strings.Contains(luca.Find("[data-testid=agent-state]").Text(), "Enabled") || luca.Find("[data-testid=agent-configure]").Length() != 1 {
		t.Fatalf("Luca is not installed and enabled: %s", luca.Text())
	}
	if got := res.Text("[data-testid=plan-name]"); got != "Enterprise" {
		t.Fatalf("plan: %q", got)
	}
	if res.Attr(".nav a[aria-current=page]", "href") != "/o/"+org.Slug+"/agents" {
		t.Fatal("the AI agents nav item is not active")
	}
}

func TestAgentsNewOrganizationGetsLucaOnFreePlan(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	c.PostForm("/signup", url.Values{"name": {"Ada Lovelace"}, "email": {"ada@example.test"}, "password": {"a-long-password"}, "org_name": {"Lovelace CPA"}}).AssertStatus(http.StatusSeeOther)
	org, err := app.Store.Q().GetOrganizationBySlug(context.Background(), "lovelace-cpa")
	if err != nil {
		t.Fatal(err)
	}
	if org.Plan != billing.Free {
		t.Fatalf("new sign-up plan %q, want free", org.Plan)
	}
	inst, ok := app.installation(org, "luca")
	if !ok || !inst.Enabled {
		t.Fatalf("Luca not installed for a new organization: %v %+v", ok, inst)
	}
	var s agents.Settings
	if err := json.Unmarshal(inst.Settings, &s); err != nil || s.Model != agents.DefaultModel {
		t.Fatalf("default settings: %s %v", inst.Settings, err)
	}
	// Exactly one installation: the free plan's one agent.
	if n := app.count(`SELECT count(*) FROM agent_installations WHERE organization_id = $1`, org.ID); n != 1 {
		t.Fatalf("installations: %d", n)
	}
}

func TestAgentsInstallEnableDisableConfigure(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	base := "/o/" + org.Slug + "/agents"

	res := ownerC.PostForm(base+"/echo/install", nil).AssertStatus(http.StatusSeeOther)
	if res.Location() != base {
		t.Fatalf("install redirects to %q", res.Location())
	}
	if inst, ok := app.installation(org, "echo"); !ok || !inst.Enabled {
		t.Fatal("echo not installed")
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND action = $2 AND target_id = 'echo'`, org.ID, audit.AgentInstalled); n != 1 {
		t.Fatalf("install audit rows: %d", n)
	}
	page := ownerC.Get(base).AssertStatus(http.StatusOK)
	if !strings.Contains(page.Text("[data-testid=agent-echo] [data-testid=agent-state]"), "Enabled") {
		t.Fatal("echo card not enabled")
	}
	// Installing twice is harmless.
	ownerC.PostForm(base+"/echo/install", nil).AssertStatus(http.StatusSeeOther)
	if n := app.count(`SELECT count(*) FROM agent_installations WHERE organization_id = $1 AND agent_slug = 'echo'`, org.ID); n != 1 {
		t.Fatalf("installations after a second install: %d", n)
	}

	ownerC.PostForm(base+"/echo/disable", nil).AssertStatus(http.StatusSeeOther)
	if inst, _ := app.installation(org, "echo"); inst.Enabled {
		t.Fatal("echo still enabled")
	}
	page = ownerC.Get(base).AssertStatus(http.StatusOK)
	if !strings.Contains(page.Text("[data-testid=agent-echo] [data-testid=agent-state]"), "Disabled") || page.Count("[data-testid=agent-echo] [data-testid=agent-enable]") != 1 {
		t.Fatal("disabled card without Enable button")
	}
	ownerC.PostForm(base+"/echo/enable", nil).AssertStatus(http.StatusSeeOther)
	if inst, _ := app.installation(org, "echo"); !inst.Enabled {
		t.Fatal("echo not enabled again")
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND action IN ($2, $3)`, org.ID, audit.AgentDisabled, audit.AgentEnabled); n != 2 {
		t.Fatalf("enable/disable audit rows: %d", n)
	}

	// Configure.
	form := ownerC.Get(base + "/echo/settings").AssertStatus(http.StatusOK)
	if form.Attr("input[name=model]", "value") != agents.DefaultModel || form.Attr("input[name=temperature]", "value") != "0.6" {
		t.Fatalf("settings form defaults: %q %q", form.Attr("input[name=model]", "value"), form.Attr("input[name=temperature]", "value"))
	}
	ownerC.PostForm(base+"/echo/settings", url.Values{"model": {"gpt-4o"}, "temperature": {"1.25"}, "instructions": {"Write in British English."}}).AssertStatus(http.StatusSeeOther)
	inst, _ := app.installation(org, "echo")
	var s agents.Settings
	if err := json.Unmarshal(inst.Settings, &s); err != nil || s != (agents.Settings{Model: "gpt-4o", Temperature: 1.25, Instructions: "Write in British English."}) {
		t.Fatalf("saved settings: %s %v", inst.Settings, err)
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND action = $2`, org.ID, audit.AgentConfigured); n != 1 {
		t.Fatalf("configure audit rows: %d", n)
	}
	if got := ownerC.Get(base).Text("[data-testid=agent-echo] [data-testid=agent-settings]"); !strings.Contains(got, "gpt-4o") || !strings.Contains(got, "your firm's instructions") {
		t.Fatalf("card settings: %q", got)
	}

	// Invalid settings: 422 with inline errors, nothing saved.
	bad := url.Values{"model": {""}, "temperature": {"2.5"}, "instructions": {strings.Repeat("x", agents.MaxInstructions+1)}}
	frag := ownerC.HTMX(http.MethodPost, base+"/echo/settings", bad).AssertStatus(http.StatusUnprocessableEntity)
	for _, f := range []string{"model", "temperature", "instructions"} {
		if frag.Count("[data-testid=error-"+f+"]") != 1 {
			t.Errorf("no inline error for %s:\n%s", f, frag.Body)
		}
	}
	if frag.Count("html") != 0 && strings.Contains(frag.Body, "<nav") {
		t.Fatal("HTMX answer is a full page")
	}
	full := ownerC.PostForm(base+"/echo/settings", url.Values{"model": {"gpt 4"}, "temperature": {"abc"}}).AssertStatus(http.StatusUnprocessableEntity)
	if full.Count("[data-testid=error-model]") != 1 || full.Count("[data-testid=error-temperature]") != 1 || full.Count(".nav") == 0 {
		t.Fatalf("full-page 422:\n%.600s", full.Body)
	}
	if inst2, _ := app.installation(org, "echo"); string(inst2.Settings) != string(inst.Settings) {
		t.Fatalf("invalid settings changed the row: %s", inst2.Settings)
	}

	// Unknown, malformed and not-installed agents.
	ownerC.PostForm(base+"/nosuch/install", nil).AssertStatus(http.StatusNotFound)
	ownerC.PostForm(base+"/Bad_Slug!/install", nil).AssertStatus(http.StatusNotFound)
	ownerC.Get(base + "/scribe/settings").AssertStatus(http.StatusNotFound)
	ownerC.PostForm(base+"/scribe/settings", url.Values{"model": {"m"}, "temperature": {"1"}}).AssertStatus(http.StatusNotFound)
	ownerC.PostForm(base+"/scribe/enable", nil).AssertStatus(http.StatusConflict)
}

func TestAgentsPermissions(t *testing.T) {
	app := newTestApp(t)
	_, _, org := app.owner()
	base := "/o/" + org.Slug + "/agents"
	for _, role := range []string{tenant.RoleManager, tenant.RoleStaff} {
		c, _ := app.member(org, role)
		page := c.Get(base).AssertStatus(http.StatusOK)
		if page.Count("[data-testid=agent-install]") != 0 || page.Count("[data-testid=agent-disable]") != 0 {
			t.Errorf("%s sees management buttons", role)
		}
		c.PostForm(base+"/echo/install", nil).AssertStatus(http.StatusForbidden)
		c.PostForm(base+"/luca/disable", nil).AssertStatus(http.StatusForbidden)
		c.Get(base + "/luca/settings").AssertStatus(http.StatusForbidden)
	}
	adminC, _ := app.member(org, tenant.RoleAdmin)
	if adminC.Get(base).Count("[data-testid=agent-install]") == 0 {
		t.Fatal("admin has no install buttons")
	}
	adminC.PostForm(base+"/echo/install", nil).AssertStatus(http.StatusSeeOther)
	clientC, _ := app.member(org, tenant.RoleClient)
	clientC.Get(base).AssertStatus(http.StatusSeeOther) // to the client portal (handlers/portal.go)
	clientC.PostForm(base+"/echo/install", nil).AssertStatus(http.StatusForbidden)
	if _, ok := app.installation(org, "echo"); !ok {
		t.Fatal("admin's install did not happen")
	}
}

func TestAgentsPlanLimits(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	base := "/o/" + org.Slug + "/agents"
	app.F.Plan(org, billing.Free)

	// Minimum plan: Echo needs Starter.
	page := ownerC.Get(base).AssertStatus(http.StatusOK)
	if got := page.Text("[data-testid=agent-echo] [data-testid=agent-plan-needed]"); !strings.Contains(got, "Starter") {
		t.Fatalf("plan needed: %q", got)
	}
	if page.Text("[data-testid=agents-usage]") != "1 of 1" || page.Count("[data-testid=agents-limit]") != 1 {
		t.Fatalf("usage %q", page.Text("[data-testid=agents-usage]"))
	}
	res := ownerC.PostForm(base+"/echo/install", nil).AssertStatus(http.StatusPaymentRequired)
	if !strings.Contains(res.Body, "Echo needs the Starter plan") {
		t.Fatalf("minimum-plan refusal:\n%.800s", res.Body)
	}

	// Installed-agents limit: Starter allows three.
	app.F.Plan(org, billing.Starter)
	ownerC.PostForm(base+"/echo/install", nil).AssertStatus(http.StatusSeeOther)
	ownerC.PostForm(base+"/scribe/install", nil).AssertStatus(http.StatusSeeOther)
	res = ownerC.PostForm(base+"/cadence/install", nil).AssertStatus(http.StatusPaymentRequired)
	if !strings.Contains(res.Body, "Plan limit reached: Installed agents") || !strings.Contains(res.Body, "Upgrade to Professional") {
		t.Fatalf("limit refusal:\n%.800s", res.Body)
	}
	toast := ownerC.HTMX(http.MethodPost, base+"/cadence/install", nil).AssertStatus(http.StatusPaymentRequired)
	if toast.Count("[data-testid=toast]") != 1 || !strings.Contains(toast.Text("[data-testid=toast]"), "Installed agents") {
		t.Fatalf("htmx refusal:\n%s", toast.Body)
	}
	// Professional agent on Starter.
	ownerC.PostForm(base+"/relay/install", nil).AssertStatus(http.StatusPaymentRequired)
	if n := app.count(`SELECT count(*) FROM agent_installations WHERE organization_id = $1`, org.ID); n != 3 {
		t.Fatalf("installations: %d, want 3", n)
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND action = $2`, org.ID, audit.AgentInstalled); n != 2 {
		t.Fatalf("audit rows of refused installs: %d", n)
	}

	// A downgrade keeps installed agents but they cannot be re-enabled.
	ownerC.PostForm(base+"/scribe/disable", nil).AssertStatus(http.StatusSeeOther)
	app.F.Plan(org, billing.Free)
	ownerC.PostForm(base+"/scribe/enable", nil).AssertStatus(http.StatusPaymentRequired)
}

func TestAgentsSeatLimitRefusesInvitation(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	app.F.Plan(org, billing.Free) // two seats: the owner and one more

	invite := func(email string) *testutil.Response {
		return ownerC.PostForm("/o/"+org.Slug+"/invitations", url.Values{"email": {email}, "role": {"staff"}})
	}
	invite("first@example.test").AssertStatus(http.StatusSeeOther) // the pending invitation holds the second seat
	res := invite("second@example.test").AssertStatus(http.StatusPaymentRequired)
	if !strings.Contains(res.Body, "Plan limit reached: Seats") || !strings.Contains(res.Body, "revoke a pending invitation") {
		t.Fatalf("seat refusal:\n%.800s", res.Body)
	}
	toast := ownerC.HTMX(http.MethodPost, "/o/"+org.Slug+"/invitations", url.Values{"email": {"third@example.test"}, "role": {"staff"}}).AssertStatus(http.StatusPaymentRequired)
	if !strings.Contains(toast.Text("[data-testid=toast]"), "Seats") {
		t.Fatalf("htmx seat refusal:\n%s", toast.Body)
	}
	if n := app.count(`SELECT count(*) FROM invitations WHERE organization_id = $1`, org.ID); n != 1 {
		t.Fatalf("invitations: %d, want 1", n)
	}
	if n := app.count(`SELECT count(*) FROM outbox_emails WHERE to_email IN ('second@example.test', 'third@example.test')`); n != 0 {
		t.Fatalf("refused invitations queued %d e-mails", n)
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND action = $2`, org.ID, audit.MemberInvited); n != 1 {
		t.Fatalf("invited audit rows: %d", n)
	}
	// A client needs no seat.
	invClient := ownerC.PostForm("/o/"+org.Slug+"/invitations", url.Values{"email": {"client@example.test"}, "role": {"client"}})
	if invClient.StatusCode == http.StatusPaymentRequired {
		t.Fatal("a client invitation was refused for seats")
	}
	// Members count too: with a staff member the free plan is full even without invitations.
	owner2C, _, org2 := app.owner()
	app.F.Plan(org2, billing.Free)
	app.F.Member(org2, app.F.User(""), tenant.RoleStaff)
	owner2C.PostForm("/o/"+org2.Slug+"/invitations", url.Values{"email": {"fourth@example.test"}, "role": {"staff"}}).AssertStatus(http.StatusPaymentRequired)
	err := app.Store.InOrg(context.Background(), org2.ID, func(q *db.Queries) error {
		u, err := billing.UsageOf(context.Background(), q, org2.ID, billing.Seats)
		if err == nil && (u.Used != 2 || u.Limit != 2 || u.Remaining() != 0) {
			t.Errorf("usage %+v", u)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
