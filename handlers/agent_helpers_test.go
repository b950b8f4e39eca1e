package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"accute/internal/agents"
	"accute/internal/agents/provider"
	"accute/internal/agents/runs"
	"accute/internal/agents/tools"
	"accute/internal/agents/usage"
	"accute/internal/db"
	"accute/internal/queue"
	"accute/internal/realtime"
	"accute/internal/store"
	"accute/internal/testutil"
)

// runWorkers holds each test app's run worker, by store, so that every
// job queue built over the app's database (the insert-only one and those
// of workJobs or startRunWorkers) knows the agents.run kind, and a test
// can script the provider its runs use.
var runWorkers sync.Map // *store.Store -> *runs.Worker

// testResolver answers with the scripted provider when a test set one,
// else with the application's resolver (the platform default: offline).
type testResolver struct {
	mu       sync.Mutex
	ai       *agents.Providers
	scripted provider.Provider
}

func (r *testResolver) For(ctx context.Context, orgID uuid.UUID, slug string) (agents.Resolved, error) {
	r.mu.Lock()
	p, ai := r.scripted, r.ai
	r.mu.Unlock()
	if p != nil {
		return agents.Resolved{Provider: p, Kind: "scripted", Model: "scripted-1"}, nil
	}
	if ai == nil {
		return agents.Resolved{Provider: provider.NewOffline(0), Kind: provider.KindOffline, Model: provider.KindOffline}, nil
	}
	return ai.For(ctx, orgID, slug)
}

func runWorkerFor(st *store.Store) *runs.Worker {
	w, _ := runWorkers.LoadOrStore(st, &runs.Worker{
		Store: st, Providers: &testResolver{}, Tools: &tools.Registry{}, Ledger: &usage.Ledger{}, Cancels: runs.NewCancels(),
		Logger: slog.New(slog.NewTextHandler(testLogOutput(), nil)), FlushInterval: 10 * time.Millisecond,
	})
	return w.(*runs.Worker)
}

// testRealtime builds an app's SSE hub and starts its LISTEN connection
// (run events for the hub, cancels for the app's run worker). Heartbeats
// come every 300 ms, so tests see them.
func testRealtime(t testing.TB, st *store.Store, ai *agents.Providers) (*realtime.Hub, *realtime.Listener) {
	t.Helper()
	w := runWorkerFor(st)
	w.Providers.(*testResolver).ai = ai
	log := slog.New(slog.NewTextHandler(testLogOutput(), nil))
	hub := realtime.NewHub(realtime.Config{Heartbeat: 300 * time.Millisecond, Logger: log})
	l := realtime.NewListener(st.Pool.Config().ConnConfig, log)
	l.MinBackoff, l.MaxBackoff = 10*time.Millisecond, 200*time.Millisecond
	l.Handle(runs.EventsChannel, runs.HubNotifier(hub))
	l.Handle(runs.CancelChannel, w.Cancels.Handle)
	l.OnReconnect(hub.Resync)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = l.Run(ctx); close(done) }()
	t.Cleanup(func() {
		closeCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = hub.Close(closeCtx)
		cancel()
		<-done
		runWorkers.Delete(st)
	})
	return hub, l
}

// script makes the app's runs use p.
func (a *testApp) script(p provider.Provider) {
	r := runWorkerFor(a.Store).Providers.(*testResolver)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scripted = p
}

// startRunWorkers works the app's jobs (agent runs included) until the
// test ends, as a running instance does; it waits for the app's listener.
func (a *testApp) startRunWorkers() {
	a.t.Helper()
	q, err := queue.New(a.Store.Pool, queue.Config{Workers: testWorkers(a.Store, a.Docs, nil), Concurrency: 4, PollInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testLogOutput(), nil))})
	if err != nil {
		a.t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { _ = q.Stop(5 * time.Second) })
	a.waitListening()
}

func (a *testApp) waitListening() {
	a.t.Helper()
	select {
	case <-a.Listener.Ready():
	case <-time.After(10 * time.Second):
		a.t.Fatal("the app's listener is not listening")
	}
}

// gate is a scripted provider the test drives chunk by chunk: every
// completion reads from the channel until it is closed (the end) or gets
// an error. Tool calls and usage can be sent as chunks too.
type gate struct {
	mu       sync.Mutex
	chunks   chan gateItem
	requests []provider.Request
}

type gateItem struct {
	chunk provider.Chunk
	err   error
}

func newGate() *gate { return &gate{chunks: make(chan gateItem, 100)} }

func (g *gate) Name() string { return "scripted" }

func (g *gate) Stream(ctx context.Context, req provider.Request) (provider.Stream, error) {
	g.mu.Lock()
	g.requests = append(g.requests, req)
	g.mu.Unlock()
	return &gateStream{g: g, ctx: ctx, closed: make(chan struct{})}, nil
}

// say sends text; end ends the completion; fail ends it with err.
func (g *gate) say(s string)   { g.chunks <- gateItem{chunk: provider.Chunk{Text: s}} }
func (g *gate) end()           { g.chunks <- gateItem{err: io.EOF} }
func (g *gate) fail(err error) { g.chunks <- gateItem{err: err} }
func (g *gate) usage(in, out int) {
	g.chunks <- gateItem{chunk: provider.Chunk{Usage: &provider.Usage{InputTokens: in, OutputTokens: out}}}
}

type gateStream struct {
	g      *gate
	ctx    context.Context
	once   sync.Once
	closed chan struct{}
}

func (s *gateStream) Recv() (provider.Chunk, error) {
	select {
	case it := <-s.g.chunks:
		return it.chunk, it.err
	case <-s.closed:
		return provider.Chunk{}, errors.New("closed")
	case <-s.ctx.Done():
		return provider.Chunk{}, s.ctx.Err()
	}
}

func (s *gateStream) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// sseClient is an HTTP client for streams with c's cookies (a signed-in
// browser).
func sseClient(c *testutil.Client) *http.Client {
	return &http.Client{Jar: c.HTTP.Jar}
}

// startConversation posts a first message to luca and returns the
// conversation's path.
func startConversation(t *testing.T, c *testutil.Client, slug, message string) string {
	t.Helper()
	res := c.PostForm("/o/"+slug+"/agents/luca/conversations", url.Values{"message": {message}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Location(), "/agents/luca/conversations/") {
		t.Fatalf("start conversation: %d %q\n%.500s", res.StatusCode, res.Location(), res.Body)
	}
	return res.Location()
}

// agentRunFixture gives owner a conversation with Luca and one finished
// run (messages and events as the worker writes them), for the route
// matrix: the conversation's id and the run's id.
func agentRunFixture(t *testing.T, app *testApp, org db.Organization, owner db.User) (string, string) {
	t.Helper()
	ctx := context.Background()
	var conv db.AgentConversation
	var run db.AgentRun
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		if conv, err = q.CreateAgentConversation(ctx, db.CreateAgentConversationParams{OrganizationID: org.ID, UserID: owner.ID, AgentSlug: "luca", Title: "Fixture conversation"}); err != nil {
			return err
		}
		if run, err = q.CreateAgentRun(ctx, db.CreateAgentRunParams{OrganizationID: org.ID, ConversationID: conv.ID, UserID: owner.ID, AgentSlug: "luca"}); err != nil {
			return err
		}
		if run, err = q.FinishAgentRun(ctx, db.FinishAgentRunParams{OrganizationID: org.ID, ID: run.ID, Status: runs.StatusSucceeded}); err != nil {
			return err
		}
		for _, m := range []struct{ role, content string }{{provider.RoleUser, "Fixture question"}, {provider.RoleAssistant, "Fixture answer"}} {
			if _, err := q.CreateAgentMessage(ctx, db.CreateAgentMessageParams{OrganizationID: org.ID, ConversationID: conv.ID, RunID: run.ID,
				Role: m.role, Content: m.content, Citations: []byte("[]")}); err != nil {
				return err
			}
		}
		_, err = q.AppendAgentRunEvents(ctx, db.AppendAgentRunEventsParams{Channel: runs.EventsChannel, Payload: run.ID.String() + ":2",
			OrganizationID: org.ID, RunID: run.ID, Seqs: []int64{1, 2}, Types: []string{runs.EventDelta, runs.EventDone},
			Datas: [][]byte{[]byte(`{"text":"Fixture answer"}`), []byte(`{"status":"succeeded","error":"","message_id":null,"citations":[],"usage":{"input_tokens":1,"output_tokens":1}}`)}})
		return err
	})
	if err != nil {
		t.Fatalf("agent run fixture: %v", err)
	}
	return conv.ID.String(), run.ID.String()
}
