package handlers

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/form"
	"accute/internal/requests"
	"accute/internal/tenant"
	"accute/views/components"
	requestsview "accute/views/pages/requests"
)

// Document requests (internal/requests): the organization's list, the
// new-request form, a request's page with its review, and uploads on the
// client's behalf. The client portal's side is the portal's (it calls
// requests.Service's ...ForClients functions and Upload).

const requestTimeLayout = "2 Jan 2006, 15:04"

func requestActor(c echo.Context) requests.Actor {
	p := principal(c)
	return requests.Staff(p.Org.ID, p.User.ID, p.User.Email, p.User.Name)
}

func requestsBase(c echo.Context) string { return orgURL(c, "/requests") }

// requestStatusBadge is a status as a badge.
func requestStatusBadge(status string) requestsview.Badge {
	kind := "neutral"
	switch status {
	case requests.StatusOpen:
		kind = "info"
	case requests.StatusSubmitted:
		kind = "warn"
	case requests.StatusRejected:
		kind = "error"
	case requests.StatusAccepted:
		kind = "success"
	}
	return requestsview.Badge{Kind: kind, Label: requests.StatusLabel(status)}
}

func (h *Handlers) requestRow(c echo.Context, r requests.Request) requestsview.Row {
	return requestsview.Row{
		URL: requestsBase(c) + "/" + r.ID.String(), Title: r.Title, ClientName: r.ClientName,
		ClientURL: clientsBase(c) + "/" + r.ClientID.String(), Status: requestStatusBadge(r.Status),
		Due: r.DueOn.Format(clientDateLayout), Overdue: r.Overdue, Items: r.Items, Uploads: r.Uploads,
	}
}

// RequestsList shows the organization's requests in due-date order:
// status (active by default, or one status, or all), client and overdue
// filters. The filter form (HX-Target the results region) gets only that
// region.
func (h *Handlers) RequestsList(c echo.Context) error {
	page, _ := strconv.Atoi(c.QueryParam("page"))
	status := c.QueryParam("status")
	f := requests.Filter{Status: status, Overdue: c.QueryParam("overdue") == "1", Page: page}
	switch {
	case status == "" || status == requests.StatusActive:
		status, f.Status = requests.StatusActive, requests.StatusActive
	case status == "all":
		f.Status = ""
	case !requests.ValidStatus(status):
		status, f.Status = requests.StatusActive, requests.StatusActive
	}
	if id, ok := optionalUUID(c.QueryParam("client")); ok {
		f.ClientID = id
	}
	res, err := h.Requests.List(c.Request().Context(), principal(c).Org.ID, f)
	if err != nil {
		return err
	}
	v := requestsview.ListView{BasePath: requestsBase(c), CanWrite: canWriteDocuments(c), Status: status, Overdue: f.Overdue}
	if f.ClientID != nil {
		v.ClientID = f.ClientID.String()
	}
	for _, r := range res.Rows {
		v.Rows = append(v.Rows, h.requestRow(c, r))
	}
	v.Pager = components.Pager{Page: res.Page, PerPage: requests.PerPage, Total: res.Total, URL: v.PageURL}
	c.Response().Header().Add("Vary", "HX-Request, HX-Target")
	if isHTMX(c) && c.Request().Header.Get("HX-Target") == requestsview.ResultsID {
		return h.render(c, http.StatusOK, requestsview.RequestsResults(v)) // (the filters stay as they are)
	}
	if v.Clients, err = h.clientOptions(c, f.ClientID, "Any client"); err != nil {
		return err
	}
	v.States = append(v.States, components.Option{Value: requests.StatusActive, Label: "Active", Selected: status == requests.StatusActive})
	for _, st := range requests.Statuses {
		v.States = append(v.States, components.Option{Value: st, Label: requests.StatusLabel(st), Selected: status == st})
	}
	v.States = append(v.States, components.Option{Value: "all", Label: "All statuses", Selected: status == "all"})
	return h.render(c, http.StatusOK, requestsview.RequestsPage(h.shell(c, "Document requests", "requests"), v))
}

// requestFormValues reads the new-request form's fields (from the query
// on a template reload, from the body on a post).
func requestFormValues(get func(string) string, values func(string) []string) requestsview.FormValues {
	return requestsview.FormValues{
		ClientID: strings.TrimSpace(get("client_id")), Title: get("title"), Instructions: get("instructions"),
		DueOn: strings.TrimSpace(get("due_on")), Reminders: get("reminders") == "1", Items: values("items"),
	}
}

// RequestsNew shows the new-request form, for ?client= when given. A
// template button reloads it (GET, ?template=) with what was typed, the
// template's title, instructions and items replacing those fields.
func (h *Handlers) RequestsNew(c echo.Context) error {
	q := c.QueryParams()
	var vals requestsview.FormValues
	tmplKey := q.Get("template")
	if tmplKey == "" {
		vals = requestsview.FormValues{ClientID: q.Get("client"), Reminders: true}
	} else {
		vals = requestFormValues(q.Get, func(k string) []string { return q[k] })
		if t, ok := requests.TemplateByKey(tmplKey, h.Requests.Now()); ok {
			vals.Title, vals.Instructions, vals.Items = t.Title, t.Instructions, t.Items
		}
	}
	if vals.DueOn == "" {
		vals.DueOn = requests.DateOf(h.Requests.Now()).AddDate(0, 0, 14).Format(time.DateOnly)
	}
	v, err := h.requestForm(c, vals, nil)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, requestsview.NewRequestPage(h.shell(c, "Request documents", "requests"), v))
}

func (h *Handlers) requestForm(c echo.Context, vals requestsview.FormValues, errs form.Errors) (requestsview.FormView, error) {
	base := requestsBase(c)
	var selected *uuid.UUID
	if id, ok := optionalUUID(vals.ClientID); ok {
		selected = id
	}
	clientOpts, err := h.clientOptions(c, selected, "Choose a client…")
	if err != nil {
		return requestsview.FormView{}, err
	}
	cancel := base
	if selected != nil {
		cancel = clientsBase(c) + "/" + selected.String()
	}
	v := requestsview.FormView{
		Action: base, NewURL: base + "/new", CancelURL: cancel, Clients: clientOpts, Values: vals, Errors: errs,
		MinDue: requests.DateOf(h.Requests.Now()).Format(time.DateOnly), MaxItems: requests.MaxItems,
	}
	filled := 0
	for i, it := range vals.Items {
		if strings.TrimSpace(it) != "" {
			filled = i + 1
		}
	}
	v.Values.Items = vals.Items[:filled]
	v.ItemRows = min(max(filled+2, 3), max(requests.MaxItems, filled))
	for _, t := range requests.Templates(h.Requests.Now()) {
		v.Templates = append(v.Templates, requestsview.TemplateButton{Key: t.Key, Name: t.Name, Items: len(t.Items)})
	}
	return v, nil
}

// RequestsCreate sends a new request to the client.
func (h *Handlers) RequestsCreate(c echo.Context) error {
	params, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	vals := requestFormValues(params.Get, func(k string) []string { return params[k] })
	in := requests.Input{Title: vals.Title, Instructions: vals.Instructions, Items: vals.Items, Reminders: vals.Reminders}
	errs := form.Errors{}
	if id, ok := optionalUUID(vals.ClientID); ok && id != nil {
		in.ClientID = *id
	} else {
		errs.Add("client_id", "Choose the client to ask.")
	}
	if vals.DueOn != "" {
		d, ok := requests.ParseDate(vals.DueOn)
		if !ok {
			errs.Add("due_on", "Enter a date, such as 2026-03-31.")
		}
		in.DueOn = d
	}
	for k, msg := range in.Validate(h.Requests.Now()) {
		errs.Add(k, msg)
	}
	if !errs.Any() {
		r, err := h.Requests.Create(c.Request().Context(), requestActor(c), in)
		if !errors.As(err, &errs) {
			if err != nil {
				return err
			}
			h.flash(c, "success", "The request was sent to "+r.ClientName+".")
			return h.redirect(c, requestsBase(c)+"/"+r.ID.String())
		}
	}
	v, err := h.requestForm(c, vals, errs)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusUnprocessableEntity, requestsview.NewRequestPage(h.shell(c, "Request documents", "requests"), v))
}

// RequestsShow shows a request: its items with the documents uploaded
// against them, the review, and the history.
func (h *Handlers) RequestsShow(c echo.Context) error {
	d, err := h.loadRequest(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, requestsview.RequestPage(h.shell(c, d.Request.Title, "requests"), h.requestShowView(c, d)))
}

func (h *Handlers) loadRequest(c echo.Context) (requests.Details, error) {
	id, err := pathUUID(c, "id")
	if err != nil {
		return requests.Details{}, err
	}
	return h.Requests.Get(c.Request().Context(), principal(c).Org.ID, id)
}

var requestEventLabels = map[string]string{
	requests.EventCreated:   "Requested",
	requests.EventUploaded:  "Uploaded",
	requests.EventSubmitted: "Submitted for review",
	requests.EventAccepted:  "Accepted",
	requests.EventRejected:  "Sent back to the client",
	requests.EventCancelled: "Cancelled",
	requests.EventReminded:  "Reminder e-mailed",
}

func (h *Handlers) requestShowView(c echo.Context, d requests.Details) requestsview.ShowView {
	r := d.Request
	base := requestsBase(c)
	url := base + "/" + r.ID.String()
	write := canWriteDocuments(c)
	v := requestsview.ShowView{
		BasePath: base, URL: url, Title: r.Title, Status: requestStatusBadge(r.Status), ClientName: r.ClientName,
		ClientURL: clientsBase(c) + "/" + r.ClientID.String(), Due: r.DueOn.Format("Monday 2 January 2006"), DueShort: r.DueOn.Format(clientDateLayout), Overdue: r.Overdue,
		Instructions: r.Instructions, CreatedBy: r.CreatedByName, Created: r.CreatedAt.Format(requestTimeLayout), Reminders: r.Reminders,
		CancelReason: r.CancelReason, ReviewedBy: r.ReviewedByName,
		CanReview: write && r.Reviewable(), CanCancel: write && r.Cancellable(), CanUpload: write && r.Uploadable(),
	}
	if r.Status == requests.StatusRejected {
		v.RejectionReason = r.RejectionReason
	}
	if r.ReviewedAt != nil {
		v.Reviewed = r.ReviewedAt.Format(requestTimeLayout)
	}
	docs := docsBase(c)
	upload := func(u requests.Upload) requestsview.UploadView {
		doc := docs + "/" + u.DocumentID.String()
		return requestsview.UploadView{Name: u.DocumentName, URL: doc, DownloadURL: doc + "/download", TypeLabel: typeLabel(u.ContentType),
			Size: documents.FormatBytes(u.Size), UploadedBy: u.UploadedByName, When: u.CreatedAt.Format(requestTimeLayout), Archived: u.Archived}
	}
	for _, it := range d.Items {
		iv := requestsview.ItemView{Label: it.Label}
		for _, u := range d.ItemUploads(&it.ID) {
			iv.Uploads = append(iv.Uploads, upload(u))
		}
		v.Items = append(v.Items, iv)
	}
	for _, u := range d.ItemUploads(nil) {
		v.Other = append(v.Other, upload(u))
	}
	for _, e := range d.Events {
		label := requestEventLabels[e.Kind]
		if label == "" {
			label = e.Kind
		}
		v.Events = append(v.Events, requestsview.EventView{Label: label, Actor: e.ActorName, Note: e.Note, When: e.CreatedAt.Format(requestTimeLayout)})
	}
	if v.CanUpload {
		v.Upload = requestsview.UploadForm{Action: url + "/uploads", MaxBytes: h.Config.Documents.UploadMaxBytes,
			MaxLabel: documents.FormatBytes(h.Config.Documents.UploadMaxBytes), Accept: uploadAccept}
		if len(d.Items) > 0 {
			v.Upload.Items = []components.Option{{Value: "", Label: "No particular item", Selected: true}}
			for _, it := range d.Items {
				v.Upload.Items = append(v.Upload.Items, components.Option{Value: it.ID.String(), Label: it.Label})
			}
		}
	}
	return v
}

// requestRefused answers a change the request's status does not allow:
// back to the request's page with the reason.
func (h *Handlers) requestRefused(c echo.Context, id uuid.UUID, se *requests.StateError) error {
	h.flash(c, "error", se.Message)
	return h.redirect(c, requestsBase(c)+"/"+id.String())
}

// RequestsAccept accepts a submitted request's documents.
func (h *Handlers) RequestsAccept(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	r, err := h.Requests.Accept(c.Request().Context(), requestActor(c), id)
	var se *requests.StateError
	if errors.As(err, &se) {
		return h.requestRefused(c, id, se)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "The documents were accepted and "+r.ClientName+" was told.")
	return h.redirect(c, requestsBase(c)+"/"+id.String())
}

// RequestsReject sends a submitted request back to the client with a
// reason (required: the form comes back with its error without one).
func (h *Handlers) RequestsReject(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	r, err := h.Requests.Reject(c.Request().Context(), requestActor(c), id, reason)
	var se *requests.StateError
	var fe form.Errors
	switch {
	case errors.As(err, &se):
		return h.requestRefused(c, id, se)
	case errors.As(err, &fe):
		d, err := h.Requests.Get(c.Request().Context(), principal(c).Org.ID, id)
		if err != nil {
			return err
		}
		v := h.requestShowView(c, d)
		v.Review = requestsview.ReviewForm{Reason: reason, Error: fe["reason"]}
		return h.render(c, http.StatusUnprocessableEntity, requestsview.RequestPage(h.shell(c, d.Request.Title, "requests"), v))
	case err != nil:
		return err
	}
	h.flash(c, "success", "The request was sent back to "+r.ClientName+" with your reason.")
	return h.redirect(c, requestsBase(c)+"/"+id.String())
}

// RequestsCancel withdraws a request (optional reason for the client).
func (h *Handlers) RequestsCancel(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	r, err := h.Requests.Cancel(c.Request().Context(), requestActor(c), id, c.FormValue("reason"))
	var se *requests.StateError
	var fe form.Errors
	switch {
	case errors.As(err, &se):
		return h.requestRefused(c, id, se)
	case errors.As(err, &fe):
		h.flash(c, "error", fe["reason"])
		return h.redirect(c, requestsBase(c)+"/"+id.String())
	case err != nil:
		return err
	}
	h.flash(c, "success", "The request was cancelled and "+r.ClientName+" was told.")
	return h.redirect(c, requestsBase(c)+"/"+id.String())
}

// RequestsUpload uploads files against a request on the client's behalf,
// through the same service path as the portal's uploads. The page's
// uploader sends one file per request and gets JSON; a form posted without
// JavaScript gets the page back.
func (h *Handlers) RequestsUpload(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := requestActor(c)
	// Refused before the file is read when nothing can be uploaded.
	if _, err := h.Requests.CheckUpload(ctx, a, id, nil); err != nil {
		var se *requests.StateError
		if errors.As(err, &se) {
			if wantsJSON(c) {
				return c.JSON(http.StatusConflict, uploadJSON{Error: se.Message})
			}
			return h.requestRefused(c, id, se)
		}
		return err
	}
	mr, err := h.beginUpload(c, maxFilesPerRequest)
	if err != nil {
		return err
	}
	steps, _ := h.requestUploadSteps(ctx, a, id)
	outcomes, err := h.readUpload(mr, steps)
	if err != nil {
		return err
	}
	return h.answerRequestUpload(c, id, outcomes)
}

// requestUploadSteps upload against request id (staff on the client's
// behalf, or the client in the portal): the optional item_id field says
// which item the files answer; the field as sent is kept in *itemField
// (for a form shown again).
func (h *Handlers) requestUploadSteps(ctx context.Context, a requests.Actor, id uuid.UUID) (uploadSteps, *string) {
	var item *uuid.UUID
	itemField := new(string)
	return uploadSteps{
		field: func(part *multipart.Part) error {
			if part.FormName() != "item_id" {
				return nil
			}
			b, err := io.ReadAll(io.LimitReader(part, 100))
			if err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "The upload could not be read.")
			}
			*itemField = strings.TrimSpace(string(b))
			var ok bool
			if item, ok = optionalUUID(*itemField); !ok {
				return &uploadRefusal{uploadOutcome{Error: "Choose one of the request's items.", Status: http.StatusUnprocessableEntity}}
			}
			return nil
		},
		store: func(name string, content io.Reader) (db.Document, error) {
			sub, err := h.Requests.Upload(ctx, a, id, item, name, content)
			return sub.Document, err
		},
		refusal: requestUploadFailure,
	}, itemField
}

// requestUploadFailure is uploadFailure with the request's own refusals.
func requestUploadFailure(err error) (string, int, error) {
	var se *requests.StateError
	var fe form.Errors
	switch {
	case errors.As(err, &se):
		return se.Message, http.StatusConflict, nil
	case errors.As(err, &fe) && fe["item_id"] != "":
		return fe["item_id"], http.StatusUnprocessableEntity, nil
	}
	return uploadFailure(err)
}

func (h *Handlers) answerRequestUpload(c echo.Context, id uuid.UUID, outcomes []uploadOutcome) error {
	url := requestsBase(c) + "/" + id.String()
	docs := docsBase(c)
	if wantsJSON(c) {
		return uploadAnswer(c, outcomes, func(d *db.Document) string { return docs + "/" + d.ID.String() })
	}
	var failed []string
	ok := 0
	status := http.StatusUnprocessableEntity
	for _, o := range outcomes {
		if o.Doc != nil {
			ok++
			continue
		}
		msg := o.Error
		if o.Name != "" {
			msg = o.Name + ": " + msg
		}
		failed = append(failed, msg)
		if o.Status == http.StatusRequestEntityTooLarge || o.Status == http.StatusConflict {
			status = o.Status
		}
	}
	switch {
	case len(outcomes) == 0:
		failed = []string{"Choose at least one file to upload."}
	case len(failed) == 0:
		if ok == 1 {
			h.flash(c, "success", outcomes[0].Doc.Name+" was uploaded to the request.")
		} else {
			h.flash(c, "success", strconv.Itoa(ok)+" documents were uploaded to the request.")
		}
		return h.redirect(c, url)
	}
	d, err := h.Requests.Get(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	v := h.requestShowView(c, d)
	v.Upload.Error = strings.Join(failed, " ")
	if ok > 0 {
		v.Upload.Error = strconv.Itoa(ok) + " uploaded; not uploaded: " + v.Upload.Error
	}
	return h.render(c, status, requestsview.RequestPage(h.shell(c, d.Request.Title, "requests"), v))
}

// clientRequestsCard is the Document requests card of a client's page, for
// members who may read documents (an archived client cannot be asked).
func (h *Handlers) clientRequestsCard(c echo.Context, client uuid.UUID, archived bool) (*requestsview.ClientCard, error) {
	p := principal(c)
	if p.Membership == nil || !p.Membership.Permissions.Has(tenant.DocumentsRead) {
		return nil, nil
	}
	rows, total, err := h.Requests.ClientRequests(c.Request().Context(), p.Org.ID, client, 5)
	if err != nil {
		return nil, err
	}
	base := requestsBase(c)
	card := &requestsview.ClientCard{
		Total: total, CanWrite: canWriteDocuments(c) && !archived,
		ListURL: base + "?" + url.Values{"client": {client.String()}, "status": {"all"}}.Encode(),
		NewURL:  base + "/new?" + url.Values{"client": {client.String()}}.Encode(),
	}
	for _, r := range rows {
		card.Rows = append(card.Rows, h.requestRow(c, r))
	}
	return card, nil
}
