package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Proposal statuses.
const (
	StatusPending  = "pending"
	StatusExecuted = "executed"
	StatusRejected = "rejected"
)

// Statuses in the queue filter's order.
var Statuses = []string{StatusPending, StatusExecuted, StatusRejected}

// MaxRejectReason bounds a rejection's reason.
const MaxRejectReason = 1000

// propose records an action call as a proposal, and runs it at once when
// the organization's policy allows the action without approval.
func (r *Registry) propose(ctx context.Context, c *callCtx, a *Action) (Result, error) {
	if a.unavailable != nil {
		if why := a.unavailable(); why != "" {
			return text(why), nil
		}
	}
	v, problem := a.fromCall(c)
	if problem != "" {
		return text(problem), nil
	}
	p, errs, err := a.prepare(ctx, c.q, c.inv.OrgID, v)
	if err != nil {
		return Result{}, err
	}
	if errs.Any() {
		return text(correct(errs)), nil
	}
	args, err := json.Marshal(p.Values)
	if err != nil {
		return Result{}, err
	}
	row, err := c.q.CreateAgentProposal(ctx, db.CreateAgentProposalParams{
		OrganizationID: c.inv.OrgID, RunID: c.inv.RunID, ToolCallID: clip(c.call.ID, 200), AgentSlug: c.inv.AgentSlug, Action: a.Name,
		RequestedBy: &c.inv.UserID, ClientID: p.ClientID, Summary: p.Summary, Arguments: args,
	})
	if err != nil {
		return Result{}, err
	}
	member, err := c.q.GetUser(ctx, c.inv.UserID)
	if err != nil {
		return Result{}, err
	}
	who := Person{ID: member.ID, Email: member.Email, Name: member.Name}
	if err := audit.Record(ctx, c.q, audit.Event{OrgID: &c.inv.OrgID, ActorID: &who.ID, ActorEmail: who.Email, Action: audit.AgentActionProposed,
		TargetType: "agent_proposal", TargetID: row.ID.String(), Summary: clip(c.inv.AgentSlug+" proposed: "+p.Summary, 300)}); err != nil {
		return Result{}, err
	}
	autoRun, err := c.q.GetAgentActionAutoRun(ctx, db.GetAgentActionAutoRunParams{OrganizationID: c.inv.OrgID, Action: a.Name})
	if err != nil {
		return Result{}, err
	}
	pending := Result{ProposalID: &row.ID, Content: fmt.Sprintf("Proposed, waiting for approval: %s. A person with approval rights "+
		"approves (possibly edited) or rejects it in the approval queue (proposal %s). Tell the user it awaits approval; do not say it is done.",
		p.Summary, row.ID)}
	if !autoRun {
		return pending, nil
	}
	out, ferrs, err := r.run(ctx, c.q, a, row, p, who, false, nil)
	if err != nil {
		return Result{}, err
	}
	if ferrs.Any() {
		// Refused at execution (a check of the action's own service): it
		// stays in the queue for a person to correct.
		pending.Content = "The organization lets this action run without approval, but it could not run (" + correct(ferrs) +
			"), so it waits in the approval queue for a person to correct: " + p.Summary + fmt.Sprintf(" (proposal %s).", row.ID)
		return pending, nil
	}
	return Result{ProposalID: &row.ID, Content: "Done, without approval as the organization's policy allows for this action: " + out.Text}, nil
}

// correct words form errors for the model.
func correct(errs form.Errors) string {
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+errs[k])
	}
	return "The arguments need correcting: " + strings.Join(parts, "; ") + ". Call the tool again with corrected arguments."
}

// run executes a prepared proposal as actor and marks it executed:
// approver is nil when the policy ran it. Form errors from the action's own
// service come back as ferrs, with nothing marked.
func (r *Registry) run(ctx context.Context, q *db.Queries, a *Action, row db.AgentProposal, p Prepared, actor Person, edited bool, approver *uuid.UUID) (Outcome, form.Errors, error) {
	out, err := a.execute(ctx, q, execution{orgID: row.OrganizationID, proposalID: row.ID, p: p, actor: actor})
	var fe form.Errors
	if errors.As(err, &fe) {
		return Outcome{}, fe, nil
	}
	if err != nil {
		return Outcome{}, nil, err
	}
	final, err := json.Marshal(p.Values)
	if err != nil {
		return Outcome{}, nil, err
	}
	if _, err := q.MarkAgentProposalExecuted(ctx, db.MarkAgentProposalExecutedParams{
		OrganizationID: row.OrganizationID, ID: row.ID, FinalArguments: final, Edited: edited, AutoRun: approver == nil,
		DecidedBy: approver, Result: out.Text, ResultType: out.Type, ResultID: out.ID,
	}); err != nil {
		return Outcome{}, nil, err
	}
	ev := audit.Event{OrgID: &row.OrganizationID, ActorID: &actor.ID, ActorEmail: actor.Email, TargetType: "agent_proposal", TargetID: row.ID.String()}
	switch {
	case approver == nil:
		ev.Action, ev.Summary = audit.AgentActionAutoRun, "Run without approval (policy): "+out.Text
	case edited:
		ev.Action, ev.Summary = audit.AgentActionApproved, "Edited and approved: "+out.Text
	default:
		ev.Action, ev.Summary = audit.AgentActionApproved, "Approved: "+out.Text
	}
	ev.Summary = clip(ev.Summary, 300)
	return out, nil, audit.Record(ctx, q, ev)
}

// Service is the approval queue and the policy, for pages and the API.
type Service struct {
	Store    *store.Store
	Registry *Registry
}

// Actor is the member deciding, with their permissions.
type Actor struct {
	OrgID  uuid.UUID
	UserID uuid.UUID
	Email  string
	Name   string
	Perms  tenant.PermissionSet
}

// Refusals of a decision.
var (
	// ErrDecided: the proposal was approved or rejected already (409).
	ErrDecided = errors.New("this proposal has already been decided")
)

// NotAllowedError refuses an approval the member's role does not cover
// (403): approving runs the action as them.
type NotAllowedError struct{ Message string }

func (e *NotAllowedError) Error() string { return e.Message }

// Proposal is a proposal as the queue shows it.
type Proposal struct {
	ID           uuid.UUID
	RunID        uuid.UUID
	AgentSlug    string
	AgentName    string
	Action       string
	ActionLabel  string
	ClientID     uuid.UUID
	ClientName   string
	Summary      string
	Status       string
	AutoRun      bool
	Edited       bool
	RequestedBy  string // e-mail
	DecidedBy    string // e-mail; empty for the policy
	DecidedAt    *time.Time
	RejectReason string
	Result       string
	ResultType   string
	ResultID     *uuid.UUID
	CreatedAt    time.Time
	// Arguments as proposed, and as executed (nil until executed).
	Arguments Values
	Final     Values
	// Fields of the action (for reading and the edit form) and the
	// choices of "choice" fields (only for a pending proposal).
	Fields  []Field
	Options map[string][]Option
}

// Filter selects proposals.
type Filter struct {
	Status   string // "" for every status
	Agent    string
	Action   string
	ClientID *uuid.UUID
	Page     int
	PerPage  int // PerPage when 0
}

// PerPage is the queue's page size.
const PerPage = 25

// Page is a page of the queue.
type Page struct {
	Rows    []Proposal
	Total   int
	Page    int
	PerPage int
	Pending int // proposals waiting, whatever the filter
}

func decodeValues(raw []byte) Values {
	if len(raw) == 0 {
		return nil
	}
	v := Values{}
	_ = json.Unmarshal(raw, &v)
	return v
}

func (s *Service) label(action string) (string, []Field) {
	if a, ok := s.Registry.ActionByName(action); ok {
		return a.Label, a.Fields
	}
	return action, nil
}

// List returns a page of the organization's proposals, newest first.
func (s *Service) List(ctx context.Context, orgID uuid.UUID, f Filter) (Page, error) {
	per := f.PerPage
	if per <= 0 || per > 100 {
		per = PerPage
	}
	out := Page{Page: min(max(f.Page, 1), 10000), PerPage: per}
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		rows, err := q.ListAgentProposals(ctx, db.ListAgentProposalsParams{OrganizationID: orgID, Status: f.Status, AgentSlug: f.Agent,
			Action: f.Action, ClientID: f.ClientID, MaxRows: int32(per), Skip: int32((out.Page - 1) * per)})
		if err != nil {
			return err
		}
		for _, r := range rows {
			out.Total = int(r.Total)
			label, fields := s.label(r.Action)
			out.Rows = append(out.Rows, Proposal{ID: r.ID, RunID: r.RunID, AgentSlug: r.AgentSlug, AgentName: r.AgentName, Action: r.Action,
				ActionLabel: label, ClientID: r.ClientID, ClientName: r.ClientName, Summary: r.Summary, Status: r.Status, AutoRun: r.AutoRun,
				Edited: r.Edited, RequestedBy: r.RequestedByEmail, DecidedBy: r.DecidedByEmail, DecidedAt: r.DecidedAt,
				RejectReason: r.RejectReason, Result: r.Result, ResultType: r.ResultType, ResultID: r.ResultID, CreatedAt: r.CreatedAt,
				Arguments: decodeValues(r.Arguments), Final: decodeValues(r.FinalArguments), Fields: fields})
		}
		n, err := q.CountPendingAgentProposals(ctx, orgID)
		out.Pending = int(n)
		return err
	})
	return out, err
}

// Get returns one proposal (store.ErrNotFound when it is not the
// organization's), with the choices of its edit form when pending.
func (s *Service) Get(ctx context.Context, orgID, id uuid.UUID) (Proposal, error) {
	var p Proposal
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		p, err = s.get(ctx, q, orgID, id)
		return err
	})
	return p, store.MapError(err)
}

func (s *Service) get(ctx context.Context, q *db.Queries, orgID, id uuid.UUID) (Proposal, error) {
	r, err := q.GetAgentProposal(ctx, db.GetAgentProposalParams{OrganizationID: orgID, ID: id})
	if err != nil {
		return Proposal{}, err
	}
	label, fields := s.label(r.Action)
	p := Proposal{ID: r.ID, RunID: r.RunID, AgentSlug: r.AgentSlug, AgentName: r.AgentName, Action: r.Action, ActionLabel: label,
		ClientID: r.ClientID, ClientName: r.ClientName, Summary: r.Summary, Status: r.Status, AutoRun: r.AutoRun, Edited: r.Edited,
		RequestedBy: r.RequestedByEmail, DecidedBy: r.DecidedByEmail, DecidedAt: r.DecidedAt, RejectReason: r.RejectReason,
		Result: r.Result, ResultType: r.ResultType, ResultID: r.ResultID, CreatedAt: r.CreatedAt,
		Arguments: decodeValues(r.Arguments), Final: decodeValues(r.FinalArguments), Fields: fields}
	if a, ok := s.Registry.ActionByName(r.Action); ok && a.options != nil && r.Status == StatusPending {
		if p.Options, err = a.options(ctx, q, orgID, r.ClientID); err != nil {
			return Proposal{}, err
		}
	}
	return p, nil
}

// Approve executes a pending proposal as the actor: as proposed, except for
// the editable fields present in edits (nil: none), which replace the
// proposed values (an edit, recorded as such when it changes them). It answers
// ErrDecided, *NotAllowedError, form.Errors (edits or a changed state the
// action refuses; nothing is saved) or store.ErrNotFound.
func (s *Service) Approve(ctx context.Context, a Actor, id uuid.UUID, edits Values) (Proposal, error) {
	var out Proposal
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		row, err := q.LockAgentProposal(ctx, db.LockAgentProposalParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		if row.Status != StatusPending {
			return ErrDecided
		}
		act, ok := s.Registry.ActionByName(row.Action)
		if !ok {
			return fmt.Errorf("unknown action %q", row.Action)
		}
		if !a.Perms.Has(act.Perm) || !a.Perms.Has(tenant.AgentsApprove) {
			return &NotAllowedError{Message: fmt.Sprintf("Approving this runs it as you, and your role does not allow %q.", act.Label)}
		}
		orig := decodeValues(row.Arguments)
		v := maps.Clone(orig)
		if v == nil {
			v = Values{}
		}
		for _, f := range act.Fields {
			if e, ok := edits[f.Name]; ok && f.Editable() {
				v[f.Name] = e
			}
		}
		p, errs, err := act.prepare(ctx, q, a.OrgID, v)
		if err != nil {
			return err
		}
		if errs.Any() {
			return errs
		}
		edited := !maps.Equal(p.Values, orig)
		if _, ferrs, err := s.Registry.run(ctx, q, act, row, p, Person{ID: a.UserID, Email: a.Email, Name: a.Name}, edited, &a.UserID); err != nil {
			return err
		} else if ferrs.Any() {
			return ferrs
		}
		out, err = s.get(ctx, q, a.OrgID, id)
		return err
	})
	return out, store.MapError(err)
}

// Reject rejects a pending proposal with a reason (form.Errors{"reason"}
// when it is missing or too long).
func (s *Service) Reject(ctx context.Context, a Actor, id uuid.UUID, reason string) (Proposal, error) {
	reason = multiLine(reason)
	errs := form.Errors{}
	if reason == "" {
		errs.Add("reason", "Say why, so the member and the agent's next answer can take it into account.")
	}
	errs.MaxLen("reason", reason, MaxRejectReason)
	if errs.Any() {
		return Proposal{}, errs
	}
	if !a.Perms.Has(tenant.AgentsApprove) {
		return Proposal{}, &NotAllowedError{Message: "Your role does not allow deciding on agents' proposals."}
	}
	var out Proposal
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		row, err := q.LockAgentProposal(ctx, db.LockAgentProposalParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		if row.Status != StatusPending {
			return ErrDecided
		}
		if _, err := q.RejectAgentProposal(ctx, db.RejectAgentProposalParams{OrganizationID: a.OrgID, ID: id, DecidedBy: &a.UserID, RejectReason: reason}); err != nil {
			return err
		}
		if err := audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.AgentActionRejected,
			TargetType: "agent_proposal", TargetID: id.String(), Summary: clip("Rejected: "+row.Summary+". Reason: "+oneLine(reason), 300)}); err != nil {
			return err
		}
		out, err = s.get(ctx, q, a.OrgID, id)
		return err
	})
	return out, store.MapError(err)
}

// Policy is whether one action needs approval.
type Policy struct {
	Action      string
	Label       string
	Description string
	AutoRun     bool
}

// Policies lists every action with the organization's choice.
func (s *Service) Policies(ctx context.Context, orgID uuid.UUID) ([]Policy, error) {
	var out []Policy
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		rows, err := q.ListAgentActionPolicies(ctx, orgID)
		if err != nil {
			return err
		}
		auto := map[string]bool{}
		for _, r := range rows {
			auto[r.Action] = r.AutoRun
		}
		for _, a := range s.Registry.Actions() {
			out = append(out, Policy{Action: a.Name, Label: a.Label, Description: a.Description, AutoRun: auto[a.Name]})
		}
		return nil
	})
	return out, err
}

// SetPolicies saves which actions run without approval (actions not in
// autoRun need approval), auditing each change.
func (s *Service) SetPolicies(ctx context.Context, a Actor, autoRun map[string]bool) error {
	for name := range autoRun {
		if _, ok := s.Registry.ActionByName(name); !ok {
			return form.Errors{"auto_run": "Choose among the listed actions."}
		}
	}
	return s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		rows, err := q.ListAgentActionPolicies(ctx, a.OrgID)
		if err != nil {
			return err
		}
		before := map[string]bool{}
		for _, r := range rows {
			before[r.Action] = r.AutoRun
		}
		for _, act := range s.Registry.Actions() {
			want := autoRun[act.Name]
			if before[act.Name] == want {
				continue
			}
			if _, err := q.UpsertAgentActionPolicy(ctx, db.UpsertAgentActionPolicyParams{OrganizationID: a.OrgID, Action: act.Name, AutoRun: want, UpdatedBy: &a.UserID}); err != nil {
				return err
			}
			state := "needs approval"
			if want {
				state = "runs without approval"
			}
			if err := audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.AgentPolicyChanged,
				TargetType: "agent_action", TargetID: act.Name, Summary: act.Label + ": " + state}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Note is a note on a client.
type Note struct {
	Body       string
	Author     string
	CreatedAt  time.Time
	ProposalID *uuid.UUID // the agent's proposal it came from
}

// ClientNotes returns a client's latest notes, newest first.
func (s *Service) ClientNotes(ctx context.Context, orgID, clientID uuid.UUID, limit int) ([]Note, error) {
	var out []Note
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		rows, err := q.ListClientNotes(ctx, db.ListClientNotesParams{OrganizationID: orgID, ClientID: clientID, MaxRows: int32(limit)})
		for _, r := range rows {
			out = append(out, Note{Body: r.Body, Author: r.AuthorName, CreatedAt: r.CreatedAt, ProposalID: r.ProposalID})
		}
		return err
	})
	return out, err
}
