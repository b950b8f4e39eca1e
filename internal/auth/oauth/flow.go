package oauth

import (
	"encoding/json"
	"errors"
	"time"
)

// FlowTTL is how long a sign-in may take at the provider.
const FlowTTL = 10 * time.Minute

// Modes of a flow.
const (
	ModeLogin = "login"
	ModeLink  = "link"
)

// Flow is what a sign-in remembers between leaving for the provider and
// coming back: the state (CSRF), the PKCE verifier and the OIDC nonce. It
// lives in the server-side session, never in the browser.
type Flow struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
	Mode     string `json:"m"`
	// UserID is the signed-in user who asked to link an identity.
	UserID string `json:"u,omitempty"`
	// Next is where to go after signing in (already checked to be local).
	Next string `json:"x,omitempty"`
	// Goth is goth's marshalled session.
	Goth    string `json:"g"`
	Created int64  `json:"t"`
}

// Encode serialises the flow for the session.
func (f Flow) Encode() string {
	b, _ := json.Marshal(f)
	return string(b)
}

// DecodeFlow reads a flow back; an empty or damaged value is ErrNoFlow.
func DecodeFlow(s string) (Flow, error) {
	var f Flow
	if s == "" || json.Unmarshal([]byte(s), &f) != nil || f.State == "" || f.Provider == "" {
		return Flow{}, ErrNoFlow
	}
	return f, nil
}

func (f Flow) expired(now time.Time) bool {
	return now.Sub(time.Unix(f.Created, 0)) > FlowTTL || f.Created > now.Add(time.Minute).Unix()
}

// Refusal is a sign-in or link that cannot go ahead. Message is written for
// the person and safe to show; Status is the HTTP status to answer with.
type Refusal struct {
	Status  int
	Message string
	// Reason is the audit trail's summary.
	Reason string
}

func (r *Refusal) Error() string { return r.Reason }

// Flow and protocol failures.
var (
	ErrNoFlow          = &Refusal{400, "This sign-in attempt has expired or was started in another browser. Please try again.", "no sign-in in progress"}
	ErrState           = &Refusal{400, "This sign-in attempt could not be verified. Please try again.", "state mismatch"}
	ErrNoCode          = &Refusal{400, "The provider did not send back a sign-in code. Please try again.", "no code in callback"}
	ErrUnknownProvider = errors.New("unknown provider")
)
