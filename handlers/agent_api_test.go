package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"accute/internal/agents/runs"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

type apiRun struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversation_id"`
	Agent          string `json:"agent"`
	Status         string `json:"status"`
	Error          string `json:"error"`
	Message        string `json:"message"`
	StreamURL      string `json:"stream_url"`
	Usage          struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	} `json:"usage"`
	Answer *struct {
		Content   string `json:"content"`
		Citations []struct {
			Ref        int    `json:"ref"`
			DocumentID string `json:"document_id"`
			Locator    string `json:"locator"`
		} `json:"citations"`
	} `json:"answer"`
}

// recordStream reads a whole (finished) stream through the recorder, so
// the answer is checked against the OpenAPI document too.
func recordStream(t *testing.T, app *testApp, token, path, lastID string) (int, string) {
	t.Helper()
	client := &http.Client{Transport: newRecorder(t), Timeout: 30 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, app.Srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestAgentRunsAPI(t *testing.T) {
	app := newTestApp(t)
	_, owner, org := app.owner()
	token, _ := app.pat(owner, org, tenant.RoleOwner, nil)
	api := app.api(token)
	g := newGate()
	app.script(g)
	app.startRunWorkers()
	base := "/api/v1/orgs/" + org.Slug

	// Refusals.
	if r := api.do(http.MethodPost, base+"/agents/luca/runs", map[string]any{}).expect(http.StatusBadRequest); r.Env.Details["message"] == "" {
		t.Fatalf("no message: %s", r.Body)
	}
	if r := api.do(http.MethodPost, base+"/agents/luca/runs", map[string]any{"message": "hi", "client_id": "nope"}).expect(http.StatusBadRequest); r.Env.Details["client_id"] == "" {
		t.Fatalf("bad client id: %s", r.Body)
	}
	api.do(http.MethodPost, base+"/agents/luca/runs", map[string]any{"message": "  "}).expect(http.StatusBadRequest)
	api.do(http.MethodPost, base+"/agents/forma/runs", map[string]any{"message": "hi"}).expect(http.StatusNotFound)
	api.do(http.MethodPost, base+"/agents/luca/runs", map[string]any{"message": "hi", "extra": 1}).expect(http.StatusBadRequest)

	var run apiRun
	api.do(http.MethodPost, base+"/agents/luca/runs", map[string]any{"message": "What is due this month?"}).expect(http.StatusAccepted).into(&run)
	if run.Status != runs.StatusQueued || run.Agent != "luca" || run.Message != "What is due this month?" || run.StreamURL != base+"/runs/"+run.ID+"/stream" || run.Answer != nil {
		t.Fatalf("created: %+v", run)
	}
	api.do(http.MethodPost, base+"/agents/luca/runs", map[string]any{"message": "Again", "conversation_id": run.ConversationID}).expect(http.StatusConflict)

	// Frames one by one, ids 1, 2, ...
	s := testutil.OpenSSE(t, http.DefaultClient, app.Srv.URL+run.StreamURL, bearer(token))
	g.say("Alpha ")
	f := s.MustNext(10 * time.Second)
	if f.ID != "1" || f.Event != runs.EventDelta || f.Data != `{"text": "Alpha "}` {
		t.Fatalf("frame 1: %+v", f)
	}
	g.say("Beta ")
	if f = s.MustNext(10 * time.Second); f.ID != "2" || f.Data != `{"text": "Beta "}` {
		t.Fatalf("frame 2: %+v", f)
	}
	// The connection drops; more is written meanwhile.
	s.Close()
	g.say("Gamma ")
	g.say("Delta")
	time.Sleep(100 * time.Millisecond)
	// Reconnect with Last-Event-ID: the rest, once, in order.
	h := bearer(token)
	h.Set("Last-Event-ID", "2")
	s2 := testutil.OpenSSE(t, http.DefaultClient, app.Srv.URL+run.StreamURL, h)
	var rest strings.Builder
	next := 3
	for rest.String() != "Gamma Delta" {
		f := s2.MustNext(10 * time.Second)
		var d runs.DeltaData
		if f.Event != runs.EventDelta || f.ID != strconv.Itoa(next) || json.Unmarshal([]byte(f.Data), &d) != nil {
			t.Fatalf("after reconnect, want delta %d, got %+v (so far %q)", next, f, rest.String())
		}
		rest.WriteString(d.Text)
		next++
	}
	g.usage(100, 20)
	g.end()
	f = s2.MustNext(10 * time.Second)
	var done runs.DoneData
	if f.Event != runs.EventDone || f.ID != strconv.Itoa(next) || json.Unmarshal([]byte(f.Data), &done) != nil {
		t.Fatalf("done frame: %+v", f)
	}
	if done.Status != runs.StatusSucceeded || done.Usage != (runs.Usage{InputTokens: 100, OutputTokens: 20}) || done.MessageID == nil || done.Citations == nil {
		t.Fatalf("done: %+v", done)
	}
	s2.WaitEnd(5 * time.Second)

	// The run, with its answer; lists.
	api.get(base + "/runs/" + run.ID).expect(http.StatusOK).into(&run)
	if run.Status != runs.StatusSucceeded || run.Answer == nil || run.Answer.Content != "Alpha Beta Gamma Delta" || run.Usage.InputTokens != 100 {
		t.Fatalf("run: %+v", run)
	}
	var convs struct {
		Items []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	api.get(base + "/conversations?agent=luca&limit=1").expect(http.StatusOK).into(&convs)
	if len(convs.Items) != 1 || convs.Items[0].ID != run.ConversationID || convs.NextCursor != nil {
		t.Fatalf("conversations: %+v", convs)
	}
	api.get(base + "/conversations?cursor=garbage").expect(http.StatusBadRequest)
	var list struct {
		Items []apiRun `json:"items"`
	}
	api.get(base + "/conversations/" + run.ConversationID + "/runs").expect(http.StatusOK).into(&list)
	if len(list.Items) != 1 || list.Items[0].ID != run.ID || list.Items[0].Answer == nil {
		t.Fatalf("conversation runs: %+v", list)
	}

	// A finished run's whole stream, checked against the document; and
	// a resume from its last event gets nothing but the end.
	status, body := recordStream(t, app, token, run.StreamURL, "")
	if status != http.StatusOK || !strings.HasPrefix(body, "id: 1\ndata: {\"text\": \"Alpha \"}\nevent: delta\n\n") || !strings.Contains(body, "event: done") {
		t.Fatalf("recorded stream %d:\n%s", status, body)
	}
	for _, last := range []string{strconv.Itoa(next), "999"} {
		if status, body := recordStream(t, app, token, run.StreamURL, last); status != http.StatusNoContent {
			t.Fatalf("resume after the end (%s) %d:\n%s", last, status, body)
		}
	}
	// Resuming before the end replays the rest, the end included.
	if status, body := recordStream(t, app, token, run.StreamURL, strconv.Itoa(next-1)); status != http.StatusOK ||
		!strings.HasPrefix(body, "id: "+strconv.Itoa(next)+"\n") || strings.Count(body, "id: ") != 1 {
		t.Fatalf("resume before the end %d:\n%s", status, body)
	}
	if status, _ := recordStream(t, app, token, run.StreamURL, "abc"); status != http.StatusBadRequest {
		t.Fatalf("bad Last-Event-ID: %d", status)
	}

	// Cancel through the API: the stream ends with done, cancelled.
	var second apiRun
	api.do(http.MethodPost, base+"/agents/luca/runs", map[string]any{"message": "Follow-up", "conversation_id": run.ConversationID}).expect(http.StatusAccepted).into(&second)
	s3 := testutil.OpenSSE(t, http.DefaultClient, app.Srv.URL+second.StreamURL, bearer(token))
	g.say("Partial")
	s3.MustNext(10 * time.Second)
	api.do(http.MethodPost, base+"/runs/"+second.ID+"/cancel", nil).expect(http.StatusOK)
	for {
		f := s3.MustNext(10 * time.Second)
		if f.Event == runs.EventDone {
			if !strings.Contains(f.Data, `"status": "cancelled"`) {
				t.Fatalf("done: %s", f.Data)
			}
			break
		}
	}
	api.get(base + "/runs/" + second.ID).expect(http.StatusOK).into(&second)
	if second.Status != runs.StatusCancelled || second.Answer == nil || second.Answer.Content != "Partial" {
		t.Fatalf("cancelled run: %+v", second)
	}
	// A role without agents.use: 403.
	clientUser := app.F.User("")
	app.F.Member(org, clientUser, tenant.RoleClient)
	clientToken, _ := app.pat(clientUser, org, tenant.RoleClient, nil)
	api.with(clientToken).get(base + "/runs/" + run.ID).expect(http.StatusForbidden)
}

// The done event names the documents the answer cites, by id.
func TestAgentRunsAPICitesDocuments(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	res := postFiles(c, "/o/"+org.Slug+"/documents", nil, "", true, upload{name: "deadlines.txt",
		content: []byte("Filing deadlines.\n\nThe corporation tax return is due twelve months after the end of the accounting period.\n")})
	doc := uploadedDocument(t, res)
	app.workJobs(nil, false)
	app.startRunWorkers()
	token, _ := app.pat(owner, org, tenant.RoleOwner, nil)
	api := app.api(token)
	var run apiRun
	api.do(http.MethodPost, "/api/v1/orgs/"+org.Slug+"/agents/luca/runs", map[string]any{"message": "When is the corporation tax return due?"}).expect(http.StatusAccepted).into(&run)
	s := testutil.OpenSSE(t, http.DefaultClient, app.Srv.URL+run.StreamURL, bearer(token))
	var statuses int
	for {
		f := s.MustNext(20 * time.Second)
		if f.Event == runs.EventStatus {
			statuses++
		}
		if f.Event != runs.EventDone {
			continue
		}
		var done runs.DoneData
		if err := json.Unmarshal([]byte(f.Data), &done); err != nil {
			t.Fatal(err)
		}
		if done.Status != runs.StatusSucceeded || len(done.Citations) == 0 || done.Citations[0].DocumentID != doc.ID || done.Citations[0].Locator == "" ||
			done.Usage.InputTokens == 0 {
			t.Fatalf("done: %+v", done)
		}
		break
	}
	if statuses == 0 {
		t.Fatal("no status event for the document search")
	}
	api.get("/api/v1/orgs/" + org.Slug + "/runs/" + run.ID).expect(http.StatusOK).into(&run)
	if run.Answer == nil || len(run.Answer.Citations) == 0 || run.Answer.Citations[0].DocumentID != doc.ID || !strings.Contains(run.Answer.Content, "twelve months") {
		t.Fatalf("run: %+v", run)
	}
}
