package requests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/form"
	"accute/internal/queue"
	"accute/internal/store"
)

// Service implements document requests.
type Service struct {
	Store *store.Store
	// Docs stores the uploads (with its checks, scan and encryption).
	Docs *documents.Service
	// Jobs queues e-mail delivery in the transaction of the change that
	// causes it; nil leaves the e-mails to the outbox's periodic sweep.
	Jobs queue.Inserter
	// BaseURL makes the links in e-mails absolute.
	BaseURL string
	// Policy schedules reminders; the zero value is DefaultReminderPolicy.
	Policy ReminderPolicy
	// PortalURL is the address a client's e-mail links a request to (the
	// portal's page for it). When nil, e-mails link to the organization
	// (/o/{slug}), which sends a signed-in client user to the portal.
	PortalURL func(orgSlug string, requestID uuid.UUID) string
	// Clock is the time (time.Now when nil); tests move it.
	Clock  func() time.Time
	Logger *slog.Logger
}

// Now is the service's time (its Clock).
func (s *Service) Now() time.Time { return s.now() }

func (s *Service) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Creating ---------------------------------------------------------------------

// Input is a new request.
type Input struct {
	ClientID     uuid.UUID
	Title        string
	Instructions string
	// DueOn is a date: its year, month and day count.
	DueOn time.Time
	// Items are the expected documents, in order; empty ones are dropped.
	Items     []string
	Reminders bool
}

// clean normalizes the input (spaces, control characters, empty items).
func (in Input) clean() Input {
	in.Title = strings.Join(strings.Fields(form.Clean(in.Title)), " ")
	in.Instructions = strings.TrimSpace(form.Clean(in.Instructions))
	items := make([]string, 0, len(in.Items))
	for _, it := range in.Items {
		if it = strings.Join(strings.Fields(form.Clean(it)), " "); it != "" {
			items = append(items, it)
		}
	}
	in.Items = items
	if !in.DueOn.IsZero() {
		in.DueOn = DateOf(in.DueOn)
	}
	return in
}

// Validate checks a new request's fields that need no database, as of now:
// the answer's keys are client_id, title, instructions, due_on and items.
func (in Input) Validate(now time.Time) form.Errors {
	in = in.clean()
	errs := form.Errors{}
	if in.ClientID == uuid.Nil {
		errs.Add("client_id", "Choose the client to ask.")
	}
	errs.Required("title", in.Title, MaxTitle)
	errs.MaxLen("instructions", in.Instructions, MaxInstructions)
	switch {
	case in.DueOn.IsZero():
		errs.Add("due_on", "Choose a due date.")
	case in.DueOn.Before(earliestDue(now)):
		errs.Add("due_on", "The due date cannot be in the past.")
	case in.DueOn.After(DateOf(now).AddDate(MaxDueYears, 0, 0)):
		errs.Add("due_on", fmt.Sprintf("Choose a due date within %d years.", MaxDueYears))
	}
	if len(in.Items) > MaxItems {
		errs.Add("items", fmt.Sprintf("List at most %d items.", MaxItems))
	}
	for _, it := range in.Items {
		errs.MaxLen("items", it, MaxItemLabel)
	}
	return errs
}

// Create makes a request and e-mails the client; it answers form.Errors for
// bad input (a client that is not the organization's included).
func (s *Service) Create(ctx context.Context, a Actor, in Input) (Request, error) {
	if !a.staff {
		return Request{}, ErrNotStaff
	}
	in = in.clean()
	if errs := in.Validate(s.now()); errs.Any() {
		return Request{}, errs
	}
	var out Request
	err := s.Store.InOrgTx(ctx, a.OrgID, func(tx pgx.Tx, q *db.Queries) error {
		client, err := q.GetDocumentRequestClient(ctx, db.GetDocumentRequestClientParams{OrganizationID: a.OrgID, ID: in.ClientID})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			return form.Errors{"client_id": "Choose a client from the list."}
		}
		if err != nil {
			return err
		}
		if client.ArchivedAt != nil {
			return form.Errors{"client_id": client.Name + " is archived: restore the client before asking for documents."}
		}
		r, err := q.CreateDocumentRequest(ctx, db.CreateDocumentRequestParams{
			OrganizationID: a.OrgID, ClientID: client.ID, Title: in.Title, Instructions: in.Instructions,
			DueOn: pgDate(in.DueOn), Reminders: in.Reminders, CreatedBy: &a.UserID,
		})
		if err != nil {
			return err
		}
		if len(in.Items) > 0 {
			if _, err := q.CreateDocumentRequestItems(ctx, db.CreateDocumentRequestItemsParams{OrganizationID: a.OrgID, RequestID: r.ID, Labels: in.Items}); err != nil {
				return err
			}
		}
		if err := s.addEvent(ctx, q, a.OrgID, r.ID, EventCreated, &a, ""); err != nil {
			return err
		}
		summary := fmt.Sprintf("%s: %q, due %s", client.Name, in.Title, in.DueOn.Format(time.DateOnly))
		if err := audit.Record(ctx, q, a.event(audit.RequestCreated, r.ID.String(), summary)); err != nil {
			return err
		}
		org, err := q.GetOrganizationName(ctx, a.OrgID)
		if err != nil {
			return err
		}
		to, err := s.clientRecipients(ctx, q, a.OrgID, client.ID)
		if err != nil {
			return err
		}
		for _, addr := range to {
			if err := s.send(ctx, tx, q, s.requestEmail(org, addr, r.ID, in.Title, in.Instructions, in.Items, in.DueOn)); err != nil {
				return err
			}
		}
		out, err = s.get(ctx, q, a.OrgID, r.ID, false, nil)
		return err
	})
	if err != nil {
		return Request{}, fmt.Errorf("create document request: %w", err)
	}
	return out, nil
}

// Reading ------------------------------------------------------------------------

func (s *Service) get(ctx context.Context, q *db.Queries, org, id uuid.UUID, scoped bool, clients []uuid.UUID) (Request, error) {
	row, err := q.GetDocumentRequest(ctx, db.GetDocumentRequestParams{OrganizationID: org, ID: id, Scoped: scoped, ClientIds: clientScope(clients)})
	if err != nil {
		return Request{}, err
	}
	return s.fromRow(row), nil
}

func (s *Service) details(ctx context.Context, org, id uuid.UUID, scoped bool, clients []uuid.UUID) (Details, error) {
	var d Details
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		if d.Request, err = s.get(ctx, q, org, id, scoped, clients); err != nil {
			return err
		}
		items, err := q.ListDocumentRequestItems(ctx, db.ListDocumentRequestItemsParams{OrganizationID: org, RequestID: id})
		if err != nil {
			return err
		}
		for _, it := range items {
			d.Items = append(d.Items, Item{ID: it.ID, Position: int(it.Position), Label: it.Label})
		}
		uploads, err := q.ListDocumentRequestUploads(ctx, db.ListDocumentRequestUploadsParams{OrganizationID: org, RequestID: id})
		if err != nil {
			return err
		}
		for _, u := range uploads {
			d.Uploads = append(d.Uploads, Upload{ID: u.ID, ItemID: u.ItemID, DocumentID: u.DocumentID, DocumentName: u.DocumentName,
				ContentType: u.ContentType, Size: u.Size, Archived: u.DocumentArchivedAt != nil, UploadedByName: u.UploadedByName, CreatedAt: u.CreatedAt})
		}
		events, err := q.ListDocumentRequestEvents(ctx, db.ListDocumentRequestEventsParams{OrganizationID: org, RequestID: id})
		if err != nil {
			return err
		}
		for _, e := range events {
			d.Events = append(d.Events, Event{Kind: e.Kind, ActorName: e.ActorName, Note: e.Note, CreatedAt: e.CreatedAt})
		}
		d.Request.Items, d.Request.Uploads = len(d.Items), len(d.Uploads)
		return nil
	})
	return d, err
}

// Get returns a request of the organization with its items, uploads and
// history; store.ErrNotFound when there is none.
func (s *Service) Get(ctx context.Context, org, id uuid.UUID) (Details, error) {
	return s.details(ctx, org, id, false, nil)
}

// GetForClients is Get for the client portal: only a request of one of
// clientIDs (the client user's clients) is found.
func (s *Service) GetForClients(ctx context.Context, org uuid.UUID, clientIDs []uuid.UUID, id uuid.UUID) (Details, error) {
	if len(clientIDs) == 0 {
		return Details{}, store.ErrNotFound
	}
	return s.details(ctx, org, id, true, clientIDs)
}

// Filter selects requests.
type Filter struct {
	// Status is one of Statuses, StatusActive (open, submitted and
	// rejected), or "" for every status.
	Status   string
	ClientID *uuid.UUID
	// Overdue keeps requests waiting for their client past the due date.
	Overdue bool
	Page    int
	PerPage int // PerPage when 0
}

func (f Filter) statuses() []string {
	switch {
	case f.Status == StatusActive:
		return []string{StatusOpen, StatusSubmitted, StatusRejected}
	case ValidStatus(f.Status):
		return []string{f.Status}
	}
	return []string{}
}

// PerPage is the size of a page of the request list.
const PerPage = 25

// Page is one page of requests in due-date order.
type Page struct {
	Rows  []Request
	Total int
	Page  int
}

func (s *Service) list(ctx context.Context, org uuid.UUID, scoped bool, clients []uuid.UUID, f Filter) (Page, error) {
	page := min(max(f.Page, 1), 100000)
	perPage := f.PerPage
	if perPage <= 0 {
		perPage = PerPage
	}
	params := db.ListDocumentRequestsParams{
		OrganizationID: org, Statuses: f.statuses(), ClientID: f.ClientID, Overdue: f.Overdue, Today: pgDate(s.now()),
		Scoped: scoped, ClientIds: clientScope(clients), MaxRows: int32(perPage), Skip: int32((page - 1) * perPage),
	}
	var out Page
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		rows, err := q.ListDocumentRequests(ctx, params)
		if err != nil {
			return err
		}
		if len(rows) == 0 && page > 1 {
			page, params.Skip = 1, 0
			if rows, err = q.ListDocumentRequests(ctx, params); err != nil {
				return err
			}
		}
		for _, r := range rows {
			out.Rows = append(out.Rows, s.fromListRow(r))
		}
		if len(rows) > 0 {
			out.Total = int(rows[0].Total)
		}
		return nil
	})
	out.Page = page
	return out, err
}

// List returns a page of the organization's requests.
func (s *Service) List(ctx context.Context, org uuid.UUID, f Filter) (Page, error) {
	return s.list(ctx, org, false, nil, f)
}

// ListForClients is List for the client portal: only the requests of
// clientIDs (the client user's clients).
func (s *Service) ListForClients(ctx context.Context, org uuid.UUID, clientIDs []uuid.UUID, f Filter) (Page, error) {
	if len(clientIDs) == 0 {
		return Page{Page: 1}, nil
	}
	return s.list(ctx, org, true, clientIDs, f)
}

// ClientRequests returns a client's active requests (at most limit) and
// how many it has, for the client's page.
func (s *Service) ClientRequests(ctx context.Context, org, client uuid.UUID, limit int) ([]Request, int, error) {
	p, err := s.list(ctx, org, false, nil, Filter{Status: StatusActive, ClientID: &client, PerPage: limit})
	return p.Rows, p.Total, err
}

// Cursor is a position in the (due date, id) order of the API's list.
type Cursor struct {
	DueOn time.Time
	ID    uuid.UUID
}

// PageFilter selects a page of requests after a cursor.
type PageFilter struct {
	Filter
	After *Cursor
	Limit int
}

// CursorPage is a page of requests and, when more follow, the cursor of
// the last one.
type CursorPage struct {
	Rows []Request
	Next *Cursor
}

// ListPage returns up to f.Limit requests after f.After (keyset
// pagination for the API): one query, asking for one row more to know
// whether another page follows.
func (s *Service) ListPage(ctx context.Context, org uuid.UUID, f PageFilter) (CursorPage, error) {
	params := db.ListDocumentRequestsPageParams{
		OrganizationID: org, AfterDue: pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true},
		Statuses: f.statuses(), ClientID: f.ClientID, Overdue: f.Overdue, Today: pgDate(s.now()), MaxRows: int32(f.Limit + 1),
	}
	if f.After != nil {
		params.AfterDue, params.AfterID = pgDate(f.After.DueOn), f.After.ID
	}
	var out CursorPage
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		rows, err := q.ListDocumentRequestsPage(ctx, params)
		if err != nil {
			return err
		}
		for i, r := range rows {
			if i == f.Limit {
				last := out.Rows[len(out.Rows)-1]
				out.Next = &Cursor{DueOn: last.DueOn, ID: last.ID}
				break
			}
			out.Rows = append(out.Rows, s.fromPageRow(r))
		}
		return nil
	})
	return out, err
}

// Reviewing ------------------------------------------------------------------------

// Accept accepts the documents of a submitted request and thanks the
// client.
func (s *Service) Accept(ctx context.Context, a Actor, id uuid.UUID) (Request, error) {
	return s.transition(ctx, a, id, func(ctx context.Context, q *db.Queries, r db.DocumentRequest) (string, string, error) {
		if r.Status != StatusSubmitted {
			return "", "", stateError(r.Status, "Only a submitted request can be accepted; this one is %s.", strings.ToLower(StatusLabel(r.Status)))
		}
		_, err := q.AcceptDocumentRequest(ctx, db.AcceptDocumentRequestParams{OrganizationID: a.OrgID, ID: id, ReviewedBy: &a.UserID})
		return EventAccepted, "", err
	})
}

// Reject sends a submitted request back to the client with a reason
// (required); the client uploads again.
func (s *Service) Reject(ctx context.Context, a Actor, id uuid.UUID, reason string) (Request, error) {
	reason = strings.TrimSpace(form.Clean(reason))
	errs := form.Errors{}
	errs.Required("reason", reason, MaxReason)
	if errs.Any() {
		if reason == "" {
			errs["reason"] = "Say what is missing or wrong, so the client knows what to upload."
		}
		return Request{}, errs
	}
	return s.transition(ctx, a, id, func(ctx context.Context, q *db.Queries, r db.DocumentRequest) (string, string, error) {
		if r.Status != StatusSubmitted {
			return "", "", stateError(r.Status, "Only a submitted request can be rejected; this one is %s.", strings.ToLower(StatusLabel(r.Status)))
		}
		_, err := q.RejectDocumentRequest(ctx, db.RejectDocumentRequestParams{OrganizationID: a.OrgID, ID: id, ReviewedBy: &a.UserID, RejectionReason: reason})
		return EventRejected, reason, err
	})
}

// Cancel withdraws a request that is not accepted yet (reason optional)
// and tells the client it is no longer needed.
func (s *Service) Cancel(ctx context.Context, a Actor, id uuid.UUID, reason string) (Request, error) {
	reason = strings.TrimSpace(form.Clean(reason))
	errs := form.Errors{}
	errs.MaxLen("reason", reason, MaxReason)
	if errs.Any() {
		return Request{}, errs
	}
	return s.transition(ctx, a, id, func(ctx context.Context, q *db.Queries, r db.DocumentRequest) (string, string, error) {
		if !uploadable(r.Status) {
			return "", "", stateError(r.Status, "This request is already %s.", strings.ToLower(StatusLabel(r.Status)))
		}
		_, err := q.CancelDocumentRequest(ctx, db.CancelDocumentRequestParams{OrganizationID: a.OrgID, ID: id, CancelReason: reason})
		return EventCancelled, reason, err
	})
}

// transition runs one staff change of status: lock, check and change (do),
// then the history, the audit trail and the client's e-mail, all in one
// transaction.
func (s *Service) transition(ctx context.Context, a Actor, id uuid.UUID,
	do func(ctx context.Context, q *db.Queries, r db.DocumentRequest) (kind, note string, err error)) (Request, error) {
	if !a.staff {
		return Request{}, ErrNotStaff
	}
	var out Request
	err := s.Store.InOrgTx(ctx, a.OrgID, func(tx pgx.Tx, q *db.Queries) error {
		r, err := q.LockDocumentRequest(ctx, db.LockDocumentRequestParams{OrganizationID: a.OrgID, ID: id, ClientIds: []uuid.UUID{}})
		if err != nil {
			return err
		}
		kind, note, err := do(ctx, q, r)
		if err != nil {
			return err
		}
		if err := s.addEvent(ctx, q, a.OrgID, id, kind, &a, note); err != nil {
			return err
		}
		if out, err = s.get(ctx, q, a.OrgID, id, false, nil); err != nil {
			return err
		}
		action, summary := audit.RequestAccepted, fmt.Sprintf("%s: %q accepted", out.ClientName, out.Title)
		switch kind {
		case EventRejected:
			action, summary = audit.RequestRejected, fmt.Sprintf("%s: %q rejected: %s", out.ClientName, out.Title, note)
		case EventCancelled:
			action, summary = audit.RequestCancelled, fmt.Sprintf("%s: %q cancelled", out.ClientName, out.Title)
			if note != "" {
				summary += ": " + note
			}
		}
		if err := audit.Record(ctx, q, a.event(action, id.String(), summary)); err != nil {
			return err
		}
		org, err := q.GetOrganizationName(ctx, a.OrgID)
		if err != nil {
			return err
		}
		to, err := s.clientRecipients(ctx, q, a.OrgID, out.ClientID)
		if err != nil {
			return err
		}
		for _, addr := range to {
			if err := s.send(ctx, tx, q, s.reviewEmail(org, addr, out, kind, note)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Request{}, err
	}
	return out, nil
}

// Uploading ------------------------------------------------------------------------

// Submission is what an upload did.
type Submission struct {
	RequestID uuid.UUID
	// Status is the request's status after the upload (submitted).
	Status string
	// Submitted is true when this upload moved the request to submitted
	// (and staff were told).
	Submitted bool
	Document  db.Document
}

// CheckUpload reports, before a file's bytes are read, whether a may
// upload to the request (and item): store.ErrNotFound, a *StateError for
// an accepted or cancelled request, form.Errors for an item that is not
// the request's.
func (s *Service) CheckUpload(ctx context.Context, a Actor, id uuid.UUID, itemID *uuid.UUID) (Request, error) {
	scoped, clients := a.scope()
	if !a.staff && len(clients) == 0 {
		return Request{}, store.ErrNotFound
	}
	var out Request
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if out, err = s.get(ctx, q, a.OrgID, id, scoped, clients); err != nil {
			return err
		}
		if !out.Uploadable() {
			return closedError(out.Status)
		}
		return checkItem(ctx, q, a.OrgID, id, itemID)
	})
	return out, err
}

func closedError(status string) *StateError {
	return stateError(status, "This request is %s: no more documents can be uploaded to it.", strings.ToLower(StatusLabel(status)))
}

func checkItem(ctx context.Context, q *db.Queries, org, request uuid.UUID, item *uuid.UUID) error {
	if item == nil {
		return nil
	}
	_, err := q.GetDocumentRequestItem(ctx, db.GetDocumentRequestItemParams{OrganizationID: org, RequestID: request, ID: *item})
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return form.Errors{"item_id": "Choose one of the request's items."}
	}
	return err
}

// Upload stores a file as a document of the request's client, through the
// documents service (its checks, virus scan, encryption and text
// extraction apply), and links it to the request and, when itemID is set,
// to that item. An open or rejected request becomes submitted and the
// firm is e-mailed. The document, the link, the status, the history and
// the audit trail are written in one transaction. It answers what
// CheckUpload answers, and *documents.Refusal for a file that is refused.
func (s *Service) Upload(ctx context.Context, a Actor, id uuid.UUID, itemID *uuid.UUID, filename string, content io.Reader) (Submission, error) {
	req, err := s.CheckUpload(ctx, a, id, itemID)
	if err != nil {
		return Submission{}, err
	}
	var sub Submission
	doc, err := s.Docs.Upload(ctx, documents.Actor{OrgID: a.OrgID, UserID: a.UserID, Email: a.Email}, documents.UploadInput{
		Filename: filename, Content: content, Placement: documents.Placement{ClientID: &req.ClientID},
		Link: func(ctx context.Context, tx pgx.Tx, q *db.Queries, doc db.Document) error {
			var err error
			sub, err = s.link(ctx, tx, q, a, id, itemID, doc)
			return err
		},
	})
	if err != nil {
		return Submission{}, err
	}
	sub.Document = doc
	return sub, nil
}

// link records an upload in the documents service's transaction.
func (s *Service) link(ctx context.Context, tx pgx.Tx, q *db.Queries, a Actor, id uuid.UUID, itemID *uuid.UUID, doc db.Document) (Submission, error) {
	scoped, clients := a.scope()
	// Checked again under the lock: the request may have been accepted or
	// cancelled while the file was uploading.
	r, err := q.LockDocumentRequest(ctx, db.LockDocumentRequestParams{OrganizationID: a.OrgID, ID: id, Scoped: scoped, ClientIds: clients})
	if err != nil {
		return Submission{}, err
	}
	if !uploadable(r.Status) {
		return Submission{}, closedError(r.Status)
	}
	if err := checkItem(ctx, q, a.OrgID, id, itemID); err != nil {
		return Submission{}, err
	}
	if _, err := q.CreateDocumentRequestUpload(ctx, db.CreateDocumentRequestUploadParams{
		OrganizationID: a.OrgID, RequestID: id, ItemID: itemID, DocumentID: doc.ID, UploadedBy: &a.UserID,
	}); err != nil {
		return Submission{}, err
	}
	if err := s.addEvent(ctx, q, a.OrgID, id, EventUploaded, &a, doc.Name); err != nil {
		return Submission{}, err
	}
	sub := Submission{RequestID: id, Status: StatusSubmitted}
	who := a.displayName()
	if a.staff {
		who += " (for the client)"
	}
	if !awaitingClient(r.Status) {
		if err := q.TouchDocumentRequest(ctx, db.TouchDocumentRequestParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return Submission{}, err
		}
		summary := fmt.Sprintf("%q: %s added by %s", r.Title, doc.Name, who)
		return sub, audit.Record(ctx, q, a.event(audit.RequestDocumentAdded, id.String(), summary))
	}
	if _, err := q.SetDocumentRequestSubmitted(ctx, db.SetDocumentRequestSubmittedParams{OrganizationID: a.OrgID, ID: id}); err != nil {
		return Submission{}, err
	}
	if err := s.addEvent(ctx, q, a.OrgID, id, EventSubmitted, &a, ""); err != nil {
		return Submission{}, err
	}
	sub.Submitted = true
	summary := fmt.Sprintf("%q submitted by %s with %s", r.Title, who, doc.Name)
	if err := audit.Record(ctx, q, a.event(audit.RequestSubmitted, id.String(), summary)); err != nil {
		return Submission{}, err
	}
	return sub, s.notifyStaff(ctx, tx, q, a, r, doc.Name)
}

// notifyStaff e-mails the member who made the request (or the owners when
// that member has left) that the client submitted, except the uploader.
func (s *Service) notifyStaff(ctx context.Context, tx pgx.Tx, q *db.Queries, a Actor, r db.DocumentRequest, docName string) error {
	staff, err := q.ListDocumentRequestStaffEmails(ctx, db.ListDocumentRequestStaffEmailsParams{OrganizationID: a.OrgID, CreatedBy: r.CreatedBy})
	if err != nil {
		return err
	}
	if len(staff) == 0 {
		return nil
	}
	org, err := q.GetOrganizationName(ctx, a.OrgID)
	if err != nil {
		return err
	}
	client, err := q.GetDocumentRequestClient(ctx, db.GetDocumentRequestClientParams{OrganizationID: a.OrgID, ID: r.ClientID})
	if err != nil {
		return err
	}
	for _, m := range staff {
		if m.ID == a.UserID {
			continue
		}
		if err := s.send(ctx, tx, q, s.submittedEmail(org, m.Email, r, client.Name, a.displayName(), docName)); err != nil {
			return err
		}
	}
	return nil
}

// History and recipients -----------------------------------------------------------

func (s *Service) addEvent(ctx context.Context, q *db.Queries, org, id uuid.UUID, kind string, a *Actor, note string) error {
	p := db.InsertDocumentRequestEventParams{OrganizationID: org, RequestID: id, Kind: kind, Note: truncate(note, MaxReason)}
	if a != nil {
		p.ActorID, p.ActorName = &a.UserID, a.displayName()
	}
	return q.InsertDocumentRequestEvent(ctx, p)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// clientRecipients lists the distinct, valid addresses of a client's
// request e-mails: the client's, its contacts' and its portal users'.
func (s *Service) clientRecipients(ctx context.Context, q *db.Queries, org, client uuid.UUID) ([]string, error) {
	rows, err := q.ListDocumentRequestClientEmails(ctx, db.ListDocumentRequestClientEmailsParams{OrganizationID: org, ClientID: client})
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range rows {
		addr := strings.TrimSpace(r.Email)
		if seen[addr] || !form.ValidEmail(addr) {
			continue
		}
		seen[addr] = true
		out = append(out, addr)
	}
	return out, nil
}
