// Package providertest is an OpenAI-compatible chat completions server for
// tests. It speaks the real streaming wire format — server-sent events of
// chat.completion.chunk objects, tool calls as deltas, a usage chunk when
// stream_options.include_usage asks for it, and data: [DONE] — and
// misbehaves on demand: failure statuses, slow chunks, a stream cut or
// aborted mid-answer, malformed chunks, a server that hangs.
//
// Each request takes the next scripted Response (Enqueue); a request with
// nothing scripted gets a 500 that names the problem. Every request is
// recorded (Requests).
package providertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Fault is a way the server misbehaves while streaming.
type Fault int

// Faults.
const (
	// NoFault streams the answer, the finish reason, usage and [DONE].
	NoFault Fault = iota
	// Cut ends the response cleanly after AfterChunks content chunks: no
	// finish_reason, no [DONE].
	Cut
	// Abort drops the connection after AfterChunks content chunks, in the
	// middle of the chunked body.
	Abort
	// Malformed sends a chunk of broken JSON after AfterChunks content
	// chunks.
	Malformed
	// Hang sends the headers and AfterChunks content chunks, then nothing,
	// until the client leaves or the server closes.
	Hang
	// HangBeforeHeaders accepts the request and never answers.
	HangBeforeHeaders
	// NotStreaming answers 200 with a plain JSON completion, as a server
	// that ignores "stream": true would.
	NotStreaming
	// ErrorEvent sends an error object inside the stream after AfterChunks
	// content chunks, as OpenAI and Anthropic do when a model is
	// overloaded mid-answer.
	ErrorEvent
)

// ToolCall is a tool call the scripted answer makes.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
	// Pieces splits Arguments into this many deltas (default 3).
	Pieces int
}

// Usage is the usage chunk's counts.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Response is one scripted answer.
type Response struct {
	// Status other than 0 or 200 answers with that status, Header and
	// Body (default: an OpenAI-style error object).
	Status int
	Header http.Header
	Body   string

	// Text is streamed one element per chunk.
	Text []string
	// ToolCalls are streamed as deltas, after the text.
	ToolCalls []ToolCall
	// FinishReason defaults to "tool_calls" with tool calls, else "stop".
	FinishReason string
	// Usage is sent when the request asks for it (stream_options); nil
	// sends counts derived from the request and the answer. NoUsage sends
	// none even when asked.
	Usage   *Usage
	NoUsage bool
	// OmitIndex leaves out the tool calls' "index", as some compatible
	// servers do; each call then comes whole in one delta.
	OmitIndex bool

	// Delay is the pause before each chunk (slow chunks).
	Delay time.Duration
	Fault Fault
	// AfterChunks is how many content chunks go out before the fault.
	AfterChunks int
}

// Words splits s into word-sized pieces, each word with the whitespace
// before it, the way models stream: "Hello world" → "Hello", " world".
func Words(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if i > 0 && unicode.IsSpace(r) && !unicode.IsSpace(prev(s, i)) {
			out = append(out, s[start:i])
			start = i
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func prev(s string, i int) rune {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

// Message is a message of a received request.
type Message struct {
	Role       string `json:"role"`
	Content    string `json:"content"`
	Name       string `json:"name"`
	ToolCallID string `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// ChatRequest is the body of a received request, decoded.
type ChatRequest struct {
	Model               string    `json:"model"`
	Messages            []Message `json:"messages"`
	Stream              bool      `json:"stream"`
	Temperature         *float64  `json:"temperature"`
	MaxTokens           int       `json:"max_tokens"`
	MaxCompletionTokens int       `json:"max_completion_tokens"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string         `json:"name"`
			Description string         `json:"description"`
			Parameters  map[string]any `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
}

// Request is a recorded request.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Raw      []byte
	Chat     ChatRequest
}

// Server is the fake provider.
type Server struct {
	*httptest.Server
	// APIKey, when set, is required as "Authorization: Bearer KEY" or
	// "api-key: KEY"; other requests get a 401.
	APIKey string

	mu       sync.Mutex
	script   []Response
	requests []Request
	stop     chan struct{}
	stopOnce sync.Once
	finished chan struct{}
}

// NewServer starts a server; it is closed when the test ends.
func NewServer(t interface{ Cleanup(func()) }) *Server {
	s := &Server{stop: make(chan struct{}), finished: make(chan struct{}, 1024)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the API root to configure as base URL (…/v1).
func (s *Server) BaseURL() string { return s.Server.URL + "/v1" }

// Close releases hanging handlers, then shuts the server down.
func (s *Server) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.Server.CloseClientConnections()
	s.Server.Close()
}

// Enqueue scripts the answers to the next requests, in order.
func (s *Server) Enqueue(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Pending is how many scripted answers are still unused.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script)
}

// Finished receives one value each time a request's handler returns: after
// the answer was sent, or when the client went away from a slow or hanging
// one. Tests use it to see that a client really let go.
func (s *Server) Finished() <-chan struct{} { return s.finished }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	defer func() {
		select {
		case s.finished <- struct{}{}:
		default:
		}
	}()
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	rec := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Raw: raw}
	chatErr := json.Unmarshal(raw, &rec.Chat)
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	var resp Response
	scripted := len(s.script) > 0
	if scripted {
		resp, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()

	switch {
	case s.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+s.APIKey && r.Header.Get("api-key") != s.APIKey:
		writeError(w, http.StatusUnauthorized, nil, `{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}`)
		return
	case r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions"):
		writeError(w, http.StatusNotFound, nil, `{"error":{"message":"Unknown path `+r.URL.Path+`","type":"invalid_request_error"}}`)
		return
	case chatErr != nil:
		writeError(w, http.StatusBadRequest, nil, `{"error":{"message":"invalid JSON body","type":"invalid_request_error"}}`)
		return
	case !scripted:
		writeError(w, http.StatusInternalServerError, nil, `{"error":{"message":"providertest: no scripted response for this request","type":"server_error"}}`)
		return
	case resp.Status != 0 && resp.Status != http.StatusOK:
		body := resp.Body
		if body == "" {
			body = fmt.Sprintf(`{"error":{"message":"scripted status %d","type":"scripted_error","code":null}}`, resp.Status)
		}
		writeError(w, resp.Status, resp.Header, body)
		return
	case resp.Fault == HangBeforeHeaders:
		s.wait(r, 0)
		return
	case resp.Fault == NotStreaming:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-test","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}]}`, strings.Join(resp.Text, ""))
		return
	}
	s.stream(w, r, rec.Chat, resp)
}

func writeError(w http.ResponseWriter, status int, h http.Header, body string) {
	for k, vs := range h {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// wait blocks until the client leaves, the server closes, or d passes
// (d = 0: no limit).
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-r.Context().Done():
		return false
	case <-s.stop:
		return false
	case <-timer:
		return true
	}
}

// chunk is a chat.completion.chunk.
type chunk struct {
	ID      string         `json:"id"`
	Object  string         `json:"object"`
	Created int64          `json:"created"`
	Model   string         `json:"model"`
	Choices []chunkChoice  `json:"choices"`
	Usage   map[string]int `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int            `json:"index"`
	Delta        map[string]any `json:"delta"`
	FinishReason *string        `json:"finish_reason"`
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request, req ChatRequest, resp Response) {
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush()
	}
	model := req.Model
	if model == "" {
		model = "test-model"
	}
	send := func(data string) bool {
		if resp.Delay > 0 && !s.wait(r, resp.Delay) {
			return false
		}
		if _, err := io.WriteString(w, "data: "+data+"\n\n"); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	encode := func(c chunk) string {
		c.ID, c.Object, c.Created, c.Model = "chatcmpl-test", "chat.completion.chunk", 1700000000, model
		b, _ := json.Marshal(c)
		return string(b)
	}
	delta := func(d map[string]any) string {
		return encode(chunk{Choices: []chunkChoice{{Index: 0, Delta: d}}})
	}

	// The content chunks: role, text pieces, tool-call deltas.
	var content []string
	content = append(content, delta(map[string]any{"role": "assistant", "content": ""}))
	completion := 0
	for _, t := range resp.Text {
		content = append(content, delta(map[string]any{"content": t}))
		completion++
	}
	for i, tc := range resp.ToolCalls {
		id := tc.ID
		if id == "" {
			id = fmt.Sprintf("call_test_%d", i+1)
		}
		if resp.OmitIndex {
			content = append(content, delta(map[string]any{"tool_calls": []any{map[string]any{
				"id": id, "type": "function", "function": map[string]any{"name": tc.Name, "arguments": tc.Arguments}}}}))
			continue
		}
		content = append(content, delta(map[string]any{"tool_calls": []any{map[string]any{
			"index": i, "id": id, "type": "function", "function": map[string]any{"name": tc.Name, "arguments": ""}}}}))
		for _, piece := range split(tc.Arguments, tc.Pieces) {
			content = append(content, delta(map[string]any{"tool_calls": []any{map[string]any{
				"index": i, "function": map[string]any{"arguments": piece}}}}))
		}
		completion++
	}

	for i, c := range content {
		if resp.Fault != NoFault && i == resp.AfterChunks {
			s.misbehave(w, r, fl, resp.Fault)
			return
		}
		if !send(c) {
			return
		}
	}
	if resp.Fault != NoFault {
		s.misbehave(w, r, fl, resp.Fault)
		return
	}

	finish := resp.FinishReason
	if finish == "" {
		finish = "stop"
		if len(resp.ToolCalls) > 0 {
			finish = "tool_calls"
		}
	}
	if !send(encode(chunk{Choices: []chunkChoice{{Index: 0, Delta: map[string]any{}, FinishReason: &finish}}})) {
		return
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage && !resp.NoUsage {
		u := resp.Usage
		if u == nil {
			prompt := 0
			for _, m := range req.Messages {
				prompt += len(strings.Fields(m.Content)) + 3
			}
			u = &Usage{PromptTokens: prompt, CompletionTokens: completion}
		}
		if !send(encode(chunk{Choices: []chunkChoice{}, Usage: map[string]int{
			"prompt_tokens": u.PromptTokens, "completion_tokens": u.CompletionTokens, "total_tokens": u.PromptTokens + u.CompletionTokens}})) {
			return
		}
	}
	send("[DONE]")
}

func (s *Server) misbehave(w http.ResponseWriter, r *http.Request, fl http.Flusher, f Fault) {
	switch f {
	case Cut:
		// Return: the server ends the chunked body properly, without
		// finish_reason or [DONE].
	case Abort:
		// Drop the connection mid-body (net/http's sanctioned way).
		panic(http.ErrAbortHandler)
	case Malformed:
		_, _ = io.WriteString(w, "data: {\"id\":\"chatcmpl-test\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"broken\"\n\n")
		if fl != nil {
			fl.Flush()
		}
		s.wait(r, 0)
	case Hang:
		s.wait(r, 0)
	case ErrorEvent:
		_, _ = io.WriteString(w, `data: {"error":{"message":"Overloaded","type":"overloaded_error","code":null}}`+"\n\n")
	}
}

// split cuts s into n pieces of about equal length in characters (n
// default 3).
func split(s string, n int) []string {
	if n <= 0 {
		n = 3
	}
	rs := []rune(s)
	if len(rs) == 0 {
		return nil
	}
	var out []string
	size := (len(rs) + n - 1) / n
	for len(rs) > 0 {
		k := min(size, len(rs))
		out = append(out, string(rs[:k]))
		rs = rs[k:]
	}
	return out
}
