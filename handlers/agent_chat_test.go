package handlers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"accute/internal/agents/provider"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// liveStream opens the stream of the conversation page's live answer.
func liveStream(t *testing.T, app *testApp, c *testutil.Client, path string) (*testutil.SSE, string) {
	t.Helper()
	page := c.Get(path).AssertStatus(http.StatusOK)
	streamURL := page.Attr("[data-testid=answer-live]", "sse-connect")
	if streamURL == "" {
		t.Fatalf("no live answer on %s:\n%.2000s", path, page.Body)
	}
	return testutil.OpenSSE(t, sseClient(c), app.Srv.URL+streamURL, nil), streamURL
}

// nextNamed returns the next frame named event, skipping others.
func nextNamed(t *testing.T, s *testutil.SSE, event string) testutil.Frame {
	t.Helper()
	for {
		if f := s.MustNext(10 * time.Second); f.Event == event {
			return f
		}
	}
}

func idOf(t *testing.T, f testutil.Frame) int {
	t.Helper()
	n, err := strconv.Atoi(f.ID)
	if err != nil || !f.HasID {
		t.Fatalf("frame without a numeric id: %+v", f)
	}
	return n
}

func TestAgentChatStreamsTheAnswerIntoThePage(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	g := newGate()
	app.script(g)
	app.startRunWorkers()

	market := c.Get("/o/" + org.Slug + "/agents").AssertStatus(http.StatusOK)
	if market.Attr("[data-testid=agent-luca] [data-testid=agent-chat]", "href") != "/o/"+org.Slug+"/agents/luca" || market.Count("[data-testid=agent-chat]") != 1 {
		t.Fatalf("marketplace chat links:\n%.2000s", market.Body)
	}
	home := c.Get("/o/" + org.Slug + "/agents/luca").AssertStatus(http.StatusOK)
	if home.Count("[data-testid=new-conversation] textarea[name=message]") != 1 || home.Count("[data-testid=empty-state]") != 1 {
		t.Fatalf("agent page:\n%.2000s", home.Body)
	}
	path := startConversation(t, c, org.Slug, "What is the VAT rate?")
	page := c.Get(path).AssertStatus(http.StatusOK)
	if page.Text("[data-testid=question]") == "" || !strings.Contains(page.Text("[data-testid=question]"), "What is the VAT rate?") ||
		page.Count(`script[src="/static/js/htmx-ext-sse.min.js"]`) != 1 || page.Attr("[data-testid=answer-live]", "sse-close") != "done" {
		t.Fatalf("conversation page:\n%.3000s", page.Body)
	}
	s, streamURL := liveStream(t, app, c, path)
	if ct := s.Res.Header.Get("Content-Type"); ct != "text/event-stream" || s.Res.Header.Get("Content-Encoding") != "" || s.Res.Uncompressed {
		t.Fatalf("stream headers: %v", s.Res.Header)
	}
	if s.Res.Header.Get("Cache-Control") != "no-store" || s.Res.Header.Get("X-Accel-Buffering") != "no" {
		t.Fatalf("stream headers: %v", s.Res.Header)
	}

	// The answer grows in the page as the provider writes it, rendered.
	g.say("The **standard** rate")
	f := s.MustNext(10 * time.Second)
	first := idOf(t, f)
	if f.Event != "answer" || !strings.Contains(f.Data, "<strong>standard</strong> rate") {
		t.Fatalf("first frame: %+v", f)
	}
	// The status line says the answer is being written.
	if f := s.MustNext(10 * time.Second); f.Event != "status" || f.Data != "Writing the answer…" || idOf(t, f) != first {
		t.Fatalf("status frame: %+v", f)
	}
	g.say(" is 20%.\n\n<script>alert(1)</script>")
	f = s.MustNext(10 * time.Second)
	if f.Event != "answer" || idOf(t, f) <= first || !strings.Contains(f.Data, "<strong>standard</strong> rate is 20%.") || strings.Contains(f.Data, "<script") {
		t.Fatalf("second frame: %+v", f)
	}
	// Heartbeats keep the stream open between events.
	for {
		fr, err := s.Next(3 * time.Second)
		if err != nil {
			t.Fatalf("waiting for a heartbeat: %v", err)
		}
		if fr.Comment == "keep-alive" && !fr.HasID {
			break
		}
	}
	g.usage(40, 12)
	g.end()
	f = s.MustNext(10 * time.Second)
	if f.Event != "done" || !strings.Contains(f.Data, `data-state="succeeded"`) || !strings.Contains(f.Data, "20%") || !strings.Contains(f.Data, "52 tokens") {
		t.Fatalf("done frame: %+v", f)
	}
	s.WaitEnd(5 * time.Second)

	// A finished answer is history.
	page = c.Get(path).AssertStatus(http.StatusOK)
	if page.Count("[data-testid=answer-live]") != 0 || page.Attr("[data-testid=answer]", "data-state") != "succeeded" ||
		!strings.Contains(page.Text("[data-testid=answer-body]"), "standard rate is 20%.") {
		t.Fatalf("history:\n%.3000s", page.Body)
	}
	home = c.Get("/o/" + org.Slug + "/agents/luca").AssertStatus(http.StatusOK)
	if home.Count("[data-testid=conversation]") != 1 || !strings.Contains(home.Text("[data-testid=conversation]"), "What is the VAT rate?") {
		t.Fatalf("conversation list:\n%.2000s", home.Body)
	}
	// A finished run's stream sends the answer and its end, and closes.
	again := testutil.OpenSSE(t, sseClient(c), app.Srv.URL+streamURL, nil)
	if f := again.MustNext(5 * time.Second); f.Event != "answer" || !strings.Contains(f.Data, "20%") {
		t.Fatalf("replay: %+v", f)
	}
	if f := again.MustNext(5 * time.Second); f.Event != "status" {
		t.Fatalf("replay: %+v", f)
	}
	if f := again.MustNext(5 * time.Second); f.Event != "done" {
		t.Fatalf("replay: %+v", f)
	}
	again.WaitEnd(5 * time.Second)
}

func TestAgentChatMessagesWithHTMX(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	g := newGate()
	app.script(g)
	app.startRunWorkers()
	path := startConversation(t, c, org.Slug, "First question")
	s, _ := liveStream(t, app, c, path)
	g.say("One.")
	g.end()
	for {
		if f := s.MustNext(10 * time.Second); f.Event == "done" {
			break
		}
	}
	// The next message: the new turn (its answer live) and a fresh form.
	res := c.HTMX(http.MethodPost, path+"/messages", url.Values{"message": {"Second question"}}).AssertStatus(http.StatusOK)
	if res.Count("[data-testid=turn]") != 1 || !strings.Contains(res.Text("[data-testid=question]"), "Second question") ||
		res.Attr("[data-testid=answer-live]", "sse-connect") == "" || res.Attr("#message-form", "hx-swap-oob") != "true" ||
		res.Text("#message-form textarea") != "" {
		t.Fatalf("HTMX answer:\n%s", res.Body)
	}
	// While it is being answered, another message is refused.
	busy := c.HTMX(http.MethodPost, path+"/messages", url.Values{"message": {"Third"}})
	if busy.StatusCode != http.StatusConflict || busy.Header.Get("HX-Retarget") != "#toasts" || !strings.Contains(busy.Body, "still answering") {
		t.Fatalf("second run: %d %v %s", busy.StatusCode, busy.Header, busy.Body)
	}
	// An empty message is a form error, in the form.
	bad := c.HTMX(http.MethodPost, path+"/messages", url.Values{"message": {"   "}})
	if bad.StatusCode != http.StatusUnprocessableEntity || bad.Header.Get("HX-Retarget") != "#message-form" || bad.Text("[data-testid=error-message]") == "" {
		t.Fatalf("empty message: %d %v %s", bad.StatusCode, bad.Header, bad.Body)
	}
	// Without JavaScript: back to the conversation.
	g.say("Two.")
	g.end()
	s2 := testutil.OpenSSE(t, sseClient(c), app.Srv.URL+res.Attr("[data-testid=answer-live]", "sse-connect"), nil)
	for {
		if f := s2.MustNext(10 * time.Second); f.Event == "done" {
			break
		}
	}
	plain := c.PostForm(path+"/messages", url.Values{"message": {"Third, plainly"}})
	if plain.StatusCode != http.StatusSeeOther || plain.Location() != path {
		t.Fatalf("plain post: %d %q", plain.StatusCode, plain.Location())
	}
	page := c.Get(path)
	if page.Count("[data-testid=turn]") != 3 || page.Count("[data-testid=answer-live]") != 1 {
		t.Fatalf("page after three messages:\n%.3000s", page.Body)
	}
	// A bad new conversation shows the form again with the problem.
	badNew := c.PostForm("/o/"+org.Slug+"/agents/luca/conversations", url.Values{"message": {""}, "client_id": {"not-a-client"}})
	if badNew.StatusCode != http.StatusUnprocessableEntity || badNew.Text("[data-testid=error-message]") == "" {
		t.Fatalf("bad new conversation: %d\n%.2000s", badNew.StatusCode, badNew.Body)
	}
}

func TestAgentChatCancelFromThePage(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	g := newGate()
	app.script(g)
	app.startRunWorkers()
	path := startConversation(t, c, org.Slug, "Write me an essay")
	s, _ := liveStream(t, app, c, path)
	g.say("Once upon a time")
	if f := s.MustNext(10 * time.Second); f.Event != "answer" {
		t.Fatalf("frame: %+v", f)
	}
	page := c.Get(path)
	cancelURL := page.Attr("[data-testid=answer-live] form", "action")
	start := time.Now()
	if res := c.HTMX(http.MethodPost, cancelURL, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("cancel: %d %s", res.StatusCode, res.Body)
	}
	var done testutil.Frame
	for {
		f := s.MustNext(10 * time.Second)
		if f.Event == "done" {
			done = f
			break
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the answer stopped %s after the cancel", d)
	}
	if !strings.Contains(done.Data, `data-state="cancelled"`) || !strings.Contains(done.Data, "Once upon a time") || !strings.Contains(done.Data, "answer-cancelled") {
		t.Fatalf("done: %s", done.Data)
	}
	s.WaitEnd(5 * time.Second)
	if n := app.apiAuditCount(&org, "agent.run_cancelled"); n != 1 {
		t.Fatalf("%d cancel audit events", n)
	}
}

func TestAgentChatGates(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	// Not installed: like a missing page.
	c.Get("/o/" + org.Slug + "/agents/forma").AssertStatus(http.StatusNotFound)
	c.Get("/o/" + org.Slug + "/agents/nobody").AssertStatus(http.StatusNotFound)
	// Disabled: says so.
	ctx := context.Background()
	if err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, err := q.SetAgentInstallationEnabled(ctx, db.SetAgentInstallationEnabledParams{OrganizationID: org.ID, AgentSlug: "luca", Enabled: false})
		if err != nil {
			return err
		}
		_, err = q.InstallAgent(ctx, db.InstallAgentParams{OrganizationID: org.ID, AgentSlug: "parity", Settings: []byte(`{}`)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res := c.Get("/o/" + org.Slug + "/agents/luca")
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, "disabled") {
		t.Fatalf("disabled agent: %d", res.StatusCode)
	}
	// Above the plan: 402 with what to do.
	app.F.Plan(org, billing.Free)
	res = c.Get("/o/" + org.Slug + "/agents/parity")
	if res.StatusCode != http.StatusPaymentRequired || !strings.Contains(res.Body, "Professional") {
		t.Fatalf("agent above the plan: %d", res.StatusCode)
	}
}

func TestAgentRunStreamsAreTenantAndMemberPrivate(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	g := newGate()
	app.script(g)
	app.startRunWorkers()
	path := startConversation(t, c, org.Slug, "Private question")
	_, streamURL := liveStream(t, app, c, path)
	runID := strings.TrimSuffix(strings.TrimPrefix(streamURL, "/o/"+org.Slug+"/agents/luca/runs/"), "/stream")
	ownerToken, _ := app.pat(owner, org, tenant.RoleOwner, nil)

	otherC, otherOwner, otherOrg := app.owner()
	otherToken, _ := app.pat(otherOwner, otherOrg, tenant.RoleOwner, nil)
	colleague, colleagueUser := app.member(org, tenant.RoleStaff)
	colleagueToken, _ := app.pat(colleagueUser, org, tenant.RoleStaff, nil)
	for name, try := range map[string]func() (int, error){
		"another organization's member, this slug": func() (int, error) {
			return status(testutil.TryOpenSSE(sseClient(otherC), app.Srv.URL+streamURL, nil))
		},
		"another organization's member, own slug": func() (int, error) {
			return status(testutil.TryOpenSSE(sseClient(otherC), app.Srv.URL+strings.Replace(streamURL, "/o/"+org.Slug+"/", "/o/"+otherOrg.Slug+"/", 1), nil))
		},
		"a colleague (conversations are private)": func() (int, error) {
			return status(testutil.TryOpenSSE(sseClient(colleague), app.Srv.URL+streamURL, nil))
		},
		"another organization's token": func() (int, error) {
			return status(testutil.TryOpenSSE(http.DefaultClient, app.Srv.URL+"/api/v1/orgs/"+otherOrg.Slug+"/runs/"+runID+"/stream", bearer(otherToken)))
		},
		"another organization's token, this slug": func() (int, error) {
			return status(testutil.TryOpenSSE(http.DefaultClient, app.Srv.URL+"/api/v1/orgs/"+org.Slug+"/runs/"+runID+"/stream", bearer(otherToken)))
		},
		"a colleague's token": func() (int, error) {
			return status(testutil.TryOpenSSE(http.DefaultClient, app.Srv.URL+"/api/v1/orgs/"+org.Slug+"/runs/"+runID+"/stream", bearer(colleagueToken)))
		},
		"the agent's slug wrong": func() (int, error) {
			return status(testutil.TryOpenSSE(sseClient(c), app.Srv.URL+strings.Replace(streamURL, "/agents/luca/", "/agents/cadence/", 1), nil))
		},
	} {
		if got, err := try(); got != http.StatusNotFound {
			t.Errorf("%s: %d (%v), want 404", name, got, err)
		}
	}
	// Anonymous: sent to the login page; the owner's own token streams.
	anon, err := status(testutil.TryOpenSSE(noRedirects(), app.Srv.URL+streamURL, nil))
	if anon != http.StatusSeeOther {
		t.Errorf("anonymous: %d (%v)", anon, err)
	}
	s := testutil.OpenSSE(t, http.DefaultClient, app.Srv.URL+"/api/v1/orgs/"+org.Slug+"/runs/"+runID+"/stream", bearer(ownerToken))
	g.say("mine")
	if f := s.MustNext(10 * time.Second); f.Event != "delta" || f.Data != `{"text": "mine"}` {
		t.Fatalf("owner's stream: %+v", f)
	}
	g.end()
}

func bearer(token string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	return h
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// status is the HTTP status of a refused stream (200 for an open one).
func status(s *testutil.SSE, err error) (int, error) {
	var se *testutil.SSEStatusError
	if errors.As(err, &se) {
		return se.Status, err
	}
	if err != nil {
		return 0, err
	}
	s.Close()
	return http.StatusOK, nil
}

// Two instances against one database: the browser's stream is on A, the
// run is executed by B's worker, and its events reach A through NOTIFY;
// a cancel asked on A stops the run on B.
func TestAgentRunExecutedByAnotherInstance(t *testing.T) {
	st, dsn := testutil.NewStore(t)
	a := newTestAppOn(t, st, nil)
	st2, err := store.Open(context.Background(), dsn, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st2.Close)
	b := newTestAppOn(t, st2, nil)
	g := newGate()
	b.script(g)
	b.startRunWorkers() // only B works jobs
	a.waitListening()

	c, _, org := a.owner()
	path := startConversation(t, c, org.Slug, "Across instances?")
	s, _ := liveStream(t, a, c, path)
	g.say("Written on B")
	if f := s.MustNext(10 * time.Second); f.Event != "answer" || !strings.Contains(f.Data, "Written on B") {
		t.Fatalf("frame on A: %+v", f)
	}
	g.end()
	for {
		if f := s.MustNext(10 * time.Second); f.Event == "done" {
			break
		}
	}
	s.WaitEnd(5 * time.Second)
	g.mu.Lock()
	asked := len(g.requests)
	g.mu.Unlock()
	if asked != 1 {
		t.Fatalf("B's provider was asked %d times", asked)
	}

	// Cancel on A, run on B.
	res := c.HTMX(http.MethodPost, path+"/messages", url.Values{"message": {"Another"}}).AssertStatus(http.StatusOK)
	s2 := testutil.OpenSSE(t, sseClient(c), a.Srv.URL+res.Attr("[data-testid=answer-live]", "sse-connect"), nil)
	g.say("Half an answer")
	if f := s2.MustNext(10 * time.Second); f.Event != "answer" {
		t.Fatalf("frame: %+v", f)
	}
	cancelURL := res.Attr("[data-testid=answer-live] form", "action")
	c.HTMX(http.MethodPost, cancelURL, nil).AssertStatus(http.StatusNoContent)
	for {
		if f := s2.MustNext(10 * time.Second); f.Event == "done" {
			if !strings.Contains(f.Data, `data-state="cancelled"`) {
				t.Fatalf("done: %s", f.Data)
			}
			break
		}
	}
}

// At shutdown the hub's streams end first (RegisterOnShutdown, as main.go
// does), so http.Server.Shutdown returns at once instead of waiting for
// them until its deadline. The server's short read and write timeouts do
// not cut streams either.
func TestAgentStreamsEndAtShutdown(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	g := newGate()
	app.script(g)
	app.startRunWorkers()
	srv := &http.Server{Handler: app.Echo, ReadHeaderTimeout: time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond}
	srv.RegisterOnShutdown(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = app.Hub.Close(ctx)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	base := "http://" + ln.Addr().String()

	path := startConversation(t, c, org.Slug, "Long answer")
	page := c.Get(path)
	streamURL := page.Attr("[data-testid=answer-live]", "sse-connect")
	var streams []*testutil.SSE
	for i := 0; i < 3; i++ {
		streams = append(streams, testutil.OpenSSE(t, sseClient(c), base+streamURL, nil))
	}
	g.say("Before the timeouts")
	for _, s := range streams {
		s.MustNext(10 * time.Second)
	}
	time.Sleep(900 * time.Millisecond) // past the server's read and write timeouts
	g.say(", and after them")
	for _, s := range streams {
		if f := nextNamed(t, s, "answer"); !strings.Contains(f.Data, "and after them") {
			t.Fatalf("after the timeouts: %+v", f)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown took %s with open streams", d)
	}
	for _, s := range streams {
		s.WaitEnd(2 * time.Second)
	}
	g.end()
}

// The built-in offline provider answers from an uploaded document; the
// answer's citation links to the document page, which shows the passage.
func TestAgentAnswerCitesADocumentAndOpensThePassage(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	text := "Engagement notes for the 2024 year end.\n\nThe VAT registration threshold is 90,000 pounds of taxable turnover in a rolling twelve months.\n\nPayroll runs on the last Friday of each month.\n"
	res := postFiles(c, "/o/"+org.Slug+"/documents", nil, "", true, upload{name: "vat-notes.txt", content: []byte(text)})
	doc := uploadedDocument(t, res)
	app.workJobs(nil, false) // text extraction
	app.startRunWorkers()

	path := startConversation(t, c, org.Slug, "What is the VAT registration threshold?")
	s, _ := liveStream(t, app, c, path)
	var done testutil.Frame
	for {
		f := s.MustNext(20 * time.Second)
		if f.Event == "done" {
			done = f
			break
		}
	}
	if !strings.Contains(done.Data, `data-state="succeeded"`) || !strings.Contains(done.Data, "90,000") {
		t.Fatalf("done: %s", done.Data)
	}
	page := c.Get(path).AssertStatus(http.StatusOK)
	link := page.Attr("[data-testid=citation-link]", "href")
	if !strings.HasPrefix(link, "/o/"+org.Slug+"/documents/"+doc.ID+"?passage=") || !strings.HasSuffix(link, "#passage") ||
		page.Count("[data-testid=answer-body] a.cite-ref") == 0 {
		t.Fatalf("citation link %q:\n%.3000s", link, page.Body)
	}
	opened := c.Get(link).AssertStatus(http.StatusOK)
	if !strings.Contains(opened.Text("[data-testid=passage-text]"), "90,000 pounds") || opened.Text("[data-testid=passage-ref]") == "" {
		t.Fatalf("passage page:\n%.3000s", opened.Body)
	}
	// A place the current version does not have says so.
	gone := c.Get("/o/" + org.Slug + "/documents/" + doc.ID + "?passage=page+99").AssertStatus(http.StatusOK)
	if gone.Count("[data-testid=passage-missing]") != 1 {
		t.Fatalf("missing passage:\n%.2000s", gone.Body)
	}
	// The run's record: offline provider, usage counted, in the ledger.
	var n int
	if err := rawInOrg(app, org.ID, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM ai_usage_entries WHERE organization_id = $1 AND provider = $2`, org.ID, provider.KindOffline).Scan(&n)
	}); err != nil || n == 0 {
		t.Fatalf("ledger entries: %d (%v)", n, err)
	}
}

// A conversation about a client: the menu offers the organization's
// clients, the page says which, and the model is told.
func TestAgentChatAboutAClient(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	client := app.F.Client(org, "Bluebird Bakery")
	g := newGate()
	app.script(g)
	app.startRunWorkers()
	home := c.Get("/o/" + org.Slug + "/agents/luca").AssertStatus(http.StatusOK)
	if home.Count(`select[name=client_id] option[value="`+client.ID.String()+`"]`) != 1 {
		t.Fatalf("client menu:\n%.2000s", home.Body)
	}
	res := c.PostForm("/o/"+org.Slug+"/agents/luca/conversations", url.Values{"message": {"Is their VAT return filed?"}, "client_id": {client.ID.String()}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d %s", res.StatusCode, res.Body)
	}
	page := c.Get(res.Location()).AssertStatus(http.StatusOK)
	if !strings.Contains(page.Text("[data-testid=conversation-client]"), "Bluebird Bakery") {
		t.Fatalf("page:\n%.2000s", page.Body)
	}
	s, _ := liveStream(t, app, c, res.Location())
	g.say("Checking.")
	g.end()
	nextNamed(t, s, "done")
	g.mu.Lock()
	sys := g.requests[0].Messages[0].Content
	g.mu.Unlock()
	if !strings.Contains(sys, `"Bluebird Bakery"`) || !strings.Contains(sys, client.ID.String()) {
		t.Fatalf("system prompt: %s", sys)
	}
	// Another organization's client is not one of ours.
	_, _, other := app.owner()
	foreign := app.F.Client(other, "")
	bad := c.PostForm("/o/"+org.Slug+"/agents/luca/conversations", url.Values{"message": {"hi"}, "client_id": {foreign.ID.String()}})
	if bad.StatusCode != http.StatusUnprocessableEntity || bad.Text("[data-testid=error-client_id]") == "" {
		t.Fatalf("foreign client: %d\n%.2000s", bad.StatusCode, bad.Body)
	}
}

// A provider that fails mid-answer: the page keeps what arrived and says
// what happened, in words.
func TestAgentChatProviderFailureKeepsThePartialAnswer(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	g := newGate()
	app.script(g)
	app.startRunWorkers()
	path := startConversation(t, c, org.Slug, "Summarise the year")
	s, _ := liveStream(t, app, c, path)
	g.say("Revenue grew by 12%")
	nextNamed(t, s, "answer")
	g.fail(&provider.Error{Kind: provider.ErrRateLimited, Status: 429, RetryAfter: 20 * time.Second, Detail: "org quota exceeded <b>"})
	done := nextNamed(t, s, "done")
	if !strings.Contains(done.Data, `data-state="failed"`) || !strings.Contains(done.Data, "Revenue grew by 12%") ||
		!strings.Contains(done.Data, "Try again in 20s") || strings.Contains(done.Data, "quota") {
		t.Fatalf("done: %s", done.Data)
	}
	page := c.Get(path)
	if page.Attr("[data-testid=answer]", "data-state") != "failed" || !strings.Contains(page.Text("[data-testid=answer-error]"), "busy") ||
		!strings.Contains(page.Text("[data-testid=answer-body]"), "Revenue grew by 12%") {
		t.Fatalf("history:\n%.3000s", page.Body)
	}
}
