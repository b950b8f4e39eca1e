package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"accute/internal/agents/provider"
	"accute/internal/agents/provider/providertest"
)

// newOpenAI builds a compatible provider against srv.
func newOpenAI(t *testing.T, srv *providertest.Server, edit func(*provider.OpenAIConfig)) *provider.OpenAI {
	t.Helper()
	cfg := provider.OpenAIConfig{Kind: provider.KindCompatible, BaseURL: srv.BaseURL(), APIKey: "sk-test", IdleTimeout: 5 * time.Second}
	if edit != nil {
		edit(&cfg)
	}
	p, err := provider.NewOpenAI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func question(q string) provider.Request {
	return provider.Request{Model: "test-model", Temperature: 0.3, Messages: []provider.Message{
		{Role: provider.RoleSystem, Content: "You answer questions."},
		{Role: provider.RoleUser, Content: q},
	}}
}

// result is everything a stream delivered.
type result struct {
	text   string
	pieces int
	calls  [][]provider.ToolCall
	usage  []provider.Usage
	err    error // the error that ended it; nil for io.EOF
}

func drain(t *testing.T, s provider.Stream) result {
	t.Helper()
	var r result
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return r
		}
		if err != nil {
			r.err = err
			return r
		}
		if c.Text != "" {
			r.text += c.Text
			r.pieces++
		}
		if len(c.ToolCalls) > 0 {
			r.calls = append(r.calls, c.ToolCalls)
		}
		if c.Usage != nil {
			r.usage = append(r.usage, *c.Usage)
		}
	}
}

func run(t *testing.T, p provider.Provider, req provider.Request) result {
	t.Helper()
	s, err := p.Stream(context.Background(), req)
	if err != nil {
		return result{err: err}
	}
	defer s.Close()
	return drain(t, s)
}

func wantKind(t *testing.T, err, kind error) *provider.Error {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) || !errors.Is(err, kind) {
		t.Fatalf("error = %v (%T), want *provider.Error of kind %q", err, err, kind)
	}
	return pe
}

func TestOpenAIStreamsTextAndUsage(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.APIKey = "sk-test"
	srv.Enqueue(providertest.Response{Text: providertest.Words("The VAT threshold is £90,000."), Usage: &providertest.Usage{PromptTokens: 21, CompletionTokens: 9}})
	p := newOpenAI(t, srv, nil)
	req := question("What is the VAT threshold?")
	req.MaxTokens = 300
	r := run(t, p, req)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.text != "The VAT threshold is £90,000." || r.pieces != 5 {
		t.Errorf("text %q in %d pieces, want the answer in 5 pieces", r.text, r.pieces)
	}
	if len(r.usage) != 1 || r.usage[0] != (provider.Usage{InputTokens: 21, OutputTokens: 9}) {
		t.Errorf("usage = %+v, want the server's one report", r.usage)
	}
	if p.Name() != "openai-compatible" {
		t.Errorf("name = %q", p.Name())
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	got := reqs[0]
	if got.Path != "/v1/chat/completions" || got.Header.Get("Authorization") != "Bearer sk-test" {
		t.Errorf("request to %s with Authorization %q", got.Path, got.Header.Get("Authorization"))
	}
	c := got.Chat
	if !c.Stream || c.StreamOptions == nil || !c.StreamOptions.IncludeUsage {
		t.Errorf("stream %v, stream_options %+v: usage must be requested in the stream", c.Stream, c.StreamOptions)
	}
	if c.Model != "test-model" || len(c.Messages) != 2 || c.Messages[1].Role != "user" || c.Messages[1].Content != "What is the VAT threshold?" {
		t.Errorf("model %q, messages %+v", c.Model, c.Messages)
	}
	if c.Temperature == nil || *c.Temperature < 0.29 || *c.Temperature > 0.31 || c.MaxTokens != 300 {
		t.Errorf("temperature %v, max_tokens %d", c.Temperature, c.MaxTokens)
	}
}

func TestOpenAIZeroTemperatureIsSent(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"ok"}})
	req := question("hi")
	req.Temperature = 0
	if r := run(t, newOpenAI(t, srv, nil), req); r.err != nil {
		t.Fatal(r.err)
	}
	// Omitted, the server would use its default (1.0), not "precise".
	if temp := srv.Requests()[0].Chat.Temperature; temp == nil || *temp > 0.0001 {
		t.Errorf("temperature = %v, want (almost) zero sent explicitly", temp)
	}
}

func TestOpenAIReasoningModelsGetNoTemperature(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"ok"}})
	p := newOpenAI(t, srv, func(c *provider.OpenAIConfig) { c.Kind = provider.KindOpenAI })
	req := question("hi")
	req.Model, req.MaxTokens = "o3-mini", 50
	if r := run(t, p, req); r.err != nil {
		t.Fatal(r.err)
	}
	c := srv.Requests()[0].Chat
	if c.Temperature != nil || c.MaxTokens != 0 || c.MaxCompletionTokens != 50 {
		t.Errorf("temperature %v, max_tokens %d, max_completion_tokens %d", c.Temperature, c.MaxTokens, c.MaxCompletionTokens)
	}
}

func TestOpenAIAccumulatesToolCalls(t *testing.T) {
	for _, omit := range []bool{false, true} {
		name := "indexed deltas"
		if omit {
			name = "whole calls without index"
		}
		t.Run(name, func(t *testing.T) {
			srv := providertest.NewServer(t)
			srv.Enqueue(providertest.Response{
				Text: []string{"Let me look."},
				ToolCalls: []providertest.ToolCall{
					{ID: "call_a", Name: "search_documents", Arguments: `{"query":"vat threshold 2024"}`, Pieces: 4},
					{ID: "call_b", Name: "read_client", Arguments: `{"client_id":"c-1"}`, Pieces: 2},
				},
				OmitIndex: omit,
			})
			req := question("What is the VAT threshold?")
			req.Tools = []provider.Tool{{Name: "search_documents", Description: "Search the firm's documents.", Parameters: map[string]any{
				"type": "object", "properties": map[string]any{"query": map[string]any{"type": "string"}}, "required": []string{"query"}}},
				{Name: "read_client", Description: "Read a client."}}
			r := run(t, newOpenAI(t, srv, nil), req)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.text != "Let me look." {
				t.Errorf("text = %q", r.text)
			}
			if len(r.calls) != 1 {
				t.Fatalf("tool calls delivered in %d chunks, want all at once: %+v", len(r.calls), r.calls)
			}
			want := []provider.ToolCall{
				{ID: "call_a", Name: "search_documents", Arguments: `{"query":"vat threshold 2024"}`},
				{ID: "call_b", Name: "read_client", Arguments: `{"client_id":"c-1"}`},
			}
			if len(r.calls[0]) != 2 || r.calls[0][0] != want[0] || r.calls[0][1] != want[1] {
				t.Errorf("calls = %+v, want %+v", r.calls[0], want)
			}
			tools := srv.Requests()[0].Chat.Tools
			if len(tools) != 2 || tools[0].Type != "function" || tools[0].Function.Name != "search_documents" ||
				tools[0].Function.Parameters["required"] == nil || tools[1].Function.Parameters["type"] != "object" {
				t.Errorf("tools sent = %+v", tools)
			}
		})
	}
}

func TestOpenAISendsToolResults(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"Done."}})
	req := question("Look it up")
	req.Messages = append(req.Messages,
		provider.Message{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "call_1", Name: "search_documents", Arguments: `{"query":"x"}`}}},
		provider.Message{Role: provider.RoleTool, ToolCallID: "call_1", Name: "search_documents", Content: `{"passages":[]}`})
	if r := run(t, newOpenAI(t, srv, nil), req); r.err != nil {
		t.Fatal(r.err)
	}
	msgs := srv.Requests()[0].Chat.Messages
	if len(msgs) != 4 {
		t.Fatalf("messages = %+v", msgs)
	}
	a, tool := msgs[2], msgs[3]
	if a.Role != "assistant" || len(a.ToolCalls) != 1 || a.ToolCalls[0].ID != "call_1" || a.ToolCalls[0].Type != "function" ||
		a.ToolCalls[0].Function.Name != "search_documents" || a.ToolCalls[0].Function.Arguments != `{"query":"x"}` {
		t.Errorf("assistant message = %+v", a)
	}
	if tool.Role != "tool" || tool.ToolCallID != "call_1" || tool.Content != `{"passages":[]}` || tool.Name != "" {
		t.Errorf("tool message = %+v", tool)
	}
}

func TestOpenAIEstimatesUsageWhenServerSendsNone(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: providertest.Words("Twelve characters answer here"), NoUsage: true})
	req := question("How long is this question, roughly?")
	r := run(t, newOpenAI(t, srv, nil), req)
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := provider.Usage{InputTokens: provider.EstimateInput(req), OutputTokens: provider.EstimateTokens("Twelve characters answer here")}
	if len(r.usage) != 1 || r.usage[0] != want || want.InputTokens == 0 || want.OutputTokens == 0 {
		t.Errorf("usage = %+v, want the estimate %+v", r.usage, want)
	}
}

func TestOpenAIStatusErrors(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name   string
		resp   providertest.Response
		kind   error
		retry  time.Duration // want at least
		detail string
	}{
		{"401", providertest.Response{Status: 401, Body: `{"error":{"message":"Incorrect API key provided: sk-te***st.","type":"invalid_request_error","code":"invalid_api_key"}}`}, provider.ErrUnauthorized, 0, "Incorrect API key provided"},
		{"403", providertest.Response{Status: 403}, provider.ErrUnauthorized, 0, "scripted status 403"},
		{"429 seconds", providertest.Response{Status: 429, Header: http.Header{"Retry-After": {"7"}}}, provider.ErrRateLimited, 7 * time.Second, ""},
		{"429 date", providertest.Response{Status: 429, Header: http.Header{"Retry-After": {date}}}, provider.ErrRateLimited, 80 * time.Second, ""},
		{"500", providertest.Response{Status: 500}, provider.ErrUnavailable, 0, ""},
		{"503 plain text", providertest.Response{Status: 503, Body: "upstream connect error", Header: http.Header{"Content-Type": {"text/plain"}}}, provider.ErrUnavailable, 0, "upstream connect error"},
		{"400", providertest.Response{Status: 400, Body: `{"error":{"message":"The model 'gpt-9' does not exist","type":"invalid_request_error"}}`}, provider.ErrBadRequest, 0, "does not exist"},
		{"404", providertest.Response{Status: 404}, provider.ErrBadRequest, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := providertest.NewServer(t)
			srv.Enqueue(tc.resp)
			r := run(t, newOpenAI(t, srv, nil), question("hi"))
			pe := wantKind(t, r.err, tc.kind)
			if pe.Status != tc.resp.Status {
				t.Errorf("status = %d, want %d", pe.Status, tc.resp.Status)
			}
			if pe.RetryAfter < tc.retry || (tc.retry == 0 && pe.RetryAfter != 0) || pe.RetryAfter > tc.retry+15*time.Second {
				t.Errorf("retry after = %s, want about %s", pe.RetryAfter, tc.retry)
			}
			if !strings.Contains(pe.Detail, tc.detail) {
				t.Errorf("detail = %q, want it to contain %q", pe.Detail, tc.detail)
			}
			if msg := provider.UserMessage(r.err); msg == "" || strings.Contains(msg, "{") {
				t.Errorf("user message = %q", msg)
			}
		})
	}
}

func TestOpenAIRateLimitMessageSaysWhen(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Status: 429, Header: http.Header{"Retry-After": {"30"}}})
	r := run(t, newOpenAI(t, srv, nil), question("hi"))
	if msg := provider.UserMessage(r.err); !strings.Contains(msg, "Try again in 30s") {
		t.Errorf("user message = %q", msg)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"12"}}, 12 * time.Second},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(2 * time.Minute).Format(http.TimeFormat)}}, 2 * time.Minute},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {"-5"}}, 0},
		{http.Header{"Retry-After": {"999999999"}}, 24 * time.Hour},
		{http.Header{"Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{http.Header{}, 0},
		{nil, 0},
	}
	for _, tc := range cases {
		if got := provider.RetryAfter(tc.h, now); got != tc.want {
			t.Errorf("RetryAfter(%v) = %s, want %s", tc.h, got, tc.want)
		}
	}
}

func TestOpenAISlowChunksWithinIdleTimeout(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"slow", " but", " steady"}, Delay: 40 * time.Millisecond})
	p := newOpenAI(t, srv, func(c *provider.OpenAIConfig) { c.IdleTimeout = time.Second })
	r := run(t, p, question("hi"))
	if r.err != nil || r.text != "slow but steady" {
		t.Fatalf("text %q, err %v", r.text, r.err)
	}
}

func TestOpenAIIdleTimeout(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"Partial", " answer", " never finished"}, Fault: providertest.Hang, AfterChunks: 3})
	p := newOpenAI(t, srv, func(c *provider.OpenAIConfig) { c.IdleTimeout = 150 * time.Millisecond })
	start := time.Now()
	r := run(t, p, question("hi"))
	wantKind(t, r.err, provider.ErrTimeout)
	if r.text != "Partial answer" {
		t.Errorf("partial text = %q, want what arrived before the server went quiet", r.text)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s for a 150ms idle timeout", d)
	}
	select {
	case <-srv.Finished():
	case <-time.After(5 * time.Second):
		t.Error("the server still holds the request: the client did not let go")
	}
}

func TestOpenAIHeaderTimeout(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Fault: providertest.HangBeforeHeaders})
	p := newOpenAI(t, srv, func(c *provider.OpenAIConfig) {
		c.Transport = provider.NewTransport(provider.TransportOptions{HeaderTimeout: 150 * time.Millisecond})
	})
	start := time.Now()
	_, err := p.Stream(context.Background(), question("hi"))
	wantKind(t, err, provider.ErrTimeout)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s for a 150ms header timeout", d)
	}
}

func TestOpenAIConnectTimeout(t *testing.T) {
	// A listener that accepts TCP but never speaks TLS: the handshake is
	// part of connecting, bounded by ConnectTimeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	p, err := provider.NewOpenAI(provider.OpenAIConfig{Kind: provider.KindCompatible, BaseURL: "https://" + ln.Addr().String() + "/v1",
		Transport: provider.NewTransport(provider.TransportOptions{ConnectTimeout: 150 * time.Millisecond})})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = p.Stream(context.Background(), question("hi"))
	wantKind(t, err, provider.ErrTimeout)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s for a 150ms connect timeout", d)
	}
}

func TestOpenAIStreamCut(t *testing.T) {
	for _, f := range []struct {
		name  string
		fault providertest.Fault
	}{{"ended without DONE", providertest.Cut}, {"connection dropped", providertest.Abort}} {
		t.Run(f.name, func(t *testing.T) {
			srv := providertest.NewServer(t)
			srv.Enqueue(providertest.Response{Text: []string{"The answer", " is", " forty"}, Fault: f.fault, AfterChunks: 3})
			r := run(t, newOpenAI(t, srv, nil), question("hi"))
			wantKind(t, r.err, provider.ErrStreamCut)
			if r.text != "The answer is" {
				t.Errorf("partial text = %q, want what arrived", r.text)
			}
			if !strings.Contains(provider.UserMessage(r.err), "cut off") {
				t.Errorf("user message = %q", provider.UserMessage(r.err))
			}
		})
	}
}

func TestOpenAIToolCallsCutBeforeFinishAreNotDelivered(t *testing.T) {
	srv := providertest.NewServer(t)
	// role chunk, the call's first delta, one argument piece, then the end.
	srv.Enqueue(providertest.Response{ToolCalls: []providertest.ToolCall{{Name: "search_documents", Arguments: `{"query":"abc"}`}}, Fault: providertest.Cut, AfterChunks: 3})
	r := run(t, newOpenAI(t, srv, nil), question("hi"))
	wantKind(t, r.err, provider.ErrStreamCut)
	if len(r.calls) != 0 {
		t.Errorf("half a tool call was delivered: %+v", r.calls)
	}
}

func TestOpenAIMalformedChunk(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"Fine", " so far"}, Fault: providertest.Malformed, AfterChunks: 2})
	r := run(t, newOpenAI(t, srv, nil), question("hi"))
	wantKind(t, r.err, provider.ErrMalformed)
	if r.text != "Fine" {
		t.Errorf("text = %q", r.text)
	}
}

func TestOpenAINotStreamingIsMalformed(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"whole answer"}, Fault: providertest.NotStreaming})
	r := run(t, newOpenAI(t, srv, nil), question("hi"))
	wantKind(t, r.err, provider.ErrMalformed)
}

func TestOpenAIErrorEventMidStream(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"Partly", " there"}, Fault: providertest.ErrorEvent, AfterChunks: 2})
	r := run(t, newOpenAI(t, srv, nil), question("hi"))
	pe := wantKind(t, r.err, provider.ErrUnavailable)
	if pe.Detail != "Overloaded" || r.text != "Partly" {
		t.Errorf("detail %q, text %q", pe.Detail, r.text)
	}
}

func TestOpenAIStreamSizeLimit(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: providertest.Words(strings.Repeat("word ", 400))})
	p := newOpenAI(t, srv, func(c *provider.OpenAIConfig) { c.MaxStreamBytes = 4096 })
	r := run(t, p, question("hi"))
	wantKind(t, r.err, provider.ErrMalformed)
}

func TestOpenAIUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p, err := provider.NewOpenAI(provider.OpenAIConfig{Kind: provider.KindCompatible, BaseURL: "http://" + addr + "/v1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Stream(context.Background(), question("hi"))
	wantKind(t, err, provider.ErrUnavailable)
}

func TestOpenAIAzureURLShape(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.APIKey = "azure-key"
	srv.Enqueue(providertest.Response{Text: []string{"hello"}})
	p, err := provider.NewOpenAI(provider.OpenAIConfig{Kind: provider.KindAzure, BaseURL: srv.URL + "/", APIKey: "azure-key",
		AzureDeployment: "firm-gpt4o", AzureAPIVersion: "2024-06-01"})
	if err != nil {
		t.Fatal(err)
	}
	req := question("hi")
	req.Model = "gpt-4o"
	if r := run(t, p, req); r.err != nil || r.text != "hello" {
		t.Fatalf("text %q, err %v", r.text, r.err)
	}
	got := srv.Requests()[0]
	if got.Path != "/openai/deployments/firm-gpt4o/chat/completions" || got.RawQuery != "api-version=2024-06-01" {
		t.Errorf("request to %s?%s", got.Path, got.RawQuery)
	}
	if got.Header.Get("api-key") != "azure-key" || got.Header.Get("Authorization") != "" {
		t.Errorf("api-key %q, Authorization %q: Azure takes the key in api-key only", got.Header.Get("api-key"), got.Header.Get("Authorization"))
	}
	if p.Name() != "azure" {
		t.Errorf("name = %q", p.Name())
	}
	if _, err := provider.NewOpenAI(provider.OpenAIConfig{Kind: provider.KindAzure, BaseURL: srv.URL}); err == nil {
		t.Error("azure without a deployment was accepted")
	}
	// The API version defaults.
	srv.Enqueue(providertest.Response{Text: []string{"hello"}})
	p, _ = provider.NewOpenAI(provider.OpenAIConfig{Kind: provider.KindAzure, BaseURL: srv.URL, APIKey: "azure-key", AzureDeployment: "d"})
	run(t, p, req)
	if q := srv.Requests()[1].RawQuery; q != "api-version="+provider.DefaultAzureAPIVersion {
		t.Errorf("default api version: %s", q)
	}
}

func TestOpenAIWithoutKeySendsNoAuthorization(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"hi"}})
	p := newOpenAI(t, srv, func(c *provider.OpenAIConfig) { c.APIKey = "" })
	if r := run(t, p, question("hi")); r.err != nil {
		t.Fatal(r.err)
	}
	if h := srv.Requests()[0].Header.Get("Authorization"); h != "" {
		t.Errorf("Authorization = %q for a keyless server (Ollama)", h)
	}
}

func TestOpenAICancelByContext(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"first"}, Fault: providertest.Hang, AfterChunks: 2})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := newOpenAI(t, srv, func(c *provider.OpenAIConfig) { c.IdleTimeout = time.Minute }).Stream(ctx, question("hi"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, err := s.Recv(); err != nil || c.Text != "first" {
		t.Fatalf("first chunk %+v, %v", c, err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.Recv(); done <- err }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Recv still blocked after the context was cancelled")
	}
	select {
	case <-srv.Finished():
	case <-time.After(5 * time.Second):
		t.Error("the server still holds the request after cancel")
	}
}

func TestOpenAICloseAbandonsBlockedRecv(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"first"}, Fault: providertest.Hang, AfterChunks: 2})
	s, err := newOpenAI(t, srv, func(c *provider.OpenAIConfig) { c.IdleTimeout = time.Minute }).Stream(context.Background(), question("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.Recv(); done <- err }()
	closed := make(chan struct{})
	go func() { _ = s.Close(); close(closed) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Recv after Close: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Recv still blocked after Close")
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if _, err := s.Recv(); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv after Close returned %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	select {
	case <-srv.Finished():
	case <-time.After(5 * time.Second):
		t.Error("the server still holds the request after Close")
	}
}

func TestOpenAIRefusesRedirects(t *testing.T) {
	target := providertest.NewServer(t)
	target.Enqueue(providertest.Response{Text: []string{"should not be reached"}})
	redirector := httptest.NewServer(http.RedirectHandler(target.BaseURL()+"/chat/completions", http.StatusTemporaryRedirect))
	defer redirector.Close()
	p, err := provider.NewOpenAI(provider.OpenAIConfig{Kind: provider.KindCompatible, BaseURL: redirector.URL + "/v1", APIKey: "sk-secret"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Stream(context.Background(), question("hi"))
	pe := wantKind(t, err, provider.ErrForbiddenEndpoint)
	if !strings.Contains(pe.Detail, target.BaseURL()) {
		t.Errorf("detail = %q, want the redirect's target", pe.Detail)
	}
	if n := len(target.Requests()); n != 0 {
		t.Errorf("the key was sent on to the redirect's target (%d requests)", n)
	}
}

func TestOpenAIBlockPrivateAddresses(t *testing.T) {
	srv := providertest.NewServer(t)
	srv.Enqueue(providertest.Response{Text: []string{"internal"}})
	p := newOpenAI(t, srv, func(c *provider.OpenAIConfig) {
		c.Transport = provider.NewTransport(provider.TransportOptions{BlockPrivate: true})
	})
	_, err := p.Stream(context.Background(), question("hi"))
	wantKind(t, err, provider.ErrForbiddenEndpoint)
	if len(srv.Requests()) != 0 {
		t.Error("a request reached a loopback address")
	}
}

func TestCheckBaseURL(t *testing.T) {
	ok := []string{"https://api.openai.com/v1", "http://localhost:11434/v1", "https://firm.openai.azure.com"}
	for _, u := range ok {
		if err := provider.CheckBaseURL(u, true); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	bad := []string{"", "api.openai.com/v1", "ftp://x.example", "https://user:pw@api.example/v1", "https:///v1",
		"https://api.example/v1?key=x", "https://api.example/v1#x", "javascript:alert(1)"}
	for _, u := range bad {
		if err := provider.CheckBaseURL(u, true); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if err := provider.CheckBaseURL("http://localhost:11434/v1", false); err == nil {
		t.Error("http accepted where https is required")
	}
}

func TestEstimateInputCountsEverything(t *testing.T) {
	base := question("hello")
	withTools := base
	withTools.Tools = []provider.Tool{{Name: "search_documents", Description: "Search.", Parameters: map[string]any{"type": "object"}}}
	if provider.EstimateInput(withTools) <= provider.EstimateInput(base) || provider.EstimateInput(base) <= 0 {
		t.Error("tools do not count")
	}
	b, _ := json.Marshal(base)
	if provider.EstimateInput(base) > len(b) {
		t.Error("estimate is larger than the request's characters")
	}
}
