package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/agents/tools"
	"accute/internal/form"
)

// Proposal is an action an AI agent proposed, in the approval queue.
type Proposal struct {
	ID           uuid.UUID  `json:"id"`
	RunID        uuid.UUID  `json:"run_id"`
	Agent        string     `json:"agent"`
	Action       string     `json:"action"`
	ClientID     uuid.UUID  `json:"client_id"`
	ClientName   string     `json:"client_name"`
	Summary      string     `json:"summary"`
	Status       string     `json:"status"` // pending, executed, rejected
	AutoRun      bool       `json:"auto_run"`
	Edited       bool       `json:"edited"`
	RequestedBy  string     `json:"requested_by"`
	DecidedBy    *string    `json:"decided_by"`
	DecidedAt    *time.Time `json:"decided_at"`
	RejectReason string     `json:"reject_reason"`
	Result       string     `json:"result"`
	ResultType   string     `json:"result_type"`
	ResultID     *uuid.UUID `json:"result_id"`
	CreatedAt    time.Time  `json:"created_at"`
	// Arguments as proposed; FinalArguments as executed (null until then).
	Arguments      map[string]string `json:"arguments"`
	FinalArguments map[string]string `json:"final_arguments"`
}

func proposalOut(p tools.Proposal) Proposal {
	out := Proposal{ID: p.ID, RunID: p.RunID, Agent: p.AgentSlug, Action: p.Action, ClientID: p.ClientID, ClientName: p.ClientName,
		Summary: p.Summary, Status: p.Status, AutoRun: p.AutoRun, Edited: p.Edited, RequestedBy: p.RequestedBy, DecidedAt: p.DecidedAt,
		RejectReason: p.RejectReason, Result: p.Result, ResultType: p.ResultType, ResultID: p.ResultID, CreatedAt: p.CreatedAt,
		Arguments: p.Arguments, FinalArguments: p.Final}
	if out.Arguments == nil {
		out.Arguments = map[string]string{}
	}
	if p.DecidedBy != "" {
		out.DecidedBy = &p.DecidedBy
	}
	return out
}

func approvalActor(c echo.Context) tools.Actor {
	p := principal(c)
	return tools.Actor{OrgID: p.Org.ID, UserID: p.User.ID, Email: p.User.Email, Name: p.User.Name, Perms: p.Membership.Permissions}
}

// approvalError maps the queue's refusals to API errors.
func approvalError(err error) error {
	var na *tools.NotAllowedError
	switch {
	case errors.Is(err, tools.ErrDecided):
		return errorf(http.StatusConflict, "This proposal has already been decided.")
	case errors.As(err, &na):
		return errorf(http.StatusForbidden, na.Message)
	}
	return mapError(err)
}

// ApprovalsList lists proposals, newest first: status pending (default),
// executed, rejected or all; agent and action filter.
func (a *API) ApprovalsList(c echo.Context) error {
	errs := form.Errors{}
	f := tools.Filter{Status: tools.StatusPending, Agent: c.QueryParam("agent"), Action: c.QueryParam("action"), PerPage: limitParam(c, errs)}
	switch s := c.QueryParam("status"); s {
	case "":
	case "all":
		f.Status = ""
	case tools.StatusPending, tools.StatusExecuted, tools.StatusRejected:
		f.Status = s
	default:
		errs.Add("status", "Must be pending, executed, rejected or all.")
	}
	if f.Action != "" {
		if _, ok := a.Approvals.Registry.ActionByName(f.Action); !ok {
			errs.Add("action", "Must be create_document_request, draft_client_email or create_task_note.")
		}
	}
	if len(f.Agent) > 40 {
		errs.Add("agent", "Use at most 40 characters.")
	}
	// The cursor is the next page's number: proposals are few and the
	// queue is read newest first, so offsets serve it.
	f.Page = 1
	if cur := c.QueryParam("cursor"); cur != "" {
		parts, ok := decodeCursor(cur, 1)
		n := 0
		if ok {
			n, _ = strconv.Atoi(parts[0])
		}
		if n < 2 || n > 10000 {
			errs.Add("cursor", "Not a cursor from this list: pass next_cursor back unchanged.")
		}
		f.Page = n
	}
	if errs.Any() {
		return mapError(errs)
	}
	page, err := a.Approvals.List(c.Request().Context(), principal(c).Org.ID, f)
	if err != nil {
		return err
	}
	out := Page[Proposal]{Items: make([]Proposal, 0, len(page.Rows))}
	for _, p := range page.Rows {
		out.Items = append(out.Items, proposalOut(p))
	}
	if page.Page*page.PerPage < page.Total && page.Page == f.Page {
		out.NextCursor = encodeCursor(strconv.Itoa(page.Page + 1))
	}
	return respond(c, http.StatusOK, out)
}

// ApprovalsShow returns one proposal.
func (a *API) ApprovalsShow(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := a.Approvals.Get(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, proposalOut(p))
}

// ApproveInput optionally edits the proposal's arguments before approving.
type ApproveInput struct {
	Arguments map[string]string `json:"arguments"`
}

// ApprovalsApprove approves (and executes) a pending proposal, with the
// editable arguments given in the body replacing the proposed ones. The body
// may be empty.
func (a *API) ApprovalsApprove(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in ApproveInput
	if err := bindOptional(c, &in); err != nil {
		return err
	}
	p, err := a.Approvals.Approve(c.Request().Context(), approvalActor(c), id, tools.Values(in.Arguments))
	if err != nil {
		return approvalError(err)
	}
	return respond(c, http.StatusOK, proposalOut(p))
}

// RejectInput is a rejection's reason.
type RejectInput struct {
	Reason string `json:"reason"`
}

// ApprovalsReject rejects a pending proposal with a reason.
func (a *API) ApprovalsReject(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in RejectInput
	if err := bind(c, &in); err != nil {
		return err
	}
	p, err := a.Approvals.Reject(c.Request().Context(), approvalActor(c), id, in.Reason)
	if err != nil {
		return approvalError(err)
	}
	return respond(c, http.StatusOK, proposalOut(p))
}

// bindOptional is bind for an optional body: no body, or one of only white
// space, leaves dst as it is.
func bindOptional(c echo.Context, dst any) error {
	req := c.Request()
	if req.Body == nil {
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errorf(http.StatusRequestEntityTooLarge, "The body is larger than "+strconv.Itoa(MaxBodyBytes)+" bytes.")
	}
	if err != nil {
		return errorf(http.StatusBadRequest, "The body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return bind(c, dst)
}
