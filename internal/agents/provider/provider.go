// Package provider is the one small interface every language model sits
// behind: a streaming chat completion that may ask for tool calls.
//
// Implementations: OpenAI, Azure OpenAI and OpenAI-compatible endpoints
// (openai.go, through go-openai), and the built-in offline provider
// (offline.go), the default, which answers from the organization's own
// documents by calling the search_documents tool like a model would and
// quoting what it found.
//
// The run executor (internal/agents) drives the loop: it sends the
// conversation and the tools the agent may use, reads chunks until io.EOF,
// executes any tool calls the model asked for, appends their results as
// RoleTool messages and asks again, until the model answers without tool
// calls.
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Roles of a chat message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Message is one message of the conversation sent to the model.
type Message struct {
	Role    string
	Content string
	// ToolCalls: on an assistant message, the calls the model asked for.
	ToolCalls []ToolCall
	// ToolCallID and Name: on a tool message, the call it answers.
	ToolCallID string
	Name       string
}

// Tool is a function the model may call; Parameters is a JSON Schema
// object.
type Tool struct {
	Name        string
	Description string
	Parameters  map[string]any
}

// ToolCall is a complete call the model asked for; Arguments is JSON.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// Request is one completion.
type Request struct {
	Model       string
	Temperature float64
	Messages    []Message
	Tools       []Tool
	// MaxTokens bounds the answer; 0 leaves it to the provider.
	MaxTokens int
}

// Usage counts the tokens of one completion.
type Usage struct {
	InputTokens  int
	OutputTokens int
}

// Chunk is one piece of a streamed answer. A chunk carries text, or the
// finished tool calls (delivered whole, once every delta of them has
// arrived), or the usage (normally on the last chunk); any may be empty.
type Chunk struct {
	Text      string
	ToolCalls []ToolCall
	Usage     *Usage
}

// Stream is a completion being received. Recv returns io.EOF after the last
// chunk; any other error ends the stream (see Error). Close may be called
// at any time, also concurrently with Recv to abandon the stream.
type Stream interface {
	Recv() (Chunk, error)
	Close() error
}

// Provider starts streamed completions.
type Provider interface {
	// Name is a short label for logs and the usage ledger ("offline",
	// "openai", "azure", "openai-compatible").
	Name() string
	Stream(ctx context.Context, req Request) (Stream, error)
}

// Error kinds, for the message a user sees and for retry decisions.
var (
	ErrUnauthorized = errors.New("the AI provider refused the API key")
	ErrRateLimited  = errors.New("the AI provider is rate limiting requests")
	ErrUnavailable  = errors.New("the AI provider is unavailable")
	ErrTimeout      = errors.New("the AI provider did not answer in time")
	ErrStreamCut    = errors.New("the AI provider's answer was cut off")
	ErrMalformed    = errors.New("the AI provider sent a malformed answer")
	ErrBadRequest   = errors.New("the AI provider refused the request")
	// ErrForbiddenEndpoint: the configured address is one this platform
	// does not connect to (a private network address, a redirect).
	ErrForbiddenEndpoint = errors.New("the AI provider's address is not allowed")
)

// Error is a provider failure: Kind is one of the Err* values above,
// RetryAfter is set from a 429's Retry-After, Detail is the provider's own
// words (for logs and the run's record, never trusted as HTML).
type Error struct {
	Kind       error
	Status     int
	RetryAfter time.Duration
	Detail     string
}

func (e *Error) Error() string {
	msg := e.Kind.Error()
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter.Round(time.Second))
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Kind }

// UserMessage words err for the person who asked: what happened and what
// to do, without the provider's raw text.
func UserMessage(err error) string {
	var pe *Error
	switch {
	case errors.As(err, &pe) && errors.Is(pe.Kind, ErrRateLimited) && pe.RetryAfter > 0:
		return fmt.Sprintf("The AI provider is busy (rate limited). Try again in %s.", pe.RetryAfter.Round(time.Second))
	case errors.Is(err, ErrRateLimited):
		return "The AI provider is busy (rate limited). Try again in a minute."
	case errors.Is(err, ErrUnauthorized):
		return "The AI provider refused the API key. An administrator can check it under Settings → AI provider."
	case errors.Is(err, ErrUnavailable):
		return "The AI provider is unavailable right now. Try again later."
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "The AI provider did not answer in time. Try again."
	case errors.Is(err, ErrStreamCut):
		return "The AI provider's answer was cut off. What arrived is kept; ask again to continue."
	case errors.Is(err, ErrMalformed):
		return "The AI provider sent an answer that could not be read."
	case errors.Is(err, ErrForbiddenEndpoint):
		return "The AI provider's address is not allowed on this platform (it points into a private network or redirects elsewhere). An administrator can change it under Settings → AI provider."
	case errors.Is(err, ErrBadRequest):
		return "The AI provider refused the request. An administrator can check the model name under Settings → AI provider."
	default:
		return "The answer could not be completed because of an unexpected error."
	}
}

// EstimateTokens estimates how many tokens text takes when a provider does
// not report usage: about four characters a token, the usual figure for
// English with the common tokenizers.
func EstimateTokens(text string) int {
	n := utf8.RuneCountInString(text)
	if n == 0 {
		return 0
	}
	return (n + 3) / 4
}

// EstimateInput estimates the input tokens of a request: its messages, tool
// calls and tool definitions, with a few tokens of framing per message.
func EstimateInput(req Request) int {
	n := 0
	for _, m := range req.Messages {
		n += 4 + EstimateTokens(m.Content) + EstimateTokens(m.Name)
		for _, tc := range m.ToolCalls {
			n += 4 + EstimateTokens(tc.Name) + EstimateTokens(tc.Arguments)
		}
	}
	for _, t := range req.Tools {
		n += 8 + EstimateTokens(t.Name) + EstimateTokens(t.Description)
		if b, err := json.Marshal(t.Parameters); err == nil {
			n += EstimateTokens(string(b))
		}
	}
	return n
}

// SearchToolName is the tool through which answers find the firm's
// documents; the offline provider calls it for every question.
const SearchToolName = "search_documents"

// SearchResult is the JSON content of a search_documents tool result. The
// run executor turns its passages into the run's citations; [n] in an
// answer refers to the passage with Ref n.
type SearchResult struct {
	Query    string    `json:"query"`
	Passages []Passage `json:"passages"`
}

// Passage is one retrieved place in a document (or a client record).
type Passage struct {
	Ref        int    `json:"ref"`
	Kind       string `json:"kind"` // "document" or "client"
	DocumentID string `json:"document_id,omitempty"`
	Title      string `json:"title"`
	// Locator is "page 3", "Sheet1!B4", or empty for a whole text file.
	Locator    string `json:"locator,omitempty"`
	ClientID   string `json:"client_id,omitempty"`
	ClientName string `json:"client_name,omitempty"`
	Text       string `json:"text"`
}
