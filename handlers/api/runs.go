package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/r3labs/sse/v2"

	"accute/internal/agents/provider"
	"accute/internal/agents/runs"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/realtime"
	"accute/internal/store"
)

// Conversations with AI agents and their runs: a message starts a run
// (202 with its stream_url), the stream is the run's events as SSE, and
// conversations and runs can be listed. Conversations are private to the
// member: a token reaches only its user's.

// RunInput starts a run: a message to a new conversation (optionally about
// a client) or to an existing one.
type RunInput struct {
	Message        *string `json:"message"`
	ConversationID *string `json:"conversation_id"`
	ClientID       *string `json:"client_id"`
}

// RunUsage is a run's tokens.
type RunUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// Citation is a source an answer cites: a passage of a document (page or
// sheet!cell in locator) or a client record.
type Citation struct {
	Ref        int        `json:"ref"`
	Kind       string     `json:"kind"`
	DocumentID *uuid.UUID `json:"document_id"`
	Title      string     `json:"title"`
	Locator    string     `json:"locator"`
	ClientID   *uuid.UUID `json:"client_id"`
	ClientName string     `json:"client_name"`
	Text       string     `json:"text"`
}

// Answer is a run's stored answer (or the part that arrived before it
// failed or was cancelled).
type Answer struct {
	ID        uuid.UUID  `json:"id"`
	Content   string     `json:"content"`
	Citations []Citation `json:"citations"`
	CreatedAt time.Time  `json:"created_at"`
}

// RunInfo is a run.
type RunInfo struct {
	ID             uuid.UUID  `json:"id"`
	ConversationID uuid.UUID  `json:"conversation_id"`
	Agent          string     `json:"agent"`
	ClientID       *uuid.UUID `json:"client_id"`
	Status         string     `json:"status"`
	Error          string     `json:"error"`
	Message        string     `json:"message"`
	Answer         *Answer    `json:"answer"`
	Provider       string     `json:"provider"`
	Model          string     `json:"model"`
	Usage          RunUsage   `json:"usage"`
	ToolCalls      int        `json:"tool_calls"`
	StreamURL      string     `json:"stream_url"`
	CreatedAt      time.Time  `json:"created_at"`
	StartedAt      *time.Time `json:"started_at"`
	FinishedAt     *time.Time `json:"finished_at"`
}

// ConversationInfo is a conversation.
type ConversationInfo struct {
	ID         uuid.UUID  `json:"id"`
	Agent      string     `json:"agent"`
	ClientID   *uuid.UUID `json:"client_id"`
	ClientName string     `json:"client_name"`
	Title      string     `json:"title"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

func runActor(c echo.Context) runs.Actor {
	p := principal(c)
	return runs.Actor{OrgID: p.Org.ID, UserID: p.User.ID, Email: p.User.Email}
}

func streamURL(c echo.Context, runID uuid.UUID) string {
	return "/api/v1/orgs/" + principal(c).Org.Slug + "/runs/" + runID.String() + "/stream"
}

func citationsOut(ps []provider.Passage) []Citation {
	out := make([]Citation, 0, len(ps))
	for _, p := range ps {
		ci := Citation{Ref: p.Ref, Kind: p.Kind, Title: p.Title, Locator: p.Locator, ClientName: p.ClientName, Text: p.Text}
		if id, err := uuid.Parse(p.DocumentID); err == nil {
			ci.DocumentID = &id
		}
		if id, err := uuid.Parse(p.ClientID); err == nil {
			ci.ClientID = &id
		}
		out = append(out, ci)
	}
	return out
}

func runOut(c echo.Context, r db.AgentRun, question, answer *db.AgentMessage) RunInfo {
	out := RunInfo{ID: r.ID, ConversationID: r.ConversationID, Agent: r.AgentSlug, ClientID: r.ClientID, Status: r.Status, Error: r.Error,
		Provider: r.Provider, Model: r.Model, Usage: RunUsage{InputTokens: int(r.InputTokens), OutputTokens: int(r.OutputTokens)},
		ToolCalls: int(r.ToolCalls), StreamURL: streamURL(c, r.ID), CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
	if question != nil {
		out.Message = question.Content
	}
	if answer != nil {
		out.Answer = &Answer{ID: answer.ID, Content: answer.Content, Citations: citationsOut(runs.DecodeCitations(answer.Citations)), CreatedAt: answer.CreatedAt}
	}
	return out
}

// uuidField parses an optional id of the body.
func uuidField(v *string, field string, errs form.Errors) *uuid.UUID {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil
	}
	id, err := uuid.Parse(strings.TrimSpace(*v))
	if err != nil {
		errs.Add(field, "Must be an id (a UUID).")
		return nil
	}
	return &id
}

// runRefusal maps the runs service's refusals.
func runRefusal(err error) error {
	var de *runs.DisabledError
	switch {
	case errors.As(err, &de):
		return errorf(http.StatusConflict, de.Message)
	case errors.Is(err, runs.ErrRunInProgress):
		return errorf(http.StatusConflict, "The agent is still answering in this conversation: wait for the run to end, or cancel it, before sending another message.")
	}
	return err
}

// RunsCreate sends a message to an agent: 202 with the queued run and its
// stream_url.
func (a *API) RunsCreate(c echo.Context) error {
	slug := c.Param("slug")
	var in RunInput
	if err := bind(c, &in); err != nil {
		return err
	}
	errs := form.Errors{}
	msg := ""
	if in.Message == nil {
		errs.Add("message", "Required.")
	} else {
		msg = *in.Message
	}
	st := runs.StartInput{AgentSlug: slug, Message: msg, ConversationID: uuidField(in.ConversationID, "conversation_id", errs),
		ClientID: uuidField(in.ClientID, "client_id", errs)}
	if errs.Any() {
		return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.", Details: errs}
	}
	s, err := a.Runs.Start(c.Request().Context(), runActor(c), st)
	var fe form.Errors
	if errors.As(err, &fe) {
		return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.", Details: fe}
	}
	if err != nil {
		return runRefusal(err)
	}
	return respond(c, http.StatusAccepted, runOut(c, s.Run, &s.Message, nil))
}

// RunsShow returns a run with its answer (once it has ended).
func (a *API) RunsShow(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := a.Runs.Run(c.Request().Context(), runActor(c), id)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, runOut(c, d.Run, d.Question, d.Answer))
}

// RunsCancel cancels a queued or running run; a finished one is returned
// as it is.
func (a *API) RunsCancel(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := a.Runs.Cancel(ctx, runActor(c), id); err != nil {
		return err
	}
	d, err := a.Runs.Run(ctx, runActor(c), id)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, runOut(c, d.Run, d.Question, d.Answer))
}

// RunsStream is the run's events as Server-Sent Events: each with its id
// (the event's seq), its type (delta, status, done) and its JSON data,
// ending with done. Last-Event-ID resumes after that event.
func (a *API) RunsStream(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	after := int64(0)
	if v := strings.TrimSpace(c.Request().Header.Get("Last-Event-ID")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return &Error{Status: http.StatusBadRequest, Message: "Last-Event-ID must be the id of an event of this stream.",
				Details: map[string]string{"Last-Event-ID": "Must be a whole number."}}
		}
		after = n
	}
	ctx := c.Request().Context()
	actor := runActor(c)
	d, err := a.Runs.Run(ctx, actor, id)
	if err != nil {
		return err
	}
	// The stream holds no database connection: the request's transaction
	// ends here; the hub reads events in short transactions of its own.
	if err := store.CommitRequest(ctx); err != nil {
		return err
	}
	if runs.Finished(d.Run.Status) && after >= d.LastSeq {
		// The client has every event of a run that has ended: 204 tells
		// an EventSource to stop reconnecting.
		return c.NoContent(http.StatusNoContent)
	}
	// An id beyond the run's events cannot have been received: resume
	// from the newest, or events still to come would be skipped.
	after = min(after, d.LastSeq)
	if a.Hub == nil {
		return errorf(http.StatusServiceUnavailable, "Streaming is not available on this server.")
	}
	svc := a.Runs
	sub := realtime.Subscription{
		Topic: runs.TopicOf(id),
		After: after,
		Load: func(ctx context.Context, after int64, limit int) ([]realtime.Event, error) {
			return svc.Events(ctx, actor.OrgID, id, after, limit)
		},
		Format: jsonFrames,
		Final:  func(e realtime.Event) bool { return e.Type == runs.EventDone },
	}
	if err := a.Hub.Serve(c.Response(), c.Request(), sub); errors.Is(err, realtime.ErrClosed) {
		c.Response().Header().Set("Retry-After", "1")
		return errorf(http.StatusServiceUnavailable, "The server is restarting: reconnect, with Last-Event-ID, in a moment.")
	} else if err != nil {
		return err
	}
	return nil
}

// jsonFrames sends every event as it is stored: id, type, JSON data.
func jsonFrames(evs []realtime.Event) []*sse.Event {
	out := make([]*sse.Event, len(evs))
	for i, e := range evs {
		out[i] = &sse.Event{ID: strconv.AppendInt(nil, e.Seq, 10), Event: []byte(e.Type), Data: e.Data}
	}
	return out
}

// ConversationsList lists the token user's conversations, most recent
// first (?agent= for one agent's).
func (a *API) ConversationsList(c echo.Context) error {
	errs := form.Errors{}
	limit := limitParam(c, errs)
	slug := strings.TrimSpace(c.QueryParam("agent"))
	var after *runs.Cursor
	if cur := c.QueryParam("cursor"); cur != "" {
		parts, ok := decodeCursor(cur, 2)
		var t time.Time
		var id uuid.UUID
		var err1, err2 error
		if ok {
			t, err1 = time.Parse(time.RFC3339Nano, parts[0])
			id, err2 = uuid.Parse(parts[1])
		}
		if !ok || err1 != nil || err2 != nil {
			errs.Add("cursor", "Not a cursor from this list: pass next_cursor back unchanged.")
		} else {
			after = &runs.Cursor{UpdatedAt: t, ID: id}
		}
	}
	if errs.Any() {
		return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.", Details: errs}
	}
	list, next, err := a.Runs.Conversations(c.Request().Context(), runActor(c), slug, after, limit)
	if err != nil {
		return err
	}
	page := Page[ConversationInfo]{Items: make([]ConversationInfo, 0, len(list))}
	for _, v := range list {
		page.Items = append(page.Items, ConversationInfo{ID: v.ID, Agent: v.AgentSlug, ClientID: v.ClientID, ClientName: v.ClientName, Title: v.Title,
			CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt})
	}
	if next != nil {
		page.NextCursor = encodeCursor(next.UpdatedAt.Format(time.RFC3339Nano), next.ID.String())
	}
	return respond(c, http.StatusOK, page)
}

// ConversationRuns lists a conversation's runs, oldest first, with their
// answers.
func (a *API) ConversationRuns(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	t, err := a.Runs.Conversation(c.Request().Context(), runActor(c), id)
	if err != nil {
		return err
	}
	page := Page[RunInfo]{Items: make([]RunInfo, 0, len(t.Runs))}
	for _, turn := range t.Turns() {
		page.Items = append(page.Items, runOut(c, turn.Run, turn.Question, turn.Answer))
	}
	return respond(c, http.StatusOK, page)
}
