// Package requests is document requests: a firm asks a client for
// documents (a title, instructions, a due date and optionally a list of
// expected items, which built-in templates prefill), the client uploads
// against the request, and staff accept the documents or reject them with
// a reason, which sends the request back to the client. Reminders go out
// before and after the due date; every step is in the request's history
// (its events) and in the organization's audit trail.
//
//	open ──upload──▶ submitted ──accept──▶ accepted
//	  ▲                  │
//	  │               reject (reason)
//	  │                  ▼
//	  └────────────── rejected ──upload──▶ submitted ...
//
// open, submitted and rejected requests can be cancelled by staff.
//
// Every upload against a request is a real document, stored through
// documents.Service.Upload (so the size and type checks, the virus scan,
// encryption at rest and text extraction all apply), belonging to the
// request's client, and linked to the request (and to one of its items) in
// the transaction that records the document.
//
// # Actors and scope
//
// Every change takes an Actor, built by the caller from the request's
// principal, never from a form field. Staff(...) acts for the whole
// organization; ClientUser(...) acts for a client user of the portal and
// reaches only the requests of the clients it names. A zero Actor reaches
// nothing.
//
// # How the client portal uses this package
//
// The portal (internal/portal, handlers/portal*.go) works out which clients
// the signed-in client user is linked to and then calls only these:
//
//	// The user's requests (Filter.Status: "" all, StatusActive, or one status).
//	page, err := svc.ListForClients(ctx, orgID, clientIDs, requests.Filter{Status: requests.StatusActive, Page: n})
//	// One request with its items, uploaded documents and history; store.ErrNotFound
//	// when it is not one of those clients' (answer 404).
//	d, err := svc.GetForClients(ctx, orgID, clientIDs, requestID)
//	// Uploading a file against it (itemID optional, one of d.Items):
//	a := requests.ClientUser(orgID, user.ID, user.Email, user.Name, clientIDs)
//	if _, err := svc.CheckUpload(ctx, a, requestID, itemID); err != nil { ... } // before reading the body
//	// ... end the request's transaction as handlers.beginUpload does, then per file:
//	sub, err := svc.Upload(ctx, a, requestID, itemID, part.FileName(), part)
//
// Upload answers store.ErrNotFound (not the user's request), *StateError
// (accepted or cancelled: show its Message, 409 or the form), form.Errors
// ({"item_id": ...}) and whatever documents.Service.Upload refuses
// (*documents.Refusal for the file's type, size or a virus; show its
// Reason). On success the request is submitted (Submission.Submitted is true
// when this upload moved it there and staff were told by e-mail).
// Request.Status, RejectionReason and Overdue are what the client should
// see; StatusLabel gives the words.
//
// Staff pages and the JSON API use Create, List, ListPage, Get, Accept,
// Reject, Cancel, and Upload with a Staff actor (an upload on the client's
// behalf).
package requests

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"accute/internal/audit"
	"accute/internal/db"
)

// Statuses of a request.
const (
	StatusOpen      = "open"
	StatusSubmitted = "submitted"
	StatusAccepted  = "accepted"
	StatusRejected  = "rejected"
	StatusCancelled = "cancelled"
	// StatusActive is a filter, not a status: open, submitted and rejected.
	StatusActive = "active"
)

// Statuses lists every status in the order of the workflow.
var Statuses = []string{StatusOpen, StatusSubmitted, StatusRejected, StatusAccepted, StatusCancelled}

// ValidStatus reports whether s is a status.
func ValidStatus(s string) bool { return slices.Contains(Statuses, s) }

// StatusLabel is a status in words, for staff and clients alike.
func StatusLabel(s string) string {
	switch s {
	case StatusOpen:
		return "Waiting for client"
	case StatusSubmitted:
		return "Submitted for review"
	case StatusAccepted:
		return "Accepted"
	case StatusRejected:
		return "Changes requested"
	case StatusCancelled:
		return "Cancelled"
	}
	return s
}

// awaitingClient: the client has something to do (upload).
func awaitingClient(status string) bool { return status == StatusOpen || status == StatusRejected }

// uploadable: documents can still be added.
func uploadable(status string) bool {
	return status == StatusOpen || status == StatusSubmitted || status == StatusRejected
}

// Limits.
const (
	MaxTitle        = 200
	MaxInstructions = 5000
	MaxItems        = 20
	MaxItemLabel    = 200
	MaxReason       = 2000
	// MaxDueYears bounds how far ahead a due date may be.
	MaxDueYears = 5
)

// Actor is who acts, and in which organization: staff of the firm, or a
// client user of the portal restricted to some clients.
type Actor struct {
	OrgID  uuid.UUID
	UserID uuid.UUID
	Email  string
	Name   string
	// clients are the client user's clients; staff reach every client.
	clients []uuid.UUID
	staff   bool
}

// Staff is a member of the firm acting for the whole organization.
func Staff(org, user uuid.UUID, email, name string) Actor {
	return Actor{OrgID: org, UserID: user, Email: email, Name: name, staff: true}
}

// ClientUser is a client user of the portal, who reaches only the requests
// of clientIDs (the clients the user is linked to).
func ClientUser(org, user uuid.UUID, email, name string, clientIDs []uuid.UUID) Actor {
	return Actor{OrgID: org, UserID: user, Email: email, Name: name, clients: slices.Clone(clientIDs)}
}

// IsStaff reports whether a acts for the firm.
func (a Actor) IsStaff() bool { return a.staff }

// scope is the client restriction queries take: (false, nil) for staff.
func (a Actor) scope() (bool, []uuid.UUID) {
	if a.staff {
		return false, []uuid.UUID{}
	}
	return true, clientScope(a.clients)
}

// clientScope never hands a nil slice to a query (nil would be NULL).
func clientScope(ids []uuid.UUID) []uuid.UUID {
	if ids == nil {
		return []uuid.UUID{}
	}
	return ids
}

func (a Actor) displayName() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Email
}

func (a Actor) event(action, targetID, summary string) audit.Event {
	return audit.Event{
		OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email,
		Action: action, TargetType: "document_request", TargetID: targetID, Summary: summary,
	}
}

// Errors the callers map to answers.
var (
	// ErrNotStaff: only the firm's staff may do this (a client user tried
	// to create, review or cancel a request).
	ErrNotStaff = errors.New("only the firm's staff can do this")
)

// StateError refuses a change the request's status does not allow; Message
// is for people.
type StateError struct {
	Status  string
	Message string
}

func (e *StateError) Error() string { return e.Message }

func stateError(status, format string, args ...any) *StateError {
	return &StateError{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Request is a document request as lists and pages show it.
type Request struct {
	ID              uuid.UUID
	ClientID        uuid.UUID
	ClientName      string
	Title           string
	Instructions    string
	DueOn           time.Time // a date: midnight UTC
	Status          string
	Reminders       bool
	RejectionReason string // the last rejection's, while rejected
	CancelReason    string
	CreatedBy       *uuid.UUID
	CreatedByName   string
	ReviewedByName  string
	SubmittedAt     *time.Time
	ReviewedAt      *time.Time
	ClosedAt        *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// Items and Uploads count the expected items and uploaded documents
	// (set by lists and Get).
	Items   int
	Uploads int
	// Overdue: waiting for the client past its due date.
	Overdue bool
}

// AwaitingClient reports whether the client has to upload (open, or
// rejected and sent back).
func (r Request) AwaitingClient() bool { return awaitingClient(r.Status) }

// Uploadable reports whether documents can still be uploaded to it.
func (r Request) Uploadable() bool { return uploadable(r.Status) }

// Reviewable reports whether staff can accept or reject it now.
func (r Request) Reviewable() bool { return r.Status == StatusSubmitted }

// Cancellable reports whether staff can cancel it.
func (r Request) Cancellable() bool { return uploadable(r.Status) }

// Item is one expected item of a request.
type Item struct {
	ID       uuid.UUID
	Position int
	Label    string
}

// Upload is a document uploaded against a request.
type Upload struct {
	ID             uuid.UUID
	ItemID         *uuid.UUID
	DocumentID     uuid.UUID
	DocumentName   string
	ContentType    string
	Size           int64
	Archived       bool // the document was archived since
	UploadedByName string
	CreatedAt      time.Time
}

// Event kinds of a request's history.
const (
	EventCreated   = "created"
	EventUploaded  = "uploaded"
	EventSubmitted = "submitted"
	EventAccepted  = "accepted"
	EventRejected  = "rejected"
	EventCancelled = "cancelled"
	EventReminded  = "reminded"
)

// Event is one step of a request's history.
type Event struct {
	Kind      string
	ActorName string // empty for the reminder job
	Note      string // the document's name, a reason, a reminder's step
	CreatedAt time.Time
}

// Details is a request with its items, uploads and history.
type Details struct {
	Request Request
	Items   []Item
	Uploads []Upload
	Events  []Event
}

// ItemUploads returns the uploads against item (nil: those against no
// item).
func (d Details) ItemUploads(item *uuid.UUID) []Upload {
	var out []Upload
	for _, u := range d.Uploads {
		if (item == nil && u.ItemID == nil) || (item != nil && u.ItemID != nil && *u.ItemID == *item) {
			out = append(out, u)
		}
	}
	return out
}

// Dates -----------------------------------------------------------------------

// DateOf is t's calendar day in UTC, as midnight UTC.
func DateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ParseDate reads a YYYY-MM-DD date.
func ParseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// earliestDue is the earliest due date a new request may have: today
// somewhere on Earth. The last time zone (UTC-12) is still on a day that
// UTC has left, so a date picked as "today" in the firm's evening is not
// refused as past.
func earliestDue(now time.Time) time.Time { return DateOf(now.Add(-12 * time.Hour)) }

func pgDate(t time.Time) pgtype.Date { return pgtype.Date{Time: DateOf(t), Valid: true} }

func fromPgDate(d pgtype.Date) time.Time {
	if !d.Valid {
		return time.Time{}
	}
	return DateOf(d.Time)
}

// Row mapping ------------------------------------------------------------------

func (s *Service) fromRow(r db.GetDocumentRequestRow) Request {
	out := Request{
		ID: r.ID, ClientID: r.ClientID, ClientName: r.ClientName, Title: r.Title, Instructions: r.Instructions,
		DueOn: fromPgDate(r.DueOn), Status: r.Status, Reminders: r.Reminders, RejectionReason: r.RejectionReason,
		CancelReason: r.CancelReason, CreatedBy: r.CreatedBy, CreatedByName: r.CreatedByName, ReviewedByName: r.ReviewedByName,
		SubmittedAt: r.SubmittedAt, ReviewedAt: r.ReviewedAt, ClosedAt: r.ClosedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	out.Overdue = out.AwaitingClient() && out.DueOn.Before(DateOf(s.now()))
	return out
}

func (s *Service) fromListRow(r db.ListDocumentRequestsRow) Request {
	out := Request{
		ID: r.ID, ClientID: r.ClientID, ClientName: r.ClientName, Title: r.Title, DueOn: fromPgDate(r.DueOn),
		Status: r.Status, Reminders: r.Reminders, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, SubmittedAt: r.SubmittedAt,
		Items: int(r.Items), Uploads: int(r.Uploads),
	}
	out.Overdue = out.AwaitingClient() && out.DueOn.Before(DateOf(s.now()))
	return out
}

func (s *Service) fromPageRow(r db.ListDocumentRequestsPageRow) Request {
	out := Request{
		ID: r.ID, ClientID: r.ClientID, ClientName: r.ClientName, Title: r.Title, Instructions: r.Instructions,
		DueOn: fromPgDate(r.DueOn), Status: r.Status, Reminders: r.Reminders, RejectionReason: r.RejectionReason,
		CancelReason: r.CancelReason, CreatedBy: r.CreatedBy, SubmittedAt: r.SubmittedAt, ReviewedAt: r.ReviewedAt,
		ClosedAt: r.ClosedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Items: int(r.Items), Uploads: int(r.Uploads),
	}
	out.Overdue = out.AwaitingClient() && out.DueOn.Before(DateOf(s.now()))
	return out
}
