package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/form"
	"accute/internal/requests"
)

// DocumentRequest is a document request as lists show it.
type DocumentRequest struct {
	ID              uuid.UUID  `json:"id"`
	ClientID        uuid.UUID  `json:"client_id"`
	ClientName      string     `json:"client_name"`
	Title           string     `json:"title"`
	Instructions    string     `json:"instructions"`
	DueDate         string     `json:"due_date"` // YYYY-MM-DD
	Status          string     `json:"status"`
	Overdue         bool       `json:"overdue"`
	Reminders       bool       `json:"reminders"`
	RejectionReason string     `json:"rejection_reason"`
	CancelReason    string     `json:"cancel_reason"`
	ItemCount       int        `json:"item_count"`
	DocumentCount   int        `json:"document_count"`
	SubmittedAt     *time.Time `json:"submitted_at"`
	ReviewedAt      *time.Time `json:"reviewed_at"`
	ClosedAt        *time.Time `json:"closed_at"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// DocumentRequestItem is an expected item.
type DocumentRequestItem struct {
	ID       uuid.UUID `json:"id"`
	Position int       `json:"position"`
	Label    string    `json:"label"`
}

// DocumentRequestDocument is a document uploaded against a request.
type DocumentRequestDocument struct {
	DocumentID  uuid.UUID  `json:"document_id"`
	ItemID      *uuid.UUID `json:"item_id"`
	Name        string     `json:"name"`
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size"`
	Archived    bool       `json:"archived"`
	UploadedBy  string     `json:"uploaded_by"`
	UploadedAt  time.Time  `json:"uploaded_at"`
}

// DocumentRequestEvent is a step of a request's history.
type DocumentRequestEvent struct {
	Kind      string    `json:"kind"`
	ActorName string    `json:"actor_name"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// DocumentRequestDetails is a request with its items, documents and
// history.
type DocumentRequestDetails struct {
	DocumentRequest
	Items     []DocumentRequestItem     `json:"items"`
	Documents []DocumentRequestDocument `json:"documents"`
	Events    []DocumentRequestEvent    `json:"events"`
}

// DocumentRequestInput is the body of POST /requests.
type DocumentRequestInput struct {
	ClientID     string   `json:"client_id"`
	Title        string   `json:"title"`
	Instructions string   `json:"instructions"`
	DueDate      string   `json:"due_date"`
	Items        []string `json:"items"`
	// Reminders defaults to true.
	Reminders *bool `json:"reminders"`
}

// ReasonInput is the body of POST /requests/{id}/reject (reason required)
// and /cancel (optional).
type ReasonInput struct {
	Reason string `json:"reason"`
}

func requestOut(r requests.Request) DocumentRequest {
	return DocumentRequest{
		ID: r.ID, ClientID: r.ClientID, ClientName: r.ClientName, Title: r.Title, Instructions: r.Instructions,
		DueDate: r.DueOn.Format(time.DateOnly), Status: r.Status, Overdue: r.Overdue, Reminders: r.Reminders,
		RejectionReason: r.RejectionReason, CancelReason: r.CancelReason, ItemCount: r.Items, DocumentCount: r.Uploads,
		SubmittedAt: r.SubmittedAt, ReviewedAt: r.ReviewedAt, ClosedAt: r.ClosedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func requestDetailsOut(d requests.Details) DocumentRequestDetails {
	out := DocumentRequestDetails{DocumentRequest: requestOut(d.Request), Items: make([]DocumentRequestItem, 0, len(d.Items)),
		Documents: make([]DocumentRequestDocument, 0, len(d.Uploads)), Events: make([]DocumentRequestEvent, 0, len(d.Events))}
	for _, it := range d.Items {
		out.Items = append(out.Items, DocumentRequestItem{ID: it.ID, Position: it.Position, Label: it.Label})
	}
	for _, u := range d.Uploads {
		out.Documents = append(out.Documents, DocumentRequestDocument{DocumentID: u.DocumentID, ItemID: u.ItemID, Name: u.DocumentName,
			ContentType: u.ContentType, Size: u.Size, Archived: u.Archived, UploadedBy: u.UploadedByName, UploadedAt: u.CreatedAt})
	}
	for _, e := range d.Events {
		out.Events = append(out.Events, DocumentRequestEvent{Kind: e.Kind, ActorName: e.ActorName, Note: e.Note, CreatedAt: e.CreatedAt})
	}
	return out
}

func requestActor(c echo.Context) requests.Actor {
	p := principal(c)
	return requests.Staff(p.Org.ID, p.User.ID, p.User.Email, p.User.Name)
}

// requestError maps the requests service's refusals.
func requestError(err error) error {
	var se *requests.StateError
	if errors.As(err, &se) {
		return errorf(http.StatusConflict, se.Message)
	}
	return mapError(err)
}

// RequestsList lists document requests in due-date order, a page at a time
// (cursor pagination): status (default active: open, submitted and
// rejected; or one status; or all), client_id and overdue.
func (a *API) RequestsList(c echo.Context) error {
	errs := form.Errors{}
	f := requests.PageFilter{Limit: limitParam(c, errs)}
	switch st := c.QueryParam("status"); {
	case st == "" || st == requests.StatusActive:
		f.Status = requests.StatusActive
	case st == "all":
	case requests.ValidStatus(st):
		f.Status = st
	default:
		errs.Add("status", "Must be active, all, open, submitted, rejected, accepted or cancelled.")
	}
	if v := c.QueryParam("client_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			errs.Add("client_id", "Must be a client's id.")
		}
		f.ClientID = &id
	}
	switch c.QueryParam("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		errs.Add("overdue", "Must be true or false.")
	}
	if cur := c.QueryParam("cursor"); cur != "" {
		parts, ok := decodeCursor(cur, 2)
		var due time.Time
		var id uuid.UUID
		if ok {
			due, ok = requests.ParseDate(parts[0])
		}
		if ok {
			var err error
			id, err = uuid.Parse(parts[1])
			ok = err == nil
		}
		if !ok {
			errs.Add("cursor", "Not a cursor from this list: pass next_cursor back unchanged.")
		} else {
			f.After = &requests.Cursor{DueOn: due, ID: id}
		}
	}
	if errs.Any() {
		return mapError(errs)
	}
	page, err := a.Requests.ListPage(c.Request().Context(), principal(c).Org.ID, f)
	if err != nil {
		return err
	}
	out := Page[DocumentRequest]{Items: make([]DocumentRequest, 0, len(page.Rows))}
	for _, r := range page.Rows {
		out.Items = append(out.Items, requestOut(r))
	}
	if page.Next != nil {
		out.NextCursor = encodeCursor(page.Next.DueOn.Format(time.DateOnly), page.Next.ID.String())
	}
	return respond(c, http.StatusOK, out)
}

// RequestsCreate asks a client for documents; the client is e-mailed.
func (a *API) RequestsCreate(c echo.Context) error {
	var in DocumentRequestInput
	if err := bind(c, &in); err != nil {
		return err
	}
	errs := form.Errors{}
	req := requests.Input{Title: in.Title, Instructions: in.Instructions, Items: in.Items, Reminders: in.Reminders == nil || *in.Reminders}
	if id, err := uuid.Parse(strings.TrimSpace(in.ClientID)); err == nil {
		req.ClientID = id
	} else if strings.TrimSpace(in.ClientID) != "" {
		errs.Add("client_id", "Must be a client's id.")
	}
	if in.DueDate != "" {
		d, ok := requests.ParseDate(strings.TrimSpace(in.DueDate))
		if !ok {
			errs.Add("due_date", "Must be a date (YYYY-MM-DD).")
		}
		req.DueOn = d
	}
	for k, msg := range req.Validate(a.Requests.Now()) {
		if k == "due_on" {
			k = "due_date"
		}
		errs.Add(k, msg)
	}
	if errs.Any() {
		return mapError(errs)
	}
	ctx := c.Request().Context()
	r, err := a.Requests.Create(ctx, requestActor(c), req)
	var fe form.Errors
	if errors.As(err, &fe) {
		if msg, ok := fe["due_on"]; ok {
			delete(fe, "due_on")
			fe["due_date"] = msg
		}
		return mapError(fe)
	}
	if err != nil {
		return err
	}
	d, err := a.Requests.Get(ctx, principal(c).Org.ID, r.ID)
	if err != nil {
		return err
	}
	return respond(c, http.StatusCreated, requestDetailsOut(d))
}

// RequestsShow returns a request with its items, documents and history.
func (a *API) RequestsShow(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := a.Requests.Get(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, requestDetailsOut(d))
}

// RequestsAccept accepts a submitted request's documents.
func (a *API) RequestsAccept(c echo.Context) error {
	return a.review(c, false, func(id uuid.UUID, _ string) error {
		_, err := a.Requests.Accept(c.Request().Context(), requestActor(c), id)
		return err
	})
}

// RequestsReject sends a submitted request back to the client with a
// reason (required).
func (a *API) RequestsReject(c echo.Context) error {
	return a.review(c, true, func(id uuid.UUID, reason string) error {
		_, err := a.Requests.Reject(c.Request().Context(), requestActor(c), id, reason)
		return err
	})
}

// RequestsCancel withdraws a request that is not accepted yet; the body
// (with an optional reason) may be left out.
func (a *API) RequestsCancel(c echo.Context) error {
	return a.review(c, true, func(id uuid.UUID, reason string) error {
		_, err := a.Requests.Cancel(c.Request().Context(), requestActor(c), id, reason)
		return err
	})
}

// review reads the id (and the reason, when withBody and a body is sent),
// runs the change and answers the request's details.
func (a *API) review(c echo.Context, withBody bool, change func(id uuid.UUID, reason string) error) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in ReasonInput
	if withBody {
		// bindOptional: approvals.go.
		if err := bindOptional(c, &in); err != nil {
			return err
		}
	}
	if err := change(id, in.Reason); err != nil {
		return requestError(err)
	}
	d, err := a.Requests.Get(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, requestDetailsOut(d))
}
