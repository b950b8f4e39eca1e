package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"
)

// Kinds of provider an organization or the platform configures.
const (
	KindOffline    = "offline"
	KindOpenAI     = "openai"
	KindAzure      = "azure"
	KindCompatible = "compatible"
)

// Defaults of the OpenAI-protocol providers.
const (
	DefaultOpenAIBaseURL   = "https://api.openai.com/v1"
	DefaultAzureAPIVersion = "2024-10-21"
	// DefaultMaxStreamBytes bounds one streamed answer: a server that
	// never stops (or sends one endless line) ends with ErrMalformed
	// instead of exhausting memory.
	DefaultMaxStreamBytes = 16 << 20
)

// OpenAIConfig configures a provider that speaks OpenAI's chat completions
// protocol.
type OpenAIConfig struct {
	// Kind is KindOpenAI, KindAzure or KindCompatible (Anthropic's
	// OpenAI-compatible endpoint, Ollama, vLLM and the like).
	Kind string
	// BaseURL: the API root, e.g. https://api.openai.com/v1 (the default
	// for KindOpenAI), http://localhost:11434/v1 for Ollama, or for Azure
	// the resource, https://NAME.openai.azure.com.
	BaseURL string
	// APIKey is sent as a bearer token, or in Azure's api-key header. A
	// compatible server that needs none (Ollama) gets no header.
	APIKey string
	// AzureAPIVersion (default DefaultAzureAPIVersion) and AzureDeployment
	// (required for KindAzure): requests go to
	// BASE/openai/deployments/DEPLOYMENT/chat/completions?api-version=V.
	AzureAPIVersion string
	AzureDeployment string
	// IdleTimeout bounds the wait for each chunk of a streamed answer
	// (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Transport sends the requests; nil uses NewTransport's defaults.
	// Connect and header timeouts are the transport's.
	Transport http.RoundTripper
	// MaxStreamBytes bounds one answer (default DefaultMaxStreamBytes).
	MaxStreamBytes int64
}

// OpenAI is a Provider for OpenAI, Azure OpenAI and OpenAI-compatible
// endpoints, through go-openai.
type OpenAI struct {
	kind   string
	idle   time.Duration
	client *openai.Client
}

var defaultTransport = sync.OnceValue(func() *http.Transport { return NewTransport(TransportOptions{}) })

// NewOpenAI builds the provider; the configuration is checked, nothing is
// sent.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" && cfg.Kind == KindOpenAI {
		base = DefaultOpenAIBaseURL
	}
	if err := CheckBaseURL(base, true); err != nil {
		return nil, fmt.Errorf("provider %s: %w", cfg.Kind, err)
	}
	var oc openai.ClientConfig
	switch cfg.Kind {
	case KindOpenAI, KindCompatible:
		oc = openai.DefaultConfig(cfg.APIKey)
		oc.BaseURL = base
	case KindAzure:
		deployment := strings.TrimSpace(cfg.AzureDeployment)
		if deployment == "" {
			return nil, errors.New("provider azure: a deployment name is required")
		}
		oc = openai.DefaultAzureConfig(cfg.APIKey, base)
		oc.APIVersion = orDefault(strings.TrimSpace(cfg.AzureAPIVersion), DefaultAzureAPIVersion)
		// Every model name goes to the one configured deployment.
		oc.AzureModelMapperFunc = func(string) string { return url.PathEscape(deployment) }
	default:
		return nil, fmt.Errorf("provider: unknown kind %q", cfg.Kind)
	}
	var rt http.RoundTripper = defaultTransport()
	if cfg.Transport != nil {
		rt = cfg.Transport
	}
	maxBytes := cfg.MaxStreamBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxStreamBytes
	}
	oc.HTTPClient = &doer{client: &http.Client{Transport: rt, CheckRedirect: noRedirects}, maxBytes: maxBytes}
	// Servers that send keep-alive comments while a long answer is being
	// prepared must not be mistaken for a broken stream.
	oc.EmptyMessagesLimit = 10000
	idle := cfg.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	return &OpenAI{kind: cfg.Kind, idle: idle, client: openai.NewClientWithConfig(oc)}, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// CheckBaseURL validates an endpoint address: absolute http(s), a host, no
// user name or password (keys belong in the key field, where they are
// sealed; credentials in a URL end up in logs), no query or fragment.
// With allowHTTP false only https is accepted.
func CheckBaseURL(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || raw == "":
		return errors.New("the base URL is not a valid address")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("the base URL must start with https://")
	case u.Scheme == "http" && !allowHTTP:
		return errors.New("the base URL must use https://")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("the base URL has no host name")
	case u.User != nil:
		return errors.New("the base URL must not contain a user name or password; put the key in the API key field")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?"):
		return errors.New("the base URL must not have a query (?…) or fragment (#…)")
	}
	return nil
}

// Name labels the provider in logs and the usage ledger.
func (p *OpenAI) Name() string {
	if p.kind == KindCompatible {
		return "openai-compatible"
	}
	return p.kind
}

// reasoningModel reports whether model is one of OpenAI's reasoning
// models, which refuse a temperature and max_tokens.
func reasoningModel(model string) bool {
	for _, prefix := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, prefix) {
			return true
		}
	}
	return false
}

// chatRequest translates req into go-openai's request.
func (p *OpenAI) chatRequest(req Request) openai.ChatCompletionRequest {
	out := openai.ChatCompletionRequest{
		Model:         req.Model,
		Stream:        true,
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	}
	for _, m := range req.Messages {
		cm := openai.ChatCompletionMessage{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, Name: m.Name}
		if m.Role == RoleTool {
			// The protocol identifies a tool result by tool_call_id alone;
			// strict servers refuse a name on it. It must have content.
			cm.Name = ""
			if cm.Content == "" {
				cm.Content = "{}"
			}
		}
		for _, tc := range m.ToolCalls {
			cm.ToolCalls = append(cm.ToolCalls, openai.ToolCall{ID: tc.ID, Type: openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: tc.Name, Arguments: tc.Arguments}})
		}
		out.Messages = append(out.Messages, cm)
	}
	for _, t := range req.Tools {
		params := t.Parameters
		if params == nil {
			params = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		out.Tools = append(out.Tools, openai.Tool{Type: openai.ToolTypeFunction,
			Function: &openai.FunctionDefinition{Name: t.Name, Description: t.Description, Parameters: params}})
	}
	if reasoningModel(req.Model) {
		// Temperature is fixed for these models; the bound is
		// max_completion_tokens.
		out.MaxCompletionTokens = req.MaxTokens
		return out
	}
	// go-openai omits a zero temperature, which servers read as their
	// default (1.0); the smallest positive float is its documented way to
	// send "precise".
	out.Temperature = float32(req.Temperature)
	if req.Temperature <= 0 {
		out.Temperature = math.SmallestNonzeroFloat32
	}
	if p.kind == KindOpenAI {
		out.MaxCompletionTokens = req.MaxTokens
	} else {
		// Azure's older API versions, Ollama and vLLM know max_tokens.
		//lint:ignore SA1019 deprecated by OpenAI only; compatible servers still read max_tokens
		out.MaxTokens = req.MaxTokens
	}
	return out
}

// Causes of the stream's own cancellations.
var (
	errIdle   = errors.New("idle timeout")
	errClosed = errors.New("stream closed")
)

// Stream starts a streamed completion. Failures are *Error values; when
// ctx ends, its error is returned as is.
func (p *OpenAI) Stream(ctx context.Context, req Request) (Stream, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	st, err := p.client.CreateChatCompletionStream(sctx, p.chatRequest(req))
	if err != nil {
		// go-openai returns no stream on failure; the doer has already
		// closed any response body.
		err = mapError(ctx, sctx, err)
		cancel(errClosed)
		return nil, err
	}
	return &openaiStream{parent: ctx, ctx: sctx, cancel: cancel, st: st, idle: p.idle,
		inputEstimate: EstimateInput(req), byIndex: map[int]*partialCall{}}, nil
}

// openaiStream turns go-openai's chunks into Chunks: text as it comes,
// tool calls once complete, usage last.
type openaiStream struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   time.Duration

	mu       sync.Mutex // one Recv at a time; Close waits for it
	st       *openai.ChatCompletionStream
	released bool
	queue    []Chunk
	err      error // sticky: every Recv after a failure returns it
	eof      bool  // io.EOF delivered or due once the queue is empty

	finished      bool // a finish_reason arrived: the answer is complete
	usage         *Usage
	outputRunes   int
	inputEstimate int
	calls         []*partialCall
	byIndex       map[int]*partialCall
}

type partialCall struct {
	id, name string
	args     strings.Builder
}

// Recv returns the next chunk, io.EOF after the last one, or the error
// that ended the stream (an *Error, or the context's error when the caller
// cancelled or Close was called).
func (s *openaiStream) Recv() (Chunk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if len(s.queue) > 0 {
			c := s.queue[0]
			s.queue = s.queue[1:]
			return c, nil
		}
		if s.err != nil {
			return Chunk{}, s.err
		}
		if s.eof {
			return Chunk{}, io.EOF
		}
		resp, err := s.next()
		if err != nil {
			s.end(err)
			continue
		}
		if err := s.absorb(resp); err != nil {
			s.fail(err)
		}
	}
}

// next reads one chunk from the server within the idle timeout.
func (s *openaiStream) next() (openai.ChatCompletionStreamResponse, error) {
	if s.released {
		return openai.ChatCompletionStreamResponse{}, context.Canceled
	}
	t := time.AfterFunc(s.idle, func() { s.cancel(errIdle) })
	defer t.Stop()
	return s.st.Recv()
}

// absorb queues what one server chunk carries.
func (s *openaiStream) absorb(resp openai.ChatCompletionStreamResponse) error {
	if resp.Usage != nil {
		// Some servers report running totals on every chunk: the last wins,
		// delivered once at the end.
		s.usage = &Usage{InputTokens: resp.Usage.PromptTokens, OutputTokens: resp.Usage.CompletionTokens}
	}
	for _, ch := range resp.Choices {
		if ch.Index != 0 || s.finished {
			continue // one choice is asked for; nothing counts after the finish
		}
		text := ch.Delta.Content + ch.Delta.Refusal
		if text != "" {
			s.outputRunes += utf8.RuneCountInString(text)
			s.queue = append(s.queue, Chunk{Text: text})
		}
		for _, d := range ch.Delta.ToolCalls {
			s.addToolDelta(d)
		}
		if ch.FinishReason != "" && ch.FinishReason != openai.FinishReasonNull {
			s.finished = true
			calls, err := s.completeCalls()
			if err != nil {
				return err
			}
			if len(calls) > 0 {
				s.queue = append(s.queue, Chunk{ToolCalls: calls})
			}
		}
	}
	return nil
}

// addToolDelta accumulates one tool-call delta. OpenAI numbers calls by
// index; servers that omit the index send each call whole or continue the
// last one.
func (s *openaiStream) addToolDelta(d openai.ToolCall) {
	var pc *partialCall
	switch {
	case d.Index != nil:
		pc = s.byIndex[*d.Index]
		if pc == nil {
			pc = &partialCall{}
			s.byIndex[*d.Index] = pc
			s.calls = append(s.calls, pc)
		}
	case d.ID != "":
		for _, c := range s.calls {
			if c.id == d.ID {
				pc = c
			}
		}
		if pc == nil {
			pc = &partialCall{}
			s.calls = append(s.calls, pc)
		}
	case len(s.calls) > 0:
		pc = s.calls[len(s.calls)-1]
	default:
		pc = &partialCall{}
		s.calls = append(s.calls, pc)
	}
	if pc.id == "" {
		pc.id = d.ID
	}
	if pc.name == "" {
		pc.name = d.Function.Name
	}
	pc.args.WriteString(d.Function.Arguments)
}

// completeCalls turns the accumulated deltas into ToolCalls.
func (s *openaiStream) completeCalls() ([]ToolCall, error) {
	var out []ToolCall
	for i, c := range s.calls {
		if c.name == "" {
			return nil, &Error{Kind: ErrMalformed, Detail: fmt.Sprintf("tool call %d has no function name", i+1)}
		}
		args := strings.TrimSpace(c.args.String())
		if args == "" {
			args = "{}"
		}
		id := c.id
		if id == "" {
			id = "call_" + strconv.Itoa(i+1)
		}
		s.outputRunes += utf8.RuneCountInString(c.name) + utf8.RuneCountInString(args)
		out = append(out, ToolCall{ID: id, Name: c.name, Arguments: args})
	}
	s.calls, s.byIndex = nil, map[int]*partialCall{}
	return out, nil
}

// end handles the error that ended the server's stream.
func (s *openaiStream) end(err error) {
	if errors.Is(err, io.EOF) {
		if s.finished {
			s.complete()
		} else {
			s.fail(&Error{Kind: ErrStreamCut, Detail: "the stream ended before the answer was finished"})
		}
		return
	}
	mapped := mapError(s.parent, s.ctx, err)
	var pe *Error
	var apiErr *openai.APIError
	switch {
	case !errors.As(mapped, &pe):
		s.fail(mapped) // the caller cancelled, or Close
	case s.finished:
		// The answer is complete; only the usage chunk or [DONE] is
		// missing, so what arrived stands, with estimated usage.
		s.complete()
	case errors.Is(pe, ErrUnavailable) && !errors.As(err, &apiErr):
		// The connection failed (reset, closed) while the answer was
		// being read: the answer was cut, whatever the network said.
		s.fail(&Error{Kind: ErrStreamCut, Detail: pe.Detail})
	default:
		s.fail(pe)
	}
}

// complete queues the usage (reported, or estimated from the text) and
// then io.EOF.
func (s *openaiStream) complete() {
	u := s.usage
	if u == nil {
		u = &Usage{InputTokens: s.inputEstimate, OutputTokens: (s.outputRunes + 3) / 4}
	}
	s.queue = append(s.queue, Chunk{Usage: u})
	s.eof = true
	s.release()
}

func (s *openaiStream) fail(err error) {
	s.err = err
	s.queue = nil
	s.release()
}

// release closes the response body (mu held).
func (s *openaiStream) release() {
	if s.released {
		return
	}
	s.released = true
	s.cancel(errClosed)
	_ = s.st.Close()
}

// Close abandons the stream: the request's context is cancelled first, so
// a Recv blocked on the network returns at once, then the body is closed.
// Recv afterwards returns context.Canceled (or io.EOF if the stream had
// already ended).
func (s *openaiStream) Close() error {
	s.cancel(errClosed)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil && !s.eof {
		s.err = context.Canceled
		s.queue = nil
	}
	s.release()
	return nil
}

// mapError words a failure as an *Error. parent is the caller's context,
// own the stream's (whose cause says whether the idle timer or Close
// cancelled it).
func mapError(parent, own context.Context, err error) error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	if parent.Err() != nil {
		return parent.Err()
	}
	switch cause := context.Cause(own); {
	case errors.Is(cause, errIdle):
		return &Error{Kind: ErrTimeout, Detail: "no data arrived for too long while the answer was streaming"}
	case errors.Is(cause, errClosed):
		return context.Canceled
	}
	var (
		apiErr *openai.APIError
		reqErr *openai.RequestError
		synErr *json.SyntaxError
		typErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &apiErr):
		if apiErr.HTTPStatusCode > 0 {
			return statusError(apiErr.HTTPStatusCode, nil, apiErr.Message, time.Now())
		}
		// An error event inside a 200 stream.
		return &Error{Kind: streamErrorKind(apiErr), Detail: clip(apiErr.Message)}
	case errors.As(err, &reqErr):
		return statusError(reqErr.HTTPStatusCode, nil, string(reqErr.Body), time.Now())
	case errors.As(err, &synErr), errors.As(err, &typErr), errors.Is(err, openai.ErrTooManyEmptyStreamMessages):
		return &Error{Kind: ErrMalformed, Detail: clip(err.Error())}
	case errors.Is(err, openai.ErrChatCompletionInvalidModel), errors.Is(err, openai.ErrReasoningModelMaxTokensDeprecated),
		errors.Is(err, openai.ErrReasoningModelLimitationsOther), errors.Is(err, openai.ErrReasoningSamplingUnsupported),
		errors.Is(err, openai.ErrReasoningToolsRequireResponses):
		return &Error{Kind: ErrBadRequest, Detail: err.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Kind: ErrStreamCut, Detail: "the connection closed before the answer was finished"}
	}
	return transportError(own, err)
}

// streamErrorKind classifies an error event sent inside a stream by its
// type or code (OpenAI's and Anthropic's names).
func streamErrorKind(e *openai.APIError) error {
	code := strings.ToLower(e.Type + " " + fmt.Sprint(e.Code))
	switch {
	case strings.Contains(code, "rate_limit"):
		return ErrRateLimited
	case strings.Contains(code, "auth") || strings.Contains(code, "permission"):
		return ErrUnauthorized
	case strings.Contains(code, "invalid_request") || strings.Contains(code, "not_found"):
		return ErrBadRequest
	default: // server_error, overloaded_error, api_error, ...
		return ErrUnavailable
	}
}

// statusError maps an HTTP failure status to an *Error. body is the raw
// response body (an OpenAI-style {"error": {...}} is reduced to its
// message); header may be nil.
func statusError(status int, header http.Header, body string, now time.Time) *Error {
	e := &Error{Status: status, Detail: errorDetail(body)}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Kind = ErrUnauthorized
	case status == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
		e.RetryAfter = RetryAfter(header, now)
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		e.Kind = ErrTimeout
	case status >= 500:
		e.Kind = ErrUnavailable
	case status >= 300 && status < 400:
		e.Kind = ErrForbiddenEndpoint
		e.Detail = "the endpoint redirects"
		if loc := header.Get("Location"); loc != "" {
			e.Detail += " to " + clip(loc) + "; use that address as the base URL"
		}
	default: // 400, 404, 413, 422 and other refusals
		e.Kind = ErrBadRequest
	}
	return e
}

// RetryAfter reads Retry-After (seconds, or an HTTP date) and OpenAI's
// retry-after-ms; zero when absent or unreadable, at most a day.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	var d time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && !math.IsInf(secs, 0) {
			d = time.Duration(math.Min(secs, 86400) * float64(time.Second))
		} else if t, err := http.ParseTime(v); err == nil && t.After(now) {
			d = t.Sub(now)
		}
	}
	if d == 0 {
		if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After-Ms")), 64); err == nil && ms > 0 && !math.IsInf(ms, 0) {
			d = time.Duration(math.Min(ms, 86400e3) * float64(time.Millisecond))
		}
	}
	return min(d, 24*time.Hour)
}

// errorDetail reduces an error body to the provider's message.
func errorDetail(body string) string {
	body = strings.TrimSpace(body)
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal([]byte(body), &env) == nil && len(env.Error) > 0 {
		var obj struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(env.Error, &obj) == nil && obj.Message != "" {
			return clip(obj.Message)
		}
		var s string
		if json.Unmarshal(env.Error, &s) == nil && s != "" {
			return clip(s)
		}
	}
	return clip(body)
}

// clip keeps details short and on one line.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 300 {
		s = string([]rune(s)[:300]) + "…"
	}
	return s
}

// noRedirects refuses to follow redirects: the API key would travel with
// the request to wherever the endpoint points.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// doer is go-openai's HTTP client. It answers failure statuses itself, so
// that the Retry-After header is read (go-openai drops the headers of an
// error) and the body is read within a bound and closed; and it bounds the
// size of a streamed answer.
type doer struct {
	client   *http.Client
	maxBytes int64
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, transportError(req.Context(), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, statusError(resp.StatusCode, resp.Header, string(body), time.Now())
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/html") {
		// A server that answered without streaming (or a proxy's page).
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, &Error{Kind: ErrMalformed, Status: resp.StatusCode, Detail: "expected a streamed answer (text/event-stream), got " + ct + ": " + errorDetail(string(body))}
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: d.maxBytes}
	return resp, nil
}

// limitedBody fails a stream that grows past its bound.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, &Error{Kind: ErrMalformed, Detail: "the answer exceeded the size limit"}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
