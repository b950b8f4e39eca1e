package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"accute/internal/agents"
	"accute/internal/agents/provider"
	"accute/internal/agents/tools"
	"accute/internal/agents/usage"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/store"
)

// ProviderResolver picks the provider and model of an organization's agent
// (agents.Providers).
type ProviderResolver interface {
	For(ctx context.Context, orgID uuid.UUID, agentSlug string) (agents.Resolved, error)
}

// Tools is what runs may call (tools.Registry).
type Tools interface {
	Specs(allowed []string) []provider.Tool
	Call(ctx context.Context, q *db.Queries, inv tools.Invocation, call provider.ToolCall) (tools.Result, error)
}

// Ledger checks the budget before a run and records each completion's
// usage (usage.Ledger).
type Ledger interface {
	BudgetChecker
	Record(ctx context.Context, q *db.Queries, entries ...usage.Entry) error
}

// Worker executes runs (the agents.run job): it sends the conversation to
// the provider, calls the tools the model asks for (a bounded number of
// rounds), and appends the answer as it arrives to agent_run_events in
// small batches, each published with NOTIFY. A provider failure ends the
// run failed with a message for people, keeping what was written; a
// cancel (Cancels) stops it at once; the end stores the answer with its
// citations, the usage, and the done event, in one transaction.
type Worker struct {
	river.WorkerDefaults[RunArgs]
	Store     *store.Store
	Providers ProviderResolver
	Tools     Tools  // nil: no tools
	Ledger    Ledger // nil: no budget, no ledger
	Cancels   *Cancels
	Logger    *slog.Logger
	// FlushInterval coalesces the text that arrives within it into one
	// event (50 ms): a row per token would cost a transaction per token.
	FlushInterval time.Duration
	// MaxToolRounds bounds the rounds of tool calls; the round after the
	// last is asked without tools, so the model answers (5).
	MaxToolRounds int
	// RunTimeout bounds a run (5 min).
	RunTimeout time.Duration
	// History is how many messages of the conversation the model reads,
	// the new one included (20).
	History int
	// MaxTokens bounds each completion (0: the provider's default).
	MaxTokens int

	once sync.Once
}

func (w *Worker) defaults() { w.once.Do(w.setDefaults) }

func (w *Worker) setDefaults() {
	if w.FlushInterval <= 0 {
		w.FlushInterval = 50 * time.Millisecond
	}
	if w.MaxToolRounds <= 0 {
		w.MaxToolRounds = 5
	}
	if w.RunTimeout <= 0 {
		w.RunTimeout = 5 * time.Minute
	}
	if w.History <= 0 {
		w.History = 20
	}
	if w.Logger == nil {
		w.Logger = slog.Default()
	}
	if w.Cancels == nil {
		w.Cancels = NewCancels()
	}
}

// Timeout gives River's job a little more than the run, so the run's own
// timeout ends it and its end is recorded.
func (w *Worker) Timeout(*river.Job[RunArgs]) time.Duration {
	w.defaults()
	return w.RunTimeout + time.Minute
}

// errRunTimeout is the cause of a run's context when RunTimeout passed.
var errRunTimeout = errors.New("the run took too long")

// errInterrupted: the worker was stopped (shutdown) in the middle of a run.
var errInterrupted = errors.New("the run was interrupted")

// toolError is a tool's infrastructure failure.
type toolError struct{ err error }

func (e *toolError) Error() string { return "tool failed: " + e.err.Error() }
func (e *toolError) Unwrap() error { return e.err }

// Work executes one run.
func (w *Worker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	w.defaults()
	orgID, runID := job.Args.OrganizationID, job.Args.RunID
	ex := &execution{w: w, orgID: orgID}
	var refusal error
	err := w.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		if ex.run, err = q.GetAgentRun(ctx, db.GetAgentRunParams{OrganizationID: orgID, ID: runID}); err != nil {
			return err
		}
		if ex.run.Status != StatusQueued {
			return nil
		}
		if ex.conv, err = q.GetAgentConversation(ctx, db.GetAgentConversationParams{OrganizationID: orgID, ID: ex.run.ConversationID, UserID: ex.run.UserID}); err != nil {
			return err
		}
		// The agent may have been disabled, or the plan lowered, since the
		// message was sent.
		ex.agent, err = Usable(ctx, q, orgID, ex.run.AgentSlug)
		if err == nil && w.Ledger != nil {
			err = w.Ledger.CheckBudget(ctx, q, orgID)
		}
		var le *billing.LimitError
		if errors.As(err, &le) || errors.Is(err, ErrAgentDisabled) || errors.Is(store.MapError(err), store.ErrNotFound) {
			refusal = err
			return nil
		}
		if err != nil {
			return err
		}
		ex.history, err = q.ListAgentMessages(ctx, db.ListAgentMessagesParams{OrganizationID: orgID, ConversationID: ex.conv.ID, MaxRows: int32(w.History)})
		return err
	})
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return nil // the run (or its conversation) was deleted
	}
	if err != nil {
		return fmt.Errorf("run %s: load: %w", runID, err)
	}
	switch ex.run.Status {
	case StatusQueued:
	case StatusRunning:
		// A previous attempt died with the run half written.
		return w.interrupted(ctx, ex.run)
	default:
		return nil
	}
	if refusal != nil {
		return ex.refuse(ctx, refusal)
	}

	// Cancels are registered before the run is marked running: a cancel
	// asked after StartAgentRun finds this process listening.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	runCtx, stop := context.WithTimeoutCause(runCtx, w.RunTimeout, errRunTimeout)
	defer stop()
	w.Cancels.add(runID, cancel)
	defer w.Cancels.remove(runID)

	resolved, perr := w.Providers.For(runCtx, orgID, ex.run.AgentSlug)
	ex.kind, ex.model = resolved.Kind, resolved.Model
	err = w.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		ex.run, err = q.StartAgentRun(ctx, db.StartAgentRunParams{OrganizationID: orgID, ID: runID, Provider: ex.kind, Model: ex.model})
		if err != nil {
			return err
		}
		ex.log.seq, err = q.LastAgentRunEventSeq(ctx, db.LastAgentRunEventSeqParams{OrganizationID: orgID, RunID: runID})
		return err
	})
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return nil // cancelled before it started (Cancel ended it), or taken by another attempt
	}
	if err != nil {
		return fmt.Errorf("run %s: start: %w", runID, err)
	}
	ex.log.init(w.Store, orgID, runID, cancel)
	if perr != nil {
		ex.err = perr
	} else {
		ex.prov = resolved.Provider
		ex.execute(runCtx)
	}
	if ex.err != nil && runCtx.Err() != nil {
		// Stopped from outside: by the member, by the run's timeout, or by
		// the process shutting down (River cancels running jobs).
		switch cause := context.Cause(runCtx); {
		case errors.Is(cause, ErrCancelled):
			ex.err = ErrCancelled
		case errors.Is(cause, errRunTimeout):
			ex.err = errRunTimeout
		case w.cancelAsked(ctx, orgID, runID):
			// The member's cancel was recorded, but the run was stopped
			// another way first (shutdown, or the notification came
			// after River stopped the job): it still ends as cancelled.
			ex.err = ErrCancelled
		default:
			ex.err = errInterrupted
		}
	}
	return ex.finish(ctx)
}

// execution is one run being worked.
type execution struct {
	w       *Worker
	orgID   uuid.UUID
	run     db.AgentRun
	conv    db.GetAgentConversationRow
	agent   Agent
	history []db.AgentMessage
	prov    provider.Provider
	kind    string
	model   string

	log       eventLog
	answer    strings.Builder
	cites     citations
	usages    []provider.Usage
	toolCalls int
	err       error
}

// messages is the conversation as the model reads it: the agent's system
// prompt with the firm's instructions and the client it is about, then
// the latest messages.
func (ex *execution) messages() []provider.Message {
	sys := ex.agent.Agent.SystemPrompt
	if in := strings.TrimSpace(ex.agent.Settings.Instructions); in != "" {
		sys += "\n\nInstructions from the firm:\n" + in
	}
	if ex.conv.ClientID != nil {
		sys += fmt.Sprintf("\n\nThis conversation is about the client %q (client id %s): unless the member says otherwise, questions are about this client, "+
			"and searches should pass its id as client_id.", ex.conv.ClientName, ex.conv.ClientID)
	}
	msgs := []provider.Message{{Role: provider.RoleSystem, Content: sys}}
	for _, m := range ex.history {
		if strings.TrimSpace(m.Content) == "" {
			continue // a failed answer that wrote nothing
		}
		msgs = append(msgs, provider.Message{Role: m.Role, Content: m.Content})
	}
	return msgs
}

// execute drives the completion and tool rounds; the first failure ends up
// in ex.err.
func (ex *execution) execute(ctx context.Context) {
	msgs := ex.messages()
	var specs []provider.Tool
	if ex.w.Tools != nil {
		specs = ex.w.Tools.Specs(ex.agent.Agent.Tools)
	}
	inv := tools.Invocation{OrgID: ex.orgID, UserID: ex.run.UserID, RunID: ex.run.ID, ClientID: ex.conv.ClientID, AgentSlug: ex.run.AgentSlug}
	for round := 0; ; round++ {
		last := round >= ex.w.MaxToolRounds || len(specs) == 0
		req := provider.Request{Model: ex.model, Temperature: ex.agent.Settings.Temperature, Messages: msgs, MaxTokens: ex.w.MaxTokens}
		if !last {
			req.Tools = specs
		}
		text, calls, err := ex.complete(ctx, req)
		if err != nil {
			ex.err = err
			return
		}
		if len(calls) == 0 || last {
			return
		}
		msgs = append(msgs, provider.Message{Role: provider.RoleAssistant, Content: text, ToolCalls: calls})
		for _, call := range calls {
			ex.toolCalls++
			ex.log.status(StatusData{Tool: call.Name, Message: describeCall(call)})
			if err := ex.log.flush(ctx); err != nil {
				ex.err = err
				return
			}
			var res tools.Result
			err := ex.w.Store.InOrgTx(ctx, ex.orgID, func(tx pgx.Tx, q *db.Queries) error {
				var err error
				// Services an action calls (document requests, say) join
				// this transaction: the proposal, the action's effect and
				// its outcome are saved together or not at all.
				res, err = ex.w.Tools.Call(store.WithTx(ctx, ex.orgID, tx), q, inv, call)
				return err
			})
			if err != nil {
				ex.err = &toolError{err}
				return
			}
			msgs = append(msgs, provider.Message{Role: provider.RoleTool, ToolCallID: call.ID, Name: call.Name, Content: ex.cites.add(res)})
		}
	}
}

// received is one Recv's result.
type received struct {
	chunk provider.Chunk
	err   error
}

// complete streams one completion: text goes to the answer and, coalesced,
// to the events; it returns this completion's text and tool calls.
func (ex *execution) complete(ctx context.Context, req provider.Request) (string, []provider.ToolCall, error) {
	var text strings.Builder
	var calls []provider.ToolCall
	var used *provider.Usage
	defer func() {
		u := provider.Usage{}
		if used != nil {
			u = *used
		} else {
			// The provider said nothing (a failure, or it does not
			// report usage): count what was sent and received.
			u.InputTokens = provider.EstimateInput(req)
			out := provider.EstimateTokens(text.String())
			for _, c := range calls {
				out += provider.EstimateTokens(c.Name) + provider.EstimateTokens(c.Arguments)
			}
			u.OutputTokens = out
		}
		ex.usages = append(ex.usages, u)
	}()
	stream, err := ex.prov.Stream(ctx, req)
	if err != nil {
		return "", nil, err
	}
	defer stream.Close()
	ch := make(chan received)
	done := make(chan struct{})
	defer close(done) // runs before stream.Close: the reader leaves
	go func() {
		for {
			c, err := stream.Recv()
			select {
			case ch <- received{c, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	armed := false
	for {
		var tick <-chan time.Time
		if armed {
			tick = timer.C
		}
		select {
		case r := <-ch:
			if errors.Is(r.err, io.EOF) {
				return text.String(), calls, nil
			}
			if r.err != nil {
				return text.String(), calls, r.err
			}
			if r.chunk.Text != "" {
				text.WriteString(r.chunk.Text)
				ex.answer.WriteString(r.chunk.Text)
				ex.log.text(r.chunk.Text)
				if !armed {
					timer.Reset(max(0, ex.w.FlushInterval-time.Since(ex.log.last)))
					armed = true
				}
			}
			calls = append(calls, r.chunk.ToolCalls...)
			if r.chunk.Usage != nil {
				u := *r.chunk.Usage
				used = &u
			}
		case <-tick:
			armed = false
			if err := ex.log.flush(ctx); err != nil {
				return text.String(), calls, err
			}
		case <-ctx.Done():
			return text.String(), calls, context.Cause(ctx)
		}
	}
}

// describeCall words a tool call for the member watching.
func describeCall(c provider.ToolCall) string {
	var args map[string]any
	_ = json.Unmarshal([]byte(c.Arguments), &args)
	switch c.Name {
	case tools.SearchDocuments:
		if q, _ := args["query"].(string); q != "" {
			return "Searching your documents for “" + clip(q, 80) + "”"
		}
		return "Searching your documents"
	case tools.ReadClient:
		return "Reading the client's record"
	case tools.ListDocumentRequests:
		return "Looking at document requests"
	case tools.CreateDocumentRequest:
		return "Preparing a document request for your approval"
	case tools.DraftClientEmail:
		return "Drafting an e-mail for your approval"
	case tools.CreateTaskNote:
		return "Preparing a client note for your approval"
	}
	return "Using " + clip(c.Name, 40)
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// outcome is how the run ended: its status, the message for the member
// and the detail for operators.
func (ex *execution) outcome() (status, message, detail string) {
	err := ex.err
	switch {
	case err == nil:
		return StatusSucceeded, "", ""
	case errors.Is(err, ErrCancelled):
		return StatusCancelled, "", ""
	case errors.Is(err, errRunTimeout):
		return StatusFailed, fmt.Sprintf("The answer took longer than %s and was stopped. What arrived is kept; ask again to continue.", ex.w.RunTimeout), err.Error()
	case errors.Is(err, errInterrupted):
		return StatusFailed, "The answer was interrupted because the server restarted. What arrived is kept; ask again to continue.", err.Error()
	}
	var te *toolError
	if errors.As(err, &te) {
		return StatusFailed, "One of the agent's tools failed unexpectedly. What arrived is kept; try again in a moment.", err.Error()
	}
	// Provider errors (and anything else) are worded by the provider
	// package; the raw text is for operators only.
	return StatusFailed, provider.UserMessage(err), err.Error()
}

// finish records the end of the run in one transaction: the assistant's
// message (the answer, or the part of it that arrived) with its citations,
// the run's status and tokens, the ledger entries, and the remaining text
// and the done event, published. It runs even when ctx was cancelled.
func (ex *execution) finish(parent context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 30*time.Second)
	defer cancel()
	status, message, detail := ex.outcome()
	if status == StatusFailed {
		ex.w.Logger.Warn("agent run failed", "run", ex.run.ID, "org", ex.orgID, "agent", ex.run.AgentSlug, "provider", ex.kind, "error", detail)
	}
	answer := ex.answer.String()
	cites := ex.cites.cited(answer)
	var total Usage
	for _, u := range ex.usages {
		total.InputTokens += u.InputTokens
		total.OutputTokens += u.OutputTokens
	}
	err := ex.w.Store.InOrg(ctx, ex.orgID, func(q *db.Queries) error {
		if _, err := q.FinishAgentRun(ctx, db.FinishAgentRunParams{OrganizationID: ex.orgID, ID: ex.run.ID, Status: status, Error: message,
			ErrorDetail: clip(detail, 2000), InputTokens: int32(min(total.InputTokens, 1<<31-1)), OutputTokens: int32(min(total.OutputTokens, 1<<31-1)),
			ToolCalls: int32(ex.toolCalls)}); err != nil {
			return err
		}
		done := DoneData{Status: status, Error: message, Citations: cites, Usage: total}
		if answer != "" || status == StatusSucceeded {
			raw, err := json.Marshal(cites)
			if err != nil {
				return err
			}
			m, err := q.CreateAgentMessage(ctx, db.CreateAgentMessageParams{OrganizationID: ex.orgID, ConversationID: ex.run.ConversationID,
				RunID: ex.run.ID, Role: provider.RoleAssistant, Content: answer, Citations: raw})
			if err != nil {
				return err
			}
			done.MessageID = &m.ID
		}
		if ex.w.Ledger != nil && len(ex.usages) > 0 {
			entries := make([]usage.Entry, len(ex.usages))
			for i, u := range ex.usages {
				entries[i] = usage.Entry{OrgID: ex.orgID, UserID: ex.run.UserID, AgentSlug: ex.run.AgentSlug, ClientID: ex.run.ClientID,
					RunID: ex.run.ID, Provider: ex.kind, Model: ex.model, InputTokens: u.InputTokens, OutputTokens: u.OutputTokens}
			}
			if err := ex.w.Ledger.Record(ctx, q, entries...); err != nil {
				return err
			}
		}
		if err := q.TouchAgentConversation(ctx, db.TouchAgentConversationParams{OrganizationID: ex.orgID, ID: ex.run.ConversationID}); err != nil {
			return err
		}
		return ex.log.appendFinal(ctx, q, done)
	})
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		// Ended meanwhile by another attempt (a retry that found this
		// one's run half written): its end stands.
		ex.w.Logger.Warn("agent run already ended by another attempt", "run", ex.run.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("run %s: finish: %w", ex.run.ID, err)
	}
	return nil
}

// refuse ends a queued run that may not run (agent disabled, plan,
// budget) with the reason.
func (ex *execution) refuse(parent context.Context, reason error) error {
	msg := "This agent is no longer installed in your organization."
	var le *billing.LimitError
	var de *DisabledError
	switch {
	case errors.As(reason, &le):
		msg = le.Message
	case errors.As(reason, &de):
		msg = de.Message
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 30*time.Second)
	defer cancel()
	return ex.w.Store.InOrg(ctx, ex.orgID, func(q *db.Queries) error {
		run, err := q.FinishAgentRun(ctx, db.FinishAgentRunParams{OrganizationID: ex.orgID, ID: ex.run.ID, Status: StatusFailed, Error: msg, ErrorDetail: reason.Error()})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return appendDone(ctx, q, run, DoneData{Status: StatusFailed, Error: msg, Citations: []provider.Passage{}})
	})
}

// cancelAsked reads whether a cancel of the run was recorded.
func (w *Worker) cancelAsked(parent context.Context, orgID, runID uuid.UUID) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 10*time.Second)
	defer cancel()
	var asked bool
	_ = w.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		r, err := q.GetAgentRun(ctx, db.GetAgentRunParams{OrganizationID: orgID, ID: runID})
		asked = err == nil && r.CancelRequestedAt != nil
		return err
	})
	return asked
}

// interrupted ends a run whose worker died: what it streamed is kept as
// the answer (a run whose cancel was asked ends as cancelled).
func (w *Worker) interrupted(parent context.Context, run db.AgentRun) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 30*time.Second)
	defer cancel()
	status, msg, detail := StatusFailed, "The answer was interrupted because the server restarted. What arrived is kept; ask again to continue.", "worker interrupted"
	if run.CancelRequestedAt != nil {
		status, msg, detail = StatusCancelled, "", ""
	}
	return w.Store.InOrg(ctx, run.OrganizationID, func(q *db.Queries) error {
		deltas, err := q.ListAgentRunDeltas(ctx, db.ListAgentRunDeltasParams{OrganizationID: run.OrganizationID, RunID: run.ID})
		if err != nil {
			return err
		}
		var b strings.Builder
		for _, raw := range deltas {
			var d DeltaData
			if json.Unmarshal(raw, &d) == nil {
				b.WriteString(d.Text)
			}
		}
		done := DoneData{Status: status, Error: msg, Citations: []provider.Passage{},
			Usage: Usage{OutputTokens: provider.EstimateTokens(b.String())}}
		// Ended first, so that a run another attempt ended meanwhile gets
		// nothing written here (no second answer).
		run, err := q.FinishAgentRun(ctx, db.FinishAgentRunParams{OrganizationID: run.OrganizationID, ID: run.ID, Status: status, Error: msg,
			ErrorDetail: detail, OutputTokens: int32(done.Usage.OutputTokens)})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if b.Len() > 0 {
			m, err := q.CreateAgentMessage(ctx, db.CreateAgentMessageParams{OrganizationID: run.OrganizationID, ConversationID: run.ConversationID,
				RunID: run.ID, Role: provider.RoleAssistant, Content: b.String(), Citations: []byte("[]")})
			if err != nil {
				return err
			}
			done.MessageID = &m.ID
		}
		if w.Ledger != nil && done.Usage.OutputTokens > 0 {
			if err := w.Ledger.Record(ctx, q, usage.Entry{OrgID: run.OrganizationID, UserID: run.UserID, AgentSlug: run.AgentSlug, ClientID: run.ClientID,
				RunID: run.ID, Provider: run.Provider, Model: run.Model, OutputTokens: done.Usage.OutputTokens}); err != nil {
				return err
			}
		}
		return appendDone(ctx, q, run, done)
	})
}

// eventLog appends a run's events: text is held until flushed (at most
// every FlushInterval, and before any other event), so a run writes tens
// of rows, not one per token.
type eventLog struct {
	store   *store.Store
	orgID   uuid.UUID
	runID   uuid.UUID
	cancel  context.CancelCauseFunc
	seq     int64 // the last seq written
	pending strings.Builder
	types   []string
	datas   [][]byte
	last    time.Time
}

func (l *eventLog) init(st *store.Store, orgID, runID uuid.UUID, cancel context.CancelCauseFunc) {
	l.store, l.orgID, l.runID, l.cancel = st, orgID, runID, cancel
}

func (l *eventLog) text(s string) { l.pending.WriteString(s) }

func (l *eventLog) queue(typ string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte("{}")
	}
	l.types = append(l.types, typ)
	l.datas = append(l.datas, data)
}

// status queues a status event after the pending text.
func (l *eventLog) status(d StatusData) {
	l.queuePending()
	l.queue(EventStatus, d)
}

func (l *eventLog) queuePending() {
	if l.pending.Len() > 0 {
		l.queue(EventDelta, DeltaData{Text: l.pending.String()})
		l.pending.Reset()
	}
}

// flush writes the queued events in one transaction with their NOTIFY,
// and stops the run when a cancel was asked (the backstop for a cancel
// notification this process missed).
func (l *eventLog) flush(ctx context.Context) error {
	l.queuePending()
	if len(l.types) == 0 {
		return nil
	}
	var cancelAsked bool
	err := l.store.InOrg(ctx, l.orgID, func(q *db.Queries) error {
		r, err := q.AppendAgentRunEvents(ctx, l.params())
		cancelAsked = r.CancelRequested
		return err
	})
	if err != nil {
		return fmt.Errorf("append run events: %w", err)
	}
	l.commit()
	if cancelAsked && l.cancel != nil {
		l.cancel(ErrCancelled)
	}
	return nil
}

// appendFinal writes the remaining text and the done event in q's
// transaction.
func (l *eventLog) appendFinal(ctx context.Context, q *db.Queries, done DoneData) error {
	l.queuePending()
	l.queue(EventDone, done)
	if _, err := q.AppendAgentRunEvents(ctx, l.params()); err != nil {
		return err
	}
	l.commit()
	return nil
}

func (l *eventLog) params() db.AppendAgentRunEventsParams {
	seqs := make([]int64, len(l.types))
	for i := range seqs {
		seqs[i] = l.seq + int64(i) + 1
	}
	return appendParams(l.orgID, l.runID, seqs, l.types, l.datas)
}

func (l *eventLog) commit() {
	l.seq += int64(len(l.types))
	l.types, l.datas = l.types[:0], l.datas[:0]
	l.last = time.Now()
}
