package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/agents"
	"accute/internal/agents/tools"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/views/components"
	approvalsview "accute/views/pages/approvals"
)

// toolRegistry is the agents' tools; document requests go through the
// requests service when the application has one.
func (h *Handlers) toolRegistry() *tools.Registry {
	r := &tools.Registry{}
	if h.Requests != nil {
		r.Requests = h.Requests
	}
	return r
}

// approvalsSvc is stateless over the store, like the marketplace's.
func (h *Handlers) approvalsSvc() *tools.Service {
	return &tools.Service{Store: h.Store, Registry: h.toolRegistry()}
}

func approvalActor(c echo.Context) tools.Actor {
	p := principal(c)
	return tools.Actor{OrgID: p.Org.ID, UserID: p.User.ID, Email: p.User.Email, Name: p.User.Name, Perms: p.Membership.Permissions}
}

// proposalStatus is a status as a badge.
func proposalStatus(status string) approvalsview.Status {
	switch status {
	case tools.StatusPending:
		return approvalsview.Status{Kind: "warn", Label: "Waiting"}
	case tools.StatusExecuted:
		return approvalsview.Status{Kind: "success", Label: "Approved"}
	case tools.StatusRejected:
		return approvalsview.Status{Kind: "neutral", Label: "Rejected"}
	}
	return approvalsview.Status{Label: status}
}

const approvalTime = "2 Jan 2006 15:04"

// approvalFilter reads the queue's filters: status defaults to pending
// ("all" for every status); unknown values are 400.
func approvalFilter(c echo.Context) (tools.Filter, error) {
	f := tools.Filter{Status: tools.StatusPending, Agent: c.QueryParam("agent"), Action: c.QueryParam("action")}
	switch s := c.QueryParam("status"); {
	case s == "":
	case s == "all":
		f.Status = ""
	case slices.Contains(tools.Statuses, s):
		f.Status = s
	default:
		return f, echo.NewHTTPError(http.StatusBadRequest, "Unknown status: choose waiting, approved, rejected or all.")
	}
	if f.Action != "" {
		if _, ok := (&tools.Registry{}).ActionByName(f.Action); !ok {
			return f, echo.NewHTTPError(http.StatusBadRequest, "Unknown action: choose one from the list.")
		}
	}
	if f.Agent != "" {
		known := false
		for _, d := range agents.Catalogue {
			known = known || d.Slug == f.Agent
		}
		if !known {
			return f, echo.NewHTTPError(http.StatusBadRequest, "Unknown agent: choose one from the list.")
		}
	}
	f.Page, _ = strconv.Atoi(c.QueryParam("page"))
	return f, nil
}

// ApprovalsList is the approval queue.
func (h *Handlers) ApprovalsList(c echo.Context) error {
	f, err := approvalFilter(c)
	if err != nil {
		return err
	}
	p := principal(c)
	page, err := h.approvalsSvc().List(c.Request().Context(), p.Org.ID, f)
	if err != nil {
		return err
	}
	base := orgURL(c, "/approvals")
	statusParam := c.QueryParam("status")
	v := approvalsview.ListView{BasePath: base, Pending: page.Pending,
		Filtered: (statusParam != "" && statusParam != tools.StatusPending) || f.Agent != "" || f.Action != ""}
	if p.Membership.Permissions.Has(tenant.AgentsManage) {
		v.PolicyURL = base + "/policy"
	}
	status := f.Status
	if status == "" {
		status = "all"
	}
	for _, o := range []struct{ value, label string }{{tools.StatusPending, "Waiting"}, {tools.StatusExecuted, "Approved"}, {tools.StatusRejected, "Rejected"}, {"all", "All statuses"}} {
		v.Statuses = append(v.Statuses, components.Option{Value: o.value, Label: o.label, Selected: o.value == status})
	}
	v.Actions = []components.Option{{Value: "", Label: "All actions"}}
	for _, a := range h.toolRegistry().Actions() {
		v.Actions = append(v.Actions, components.Option{Value: a.Name, Label: a.Label, Selected: a.Name == f.Action})
	}
	v.Agents = []components.Option{{Value: "", Label: "All agents"}}
	for _, d := range agents.Catalogue {
		v.Agents = append(v.Agents, components.Option{Value: d.Slug, Label: d.Name, Selected: d.Slug == f.Agent})
	}
	for _, r := range page.Rows {
		v.Rows = append(v.Rows, approvalsview.Row{URL: base + "/" + r.ID.String(), Summary: r.Summary, ActionLabel: r.ActionLabel,
			AgentName: r.AgentName, ClientName: r.ClientName, ClientURL: orgURL(c, "/clients/"+r.ClientID.String()), RequestedBy: r.RequestedBy,
			When: r.CreatedAt.UTC().Format(approvalTime), Status: proposalStatus(r.Status), AutoRun: r.AutoRun, Edited: r.Edited})
	}
	q := url.Values{}
	q.Set("status", status)
	if f.Agent != "" {
		q.Set("agent", f.Agent)
	}
	if f.Action != "" {
		q.Set("action", f.Action)
	}
	v.Pager = components.Pager{Page: page.Page, PerPage: page.PerPage, Total: page.Total, URL: func(n int) string {
		q.Set("page", strconv.Itoa(n))
		return base + "?" + q.Encode()
	}}
	if isHTMX(c) && c.Request().Header.Get("HX-Target") == approvalsview.ResultsID {
		return h.render(c, http.StatusOK, approvalsview.Results(v))
	}
	return h.render(c, http.StatusOK, approvalsview.ListPage(h.shell(c, "Approvals", "approvals"), v))
}

// approvalDetail maps a proposal to its page; edits and errors fill the
// form again after a refused approval.
func (h *Handlers) approvalDetail(c echo.Context, p tools.Proposal, edits tools.Values, errs form.Errors) approvalsview.DetailView {
	actor := approvalActor(c)
	base := orgURL(c, "/approvals/"+p.ID.String())
	v := approvalsview.DetailView{BackURL: orgURL(c, "/approvals"), Summary: p.Summary, ActionLabel: p.ActionLabel, AgentName: p.AgentName,
		ClientName: p.ClientName, ClientURL: orgURL(c, "/clients/"+p.ClientID.String()), RequestedBy: p.RequestedBy,
		Created: p.CreatedAt.UTC().Format(approvalTime), Status: proposalStatus(p.Status), AutoRun: p.AutoRun, Edited: p.Edited,
		DecidedBy: p.DecidedBy, Reason: p.RejectReason, Result: p.Result, Pending: p.Status == tools.StatusPending,
		ApproveURL: base + "/approve", RejectURL: base + "/reject"}
	if p.DecidedAt != nil {
		v.DecidedAt = p.DecidedAt.UTC().Format(approvalTime)
	}
	v.Proposed = fieldViews(p, p.Arguments)
	if p.Edited {
		v.Final = fieldViews(p, p.Final)
	}
	if a, ok := h.toolRegistry().ActionByName(p.Action); ok {
		v.CanApprove = actor.Perms.Has(a.Perm)
		if !v.CanApprove {
			v.Why = "Approving runs this as you, and your role does not allow it (" + string(a.Perm) + "). Someone whose role does can approve it; you can still reject it."
		}
	}
	for _, f := range p.Fields {
		in := approvalsview.FieldInput{Name: f.Name, Label: f.Label, Kind: f.Kind, Value: p.Arguments[f.Name], Hint: f.Hint,
			Error: errs[f.Name], MaxLength: f.MaxLen, Required: f.Required}
		if e, ok := edits[f.Name]; ok && f.Editable() {
			in.Value = e
		}
		if f.Kind == "client" {
			in.Value = p.ClientName
		}
		for _, o := range p.Options[f.Name] {
			in.Options = append(in.Options, components.Option{Value: o.Value, Label: o.Label, Selected: o.Value == in.Value})
		}
		v.Form = append(v.Form, in)
	}
	if len(errs) > 0 {
		v.FormError = "This cannot be approved as it stands: see the fields below."
		if msg := errs["client_id"]; msg != "" {
			v.FormError = msg
		}
	}
	return v
}

// fieldViews lists an action's arguments for reading.
func fieldViews(p tools.Proposal, vals tools.Values) []approvalsview.FieldView {
	var out []approvalsview.FieldView
	for _, f := range p.Fields {
		val := vals[f.Name]
		switch f.Kind {
		case "client":
			val = p.ClientName
		case "choice":
			if name := vals[f.Name+"_name"]; name != "" {
				val = name + " <" + val + ">"
			}
		}
		out = append(out, approvalsview.FieldView{Label: f.Label, Value: val, Multiline: f.Kind == "textarea" || f.Kind == "lines"})
	}
	return out
}

// ApprovalsShow is one proposal.
func (h *Handlers) ApprovalsShow(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	p, err := h.approvalsSvc().Get(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, approvalsview.DetailPage(h.shell(c, p.ActionLabel, "approvals"), h.approvalDetail(c, p, nil, nil)))
}

// approvalRefusal answers a decision that cannot be made: already decided
// (409), a role that does not cover the action (403).
func approvalRefusal(err error) error {
	var na *tools.NotAllowedError
	switch {
	case errors.Is(err, tools.ErrDecided):
		return echo.NewHTTPError(http.StatusConflict, "This proposal has already been decided; reload the page to see how.")
	case errors.As(err, &na):
		return echo.NewHTTPError(http.StatusForbidden, na.Message)
	}
	return err
}

// ApprovalsApprove approves a proposal with the form's values: fields the
// approver changed make it an edited approval.
func (h *Handlers) ApprovalsApprove(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := c.FormParams(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	edits := tools.Values{}
	for name, vals := range c.Request().PostForm {
		if len(vals) > 0 {
			edits[name] = vals[0]
		}
	}
	svc := h.approvalsSvc()
	p, err := svc.Approve(ctx, approvalActor(c), id, edits)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		p, err := svc.Get(ctx, principal(c).Org.ID, id)
		if err != nil {
			return err
		}
		v := h.approvalDetail(c, p, edits, fe)
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, approvalsview.ApproveCard(v))
		}
		return h.render(c, http.StatusUnprocessableEntity, approvalsview.DetailPage(h.shell(c, p.ActionLabel, "approvals"), v))
	}
	if err != nil {
		return approvalRefusal(err)
	}
	msg := "Approved: " + p.Result
	if p.Edited {
		msg = "Edited and approved: " + p.Result
	}
	h.flash(c, "success", msg)
	return h.redirect(c, orgURL(c, "/approvals/"+id.String()))
}

// ApprovalsReject rejects a proposal with a reason.
func (h *Handlers) ApprovalsReject(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	reason := c.FormValue("reason")
	svc := h.approvalsSvc()
	_, err = svc.Reject(ctx, approvalActor(c), id, reason)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		p, err := svc.Get(ctx, principal(c).Org.ID, id)
		if err != nil {
			return err
		}
		v := h.approvalDetail(c, p, nil, nil)
		v.RejectText, v.RejectErr = reason, fe["reason"]
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, approvalsview.RejectCard(v))
		}
		return h.render(c, http.StatusUnprocessableEntity, approvalsview.DetailPage(h.shell(c, p.ActionLabel, "approvals"), v))
	}
	if err != nil {
		return approvalRefusal(err)
	}
	h.flash(c, "success", "Rejected. The reason is recorded with the proposal.")
	return h.redirect(c, orgURL(c, "/approvals/"+id.String()))
}

// ApprovalsPolicy shows which actions may run without approval.
func (h *Handlers) ApprovalsPolicy(c echo.Context) error {
	pols, err := h.approvalsSvc().Policies(c.Request().Context(), principal(c).Org.ID)
	if err != nil {
		return err
	}
	v := approvalsview.PolicyView{Action: orgURL(c, "/approvals/policy"), BackURL: orgURL(c, "/approvals")}
	for _, p := range pols {
		v.Rows = append(v.Rows, approvalsview.PolicyRow{Action: p.Action, Label: p.Label, Description: p.Description, AutoRun: p.AutoRun})
	}
	return h.render(c, http.StatusOK, approvalsview.PolicyPage(h.shell(c, "Approval policy", "approvals"), v))
}

// ApprovalsPolicyUpdate saves the policy: checked actions run without
// approval.
func (h *Handlers) ApprovalsPolicyUpdate(c echo.Context) error {
	if _, err := c.FormParams(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	auto := map[string]bool{}
	for _, name := range c.Request().PostForm["auto_run"] {
		auto[name] = true
	}
	err := h.approvalsSvc().SetPolicies(c.Request().Context(), approvalActor(c), auto)
	var fe form.Errors
	if errors.As(err, &fe) {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose among the listed actions.")
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Approval policy saved.")
	return h.redirect(c, orgURL(c, "/approvals/policy"))
}

// clientNotesCard is the client page's notes card: nil when the client has
// no notes.
func (h *Handlers) clientNotesCard(c echo.Context, clientID uuid.UUID) (*approvalsview.NotesCard, error) {
	p := principal(c)
	notes, err := h.approvalsSvc().ClientNotes(c.Request().Context(), p.Org.ID, clientID, 10)
	if err != nil || len(notes) == 0 {
		return nil, err
	}
	card := &approvalsview.NotesCard{}
	for _, n := range notes {
		row := approvalsview.NoteRow{Body: n.Body, Author: n.Author, When: n.CreatedAt.UTC().Format(approvalTime)}
		if n.ProposalID != nil && p.Membership.Permissions.Has(tenant.AgentsApprove) {
			row.ProposalURL = orgURL(c, "/approvals/"+n.ProposalID.String())
		}
		card.Notes = append(card.Notes, row)
	}
	return card, nil
}
