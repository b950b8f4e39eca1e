package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/agents/runs"
	"accute/internal/agents/usage"
	"accute/internal/form"
	"accute/internal/realtime"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/views/components"
	agentsview "accute/views/pages/agents"
)

// Conversations with agents (internal/agents/runs): an agent's page with a
// new conversation and the member's earlier ones, a conversation's page,
// the message form (HTMX: the answer is appended and streams in), cancel,
// and the answer's event stream, rendered as HTML fragments.

func (h *Handlers) runsSvc() *runs.Service {
	return &runs.Service{Store: h.Store, Jobs: h.Jobs, Budget: &usage.Ledger{BaseURL: h.Config.BaseURL}}
}

func runActor(c echo.Context) runs.Actor {
	p := principal(c)
	return runs.Actor{OrgID: p.Org.ID, UserID: p.User.ID, Email: p.User.Email}
}

// chatRefusal words the refusals of runs for people: a disabled agent and
// an answer still being written are 409 with what to do.
func chatRefusal(err error) error {
	var de *runs.DisabledError
	switch {
	case errors.As(err, &de):
		return echo.NewHTTPError(http.StatusConflict, de.Message)
	case errors.Is(err, runs.ErrRunInProgress):
		return echo.NewHTTPError(http.StatusConflict, "The agent is still answering in this conversation. Wait for the answer, or stop it, before sending another message.")
	}
	return err
}

func (h *Handlers) agentHeader(c echo.Context, a runs.Agent) agentsview.AgentHeader {
	v := agentsview.AgentHeader{Name: a.Agent.Name, Tagline: a.Agent.Tagline, URL: orgURL(c, "/agents/"+a.Agent.Slug), MarketURL: orgURL(c, "/agents")}
	if principal(c).Membership.Permissions.Has(tenant.AgentsManage) {
		v.SettingsURL = v.URL + "/settings"
	}
	return v
}

// chatAgent reads :agent and checks the member may talk to it.
func (h *Handlers) chatAgent(c echo.Context) (runs.Agent, error) {
	slug, err := agentSlug(c)
	if err != nil {
		return runs.Agent{}, err
	}
	a, err := h.runsSvc().Agent(c.Request().Context(), principal(c).Org.ID, slug)
	if err != nil {
		return runs.Agent{}, chatRefusal(err)
	}
	return a, nil
}

// AgentChat is an agent's page: a new conversation and the member's
// conversations with it.
func (h *Handlers) AgentChat(c echo.Context) error {
	a, err := h.chatAgent(c)
	if err != nil {
		return err
	}
	form, err := h.newConversationForm(c, a, "", "", nil)
	if err != nil {
		return err
	}
	v := agentsview.ChatHomeView{Agent: h.agentHeader(c, a), Form: form}
	if err := h.conversationList(c, a, &v); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, agentsview.ChatHomePage(h.shell(c, a.Agent.Name, "agents"), v))
}

func (h *Handlers) conversationList(c echo.Context, a runs.Agent, v *agentsview.ChatHomeView) error {
	var after *runs.Cursor
	if b := c.QueryParam("before"); b != "" {
		at, id, ok := strings.Cut(b, "_")
		t, terr := time.Parse(time.RFC3339Nano, at)
		u, uerr := uuid.Parse(id)
		if !ok || terr != nil || uerr != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "That page of conversations does not exist; go back to the first page.")
		}
		after = &runs.Cursor{UpdatedAt: t, ID: u}
	}
	list, next, err := h.runsSvc().Conversations(c.Request().Context(), runActor(c), a.Agent.Slug, after, 25)
	if err != nil {
		return err
	}
	base := orgURL(c, "/agents/"+a.Agent.Slug)
	for _, conv := range list {
		v.Conversations = append(v.Conversations, agentsview.ConversationRow{Title: conv.Title, URL: base + "/conversations/" + conv.ID.String(),
			Client: conv.ClientName, Updated: conv.UpdatedAt.Format("2 Jan 2006, 15:04")})
	}
	if next != nil {
		v.NextURL = base + "?before=" + url.QueryEscape(next.UpdatedAt.Format(time.RFC3339Nano)+"_"+next.ID.String())
	}
	return nil
}

func (h *Handlers) newConversationForm(c echo.Context, a runs.Agent, message, clientID string, errs form.Errors) (agentsview.NewConversationForm, error) {
	f := agentsview.NewConversationForm{Action: orgURL(c, "/agents/"+a.Agent.Slug+"/conversations"), Message: message, ClientID: clientID,
		Errors: errs, MaxMessage: runs.MaxMessage}
	if !principal(c).Membership.Permissions.Has(tenant.ClientsRead) {
		return f, nil
	}
	rows, err := h.Documents.ClientChoices(c.Request().Context(), principal(c).Org.ID)
	if err != nil {
		return f, err
	}
	if len(rows) > 0 {
		f.Clients = append(f.Clients, components.Option{Value: "", Label: "No particular client", Selected: clientID == ""})
		for _, r := range rows {
			f.Clients = append(f.Clients, components.Option{Value: r.ID.String(), Label: r.Name, Selected: r.ID.String() == clientID})
		}
	}
	return f, nil
}

// ConversationsCreate starts a conversation with its first message and
// goes to it, where the answer streams in.
func (h *Handlers) ConversationsCreate(c echo.Context) error {
	a, err := h.chatAgent(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	message, clientField := c.FormValue("message"), strings.TrimSpace(c.FormValue("client_id"))
	in := runs.StartInput{AgentSlug: a.Agent.Slug, Message: message}
	errs := form.Errors{}
	if clientField != "" {
		id, err := uuid.Parse(clientField)
		if err != nil {
			errs.Add("client_id", "Choose one of your organization's clients.")
			if _, problem := runs.CleanMessage(message); problem != "" {
				errs.Add("message", problem)
			}
		}
		in.ClientID = &id
	}
	if !errs.Any() {
		started, err := h.runsSvc().Start(ctx, runActor(c), in)
		if err == nil {
			return h.redirect(c, orgURL(c, "/agents/"+a.Agent.Slug+"/conversations/"+started.Conversation.ID.String()))
		}
		if !errors.As(err, &errs) {
			return chatRefusal(err)
		}
	}
	store.RollbackRequest(ctx)
	f, err := h.newConversationForm(c, a, message, clientField, errs)
	if err != nil {
		return err
	}
	if isHTMX(c) {
		return h.render(c, http.StatusUnprocessableEntity, agentsview.NewConversation(f))
	}
	v := agentsview.ChatHomeView{Agent: h.agentHeader(c, a), Form: f}
	if err := h.conversationList(c, a, &v); err != nil {
		return err
	}
	return h.render(c, http.StatusUnprocessableEntity, agentsview.ChatHomePage(h.shell(c, a.Agent.Name, "agents"), v))
}

// ConversationShow is a conversation: finished answers as history, a
// running one streaming.
func (h *Handlers) ConversationShow(c echo.Context) error {
	a, err := h.chatAgent(c)
	if err != nil {
		return err
	}
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	v, err := h.conversationView(c, a, id)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, agentsview.ConversationPage(h.shell(c, v.Title, "agents"), v))
}

func (h *Handlers) conversationView(c echo.Context, a runs.Agent, id uuid.UUID) (agentsview.ConversationView, error) {
	t, err := h.runsSvc().Conversation(c.Request().Context(), runActor(c), id)
	if err != nil {
		return agentsview.ConversationView{}, err
	}
	if t.Conversation.AgentSlug != a.Agent.Slug {
		return agentsview.ConversationView{}, echo.ErrNotFound
	}
	v := agentsview.ConversationView{Agent: h.agentHeader(c, a), Title: t.Conversation.Title, Client: t.Conversation.ClientName,
		Form: h.messageForm(c, a.Agent.Slug, id)}
	if t.Conversation.ClientID != nil && principal(c).Membership.Permissions.Has(tenant.ClientsRead) {
		v.ClientURL = clientsBase(c) + "/" + t.Conversation.ClientID.String()
	}
	v.Turns = h.turns(c, a.Agent.Slug, t)
	return v, nil
}

func (h *Handlers) messageForm(c echo.Context, slug string, convID uuid.UUID) agentsview.MessageForm {
	return agentsview.MessageForm{Action: orgURL(c, "/agents/"+slug+"/conversations/"+convID.String()+"/messages"), MaxMessage: runs.MaxMessage}
}

// MessagesCreate sends the next message of a conversation. HTMX gets the
// new turn (its answer streaming) and an empty form; a browser without
// JavaScript goes back to the conversation.
func (h *Handlers) MessagesCreate(c echo.Context) error {
	a, err := h.chatAgent(c)
	if err != nil {
		return err
	}
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	message := c.FormValue("message")
	started, err := h.runsSvc().Start(ctx, runActor(c), runs.StartInput{AgentSlug: a.Agent.Slug, Message: message, ConversationID: &id})
	var errs form.Errors
	if errors.As(err, &errs) {
		store.RollbackRequest(ctx)
		f := h.messageForm(c, a.Agent.Slug, id)
		f.Message, f.Error = message, errs["message"]
		if isHTMX(c) {
			c.Response().Header().Set("HX-Retarget", "#message-form")
			c.Response().Header().Set("HX-Reswap", "outerHTML")
			return h.render(c, http.StatusUnprocessableEntity, agentsview.MessageFormFragment(f))
		}
		v, err := h.conversationView(c, a, id)
		if err != nil {
			return err
		}
		v.Form = f
		return h.render(c, http.StatusUnprocessableEntity, agentsview.ConversationPage(h.shell(c, v.Title, "agents"), v))
	}
	if err != nil {
		return chatRefusal(err)
	}
	if !isHTMX(c) {
		return h.redirect(c, orgURL(c, "/agents/"+a.Agent.Slug+"/conversations/"+id.String()))
	}
	turn := agentsview.TurnView{Question: started.Message.Content, Asked: started.Message.CreatedAt.Format(askedLayout),
		Answer: h.liveAnswer(c, a.Agent.Slug, started.Run.ID)}
	f := h.messageForm(c, a.Agent.Slug, id)
	f.OOB = true
	return h.render(c, http.StatusOK, templ.Join(agentsview.Turn(turn), agentsview.MessageFormFragment(f)))
}

// RunsCancel stops an answer being written (HTMX: 204; the stream then
// ends with the stopped answer).
func (h *Handlers) RunsCancel(c echo.Context) error {
	slug, err := agentSlug(c)
	if err != nil {
		return err
	}
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	run, err := h.runsSvc().Cancel(c.Request().Context(), runActor(c), id)
	if err != nil {
		return err
	}
	if run.AgentSlug != slug {
		return echo.ErrNotFound
	}
	if isHTMX(c) {
		if err := store.CommitRequest(c.Request().Context()); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
	return h.redirect(c, orgURL(c, "/agents/"+slug+"/conversations/"+run.ConversationID.String()))
}

// RunsStream is a run's answer as an event stream of HTML fragments for
// the page (see answerStream). Another member's run, or another
// organization's, is 404 like a missing one; the request's transaction is
// committed before streaming, so a stream holds no database connection.
func (h *Handlers) RunsStream(c echo.Context) error {
	slug, err := agentSlug(c)
	if err != nil {
		return err
	}
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d, err := h.runsSvc().Run(ctx, runActor(c), id)
	if err != nil {
		return err
	}
	if d.Run.AgentSlug != slug {
		return echo.ErrNotFound
	}
	if err := store.CommitRequest(ctx); err != nil {
		return err
	}
	orgID := principal(c).Org.ID
	f := &answerStream{links: linksOf(c), runID: id}
	sub := realtime.Subscription{
		Topic: runs.TopicOf(id),
		// The page's events are whole snapshots (the answer so far), so
		// a reconnecting page is simply sent the current one: it needs
		// every event from the first, whatever its Last-Event-ID.
		After:  0,
		Load:   h.runEvents(orgID, id),
		Format: f.format,
		Final:  isDone,
	}
	return h.serveStream(c, sub)
}

// serveStream hands an authorized stream to the hub.
func (h *Handlers) serveStream(c echo.Context, sub realtime.Subscription) error {
	if h.Hub == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "Live updates are not available on this server.")
	}
	err := h.Hub.Serve(c.Response(), c.Request(), sub)
	if errors.Is(err, realtime.ErrClosed) {
		c.Response().Header().Set("Retry-After", "1")
		return echo.NewHTTPError(http.StatusServiceUnavailable, "The server is restarting; the page reconnects by itself.")
	}
	return err
}

func (h *Handlers) runEvents(orgID, runID uuid.UUID) realtime.LoadFunc {
	svc := h.runsSvc()
	return func(ctx context.Context, after int64, limit int) ([]realtime.Event, error) {
		return svc.Events(ctx, orgID, runID, after, limit)
	}
}

func isDone(e realtime.Event) bool { return e.Type == runs.EventDone }
