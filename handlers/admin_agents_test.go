package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"accute/internal/agents"
	"accute/internal/audit"
	"accute/internal/billing"
	"accute/internal/tenant"
)

func TestAdminChangesOrganizationPlan(t *testing.T) {
	app := newTestApp(t)
	adminC, adm := app.platformAdmin()
	_, _, org := app.owner()

	list := adminC.Get("/admin/organizations?q=" + url.QueryEscape(org.Slug)).AssertStatus(http.StatusOK)
	if got := list.Attr("[data-testid=org-plan] option[selected]", "value"); got != billing.Enterprise {
		t.Fatalf("plan shown %q", got)
	}
	action := list.Attr("[data-testid=plan-form]", "action")
	if action != "/admin/organizations/"+org.ID.String()+"/plan" {
		t.Fatalf("plan form action %q", action)
	}
	adminC.PostForm(action, url.Values{"plan": {billing.Starter}}).AssertStatus(http.StatusSeeOther)
	got, err := app.Store.Q().GetOrganizationBySlug(context.Background(), org.Slug)
	if err != nil || got.Plan != billing.Starter {
		t.Fatalf("plan after change: %q %v", got.Plan, err)
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND action = $2 AND actor_user_id = $3 AND summary = 'Plan changed from Enterprise to Starter'`,
		org.ID, audit.PlanChanged, adm.ID); n != 1 {
		t.Fatalf("plan change audit rows: %d", n)
	}
	adminC.PostForm(action, url.Values{"plan": {"platinum"}}).AssertStatus(http.StatusUnprocessableEntity)
	adminC.PostForm("/admin/organizations/not-a-uuid/plan", url.Values{"plan": {"free"}}).AssertStatus(http.StatusNotFound)
	adminC.PostForm("/admin/organizations/00000000-0000-0000-0000-000000000001/plan", url.Values{"plan": {"free"}}).AssertStatus(http.StatusNotFound)

	// A firm owner cannot change their own plan: the console is hidden.
	ownerC, _, own := app.owner()
	ownerC.PostForm("/admin/organizations/"+own.ID.String()+"/plan", url.Values{"plan": {"free"}}).AssertStatus(http.StatusNotFound)
}

func TestAdminManagesAgentRegistry(t *testing.T) {
	app := newTestApp(t)
	adminC, adm := app.platformAdmin()
	ownerC, _, org := app.owner()

	list := adminC.Get("/admin/agents").AssertStatus(http.StatusOK)
	if n := list.Count("[data-testid=agent-row]"); n != len(agents.Catalogue) {
		t.Fatalf("registry rows: %d", n)
	}
	edit := adminC.Get("/admin/agents/echo").AssertStatus(http.StatusOK)
	if edit.Attr("#f-min_plan option[selected]", "value") != billing.Starter {
		t.Fatal("edit form does not show the minimum plan")
	}
	adminC.Get("/admin/agents/nosuch").AssertStatus(http.StatusNotFound)

	// Withdraw Echo and raise its plan.
	adminC.PostForm("/admin/agents/echo", url.Values{"description": {"Writes message templates."}, "min_plan": {billing.Professional}}).AssertStatus(http.StatusSeeOther)
	a, err := app.Store.Q().GetAgent(context.Background(), "echo")
	if err != nil || a.Enabled || a.MinPlan != billing.Professional || a.Description != "Writes message templates." {
		t.Fatalf("registry after edit: %+v %v", a, err)
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE organization_id IS NULL AND action = $1 AND actor_user_id = $2 AND target_id = 'echo'`, audit.AdminAgentUpdated, adm.ID); n != 1 {
		t.Fatalf("registry audit rows: %d", n)
	}
	// The marketplace no longer offers it, and installing is refused.
	if ownerC.Get("/o/"+org.Slug+"/agents").Count("[data-testid=agent-echo]") != 0 {
		t.Fatal("withdrawn agent still offered")
	}
	ownerC.PostForm("/o/"+org.Slug+"/agents/echo/install", nil).AssertStatus(http.StatusConflict)

	// Validation: 422 inline, HTMX fragment.
	frag := adminC.HTMX(http.MethodPost, "/admin/agents/echo", url.Values{"description": {" "}, "min_plan": {"gold"}, "enabled": {"on"}}).AssertStatus(http.StatusUnprocessableEntity)
	if frag.Count("[data-testid=error-description]") != 1 || frag.Count("[data-testid=error-min_plan]") != 1 {
		t.Fatalf("inline errors:\n%s", frag.Body)
	}
	if a2, _ := app.Store.Q().GetAgent(context.Background(), "echo"); a2.Enabled {
		t.Fatal("invalid edit saved")
	}

	// Members of firms never reach the registry editor.
	staffC, _ := app.member(org, tenant.RoleOwner)
	staffC.Get("/admin/agents").AssertStatus(http.StatusNotFound)
}

func TestAdminAgentsNav(t *testing.T) {
	app := newTestApp(t)
	adminC, _ := app.platformAdmin()
	if !strings.Contains(adminC.Get("/admin").Body, `href="/admin/agents"`) {
		t.Fatal("console navigation has no Agents link")
	}
}
