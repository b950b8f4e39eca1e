// Package runs is conversations with AI agents and their runs: a member's
// message starts a run, persisted with the message and the job that
// executes it (service.go); the job's worker drives the provider and the
// tools and appends what it produces as numbered events (executor.go);
// NOTIFY tells every instance, whose SSE hub (internal/realtime) reads the
// events and streams them to browsers and API clients.
package runs

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"accute/internal/agents/provider"
	"accute/internal/realtime"
)

// NOTIFY channels. Payloads are small: "<run id>:<seq>" on EventsChannel,
// "<run id>" on CancelChannel.
const (
	EventsChannel = "accute_run_events"
	CancelChannel = "accute_run_cancel"
)

// Event types, as stored in agent_run_events and named in the SSE stream.
const (
	EventDelta  = "delta"  // DeltaData: text appended to the answer
	EventStatus = "status" // StatusData: what the agent is doing
	EventDone   = "done"   // DoneData: the end, with citations and usage
)

// Run statuses.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Finished reports whether status is final.
func Finished(status string) bool {
	return status == StatusSucceeded || status == StatusFailed || status == StatusCancelled
}

// DeltaData is a delta event's data.
type DeltaData struct {
	Text string `json:"text"`
}

// StatusData is a status event's data: Message is for people ("Searching
// your documents for “VAT”"); Tool names the tool being called.
type StatusData struct {
	Tool    string `json:"tool,omitempty"`
	Message string `json:"message"`
}

// Usage is a run's tokens.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// DoneData is the done event's data: how the run ended (Error is for
// people), the stored answer, the sources it cites and the tokens used.
type DoneData struct {
	Status    string             `json:"status"`
	Error     string             `json:"error"`
	MessageID *uuid.UUID         `json:"message_id"`
	Citations []provider.Passage `json:"citations"`
	Usage     Usage              `json:"usage"`
}

// TopicOf is the hub topic of a run's events.
func TopicOf(runID uuid.UUID) string { return "run:" + runID.String() }

// ParseEventsPayload reads a NOTIFY payload of EventsChannel.
func ParseEventsPayload(p string) (uuid.UUID, int64, bool) {
	id, seq, ok := strings.Cut(p, ":")
	if !ok {
		return uuid.Nil, 0, false
	}
	runID, err := uuid.Parse(id)
	if err != nil {
		return uuid.Nil, 0, false
	}
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil {
		return uuid.Nil, 0, false
	}
	return runID, n, true
}

// DecodeCitations reads a message's stored citations.
func DecodeCitations(raw []byte) []provider.Passage {
	var out []provider.Passage
	if err := json.Unmarshal(raw, &out); err != nil || out == nil {
		return []provider.Passage{}
	}
	return out
}

// HubNotifier is the EventsChannel handler for realtime.Listener: it tells
// the hub which run has new events.
func HubNotifier(hub *realtime.Hub) func(payload string) {
	return func(p string) {
		if id, seq, ok := ParseEventsPayload(p); ok {
			hub.Notify(TopicOf(id), seq)
		}
	}
}
