package runs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"accute/internal/agents/provider"
	"accute/internal/agents/runs"
	"accute/internal/agents/tools"
	"accute/internal/agents/usage"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/testutil"
)

type env struct {
	t      *testing.T
	st     *store.Store
	f      testutil.Factory
	org    db.Organization
	user   db.User
	actor  runs.Actor
	svc    *runs.Service
	jobs   *inserter
	prov   *fakeProvider
	tools  *fakeTools
	worker *runs.Worker
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: st}
	u := f.User("")
	org := f.Org(u, "")
	e := &env{t: t, st: st, f: f, org: org, user: u, actor: runs.Actor{OrgID: org.ID, UserID: u.ID, Email: u.Email},
		jobs: &inserter{}, prov: &fakeProvider{}, tools: &fakeTools{results: map[string]tools.Result{}}}
	e.svc = &runs.Service{Store: st, Jobs: e.jobs, Budget: &usage.Ledger{}}
	e.worker = &runs.Worker{Store: st, Providers: fakeResolver{e.prov}, Tools: e.tools, Ledger: &usage.Ledger{},
		Cancels: runs.NewCancels(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), FlushInterval: 20 * time.Millisecond}
	return e
}

// ask sends msg to Luca in a new conversation.
func (e *env) ask(msg string) runs.Started {
	e.t.Helper()
	s, err := e.svc.Start(context.Background(), e.actor, runs.StartInput{AgentSlug: "luca", Message: msg})
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	return s
}

// work runs the job as River would.
func (e *env) work(runID uuid.UUID) error {
	job := &river.Job[runs.RunArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}, Args: runs.RunArgs{OrganizationID: e.org.ID, RunID: runID}}
	return e.worker.Work(context.Background(), job)
}

type storedEvent struct {
	Seq  int64
	Type string
	Data json.RawMessage
}

func (e *env) events(runID uuid.UUID) []storedEvent {
	e.t.Helper()
	evs, err := e.svc.Events(context.Background(), e.org.ID, runID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]storedEvent, len(evs))
	for i, ev := range evs {
		out[i] = storedEvent{ev.Seq, ev.Type, ev.Data}
		if ev.Seq != int64(i+1) {
			e.t.Fatalf("event %d has seq %d: seqs must be 1, 2, 3...", i, ev.Seq)
		}
	}
	return out
}

// streamed is the text of the delta events.
func streamed(evs []storedEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Type == runs.EventDelta {
			var d runs.DeltaData
			_ = json.Unmarshal(ev.Data, &d)
			b.WriteString(d.Text)
		}
	}
	return b.String()
}

func done(t *testing.T, evs []storedEvent) runs.DoneData {
	t.Helper()
	if len(evs) == 0 || evs[len(evs)-1].Type != runs.EventDone {
		t.Fatalf("the last event is not done: %+v", evs)
	}
	for _, ev := range evs[:len(evs)-1] {
		if ev.Type == runs.EventDone {
			t.Fatal("done before the last event")
		}
	}
	var d runs.DoneData
	if err := json.Unmarshal(evs[len(evs)-1].Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *env) detail(runID uuid.UUID) runs.RunDetail {
	e.t.Helper()
	d, err := e.svc.Run(context.Background(), e.actor, runID)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) ledgerRows(runID uuid.UUID) (n, in, out int) {
	e.t.Helper()
	ctx := context.Background()
	err := e.st.InOrgTx(ctx, e.org.ID, func(tx pgx.Tx, _ *db.Queries) error {
		return tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0)
			FROM ai_usage_entries WHERE organization_id = $1 AND run_id = $2`, e.org.ID, runID).Scan(&n, &in, &out)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return
}

func TestRunStreamsTheAnswerAndStoresIt(t *testing.T) {
	e := newEnv(t)
	e.prov.rounds = []round{{steps: []step{text("Depreciation "), text("is spread "), text("over the asset's life."), used(120, 9)}}}
	s := e.ask("What is depreciation?")
	if len(e.jobs.jobs) != 1 || e.jobs.jobs[0].(runs.RunArgs).RunID != s.Run.ID {
		t.Fatalf("jobs inserted: %+v", e.jobs.jobs)
	}
	if s.Run.Status != runs.StatusQueued || !s.NewConversation || s.Conversation.Title != "What is depreciation?" {
		t.Fatalf("started: %+v", s)
	}
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	evs := e.events(s.Run.ID)
	if got := streamed(evs); got != "Depreciation is spread over the asset's life." {
		t.Fatalf("streamed %q", got)
	}
	d := done(t, evs)
	if d.Status != runs.StatusSucceeded || d.Error != "" || d.MessageID == nil || d.Usage != (runs.Usage{InputTokens: 120, OutputTokens: 9}) {
		t.Fatalf("done: %+v", d)
	}
	rd := e.detail(s.Run.ID)
	if rd.Run.Status != runs.StatusSucceeded || rd.Run.InputTokens != 120 || rd.Run.OutputTokens != 9 || rd.Run.Provider != "fake" || rd.Run.Model != "fake-model-1" ||
		rd.Run.StartedAt == nil || rd.Run.FinishedAt == nil {
		t.Fatalf("run: %+v", rd.Run)
	}
	if rd.Answer == nil || rd.Answer.Content != "Depreciation is spread over the asset's life." || rd.Answer.ID != *d.MessageID {
		t.Fatalf("answer: %+v", rd.Answer)
	}
	if rd.Question == nil || rd.Question.Content != "What is depreciation?" {
		t.Fatalf("question: %+v", rd.Question)
	}
	if n, in, out := e.ledgerRows(s.Run.ID); n != 1 || in != 120 || out != 9 {
		t.Fatalf("ledger: %d rows, %d in, %d out", n, in, out)
	}
	// The model read the agent's system prompt and the question.
	req := e.prov.Requests()[0]
	if req.Model != "fake-model-1" || req.Messages[0].Role != provider.RoleSystem || !strings.Contains(req.Messages[0].Content, "You are Luca") ||
		req.Messages[len(req.Messages)-1].Content != "What is depreciation?" || len(req.Tools) == 0 {
		t.Fatalf("request: %+v", req)
	}

	// A follow-up in the same conversation carries the history.
	e.prov.rounds = []round{{steps: []step{text("Straight-line is the usual method.")}}}
	s2, err := e.svc.Start(context.Background(), e.actor, runs.StartInput{AgentSlug: "luca", Message: "Which method?", ConversationID: &s.Conversation.ID})
	if err != nil || s2.NewConversation {
		t.Fatalf("follow-up: %+v %v", s2, err)
	}
	if err := e.work(s2.Run.ID); err != nil {
		t.Fatal(err)
	}
	req = e.prov.Requests()[1]
	var roles []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	if strings.Join(roles, ",") != "system,user,assistant,user" || req.Messages[2].Content != "Depreciation is spread over the asset's life." {
		t.Fatalf("history sent: %v", roles)
	}
	// Without usage from the provider, tokens are estimated, not zero.
	if d := done(t, e.events(s2.Run.ID)); d.Usage.InputTokens == 0 || d.Usage.OutputTokens == 0 {
		t.Fatalf("estimated usage: %+v", d.Usage)
	}
}

func TestTextIsCoalescedIntoFewEvents(t *testing.T) {
	e := newEnv(t)
	var steps []step
	for i := 0; i < 200; i++ {
		steps = append(steps, slowText("tok ", time.Millisecond))
	}
	e.prov.rounds = []round{{steps: steps}}
	s := e.ask("Write a lot")
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	evs := e.events(s.Run.ID)
	if streamed(evs) != strings.Repeat("tok ", 200) {
		t.Fatal("text lost or reordered")
	}
	// 200 tokens over about 200 ms, flushed at most every 20 ms.
	if n := len(evs) - 1; n > 30 || n < 2 {
		t.Fatalf("%d delta events for 200 tokens", n)
	}
}

func searchResult(t *testing.T, passages ...provider.Passage) tools.Result {
	t.Helper()
	b, err := json.Marshal(provider.SearchResult{Query: "vat", Passages: passages})
	if err != nil {
		t.Fatal(err)
	}
	return tools.Result{Content: string(b), Citations: passages}
}

func TestToolCallsAndCitations(t *testing.T) {
	e := newEnv(t)
	docA, docB, docC := uuid.NewString(), uuid.NewString(), uuid.NewString()
	e.tools.results["c1"] = searchResult(t,
		provider.Passage{Ref: 1, Kind: "document", DocumentID: docA, Title: "VAT guide.pdf", Locator: "page 2", Text: "Standard rate 20%"},
		provider.Passage{Ref: 2, Kind: "document", DocumentID: docB, Title: "Ledger.xlsx", Locator: "Sheet1!B4", Text: "VAT 1,200"})
	e.tools.results["c2"] = searchResult(t,
		provider.Passage{Ref: 1, Kind: "document", DocumentID: docC, Title: "Letter.docx", Locator: "paragraphs 1-3", Text: "Filed in March"})
	e.prov.rounds = []round{
		{steps: []step{text("Let me look. "), calls(provider.ToolCall{ID: "c1", Name: "search_documents", Arguments: `{"query":"vat rate"}`}), used(50, 5)}},
		{steps: []step{calls(provider.ToolCall{ID: "c2", Name: "search_documents", Arguments: `{"query":"vat filing"}`}), used(80, 5)}},
		{steps: []step{text("The rate is 20% [1]; it was filed in March [3]."), used(120, 12)}},
	}
	s := e.ask("What VAT rate applies and when was it filed?")
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	reqs := e.prov.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	// The second search's passage was renumbered after the first's, in
	// what the model read.
	last := reqs[2].Messages[len(reqs[2].Messages)-1]
	var sr provider.SearchResult
	if last.Role != provider.RoleTool || last.ToolCallID != "c2" || json.Unmarshal([]byte(last.Content), &sr) != nil || sr.Passages[0].Ref != 3 {
		t.Fatalf("tool result given to the model: %+v", last)
	}
	first := reqs[1].Messages[len(reqs[1].Messages)-2]
	if first.Role != provider.RoleAssistant || len(first.ToolCalls) != 1 || first.Content != "Let me look. " {
		t.Fatalf("assistant tool-call message: %+v", first)
	}
	evs := e.events(s.Run.ID)
	var statuses []string
	for _, ev := range evs {
		if ev.Type == runs.EventStatus {
			var sd runs.StatusData
			_ = json.Unmarshal(ev.Data, &sd)
			statuses = append(statuses, sd.Message)
		}
	}
	if len(statuses) != 2 || statuses[0] != "Searching your documents for “vat rate”" {
		t.Fatalf("status events: %q", statuses)
	}
	d := done(t, evs)
	if d.Status != runs.StatusSucceeded || len(d.Citations) != 2 || d.Citations[0].DocumentID != docA || d.Citations[0].Ref != 1 ||
		d.Citations[1].DocumentID != docC || d.Citations[1].Ref != 3 || d.Citations[1].Locator != "paragraphs 1-3" {
		t.Fatalf("done citations: %+v", d.Citations)
	}
	if d.Usage != (runs.Usage{InputTokens: 250, OutputTokens: 22}) {
		t.Fatalf("usage: %+v", d.Usage)
	}
	rd := e.detail(s.Run.ID)
	if rd.Run.ToolCalls != 2 || len(rd.Citations) != 2 || rd.Answer.Content != "Let me look. The rate is 20% [1]; it was filed in March [3]." {
		t.Fatalf("stored: %+v %+v", rd.Run, rd.Answer)
	}
	if n, _, _ := e.ledgerRows(s.Run.ID); n != 3 {
		t.Fatalf("ledger rows: %d, want one per completion", n)
	}
}

func TestToolRoundsAreBounded(t *testing.T) {
	e := newEnv(t)
	e.worker.MaxToolRounds = 2
	e.prov.forever = true
	e.prov.rounds = []round{{steps: []step{calls(provider.ToolCall{ID: "again", Name: "search_documents", Arguments: `{"query":"x"}`})}}}
	s := e.ask("Loop forever")
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	reqs := e.prov.Requests()
	if len(reqs) != 3 || reqs[2].Tools != nil || reqs[1].Tools == nil {
		t.Fatalf("%d requests; tools on the last: %v", len(reqs), reqs[len(reqs)-1].Tools)
	}
	if d := done(t, e.events(s.Run.ID)); d.Status != runs.StatusSucceeded {
		t.Fatalf("done: %+v", d)
	}
}

func TestProviderFailureKeepsPartialOutput(t *testing.T) {
	e := newEnv(t)
	e.prov.rounds = []round{{steps: []step{text("The first half "), text("of the answer")}, err: &provider.Error{Kind: provider.ErrStreamCut, Detail: "connection reset"}}}
	s := e.ask("Tell me everything")
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	evs := e.events(s.Run.ID)
	d := done(t, evs)
	want := provider.UserMessage(&provider.Error{Kind: provider.ErrStreamCut})
	if d.Status != runs.StatusFailed || d.Error != want || d.MessageID == nil {
		t.Fatalf("done: %+v", d)
	}
	rd := e.detail(s.Run.ID)
	if rd.Answer == nil || rd.Answer.Content != "The first half of the answer" || rd.Run.Error != want || !strings.Contains(rd.Run.ErrorDetail, "connection reset") {
		t.Fatalf("stored: run %+v answer %+v", rd.Run, rd.Answer)
	}
	if streamed(evs) != "The first half of the answer" {
		t.Fatalf("streamed %q", streamed(evs))
	}

	// Refused before any text: failed, no answer, the member is told.
	e.prov.rounds = []round{{startErr: &provider.Error{Kind: provider.ErrRateLimited, Status: 429, RetryAfter: 30 * time.Second}}}
	s = e.ask("Again")
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	d = done(t, e.events(s.Run.ID))
	if d.Status != runs.StatusFailed || d.MessageID != nil || !strings.Contains(d.Error, "Try again in 30s") {
		t.Fatalf("done: %+v", d)
	}
}

func TestToolFailureEndsTheRunWithAMessage(t *testing.T) {
	e := newEnv(t)
	e.tools.fail = errors.New("database exploded")
	e.prov.rounds = []round{{steps: []step{calls(provider.ToolCall{ID: "x", Name: "search_documents", Arguments: `{}`})}}}
	s := e.ask("Search")
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	d := done(t, e.events(s.Run.ID))
	if d.Status != runs.StatusFailed || strings.Contains(d.Error, "exploded") || d.Error == "" {
		t.Fatalf("done: %+v", d)
	}
}

// waitEvent waits until the run has an event of type typ.
func (e *env) waitEvent(runID uuid.UUID, typ string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, ev := range e.events(runID) {
			if ev.Type == typ {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("no %s event", typ)
}

func TestCancelStopsARunningRunPromptly(t *testing.T) {
	e := newEnv(t)
	e.prov.rounds = []round{{steps: []step{text("Working on it")}, hang: true}}
	s := e.ask("Take your time")
	result := make(chan error, 1)
	go func() { result <- e.work(s.Run.ID) }()
	e.waitEvent(s.Run.ID, runs.EventDelta)
	if _, err := e.svc.Cancel(context.Background(), e.actor, s.Run.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// The cancel notification, as the listener delivers it.
	e.worker.Cancels.Handle(s.Run.ID.String())
	select {
	case err := <-result:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run did not stop")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("stopping took %s", d)
	}
	d := done(t, e.events(s.Run.ID))
	rd := e.detail(s.Run.ID)
	if d.Status != runs.StatusCancelled || rd.Run.Status != runs.StatusCancelled || rd.Answer == nil || rd.Answer.Content != "Working on it" {
		t.Fatalf("done %+v run %+v answer %+v", d, rd.Run, rd.Answer)
	}
}

// A cancel whose notification this process missed is still seen at the
// next flush (the flag in the run's row).
func TestCancelFlagStopsTheRunWithoutNotification(t *testing.T) {
	e := newEnv(t)
	// A long stream: 500 chunks, 10 ms apart.
	var steps []step
	for i := 0; i < 500; i++ {
		steps = append(steps, slowText("more ", 10*time.Millisecond))
	}
	e.prov.rounds = []round{{steps: steps}}
	s := e.ask("Go on")
	result := make(chan error, 1)
	go func() { result <- e.work(s.Run.ID) }()
	e.waitEvent(s.Run.ID, runs.EventDelta)
	if _, err := e.svc.Cancel(context.Background(), e.actor, s.Run.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-result:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the run did not stop")
	}
	if d := done(t, e.events(s.Run.ID)); d.Status != runs.StatusCancelled {
		t.Fatalf("done: %+v", d)
	}
}

func TestCancelBeforeTheWorkerStarts(t *testing.T) {
	e := newEnv(t)
	s := e.ask("Never mind")
	run, err := e.svc.Cancel(context.Background(), e.actor, s.Run.ID)
	if err != nil || run.Status != runs.StatusCancelled {
		t.Fatalf("cancel: %+v %v", run, err)
	}
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	if len(e.prov.Requests()) != 0 {
		t.Fatal("the provider was asked for a cancelled run")
	}
	evs := e.events(s.Run.ID)
	if d := done(t, evs); len(evs) != 1 || d.Status != runs.StatusCancelled {
		t.Fatalf("events: %+v", evs)
	}
	// Cancelling again changes nothing; another member's run is not found.
	if _, err := e.svc.Cancel(context.Background(), e.actor, s.Run.ID); err != nil {
		t.Fatal(err)
	}
	other := e.f.User("")
	e.f.Member(e.org, other, "staff")
	if _, err := e.svc.Cancel(context.Background(), runs.Actor{OrgID: e.org.ID, UserID: other.ID}, s.Run.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another member's cancel: %v", err)
	}
}

func TestRunTimeout(t *testing.T) {
	e := newEnv(t)
	e.worker.RunTimeout = 300 * time.Millisecond
	e.prov.rounds = []round{{steps: []step{text("Slow")}, hang: true}}
	s := e.ask("Hang")
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	d := done(t, e.events(s.Run.ID))
	if d.Status != runs.StatusFailed || !strings.Contains(d.Error, "took longer") || d.MessageID == nil {
		t.Fatalf("done: %+v", d)
	}
}

func TestShutdownInterruptsAndARetryFinishesTheRun(t *testing.T) {
	e := newEnv(t)
	e.prov.rounds = []round{{steps: []step{text("Half")}, hang: true}}
	s := e.ask("Long one")
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		job := &river.Job[runs.RunArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}, Args: runs.RunArgs{OrganizationID: e.org.ID, RunID: s.Run.ID}}
		result <- e.worker.Work(ctx, job)
	}()
	e.waitEvent(s.Run.ID, runs.EventDelta)
	cancel() // River stops the job (shutdown)
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	d := done(t, e.events(s.Run.ID))
	if d.Status != runs.StatusFailed || !strings.Contains(d.Error, "interrupted") {
		t.Fatalf("done: %+v", d)
	}

	// A worker that died outright leaves the run running; the job's retry
	// ends it with what was streamed.
	e.prov.rounds = []round{{steps: []step{text("Before the crash")}, hang: true}}
	s = e.ask("Crash")
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		job := &river.Job[runs.RunArgs]{JobRow: &rivertype.JobRow{ID: 2, Attempt: 1}, Args: runs.RunArgs{OrganizationID: e.org.ID, RunID: s.Run.ID}}
		_ = (&runs.Worker{Store: e.st, Providers: fakeResolver{e.prov}, Cancels: runs.NewCancels(), FlushInterval: time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Work(ctx, job)
	}()
	e.waitEvent(s.Run.ID, runs.EventDelta)
	// Simulate the crash: the row says running, no done event; a new
	// attempt comes.
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	cancel()
	time.Sleep(50 * time.Millisecond)
	evs := e.events(s.Run.ID)
	var doneCount int
	for _, ev := range evs {
		if ev.Type == runs.EventDone {
			doneCount++
		}
	}
	if doneCount != 1 {
		t.Fatalf("%d done events", doneCount)
	}
	rd := e.detail(s.Run.ID)
	if rd.Run.Status != runs.StatusFailed || rd.Answer == nil || rd.Answer.Content != "Before the crash" {
		t.Fatalf("run %+v answer %+v", rd.Run, rd.Answer)
	}
}

// A member's cancel that reached only the database (its notification was
// missed) still ends the run as cancelled when the worker is stopped
// another way, and so does the retry after a crash.
func TestRecordedCancelWinsOverInterruption(t *testing.T) {
	e := newEnv(t)
	for i, crash := range []bool{false, true} {
		e.prov.rounds = []round{{steps: []step{text("Half")}, hang: true}}
		s := e.ask("Long one")
		ctx, cancel := context.WithCancel(context.Background())
		result := make(chan error, 1)
		go func() {
			job := &river.Job[runs.RunArgs]{JobRow: &rivertype.JobRow{ID: int64(10 + i), Attempt: 1}, Args: runs.RunArgs{OrganizationID: e.org.ID, RunID: s.Run.ID}}
			result <- e.worker.Work(ctx, job)
		}()
		e.waitEvent(s.Run.ID, runs.EventDelta)
		if _, err := e.svc.Cancel(context.Background(), e.actor, s.Run.ID); err != nil {
			t.Fatal(err)
		}
		if crash {
			if err := e.work(s.Run.ID); err != nil { // the retry of a dead worker's job
				t.Fatal(err)
			}
		}
		cancel()
		if err := <-result; err != nil {
			t.Fatal(err)
		}
		if d := done(t, e.events(s.Run.ID)); d.Status != runs.StatusCancelled || d.Error != "" {
			t.Fatalf("crash %v: done %+v", crash, d)
		}
	}
}

func TestStartRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var fe form.Errors
	if _, err := e.svc.Start(ctx, e.actor, runs.StartInput{AgentSlug: "luca", Message: "  \n "}); !errors.As(err, &fe) || fe["message"] == "" {
		t.Fatalf("empty message: %v", err)
	}
	if _, err := e.svc.Start(ctx, e.actor, runs.StartInput{AgentSlug: "luca", Message: strings.Repeat("x", runs.MaxMessage+1)}); !errors.As(err, &fe) || fe["message"] == "" {
		t.Fatalf("long message: %v", err)
	}
	if _, err := e.svc.Start(ctx, e.actor, runs.StartInput{AgentSlug: "forma", Message: "hi"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("agent not installed: %v", err)
	}
	// A client of another organization is not a client here.
	foreign := e.f.Client(e.f.Org(e.f.User(""), ""), "")
	if _, err := e.svc.Start(ctx, e.actor, runs.StartInput{AgentSlug: "luca", Message: "hi", ClientID: &foreign.ID}); !errors.As(err, &fe) || fe["client_id"] == "" {
		t.Fatalf("foreign client: %v", err)
	}
	// One run at a time per conversation.
	s := e.ask("first")
	if _, err := e.svc.Start(ctx, e.actor, runs.StartInput{AgentSlug: "luca", Message: "second", ConversationID: &s.Conversation.ID}); !errors.Is(err, runs.ErrRunInProgress) {
		t.Fatalf("second run: %v", err)
	}
	// Another member cannot post into it, nor see it.
	other := e.f.User("")
	e.f.Member(e.org, other, "staff")
	oa := runs.Actor{OrgID: e.org.ID, UserID: other.ID}
	if _, err := e.svc.Start(ctx, oa, runs.StartInput{AgentSlug: "luca", Message: "hi", ConversationID: &s.Conversation.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another member's conversation: %v", err)
	}
	if _, err := e.svc.Run(ctx, oa, s.Run.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another member's run: %v", err)
	}
	// A disabled agent refuses, and a queued run is refused when it starts.
	if err := e.st.InOrg(ctx, e.org.ID, func(q *db.Queries) error {
		_, err := q.SetAgentInstallationEnabled(ctx, db.SetAgentInstallationEnabledParams{OrganizationID: e.org.ID, AgentSlug: "luca", Enabled: false})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Start(ctx, e.actor, runs.StartInput{AgentSlug: "luca", Message: "hi"}); !errors.Is(err, runs.ErrAgentDisabled) {
		t.Fatalf("disabled agent: %v", err)
	}
	if err := e.work(s.Run.ID); err != nil {
		t.Fatal(err)
	}
	if d := done(t, e.events(s.Run.ID)); d.Status != runs.StatusFailed || !strings.Contains(d.Error, "disabled") {
		t.Fatalf("queued run of a disabled agent: %+v", d)
	}
	// A plan below the agent's minimum is a plan refusal.
	e.f.Plan(e.org, billing.Free)
	if err := e.st.InOrg(ctx, e.org.ID, func(q *db.Queries) error {
		_, err := q.InstallAgent(ctx, db.InstallAgentParams{OrganizationID: e.org.ID, AgentSlug: "parity", Settings: []byte(`{}`)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var le *billing.LimitError
	if _, err := e.svc.Start(ctx, e.actor, runs.StartInput{AgentSlug: "parity", Message: "draft"}); !errors.As(err, &le) {
		t.Fatalf("agent above the plan: %v", err)
	}
}
