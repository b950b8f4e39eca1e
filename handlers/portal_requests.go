package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/portal"
	"accute/internal/requests"
	portalview "accute/views/pages/portal"
)

// Document requests in the client portal: the client user's requests (of
// the clients they are linked to, which internal/portal works out) and
// uploads against them, per item. Everything about a request goes through
// internal/requests' portal-facing functions (ListForClients,
// GetForClients, CheckUpload, Upload with a ClientUser actor).

// portalClientIDs are the ids of the user's (active, linked) clients.
func (h *Handlers) portalClientIDs(c echo.Context) ([]uuid.UUID, error) {
	clients, err := h.Portal.Clients(c.Request().Context(), portalActor(c))
	if err != nil {
		return nil, err
	}
	return portal.ClientIDs(clients), nil
}

func portalRequestURL(c echo.Context, id uuid.UUID) string {
	return portalBase(c) + "/requests/" + id.String()
}

// portalRequestBadge is a request's status as the client sees it.
func portalRequestBadge(status string) portalview.Badge {
	switch status {
	case requests.StatusOpen:
		return portalview.Badge{Kind: "warn", Label: "To do"}
	case requests.StatusSubmitted:
		return portalview.Badge{Kind: "info", Label: "With your firm"}
	case requests.StatusRejected:
		return portalview.Badge{Kind: "error", Label: "Changes requested"}
	case requests.StatusAccepted:
		return portalview.Badge{Kind: "success", Label: "Accepted"}
	case requests.StatusCancelled:
		return portalview.Badge{Kind: "neutral", Label: "Cancelled"}
	}
	return portalview.Badge{Kind: "neutral", Label: requests.StatusLabel(status)}
}

// dueNote says how far off a due date is, for requests still open.
func dueNote(r requests.Request, now time.Time) string {
	if !r.Uploadable() {
		return ""
	}
	days := int(r.DueOn.Sub(requests.DateOf(now)).Hours() / 24)
	switch {
	case r.Overdue && days < 0:
		return portalPlural(-days, "1 day overdue", strconv.Itoa(-days)+" days overdue")
	case days == 0:
		return "due today"
	case days > 0 && days <= 14:
		return portalPlural(days, "in 1 day", "in "+strconv.Itoa(days)+" days")
	}
	return ""
}

func portalPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func portalRequestRow(c echo.Context, r requests.Request, now time.Time) portalview.RequestRow {
	return portalview.RequestRow{
		Title: r.Title, URL: portalRequestURL(c, r.ID), Client: r.ClientName, Due: r.DueOn.Format(clientDateLayout),
		DueNote: dueNote(r, now), Overdue: r.Overdue, Status: portalRequestBadge(r.Status), Items: r.Items,
	}
}

// portalOpenRequests lists the open requests of clientIDs (at most limit)
// and how many there are, for the home page.
func (h *Handlers) portalOpenRequests(c echo.Context, clientIDs []uuid.UUID, limit int) ([]portalview.RequestRow, int, error) {
	page, err := h.Requests.ListForClients(c.Request().Context(), principal(c).Org.ID, clientIDs, requests.Filter{Status: requests.StatusActive, Page: 1, PerPage: limit})
	if err != nil {
		return nil, 0, err
	}
	now := h.Requests.Now()
	var rows []portalview.RequestRow
	for _, r := range page.Rows {
		rows = append(rows, portalRequestRow(c, r, now))
	}
	return rows, page.Total, nil
}

// PortalRequests lists the user's requests: the open ones, or all.
func (h *Handlers) PortalRequests(c echo.Context) error {
	ids, err := h.portalClientIDs(c)
	if err != nil {
		return err
	}
	pageNo, _ := strconv.Atoi(c.QueryParam("page"))
	all := c.QueryParam("status") == "all"
	f := requests.Filter{Status: requests.StatusActive, Page: pageNo}
	if all {
		f.Status = ""
	}
	page, err := h.Requests.ListForClients(c.Request().Context(), principal(c).Org.ID, ids, f)
	if err != nil {
		return err
	}
	v := portalview.RequestsView{BasePath: portalBase(c) + "/requests", All: all}
	now := h.Requests.Now()
	for _, r := range page.Rows {
		v.Rows = append(v.Rows, portalRequestRow(c, r, now))
	}
	v.Pager.Page, v.Pager.PerPage, v.Pager.Total, v.Pager.URL = page.Page, requests.PerPage, page.Total, v.PageURL
	return h.render(c, http.StatusOK, portalview.RequestsPage(h.portalShell(c, "Document requests", "requests"), v))
}

// PortalRequestShow is one request with an uploader per item.
func (h *Handlers) PortalRequestShow(c echo.Context) error {
	v, err := h.portalRequestView(c, "", "")
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, portalview.RequestPage(h.portalShell(c, v.Title, "requests"), v))
}

// portalRequestView builds a request's page; errMsg, when set, is shown on
// the uploader of errItem ("" for "anything else").
func (h *Handlers) portalRequestView(c echo.Context, errItem, errMsg string) (portalview.RequestView, error) {
	id, err := pathUUID(c, "id")
	if err != nil {
		return portalview.RequestView{}, err
	}
	ids, err := h.portalClientIDs(c)
	if err != nil {
		return portalview.RequestView{}, err
	}
	d, err := h.Requests.GetForClients(c.Request().Context(), principal(c).Org.ID, ids, id)
	if err != nil {
		return portalview.RequestView{}, err
	}
	r := d.Request
	url := portalRequestURL(c, id)
	v := portalview.RequestView{
		ListURL: portalBase(c) + "/requests", Title: r.Title, Client: r.ClientName, Due: r.DueOn.Format(clientDateLayout),
		DueNote: dueNote(r, h.Requests.Now()), Overdue: r.Overdue, Status: portalRequestBadge(r.Status), Instructions: r.Instructions,
		Uploadable: r.Uploadable(),
	}
	switch r.Status {
	case requests.StatusRejected:
		v.RejectionReason = r.RejectionReason
	case requests.StatusAccepted:
		v.Done = "Your firm accepted what you sent. Thank you; there is nothing more to do."
	case requests.StatusCancelled:
		v.Done = "Your firm cancelled this request; there is nothing more to do."
		if r.CancelReason != "" {
			v.Done = "Your firm cancelled this request: " + r.CancelReason
		}
	}
	// An error about an item this request does not have (a forged or stale
	// item_id) is shown on the "Anything else" uploader, not lost.
	if !slices.ContainsFunc(d.Items, func(it requests.Item) bool { return it.ID.String() == errItem }) {
		errItem = ""
	}
	upload := func(item string, n int) portalview.UploadView {
		u := portalview.UploadView{Action: url + "/uploads", MaxBytes: h.Config.Documents.UploadMaxBytes,
			MaxLabel: documents.FormatBytes(h.Config.Documents.UploadMaxBytes), Accept: uploadAccept, ItemID: item,
			TestID: "request-item-upload", ID: "upload-" + strconv.Itoa(n), Plain: true}
		if item == errItem {
			u.Error = errMsg
		}
		return u
	}
	for n, it := range d.Items {
		item := portalview.RequestItem{Label: it.Label, Upload: upload(it.ID.String(), n+1)}
		item.Uploads = h.portalRequestUploads(c, d.ItemUploads(&it.ID))
		v.Items = append(v.Items, item)
	}
	v.Other = portalview.RequestItem{Label: "Anything else", Upload: upload("", 0), Uploads: h.portalRequestUploads(c, d.ItemUploads(nil)), Optional: true}
	if len(d.Items) == 0 {
		v.Other.Label, v.Other.Optional = "Your documents", false
	}
	for _, e := range d.Events {
		v.Events = append(v.Events, portalview.RequestEvent{When: e.CreatedAt.Format("2 Jan 2006, 15:04"), Text: portalEventText(e)})
	}
	return v, nil
}

func (h *Handlers) portalRequestUploads(c echo.Context, uploads []requests.Upload) []portalview.RequestUpload {
	var out []portalview.RequestUpload
	for _, u := range uploads {
		ru := portalview.RequestUpload{Name: u.DocumentName, Size: documents.FormatBytes(u.Size), Added: u.CreatedAt.Format(clientDateLayout),
			By: u.UploadedByName, Archived: u.Archived}
		if !u.Archived {
			ru.DownloadURL = portalDocURL(c, u.DocumentID) + "/download"
		}
		out = append(out, ru)
	}
	return out
}

// portalEventText is a step of a request's history in the client's words.
func portalEventText(e requests.Event) string {
	who := e.ActorName
	if who == "" {
		who = "Your firm"
	}
	switch e.Kind {
	case requests.EventCreated:
		return who + " asked for these documents."
	case requests.EventUploaded:
		return who + " uploaded " + e.Note + "."
	case requests.EventSubmitted:
		return "Sent to your firm for review."
	case requests.EventAccepted:
		return who + " accepted the documents."
	case requests.EventRejected:
		return who + " asked for changes: " + e.Note
	case requests.EventCancelled:
		if e.Note != "" {
			return who + " cancelled the request: " + e.Note
		}
		return who + " cancelled the request."
	case requests.EventReminded:
		return "A reminder was sent."
	}
	return e.Kind
}

// PortalRequestUpload uploads files against a request (fields: item_id,
// optional, then the files), through requests.Service.Upload with the
// client user's actor. The page's uploader sends one file per request and
// gets JSON; without JavaScript, a redirect or the page with what
// happened.
func (h *Handlers) PortalRequestUpload(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ids, err := h.portalClientIDs(c)
	if err != nil {
		return err
	}
	p := principal(c)
	a := requests.ClientUser(p.Org.ID, p.User.ID, p.User.Email, p.User.Name, ids)
	// Refused before a byte is read when the request is not the user's
	// (404) or takes no more documents (409).
	if _, err := h.Requests.CheckUpload(ctx, a, id, nil); err != nil {
		var se *requests.StateError
		if errors.As(err, &se) {
			if wantsJSON(c) {
				return c.JSON(http.StatusConflict, uploadJSON{Error: se.Message})
			}
			return echo.NewHTTPError(http.StatusConflict, se.Message)
		}
		return err
	}
	mr, err := h.beginUpload(c, maxFilesPerRequest)
	if err != nil {
		return err
	}
	steps, itemField := h.requestUploadSteps(ctx, a, id)
	outcomes, err := h.readUpload(mr, steps)
	if err != nil {
		return err
	}
	url := portalRequestURL(c, id)
	if wantsJSON(c) {
		return uploadAnswer(c, outcomes, func(d *db.Document) string { return portalDocURL(c, d.ID) + "/download" })
	}
	var failures []string
	status := http.StatusUnprocessableEntity
	for _, o := range outcomes {
		if o.Doc == nil {
			failures = append(failures, strings.TrimPrefix(o.Name+": ", ": ")+o.Error)
			if o.Status > status {
				status = o.Status
			}
		}
	}
	if len(outcomes) > 0 && len(failures) == 0 {
		h.flash(c, "success", fmt.Sprintf("%s sent to %s. Thank you.", portalPlural(len(outcomes), "1 document was", strconv.Itoa(len(outcomes))+" documents were"), p.Org.Name))
		return h.redirect(c, url)
	}
	msg := "Choose a file to upload."
	if len(failures) > 0 {
		msg = strings.Join(failures, " ")
	}
	v, err := h.portalRequestView(c, *itemField, msg)
	if err != nil {
		return err
	}
	return h.render(c, status, portalview.RequestPage(h.portalShell(c, v.Title, "requests"), v))
}
