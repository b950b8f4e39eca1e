// Package portal is the client portal: what a firm's clients see of it.
//
// A client user is a member of the organization with the role client (see
// tenant.RoleClient); such a member holds no permission on the firm's own
// pages. Staff link client users to client records (client_portal_links),
// from the client's page: by inviting an address (the invitation flow of
// package tenant, with the clients to link recorded on the invitation and
// linked on acceptance) or by linking an existing client user.
//
// A client user sees exactly the clients they are linked to, and of those
// only the active ones: every read of the portal side goes through a query
// that joins client_portal_links on the user, so a document, a KYC check
// or a client that is not linked answers store.ErrNotFound, exactly like
// one that does not exist. Documents are those of the linked clients, minus
// other people's identity documents.
//
// KYC (the identity check) is kept per link: the client user uploads
// identity documents (stored through documents.Service like every file:
// checked, scanned, encrypted at rest) and submits them; staff verify them,
// or reject them with a reason, after which the client user can change
// them and submit again. Every step is audited and e-mailed through the
// outbox (package notify).
//
// Methods take an Actor built by the handler from the request's principal,
// never from form fields, and work inside store.InOrg for its organization.
package portal

import (
	"errors"
	"strings"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/documents"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Service implements the client portal.
type Service struct {
	Store *store.Store
	// Documents stores and serves the files (uploads, identity documents).
	Docs *documents.Service
	// Orgs sends invitations (the client users' invitation flow).
	Orgs *tenant.Service
	// BaseURL makes the links in e-mails absolute.
	BaseURL string
}

func (s *Service) base() string { return strings.TrimRight(s.BaseURL, "/") }

// Actor is who acts, and in which organization: a client user on the
// portal's pages, a member of the firm on the client page.
type Actor struct {
	OrgID   uuid.UUID
	OrgSlug string
	OrgName string
	UserID  uuid.UUID
	Email   string
	Name    string
}

// ActorOf builds the Actor of the request's principal (on an organization
// page).
func ActorOf(p *tenant.Principal) Actor {
	a := Actor{UserID: p.User.ID, Email: p.User.Email, Name: p.User.Name}
	if p.Org != nil {
		a.OrgID, a.OrgSlug, a.OrgName = p.Org.ID, p.Org.Slug, p.Org.Name
	}
	return a
}

// displayName is the actor as e-mails name them.
func (a Actor) displayName() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Email
}

func (a Actor) docs() documents.Actor {
	return documents.Actor{OrgID: a.OrgID, UserID: a.UserID, Email: a.Email}
}

func (a Actor) event(action, targetType, targetID, summary string) audit.Event {
	return audit.Event{
		OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email,
		Action: action, TargetType: targetType, TargetID: targetID, Summary: summary,
	}
}

// StateError refuses a change the current state does not allow (a KYC
// check under review cannot take new documents, say). Its message is
// written for the person who asked.
type StateError struct{ Message string }

func (e *StateError) Error() string { return e.Message }

// Refusals of KYC changes.
var (
	ErrKYCUnderReview  = &StateError{"Your identity documents are being reviewed. You can change them again if the firm asks you to."}
	ErrKYCVerified     = &StateError{"Your identity has been verified; there is nothing more to send."}
	ErrKYCNoDocuments  = &StateError{"Upload at least one identity document before submitting."}
	ErrKYCNotSubmitted = &StateError{"There is nothing to review: the client user has not submitted identity documents, or they were already reviewed."}
)

// KYC statuses.
const (
	KYCPending   = "pending"
	KYCSubmitted = "submitted"
	KYCVerified  = "verified"
	KYCRejected  = "rejected"
)

// KYCStatusLabel is a status in words, and the badge kind it shows with.
func KYCStatusLabel(status string) (label, kind string) {
	switch status {
	case KYCPending:
		return "Not submitted", "neutral"
	case KYCSubmitted:
		return "Under review", "info"
	case KYCVerified:
		return "Verified", "success"
	case KYCRejected:
		return "Needs attention", "error"
	}
	return status, "neutral"
}

// KYCKind is a kind of identity document.
type KYCKind struct {
	Key   string
	Label string
}

// KYCKinds are the identity documents a client user can upload, in the
// order the form offers them.
var KYCKinds = []KYCKind{
	{"passport", "Passport"},
	{"national_id", "National identity card"},
	{"driving_licence", "Driving licence"},
	{"proof_of_address", "Proof of address"},
	{"other", "Other document"},
}

// KYCKindLabel names a kind of identity document.
func KYCKindLabel(key string) string {
	for _, k := range KYCKinds {
		if k.Key == key {
			return k.Label
		}
	}
	return "Document"
}

func validKind(key string) bool {
	for _, k := range KYCKinds {
		if k.Key == key {
			return true
		}
	}
	return false
}

// notFound reports whether err is store.ErrNotFound.
func notFound(err error) bool { return errors.Is(store.MapError(err), store.ErrNotFound) }
