package handlers

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"accute/handlers/api"
	"accute/internal/agents/usage"
	"accute/internal/db"
	"accute/internal/tenant"
)

// recordUsage appends a ledger entry as a run does.
func recordUsage(t *testing.T, app *testApp, org db.Organization, e usage.Entry) {
	t.Helper()
	e.OrgID = org.ID
	if e.RunID == uuid.Nil {
		e.RunID = uuid.New()
	}
	if e.AgentSlug == "" {
		e.AgentSlug = "luca"
	}
	err := app.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error { return usage.Record(context.Background(), q, e) })
	if err != nil {
		t.Fatal(err)
	}
}

func TestUsagePageChartsAndCSV(t *testing.T) {
	app := newTestApp(t)
	ownerC, owner, org := app.owner()
	staffC, staff := app.member(org, tenant.RoleStaff)
	client := app.F.Client(org, "=cmd|' /C calc'!A0")
	recordUsage(t, app, org, usage.Entry{UserID: owner.ID, ClientID: &client.ID, Provider: "openai", Model: "gpt-4o-mini", InputTokens: 10000, OutputTokens: 2000})
	recordUsage(t, app, org, usage.Entry{UserID: staff.ID, AgentSlug: "echo", Provider: "openai-compatible", Model: "llama3", InputTokens: 500, OutputTokens: 500})
	other := app.F.User("")
	otherOrg := app.F.Org(other, "")
	recordUsage(t, app, otherOrg, usage.Entry{UserID: other.ID, Provider: "openai", Model: "gpt-4o", InputTokens: 999999})

	base := "/o/" + org.Slug + "/usage"
	staffC.Get(base).AssertStatus(http.StatusForbidden)
	staffC.Get("/o/" + org.Slug + "/usage.csv").AssertStatus(http.StatusForbidden)
	res := ownerC.Get(base).AssertStatus(http.StatusOK)
	if got := res.Text("[data-testid=usage-tokens]"); got != "13,000" {
		t.Errorf("tokens %q", got)
	}
	if got := res.Text("[data-testid=usage-cost]"); got != "$0.0027" { // 10,000 × $0.15 + 2,000 × $0.60 per million
		t.Errorf("cost %q", got)
	}
	now := usage.MonthOf(time.Now())
	if n := res.Count("[data-testid=chart-daily-tokens] rect[data-testid=bar]"); n != now.Days() {
		t.Errorf("%d daily bars, want %d", n, now.Days())
	}
	today := res.Find("[data-testid=chart-daily-tokens] rect[data-testid=bar]").Eq(time.Now().UTC().Day() - 1)
	if h, _ := today.Attr("height"); h == "0" || !strings.Contains(today.Find("title").Text(), "13,000 tokens") {
		t.Errorf("today's bar: height %q, title %q", h, today.Find("title").Text())
	}
	if n := res.Count("[data-testid=chart-by-agent] rect[data-testid=bar]"); n != 2 {
		t.Errorf("%d agent bars", n)
	}
	if n := res.Count("[data-testid=usage-by-member] [data-testid=breakdown-row]"); n != 2 {
		t.Errorf("%d member rows", n)
	}
	res.AssertContains("llama3 (openai-compatible, 1,000 tokens)")
	if strings.Contains(res.Body, "999,999") {
		t.Error("another organization's usage on the page")
	}
	if n := res.Count("[data-testid=usage-limit]"); n != 0 {
		t.Errorf("%d limits shown for an enterprise organization without caps", n)
	}

	// Months.
	ownerC.Get(base + "?month=2024-13").AssertStatus(http.StatusBadRequest)
	ownerC.Get(base + "?month=" + now.Next().String()).AssertStatus(http.StatusBadRequest)
	prev := ownerC.Get(base + "?month=" + now.Prev().String()).AssertStatus(http.StatusOK)
	if prev.Count("[data-testid=empty-state]") != 1 || prev.Text("[data-testid=usage-tokens]") != "0" {
		t.Errorf("previous month is not empty: %q", prev.Text("[data-testid=usage-tokens]"))
	}

	// CSV.
	csvRes := ownerC.Get("/o/" + org.Slug + "/usage.csv?month=" + now.String()).AssertStatus(http.StatusOK)
	if ct := csvRes.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if cd := csvRes.Header.Get("Content-Disposition"); cd != `attachment; filename="ai-usage-`+org.Slug+"-"+now.String()+`.csv"` {
		t.Errorf("content disposition %q", cd)
	}
	recs, err := csv.NewReader(strings.NewReader(csvRes.Body)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records (%v):\n%s", len(recs), err, csvRes.Body)
	}
	if recs[1][5] != "'=cmd|' /C calc'!A0" || recs[1][3] != owner.Email || recs[1][10] != "12000" || recs[2][12] != "false" {
		t.Errorf("rows %q", recs[1:])
	}
	ownerC.Get("/o/" + org.Slug + "/usage.csv?month=nope").AssertStatus(http.StatusBadRequest)
}

func TestUsageBudgetForm(t *testing.T) {
	app := newTestApp(t)
	ownerC, owner, org := app.owner()
	path := "/o/" + org.Slug + "/usage/budget"
	res := ownerC.Get(path).AssertStatus(http.StatusOK)
	if v := res.Attr("input[name=warn_percent]", "value"); v != "80" {
		t.Errorf("default threshold %q", v)
	}
	bad := ownerC.PostForm(path, url.Values{"warn_percent": {"150"}, "cap_tokens": {"lots"}, "cap_cost": {"-3"}}).AssertStatus(http.StatusUnprocessableEntity)
	for _, f := range []string{"warn_percent", "cap_tokens", "cap_cost"} {
		if bad.Text("[data-testid=error-"+f+"]") == "" {
			t.Errorf("no error on %s", f)
		}
	}
	if v := bad.Attr("input[name=cap_tokens]", "value"); v != "lots" {
		t.Errorf("typed value not kept: %q", v)
	}
	frag := ownerC.HTMX(http.MethodPost, path, url.Values{"warn_percent": {"0"}}).AssertStatus(http.StatusUnprocessableEntity)
	if frag.Count("[data-testid=budget-form]") != 1 || frag.Count("aside.sidebar") != 0 {
		t.Error("htmx answer is not the form")
	}
	ownerC.PostForm(path, url.Values{"warn_percent": {"50"}, "cap_tokens": {"10,000"}, "cap_cost": {"$2.50"}}).AssertStatus(http.StatusSeeOther)
	if app.apiAuditCount(&org, "ai.budget_updated") != 1 {
		t.Error("budget change not audited")
	}
	recordUsage(t, app, org, usage.Entry{UserID: owner.ID, Provider: "offline", InputTokens: 6000})
	res = ownerC.Get("/o/" + org.Slug + "/usage").AssertStatus(http.StatusOK)
	if n := res.Count("[data-testid=usage-limit]"); n != 2 {
		t.Fatalf("%d limits, want the token and cost caps", n)
	}
	res.AssertContains("6,000 of 10,000").AssertContains("warning at 50%, cap 10,000 tokens, cap $2.50 a month")
	if res.Count("[data-testid=usage-warning]") != 1 {
		t.Error("the sent warning is not shown")
	}
	if mail := app.lastEmail(owner.Email); !strings.Contains(mail.Subject, "60% of its AI budget") {
		t.Errorf("warning e-mail %q", mail.Subject)
	}
	// At the cap, new runs are refused with what to do.
	recordUsage(t, app, org, usage.Entry{UserID: owner.ID, Provider: "offline", InputTokens: 4000})
	err := app.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error { return usage.CheckBudget(context.Background(), q, org.ID) })
	if err == nil || !strings.Contains(err.Error(), "Monthly AI budget reached") {
		t.Errorf("at the cap: %v", err)
	}
}

func TestAPIUsage(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	client := app.F.Client(org, "Acme Ltd")
	recordUsage(t, app, org, usage.Entry{UserID: owner.ID, ClientID: &client.ID, Provider: "openai", Model: "gpt-4o", InputTokens: 1000, OutputTokens: 100})
	recordUsage(t, app, org, usage.Entry{UserID: owner.ID, Provider: "azure", Model: "my-deployment", InputTokens: 10})
	token, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	c := app.api(token)
	base := "/api/v1/orgs/" + org.Slug + "/usage"
	var r api.UsageReport
	c.get(base).expect(http.StatusOK).into(&r)
	now := usage.MonthOf(time.Now())
	if r.Month != now.String() || r.Totals.Tokens != 1110 || r.Totals.CostUSD != "0.003500" || r.Totals.Calls != 2 || len(r.ByDay) != now.Days() {
		t.Errorf("report %+v", r.Totals)
	}
	if len(r.ByClient) != 2 || r.ByClient[0].Key != client.ID.String() || len(r.UnpricedModels) != 1 || r.Plan.Key != "enterprise" || r.Plan.AITokensLimit != nil {
		t.Errorf("breakdowns %+v %+v %+v", r.ByClient, r.UnpricedModels, r.Plan)
	}
	if r.ByDay[time.Now().UTC().Day()-1].Tokens != 1110 || r.ByDay[0].Date != now.String()+"-01" {
		t.Errorf("days %+v", r.ByDay[:2])
	}
	// A plan with a limit and a budget.
	app.F.Plan(org, "starter")
	ownerC := app.client()
	app.login(ownerC, owner.Email)
	ownerC.PostForm("/o/"+org.Slug+"/usage/budget", url.Values{"warn_percent": {"90"}, "cap_cost": {"1"}}).AssertStatus(http.StatusSeeOther)
	c.get(base + "?month=" + now.String()).expect(http.StatusOK).into(&r)
	if r.Plan.AITokensLimit == nil || *r.Plan.AITokensLimit != 500000 || *r.Plan.AITokensRemain != 500000-1110 ||
		r.Budget.CapCostUSD == nil || *r.Budget.CapCostUSD != "1.000000" || len(r.Limits) != 2 || r.Limits[0].Unit != "usd" {
		t.Errorf("limits %+v %+v %+v", r.Plan, r.Budget, r.Limits)
	}
	c.get(base + "?month=" + strconv.Itoa(now.Year+1) + "-01").expect(http.StatusBadRequest)
	c.get(base + "?month=soon").expect(http.StatusBadRequest)
	staff := app.F.User("")
	app.F.Member(org, staff, tenant.RoleManager)
	managerToken, _ := app.pat(staff, org, tenant.RoleManager, nil)
	c.with(managerToken).get(base).expect(http.StatusForbidden)
}
