package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"accute/internal/agents"
	"accute/internal/agents/provider"
	"accute/internal/audit"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/queue"
	"accute/internal/realtime"
	"accute/internal/store"
)

// MaxMessage is the longest message a member may send (characters).
const MaxMessage = 8000

// Refusals (the web layer answers 409 with the message; not found is
// store.ErrNotFound, a plan refusal *billing.LimitError).
var (
	ErrRunInProgress = errors.New("the agent is still answering in this conversation; wait for the answer or cancel it")
	ErrAgentDisabled = errors.New("agent not enabled")
)

// DisabledError says which agent cannot be used and why, for people.
type DisabledError struct{ Message string }

func (e *DisabledError) Error() string { return e.Message }
func (e *DisabledError) Unwrap() error { return ErrAgentDisabled }

// BudgetChecker refuses a new run over the organization's AI budget
// (usage.Ledger).
type BudgetChecker interface {
	CheckBudget(ctx context.Context, q *db.Queries, orgID uuid.UUID) error
}

// Service is conversations and runs for the web pages and the API.
type Service struct {
	Store *store.Store
	// Jobs inserts the run's job in the transaction that creates the run.
	Jobs queue.Inserter
	// Budget, when set, refuses a run over the budget before it is queued
	// (the worker checks again when it starts).
	Budget BudgetChecker
}

// Actor is the member acting.
type Actor struct {
	OrgID  uuid.UUID
	UserID uuid.UUID
	Email  string
}

// Agent is an agent the member can talk to.
type Agent struct {
	Agent    db.Agent
	Settings agents.Settings
}

// Usable checks, in q's transaction, that slug is installed, enabled and
// allowed by the organization's plan: store.ErrNotFound when it is not
// installed (or unknown), a *DisabledError when it is disabled or
// withdrawn, a *billing.LimitError when the plan no longer includes it.
func Usable(ctx context.Context, q *db.Queries, orgID uuid.UUID, slug string) (Agent, error) {
	a, err := q.GetAgent(ctx, slug)
	if err != nil {
		return Agent{}, err
	}
	inst, err := q.GetAgentInstallation(ctx, db.GetAgentInstallationParams{OrganizationID: orgID, AgentSlug: slug})
	if err != nil {
		return Agent{}, err
	}
	switch {
	case !a.Enabled:
		return Agent{}, &DisabledError{Message: a.Name + " has been withdrawn by the platform and cannot be used at the moment."}
	case !inst.Enabled:
		return Agent{}, &DisabledError{Message: a.Name + " is disabled in this organization. An administrator can enable it under AI agents."}
	}
	p, err := billing.PlanOf(ctx, q, orgID)
	if err != nil {
		return Agent{}, err
	}
	if err := billing.RequirePlan(p, a.MinPlan, a.Name); err != nil {
		return Agent{}, err
	}
	return Agent{Agent: a, Settings: agents.DecodeSettings(a.DefaultSettings, inst.Settings)}, nil
}

// Agent returns slug for a chat, if the member may talk to it (see Usable).
func (s *Service) Agent(ctx context.Context, orgID uuid.UUID, slug string) (Agent, error) {
	var out Agent
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		out, err = Usable(ctx, q, orgID, slug)
		return err
	})
	return out, store.MapError(err)
}

// Conversation is a conversation with its client's name.
type Conversation struct {
	ID         uuid.UUID
	AgentSlug  string
	ClientID   *uuid.UUID
	ClientName string
	Title      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func conversationOf(c db.AgentConversation, clientName string) Conversation {
	return Conversation{ID: c.ID, AgentSlug: c.AgentSlug, ClientID: c.ClientID, ClientName: clientName, Title: c.Title, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// StartInput is a message to send: to a new conversation (ConversationID
// nil, optionally about ClientID) or an existing one.
type StartInput struct {
	AgentSlug      string
	Message        string
	ConversationID *uuid.UUID
	ClientID       *uuid.UUID
}

// Started is what Start created.
type Started struct {
	Run          db.AgentRun
	Conversation Conversation
	Message      db.AgentMessage
	// NewConversation: the message started the conversation.
	NewConversation bool
}

// Start saves the member's message and a queued run, and inserts the job
// that executes it, in one transaction. Refusals: form.Errors (message,
// client_id), store.ErrNotFound (agent or conversation), *DisabledError,
// *billing.LimitError (plan, budget), ErrRunInProgress.
func (s *Service) Start(ctx context.Context, a Actor, in StartInput) (Started, error) {
	msg, problem := CleanMessage(in.Message)
	errs := form.Errors{}
	if problem != "" {
		errs.Add("message", problem)
	}
	var out Started
	err := s.Store.InOrgTx(ctx, a.OrgID, func(tx pgx.Tx, q *db.Queries) error {
		ag, err := Usable(ctx, q, a.OrgID, in.AgentSlug)
		if err != nil {
			return err
		}
		var conv db.AgentConversation
		clientName := ""
		if in.ConversationID != nil {
			c, err := q.GetAgentConversation(ctx, db.GetAgentConversationParams{OrganizationID: a.OrgID, ID: *in.ConversationID, UserID: a.UserID})
			if err != nil {
				return err
			}
			if c.AgentSlug != in.AgentSlug {
				return store.ErrNotFound
			}
			if in.ClientID != nil && (c.ClientID == nil || *c.ClientID != *in.ClientID) {
				errs.Add("client_id", "This conversation is about another client (or none); start a new conversation to ask about this one.")
			}
			conv = db.AgentConversation{OrganizationID: c.OrganizationID, ID: c.ID, UserID: c.UserID, AgentSlug: c.AgentSlug,
				ClientID: c.ClientID, Title: c.Title, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
			clientName = c.ClientName
		} else if in.ClientID != nil {
			cl, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: a.OrgID, ID: *in.ClientID})
			switch {
			case errors.Is(store.MapError(err), store.ErrNotFound):
				errs.Add("client_id", "Choose one of your organization's clients.")
			case err != nil:
				return err
			case cl.ArchivedAt != nil:
				errs.Add("client_id", "This client is archived; restore it to ask about it.")
			default:
				clientName = cl.Name
			}
		}
		if errs.Any() {
			return errs
		}
		if s.Budget != nil {
			if err := s.Budget.CheckBudget(ctx, q, a.OrgID); err != nil {
				return err
			}
		}
		if in.ConversationID == nil {
			if conv, err = q.CreateAgentConversation(ctx, db.CreateAgentConversationParams{OrganizationID: a.OrgID, UserID: a.UserID,
				AgentSlug: in.AgentSlug, ClientID: in.ClientID, Title: Title(msg)}); err != nil {
				return err
			}
			out.NewConversation = true
		} else if err := q.TouchAgentConversation(ctx, db.TouchAgentConversationParams{OrganizationID: a.OrgID, ID: conv.ID}); err != nil {
			return err
		}
		run, err := q.CreateAgentRun(ctx, db.CreateAgentRunParams{OrganizationID: a.OrgID, ConversationID: conv.ID, UserID: a.UserID,
			AgentSlug: in.AgentSlug, ClientID: conv.ClientID})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return ErrRunInProgress
		}
		if err != nil {
			return err
		}
		m, err := q.CreateAgentMessage(ctx, db.CreateAgentMessageParams{OrganizationID: a.OrgID, ConversationID: conv.ID, RunID: run.ID,
			Role: provider.RoleUser, Content: msg, Citations: []byte("[]")})
		if err != nil {
			return err
		}
		if _, err := s.Jobs.InsertTx(ctx, tx, RunArgs{OrganizationID: a.OrgID, RunID: run.ID}, nil); err != nil {
			return fmt.Errorf("queue run: %w", err)
		}
		out.Run, out.Message, out.Conversation = run, m, conversationOf(conv, clientName)
		return audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.AgentRunStarted,
			TargetType: "agent_run", TargetID: run.ID.String(), Summary: fmt.Sprintf("Asked %s in “%s”", ag.Agent.Name, conv.Title)})
	})
	if err != nil {
		var fe form.Errors
		if errors.As(err, &fe) {
			return Started{}, fe
		}
		return Started{}, store.MapError(err)
	}
	return out, nil
}

// CleanMessage normalizes a message and says what is wrong with it ("" when
// nothing is).
func CleanMessage(raw string) (string, string) {
	msg := strings.TrimSpace(strings.ReplaceAll(form.Clean(raw), "\r\n", "\n"))
	switch n := utf8.RuneCountInString(msg); {
	case n == 0:
		return msg, "Write a message."
	case n > MaxMessage:
		return msg, fmt.Sprintf("Use at most %d characters (this is %d).", MaxMessage, n)
	}
	return msg, ""
}

// Title is a conversation's title taken from its first message: the first
// line, at most 80 characters.
func Title(msg string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	line = strings.Join(strings.Fields(line), " ")
	if r := []rune(line); len(r) > 80 {
		line = strings.TrimSpace(string(r[:79])) + "…"
	}
	if line == "" {
		line = "Conversation"
	}
	return line
}

// Cancel asks a run to stop. A queued run ends at once (cancelled, with
// its done event); a running one is told through NOTIFY, on whichever
// instance works it, and ends with what it wrote so far. Cancelling a
// finished run changes nothing. Another member's run is store.ErrNotFound.
func (s *Service) Cancel(ctx context.Context, a Actor, runID uuid.UUID) (db.AgentRun, error) {
	var out db.AgentRun
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		run, err := q.GetAgentRun(ctx, db.GetAgentRunParams{OrganizationID: a.OrgID, ID: runID})
		if err != nil {
			return err
		}
		if run.UserID != a.UserID {
			return store.ErrNotFound
		}
		out = run
		if Finished(run.Status) {
			return nil
		}
		if run, err = q.RequestAgentRunCancel(ctx, db.RequestAgentRunCancelParams{OrganizationID: a.OrgID, ID: runID}); errors.Is(store.MapError(err), store.ErrNotFound) {
			return nil // finished meanwhile
		} else if err != nil {
			return err
		}
		out = run
		if run.Status == StatusQueued {
			// No worker has it (StartAgentRun refuses a run with a cancel
			// asked), so the run ends here.
			if out, err = q.FinishAgentRun(ctx, db.FinishAgentRunParams{OrganizationID: a.OrgID, ID: runID, Status: StatusCancelled}); err != nil {
				return err
			}
			if err := appendDone(ctx, q, out, DoneData{Status: StatusCancelled, Citations: []provider.Passage{}}); err != nil {
				return err
			}
		} else if err := q.NotifyChannel(ctx, db.NotifyChannelParams{Channel: CancelChannel, Payload: runID.String()}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.AgentRunCancelled,
			TargetType: "agent_run", TargetID: runID.String(), Summary: "Stopped an answer of " + run.AgentSlug})
	})
	return out, store.MapError(err)
}

// appendDone appends a run's done event (after its last event) and
// publishes it.
func appendDone(ctx context.Context, q *db.Queries, run db.AgentRun, d DoneData) error {
	last, err := q.LastAgentRunEventSeq(ctx, db.LastAgentRunEventSeqParams{OrganizationID: run.OrganizationID, RunID: run.ID})
	if err != nil {
		return err
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = q.AppendAgentRunEvents(ctx, appendParams(run.OrganizationID, run.ID, []int64{last + 1}, []string{EventDone}, [][]byte{data}))
	return err
}

func appendParams(orgID, runID uuid.UUID, seqs []int64, types []string, datas [][]byte) db.AppendAgentRunEventsParams {
	return db.AppendAgentRunEventsParams{Channel: EventsChannel, Payload: runID.String() + ":" + fmt.Sprint(seqs[len(seqs)-1]),
		OrganizationID: orgID, RunID: runID, Seqs: seqs, Types: types, Datas: datas}
}

// Cursor is a position in a list of conversations (keyset).
type Cursor struct {
	UpdatedAt time.Time
	ID        uuid.UUID
}

// farFuture starts the first page.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Conversations lists the member's conversations, most recent first (of
// one agent when slug is not empty): up to limit, and the cursor of the
// next page (nil on the last).
func (s *Service) Conversations(ctx context.Context, a Actor, slug string, after *Cursor, limit int) ([]Conversation, *Cursor, error) {
	c := Cursor{UpdatedAt: farFuture, ID: uuid.Max}
	if after != nil {
		c = *after
	}
	var out []Conversation
	var next *Cursor
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		rows, err := q.ListAgentConversations(ctx, db.ListAgentConversationsParams{OrganizationID: a.OrgID, UserID: a.UserID, AgentSlug: slug,
			BeforeUpdated: c.UpdatedAt, BeforeID: c.ID, MaxRows: int32(limit + 1)})
		if err != nil {
			return err
		}
		for i, r := range rows {
			if i == limit {
				last := out[len(out)-1]
				next = &Cursor{UpdatedAt: last.UpdatedAt, ID: last.ID}
				break
			}
			out = append(out, Conversation{ID: r.ID, AgentSlug: r.AgentSlug, ClientID: r.ClientID, ClientName: r.ClientName, Title: r.Title,
				CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt})
		}
		return nil
	})
	return out, next, err
}

// Thread is a conversation with its messages and runs, oldest first.
type Thread struct {
	Conversation Conversation
	Messages     []db.AgentMessage
	Runs         []db.AgentRun
}

// Turn is one run of a thread with its question and answer (nil when not
// in the thread: older than it shows, or not written yet).
type Turn struct {
	Run      db.AgentRun
	Question *db.AgentMessage
	Answer   *db.AgentMessage
}

// Turns pairs the thread's runs with their messages, in the runs' order.
func (t Thread) Turns() []Turn {
	byRun := make(map[uuid.UUID]*Turn, len(t.Runs))
	out := make([]Turn, len(t.Runs))
	for i, r := range t.Runs {
		out[i].Run = r
		byRun[r.ID] = &out[i]
	}
	for i := range t.Messages {
		m := &t.Messages[i]
		turn := byRun[m.RunID]
		switch {
		case turn == nil:
		case m.Role == provider.RoleUser:
			turn.Question = m
		default:
			turn.Answer = m
		}
	}
	return out
}

// MaxThread bounds the runs (each a question and its answer) a
// conversation page shows: the newest ones.
const MaxThread = 200

// Conversation returns one of the member's conversations.
func (s *Service) Conversation(ctx context.Context, a Actor, id uuid.UUID) (Thread, error) {
	var t Thread
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		c, err := q.GetAgentConversation(ctx, db.GetAgentConversationParams{OrganizationID: a.OrgID, ID: id, UserID: a.UserID})
		if err != nil {
			return err
		}
		t.Conversation = Conversation{ID: c.ID, AgentSlug: c.AgentSlug, ClientID: c.ClientID, ClientName: c.ClientName, Title: c.Title, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
		if t.Messages, err = q.ListAgentMessages(ctx, db.ListAgentMessagesParams{OrganizationID: a.OrgID, ConversationID: id, MaxRows: 2 * MaxThread}); err != nil {
			return err
		}
		t.Runs, err = q.ListAgentConversationRuns(ctx, db.ListAgentConversationRunsParams{OrganizationID: a.OrgID, ConversationID: id, MaxRows: MaxThread})
		return err
	})
	return t, store.MapError(err)
}

// RunDetail is a run with its messages (the assistant's is nil until the
// run has ended).
type RunDetail struct {
	Run       db.AgentRun
	Question  *db.AgentMessage
	Answer    *db.AgentMessage
	Citations []provider.Passage
	// LastSeq is the run's newest event (0 before the first).
	LastSeq int64
}

// Run returns one of the member's runs.
func (s *Service) Run(ctx context.Context, a Actor, runID uuid.UUID) (RunDetail, error) {
	var d RunDetail
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		run, err := q.GetAgentRun(ctx, db.GetAgentRunParams{OrganizationID: a.OrgID, ID: runID})
		if err != nil {
			return err
		}
		if run.UserID != a.UserID {
			return store.ErrNotFound
		}
		d.Run = run
		if d.LastSeq, err = q.LastAgentRunEventSeq(ctx, db.LastAgentRunEventSeqParams{OrganizationID: a.OrgID, RunID: runID}); err != nil {
			return err
		}
		msgs, err := q.ListAgentRunMessages(ctx, db.ListAgentRunMessagesParams{OrganizationID: a.OrgID, RunID: runID})
		if err != nil {
			return err
		}
		for i := range msgs {
			switch msgs[i].Role {
			case provider.RoleUser:
				d.Question = &msgs[i]
			case provider.RoleAssistant:
				d.Answer = &msgs[i]
				d.Citations = DecodeCitations(msgs[i].Citations)
			}
		}
		return nil
	})
	if d.Citations == nil {
		d.Citations = []provider.Passage{}
	}
	return d, store.MapError(err)
}

// Events reads a run's events after seq, for the SSE hub (the caller has
// checked the run is the member's).
func (s *Service) Events(ctx context.Context, orgID, runID uuid.UUID, after int64, limit int) ([]realtime.Event, error) {
	var out []realtime.Event
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		rows, err := q.ListAgentRunEvents(ctx, db.ListAgentRunEventsParams{OrganizationID: orgID, RunID: runID, AfterSeq: after, MaxRows: int32(limit)})
		if err != nil {
			return err
		}
		out = make([]realtime.Event, len(rows))
		for i, r := range rows {
			out[i] = realtime.Event{Seq: r.Seq, Type: r.Type, Data: r.Data}
		}
		return nil
	})
	return out, err
}

// Passage is the text at a cited place of a document's current version.
type Passage struct {
	Ref     string
	Content string
}

// Passages returns the chunks of document docID at ref (empty when the
// document changed since the citation, or the place is unknown).
func (s *Service) Passages(ctx context.Context, orgID, docID uuid.UUID, ref string) ([]Passage, error) {
	var out []Passage
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		rows, err := q.ListDocumentPassage(ctx, db.ListDocumentPassageParams{OrganizationID: orgID, DocumentID: docID, Ref: ref})
		for _, r := range rows {
			out = append(out, Passage{Ref: r.Ref, Content: r.Content})
		}
		return err
	})
	return out, err
}

// RunArgs is the job that executes a run.
type RunArgs struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	RunID          uuid.UUID `json:"run_id"`
}

// Kind names the job.
func (RunArgs) Kind() string { return "agents.run" }

// OrgID is the organization the job works for.
func (a RunArgs) OrgID() uuid.UUID { return a.OrganizationID }

// InsertOpts: the agents queue; a failed attempt (the database was away)
// is retried twice, and a retry of an interrupted run ends it with what it
// had written.
func (RunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.QueueAgents, MaxAttempts: 3}
}
