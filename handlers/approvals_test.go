package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"accute/handlers/api"
	"accute/internal/agents/provider"
	"accute/internal/agents/tools"
	"accute/internal/db"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// proposalFixture records a pending note proposal on client, as an agent
// run of owner would.
func proposalFixture(t *testing.T, app *testApp, org db.Organization, owner db.User, client db.Client) string {
	t.Helper()
	ctx := context.Background()
	var p db.AgentProposal
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		args, _ := json.Marshal(map[string]string{"client_id": client.ID.String(), "note": "Fixture note"})
		var err error
		p, err = q.CreateAgentProposal(ctx, db.CreateAgentProposalParams{OrganizationID: org.ID, RunID: uuid.New(), AgentSlug: "cadence",
			Action: tools.CreateTaskNote, RequestedBy: &owner.ID, ClientID: client.ID, Summary: "Note on " + client.Name + ": Fixture note", Arguments: args})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID.String()
}

// propose runs an action tool call for user, as an agent run does, and
// returns the proposal's id.
func propose(t *testing.T, app *testApp, org db.Organization, user db.User, agent, tool string, args map[string]any) uuid.UUID {
	t.Helper()
	raw, _ := json.Marshal(args)
	var res tools.Result
	err := app.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		var err error
		res, err = (&tools.Registry{Requests: app.Reqs}).Call(context.Background(), q,
			tools.Invocation{OrgID: org.ID, UserID: user.ID, RunID: uuid.New(), AgentSlug: agent},
			provider.ToolCall{ID: "call_1", Name: tool, Arguments: string(raw)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ProposalID == nil {
		t.Fatalf("no proposal: %s", res.Content)
	}
	return *res.ProposalID
}

func clientNotes(t *testing.T, app *testApp, org db.Organization, client db.Client) []db.ListClientNotesRow {
	t.Helper()
	var out []db.ListClientNotesRow
	err := app.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		var err error
		out, err = q.ListClientNotes(context.Background(), db.ListClientNotesParams{OrganizationID: org.ID, ClientID: client.ID, MaxRows: 20})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApprovalsQueueApproveEditAndReject(t *testing.T) {
	app := newTestApp(t)
	ownerC, _, org := app.owner()
	staffC, staff := app.member(org, tenant.RoleStaff)
	client := app.F.Client(org, "Acme Widgets Ltd")
	base := "/o/" + org.Slug + "/approvals"

	id := propose(t, app, org, staff, "cadence", tools.CreateTaskNote, map[string]any{"client_id": client.ID.String(), "note": "Chase the VAT return."})
	staffC.Get(base).AssertStatus(http.StatusForbidden)

	res := ownerC.Get(base).AssertStatus(http.StatusOK)
	if got := res.Text("[data-testid=pending-count]"); got != "1" {
		t.Errorf("pending count %q", got)
	}
	if n := res.Count("[data-testid=approval-row]"); n != 1 {
		t.Fatalf("%d rows", n)
	}
	res.AssertContains("Note on Acme Widgets Ltd: Chase the VAT return.")
	if href := res.Attr("[data-testid=approval-link]", "href"); href != base+"/"+id.String() {
		t.Errorf("link %q", href)
	}
	if nav := res.Attr("a.nav-link[href='"+base+"']", "aria-current"); nav != "page" {
		t.Errorf("nav link aria-current %q", nav)
	}

	// The proposal as a form, prefilled.
	res = ownerC.Get(base + "/" + id.String()).AssertStatus(http.StatusOK)
	if got := res.Find("textarea[name=note]").Text(); got != "Chase the VAT return." {
		t.Errorf("note field %q", got)
	}
	res.AssertContains("Acme Widgets Ltd")
	if res.Count("[data-testid=reject-form]") != 1 || res.Count("[data-testid=approve-form]") != 1 {
		t.Error("decision forms missing")
	}

	// An empty note is refused with the form shown again; htmx gets the card.
	bad := ownerC.PostForm(base+"/"+id.String()+"/approve", url.Values{"note": {"  "}}).AssertStatus(http.StatusUnprocessableEntity)
	if bad.Text("[data-testid=error-note]") == "" {
		t.Errorf("no error on the note: %s", bad.Body)
	}
	frag := ownerC.HTMX(http.MethodPost, base+"/"+id.String()+"/approve", url.Values{"note": {""}}).AssertStatus(http.StatusUnprocessableEntity)
	if frag.Count("#approve-card") != 1 || frag.Count("aside.sidebar") != 0 {
		t.Errorf("htmx answer is not the card: %.300s", frag.Body)
	}
	if n := len(clientNotes(t, app, org, client)); n != 0 {
		t.Fatalf("%d notes after refused approvals", n)
	}

	// Edit, then approve.
	res = ownerC.PostForm(base+"/"+id.String()+"/approve", url.Values{"note": {"Chase the VAT return by Thursday."}})
	if res.StatusCode != http.StatusSeeOther || res.Location() != base+"/"+id.String() {
		t.Fatalf("approve: %d %q", res.StatusCode, res.Location())
	}
	res = ownerC.Follow(res).AssertStatus(http.StatusOK)
	if got := strings.TrimSpace(res.Text("[data-testid=proposal-status]")); got != "Approved" {
		t.Errorf("status %q", got)
	}
	res.AssertContains("Edited and approved").AssertContains("As approved, after editing").AssertContains("Chase the VAT return by Thursday.")
	if notes := clientNotes(t, app, org, client); len(notes) != 1 || notes[0].Body != "Chase the VAT return by Thursday." {
		t.Errorf("notes %+v", notes)
	}
	ownerC.PostForm(base+"/"+id.String()+"/approve", nil).AssertStatus(http.StatusConflict)
	// The note is on the client's page, linked to the proposal for those who may see it.
	page := ownerC.Get("/o/" + org.Slug + "/clients/" + client.ID.String()).AssertStatus(http.StatusOK)
	if page.Text("[data-testid=client-note] .req-instructions") != "Chase the VAT return by Thursday." ||
		page.Attr("[data-testid=client-note] a", "href") != base+"/"+id.String() {
		t.Errorf("client notes card: %q", page.Text("[data-testid=client-notes]"))
	}
	if staffPage := staffC.Get("/o/" + org.Slug + "/clients/" + client.ID.String()).AssertStatus(http.StatusOK); staffPage.Count("[data-testid=client-note] a") != 0 ||
		staffPage.Count("[data-testid=client-note]") != 1 {
		t.Error("staff see the note without a link to the queue they cannot open")
	}

	// Reject needs a reason.
	id2 := propose(t, app, org, staff, "cadence", tools.CreateTaskNote, map[string]any{"client_id": client.ID.String(), "note": "Call the client."})
	bad = ownerC.PostForm(base+"/"+id2.String()+"/reject", url.Values{"reason": {""}}).AssertStatus(http.StatusUnprocessableEntity)
	if bad.Text("[data-testid=error-reason]") == "" {
		t.Errorf("no reason error: %.400s", bad.Body)
	}
	res = ownerC.Follow(ownerC.PostForm(base+"/"+id2.String()+"/reject", url.Values{"reason": {"Already called."}})).AssertStatus(http.StatusOK)
	if got := res.Text("[data-testid=proposal-reason]"); got != "Already called." {
		t.Errorf("reason %q", got)
	}

	// Filters: the waiting list is empty now; all shows both.
	res = ownerC.Get(base).AssertStatus(http.StatusOK)
	if res.Count("[data-testid=approval-row]") != 0 || res.Text("[data-testid=pending-count]") != "0" {
		t.Error("decided proposals in the waiting list")
	}
	if n := ownerC.Get(base + "?status=all").Count("[data-testid=approval-row]"); n != 2 {
		t.Errorf("all: %d rows", n)
	}
	if n := ownerC.Get(base + "?status=rejected&agent=cadence&action=create_task_note").Count("[data-testid=approval-row]"); n != 1 {
		t.Errorf("rejected filter: %d rows", n)
	}
	req := ownerC.NewRequest(http.MethodGet, base+"?status=executed", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", "approval-results")
	frag = ownerC.Do(req).AssertStatus(http.StatusOK)
	if frag.Count("#approval-results [data-testid=approval-row]") != 1 || frag.Count("aside.sidebar") != 0 {
		t.Errorf("filter fragment: %.300s", frag.Body)
	}
	for _, q := range []string{"?status=lost", "?agent=nobody", "?action=format_disk"} {
		ownerC.Get(base + q).AssertStatus(http.StatusBadRequest)
	}
}

func TestApprovalsNeedTheActionsPermission(t *testing.T) {
	app := newTestApp(t)
	ownerC, owner, org := app.owner()
	client := app.F.Client(org, "")
	id := propose(t, app, org, owner, "cadence", tools.CreateTaskNote, map[string]any{"client_id": client.ID.String(), "note": "x"})
	// A custom role that may approve, but not write clients: it can read
	// and reject, not approve (approving runs the action as them).
	role := app.F.CustomRole(org, testutil.Unique("Approver "), string(tenant.AgentsApprove), string(tenant.ClientsRead))
	u := app.F.User("")
	err := app.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		_, err := q.CreateMembership(context.Background(), db.CreateMembershipParams{OrganizationID: org.ID, UserID: u.ID, Role: tenant.RoleCustom, CustomRoleID: &role.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := app.client()
	app.login(c, u.Email)
	path := "/o/" + org.Slug + "/approvals/" + id.String()
	res := c.Get(path).AssertStatus(http.StatusOK)
	if res.Count("[data-testid=cannot-approve]") != 1 || res.Count("[data-testid=approve-form]") != 0 || res.Count("[data-testid=reject-form]") != 1 {
		t.Errorf("approver without clients.write: %.600s", res.Body)
	}
	c.PostForm(path+"/approve", nil).AssertStatus(http.StatusForbidden)
	c.PostForm(path+"/reject", url.Values{"reason": {"Not needed."}}).AssertStatus(http.StatusSeeOther)
	// Policy changes need agents.manage.
	c.Get("/o/" + org.Slug + "/approvals/policy").AssertStatus(http.StatusForbidden)
	ownerC.Get("/o/" + org.Slug + "/approvals/policy").AssertStatus(http.StatusOK)
}

func TestApprovalPolicyPage(t *testing.T) {
	app := newTestApp(t)
	ownerC, owner, org := app.owner()
	client := app.F.Client(org, "")
	policy := "/o/" + org.Slug + "/approvals/policy"
	res := ownerC.Get(policy).AssertStatus(http.StatusOK)
	if res.Count("input[name=auto_run]") != 3 || res.Count("input[name=auto_run]:checked") != 0 {
		t.Fatalf("policy form: %.600s", res.Body)
	}
	ownerC.PostForm(policy, url.Values{"auto_run": {"format_disk"}}).AssertStatus(http.StatusBadRequest)
	ownerC.PostForm(policy, url.Values{"auto_run": {tools.CreateTaskNote}}).AssertStatus(http.StatusSeeOther)
	if ownerC.Get(policy).Count("[data-testid=policy-create_task_note]:checked") != 1 {
		t.Error("saved policy not shown")
	}
	id := propose(t, app, org, owner, "cadence", tools.CreateTaskNote, map[string]any{"client_id": client.ID.String(), "note": "Runs at once"})
	res = ownerC.Get("/o/" + org.Slug + "/approvals/" + id.String()).AssertStatus(http.StatusOK)
	res.AssertContains("Run without approval (organization policy)")
	if notes := clientNotes(t, app, org, client); len(notes) != 1 {
		t.Errorf("%d notes after an auto-run", len(notes))
	}
	if app.apiAuditCount(&org, "agent.policy_changed") != 1 || app.apiAuditCount(&org, "agent.action_auto_run") != 1 {
		t.Error("policy change or auto-run not audited")
	}
}

func TestAPIApprovals(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	client := app.F.Client(org, "Acme Ltd")
	staff := app.F.User("")
	app.F.Member(org, staff, tenant.RoleStaff)
	id := propose(t, app, org, staff, "cadence", tools.CreateTaskNote, map[string]any{"client_id": client.ID.String(), "note": "Call back."})
	id2 := propose(t, app, org, staff, "cadence", tools.CreateTaskNote, map[string]any{"client_id": client.ID.String(), "note": "Second."})
	token, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	c := app.api(token)
	base := "/api/v1/orgs/" + org.Slug + "/approvals"

	var page api.Page[api.Proposal]
	c.get(base + "?limit=1").expect(http.StatusOK).into(&page)
	if len(page.Items) != 1 || page.NextCursor == nil || page.Items[0].ID != id2 || page.Items[0].Status != "pending" || page.Items[0].Arguments["note"] != "Second." {
		t.Fatalf("first page %+v", page)
	}
	c.get(base + "?limit=1&cursor=" + *page.NextCursor).expect(http.StatusOK).into(&page)
	if len(page.Items) != 1 || page.Items[0].ID != id || page.NextCursor != nil {
		t.Fatalf("second page %+v", page)
	}
	c.get(base + "?status=lost").expect(http.StatusBadRequest)
	c.get(base + "?cursor=nonsense").expect(http.StatusBadRequest)

	var p api.Proposal
	c.get(base + "/" + id.String()).expect(http.StatusOK).into(&p)
	if p.ClientName != "Acme Ltd" || p.DecidedBy != nil || p.FinalArguments != nil {
		t.Errorf("show %+v", p)
	}
	c.do(http.MethodPost, base+"/"+id.String()+"/approve", map[string]any{"arguments": map[string]string{"note": ""}}).expect(http.StatusBadRequest)
	c.do(http.MethodPost, base+"/"+id.String()+"/approve", map[string]any{"arguments": map[string]string{"note": "Call back today."}}).expect(http.StatusOK).into(&p)
	if p.Status != "executed" || !p.Edited || p.FinalArguments["note"] != "Call back today." || p.ResultType != "client_note" || p.DecidedBy == nil || *p.DecidedBy != owner.Email {
		t.Errorf("approved %+v", p)
	}
	c.do(http.MethodPost, base+"/"+id.String()+"/approve", nil).expect(http.StatusConflict)
	c.do(http.MethodPost, base+"/"+id2.String()+"/reject", map[string]any{}).expect(http.StatusBadRequest)
	c.do(http.MethodPost, base+"/"+id2.String()+"/reject", map[string]any{"reason": "Duplicate."}).expect(http.StatusOK).into(&p)
	if p.Status != "rejected" || p.RejectReason != "Duplicate." {
		t.Errorf("rejected %+v", p)
	}
	// A staff token lacks agents.approve; another organization's token sees nothing.
	staffToken, _ := app.pat(staff, org, tenant.RoleStaff, nil)
	c.with(staffToken).get(base).expect(http.StatusForbidden)
	other := app.F.User("")
	otherOrg := app.F.Org(other, "")
	otherToken, _ := app.pat(other, otherOrg, tenant.RoleOwner, nil)
	c.with(otherToken).get("/api/v1/orgs/" + otherOrg.Slug + "/approvals/" + id.String()).expect(http.StatusNotFound)
	c.with(otherToken).do(http.MethodPost, "/api/v1/orgs/"+otherOrg.Slug+"/approvals/"+id2.String()+"/reject", map[string]any{"reason": "x"}).expect(http.StatusNotFound)
}
