package handlers

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/views/components"
	docsview "accute/views/pages/documents"
)

// documentArchivedMessage answers a change to an archived document.
const documentArchivedMessage = "This document is archived. Restore it before changing it or uploading a new version."

// maxFilesPerRequest bounds one upload request (the page's uploader sends
// one file per request; a form without JavaScript may send several).
const maxFilesPerRequest = 20

// uploadWindow is how long one upload request may take: the server's
// usual read and write timeouts are too short for a large file on a slow
// line.
const uploadWindow = 30 * time.Minute

func docActor(c echo.Context) documents.Actor {
	p := principal(c)
	return documents.Actor{OrgID: p.Org.ID, UserID: p.User.ID, Email: p.User.Email}
}

func docsBase(c echo.Context) string { return "/o/" + principal(c).Org.Slug + "/documents" }

func canWriteDocuments(c echo.Context) bool {
	p := principal(c)
	return p.Membership != nil && p.Membership.Permissions.Has(tenant.DocumentsWrite)
}

// optionalUUID parses an optional id from a form or query; "" is nil, and
// anything else that is not an id is reported.
func optionalUUID(s string) (*uuid.UUID, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return nil, false
	}
	return &id, true
}

// DocumentsList shows the library: folder tree, filters, uploader, table.
func (h *Handlers) DocumentsList(c echo.Context) error {
	v, err := h.documentsListView(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, docsview.DocumentsPage(h.shell(c, "Documents", "documents"), v))
}

func (h *Handlers) documentsListView(c echo.Context) (docsview.ListView, error) {
	ctx := c.Request().Context()
	org := principal(c).Org.ID
	base := docsBase(c)
	page, _ := strconv.Atoi(c.QueryParam("page"))
	f := documents.Filter{Tag: form.Clean(c.QueryParam("tag")), Status: c.QueryParam("status"), Query: form.Clean(c.QueryParam("q")),
		Archived: c.QueryParam("archived") == "1", Page: page}
	if !documents.ValidStatus(f.Status) {
		f.Status = ""
	}
	folderParam := c.QueryParam("folder")
	if folderParam == "unfiled" {
		f.Unfiled = true
	} else if id, ok := optionalUUID(folderParam); ok {
		f.FolderID = id
	} else {
		folderParam = ""
	}
	if id, ok := optionalUUID(c.QueryParam("client")); ok {
		f.ClientID = id
	}
	res, err := h.Documents.List(ctx, org, f)
	if err != nil {
		return docsview.ListView{}, err
	}
	folders, err := h.Documents.Folders(ctx, org)
	if err != nil {
		return docsview.ListView{}, err
	}
	tags, err := h.Documents.Tags(ctx, org)
	if err != nil {
		return docsview.ListView{}, err
	}
	clientOpts, err := h.clientOptions(c, f.ClientID, "Any client")
	if err != nil {
		return docsview.ListView{}, err
	}
	v := docsview.ListView{
		BasePath: base, CanWrite: canWriteDocuments(c), FolderID: folderParam, Tag: f.Tag, Status: f.Status,
		Query: f.Query, Archived: f.Archived, Clients: clientOpts[1:],
	}
	if f.ClientID != nil {
		v.ClientID = f.ClientID.String()
	}
	for _, t := range tags {
		v.Tags = append(v.Tags, components.Option{Value: t, Label: t, Selected: t == f.Tag})
	}
	for _, st := range []string{documents.StatusQueued, documents.StatusParsing, documents.StatusParsed, documents.StatusNoText, documents.StatusFailed} {
		label, _ := statusLabel(st)
		v.States = append(v.States, components.Option{Value: st, Label: label, Selected: st == f.Status})
	}
	for _, fl := range folders {
		node := docsview.FolderNode{ID: fl.ID.String(), Name: fl.Name, Depth: fl.Depth, Documents: fl.Documents,
			URL: base + "?" + url.Values{"folder": {fl.ID.String()}}.Encode(), Current: folderParam == fl.ID.String()}
		v.Folders = append(v.Folders, node)
		if node.Current {
			v.Folder = &docsview.FolderRef{ID: node.ID, Name: fl.Name, Documents: fl.Documents,
				RenameURL: base + "/folders/" + node.ID, DeleteURL: base + "/folders/" + node.ID + "/delete"}
		}
	}
	if f.FolderID != nil && v.Folder == nil {
		return docsview.ListView{}, echo.ErrNotFound // another organization's folder, or a deleted one
	}
	v.FolderForm = docsview.FolderForm{ParentID: folderParam, Parents: folderOptions(folders, f.FolderID, "Top level")}
	for _, r := range res.Rows {
		v.Rows = append(v.Rows, h.documentRow(c, r.ID, r.Name, r.ContentType, r.Tags, r.ClientID, r.ClientName, r.FolderName,
			r.ParseStatus, r.ParseError, r.Version, r.Size, r.UpdatedAt, r.ArchivedAt != nil))
	}
	v.Pager = components.Pager{Page: res.Page, PerPage: documents.PerPage, Total: res.Total, URL: v.PageURL}
	v.Upload = h.uploadView(base, folderParam, clientOpts, f.ClientID)
	return v, nil
}

func (h *Handlers) uploadView(base, folder string, clients []components.Option, selected *uuid.UUID) docsview.UploadView {
	u := docsview.UploadView{Action: base, MaxBytes: h.Config.Documents.UploadMaxBytes, MaxLabel: documents.FormatBytes(h.Config.Documents.UploadMaxBytes), Accept: uploadAccept}
	if folder != "unfiled" {
		u.FolderID = folder
	}
	for _, o := range clients {
		o.Selected = selected != nil && o.Value == selected.String()
		u.Clients = append(u.Clients, o)
	}
	if len(u.Clients) > 0 {
		u.Clients[0].Label = "No client"
	}
	return u
}

// uploadAccept is the file chooser's hint; the server decides by content.
const uploadAccept = ".pdf,.docx,.xlsx,.csv,.txt,.png,.jpg,.jpeg,application/pdf,text/csv,text/plain,image/png,image/jpeg"

func (h *Handlers) documentRow(c echo.Context, id uuid.UUID, name, ctype string, tags []string, clientID *uuid.UUID, client, folder,
	status, reason string, version int32, size int64, updated time.Time, archived bool) docsview.Row {
	base := docsBase(c)
	url := base + "/" + id.String()
	r := docsview.Row{
		URL: url, DownloadURL: url + "/download", Name: name, TypeLabel: typeLabel(ctype), Tags: tags, Client: client, Folder: folder,
		Status: statusView(url, status, reason), Version: int(version), Size: documents.FormatBytes(size),
		Updated: updated.Format(clientDateLayout), Archived: archived,
	}
	if clientID != nil {
		r.ClientURL = clientsBase(c) + "/" + clientID.String()
	}
	return r
}

func typeLabel(mime string) string {
	if t, ok := documents.TypeByMIME(mime); ok {
		return t.Label
	}
	return "File"
}

func statusLabel(s string) (label, kind string) {
	switch s {
	case documents.StatusQueued:
		return "Queued", "neutral"
	case documents.StatusParsing:
		return "Extracting text", "info"
	case documents.StatusParsed:
		return "Text extracted", "success"
	case documents.StatusNoText:
		return "No text", "warn"
	case documents.StatusFailed:
		return "Failed", "error"
	}
	return s, "neutral"
}

func statusView(docURL, status, reason string) docsview.StatusView {
	label, kind := statusLabel(status)
	return docsview.StatusView{URL: docURL + "/status", Label: label, Kind: kind, Reason: reason,
		Pending: status == documents.StatusQueued || status == documents.StatusParsing}
}

// clientOptions lists the organization's active clients for a select, with
// an empty first option.
func (h *Handlers) clientOptions(c echo.Context, selected *uuid.UUID, none string) ([]components.Option, error) {
	rows, err := h.Documents.ClientChoices(c.Request().Context(), principal(c).Org.ID)
	if err != nil {
		return nil, err
	}
	out := []components.Option{{Value: "", Label: none, Selected: selected == nil}}
	for _, r := range rows {
		out = append(out, components.Option{Value: r.ID.String(), Label: r.Name, Selected: selected != nil && *selected == r.ID})
	}
	return out, nil
}

// folderOptions lists folders (indented by depth) for a select.
func folderOptions(folders []documents.Folder, selected *uuid.UUID, none string) []components.Option {
	out := []components.Option{{Value: "", Label: none, Selected: selected == nil}}
	for _, f := range folders {
		out = append(out, components.Option{Value: f.ID.String(), Label: strings.Repeat("— ", f.Depth) + f.Name, Selected: selected != nil && *selected == f.ID})
	}
	return out
}

// uploadOutcome is what happened to one file of an upload request.
type uploadOutcome struct {
	Name  string
	Doc   *db.Document
	Error string
	// Status is the HTTP status the refusal maps to.
	Status int
}

// uploadJSON is the answer to the page's uploader (one file per request).
type uploadJSON struct {
	Document *uploadedDoc `json:"document,omitempty"`
	Error    string       `json:"error,omitempty"`
}

// uploadAnswer is the page's uploader's answer (one file per request): the
// first outcome, with the document's link made by href.
func uploadAnswer(c echo.Context, outcomes []uploadOutcome, href func(d *db.Document) string) error {
	if len(outcomes) == 0 {
		return c.JSON(http.StatusUnprocessableEntity, uploadJSON{Error: "Choose a file to upload."})
	}
	o := outcomes[0]
	if o.Doc == nil {
		return c.JSON(o.Status, uploadJSON{Error: o.Error})
	}
	d := o.Doc
	return c.JSON(http.StatusCreated, uploadJSON{Document: &uploadedDoc{
		ID: d.ID.String(), Name: d.Name, URL: href(d), Version: int(d.Version), Size: d.Size,
		ContentType: d.ContentType, Status: d.ParseStatus,
	}})
}

type uploadedDoc struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Version     int    `json:"version"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Status      string `json:"status"`
}

func wantsJSON(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "application/json")
}

// beginUpload ends the request's transaction (an upload may take minutes
// and must not hold a database connection), gives the request time to
// arrive, and bounds its size while streaming (never buffered).
func (h *Handlers) beginUpload(c echo.Context, files int) (*multipart.Reader, error) {
	req := c.Request()
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return nil, nil
	}
	if err := store.CommitRequest(req.Context()); err != nil {
		return nil, err
	}
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Now().Add(uploadWindow))
	_ = rc.SetWriteDeadline(time.Now().Add(uploadWindow))
	limit := int64(files)*h.Config.Documents.UploadMaxBytes + 1<<20
	req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
	mr, err := req.MultipartReader()
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "The upload could not be read.")
	}
	return mr, nil
}

// uploadRefusal ends an upload with an outcome instead of an error page: a
// form field that cannot be accepted.
type uploadRefusal struct{ outcome uploadOutcome }

func (r *uploadRefusal) Error() string { return r.outcome.Error }

// uploadSteps are what one kind of upload does with the parts that
// readUpload reads.
type uploadSteps struct {
	// field reads a form field (they come before the files) and must
	// consume it; an *uploadRefusal ends the upload with its outcome, any
	// other error ends the request.
	field func(part *multipart.Part) error
	// start, when set, runs once before the first file is read.
	start func() error
	// store stores one file as a document.
	store func(name string, content io.Reader) (db.Document, error)
	// refusal maps errors of start and store to a message and status, or
	// returns an error that is not the user's to fix (uploadFailure when
	// nil).
	refusal func(error) (string, int, error)
	// max is the most files read (maxFilesPerRequest when 0).
	max int
}

// readUpload reads a multipart upload begun by beginUpload, file by file
// (at most maxFilesPerRequest), and says what happened to each. It stops
// early when the body cannot be read further (over its limit, or a state
// that takes no more files, 409).
func (h *Handlers) readUpload(mr *multipart.Reader, s uploadSteps) ([]uploadOutcome, error) {
	refusal := s.refusal
	if refusal == nil {
		refusal = uploadFailure
	}
	limit := s.max
	if limit == 0 {
		limit = maxFilesPerRequest
	}
	var outcomes []uploadOutcome
	started := s.start == nil
	for mr != nil && len(outcomes) < limit {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if msg, status, ferr := uploadFailure(err); ferr == nil {
				outcomes = append(outcomes, uploadOutcome{Error: msg, Status: status})
				break
			}
			return nil, echo.NewHTTPError(http.StatusBadRequest, "The upload could not be read.")
		}
		if part.FileName() == "" {
			err := s.field(part)
			part.Close()
			var r *uploadRefusal
			if errors.As(err, &r) {
				outcomes = append(outcomes, r.outcome)
				break
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		if !started {
			if err := s.start(); err != nil {
				part.Close()
				msg, status, ferr := refusal(err)
				if ferr != nil {
					return nil, ferr
				}
				outcomes = append(outcomes, uploadOutcome{Error: msg, Status: status})
				break
			}
			started = true
		}
		name := documents.CleanFilename(part.FileName())
		doc, err := s.store(name, part)
		part.Close()
		if err != nil {
			msg, status, ferr := refusal(err)
			if ferr != nil {
				return nil, ferr
			}
			outcomes = append(outcomes, uploadOutcome{Name: name, Error: msg, Status: status})
			if status == http.StatusRequestEntityTooLarge && strings.HasPrefix(msg, "The upload") || status == http.StatusConflict {
				break // nothing more can be read, or taken
			}
			continue
		}
		outcomes = append(outcomes, uploadOutcome{Name: name, Doc: &doc})
	}
	return outcomes, nil
}

// uploadFailure maps an upload error to a message and status, or returns
// the error itself when it is not the user's to fix.
func uploadFailure(err error) (string, int, error) {
	var refusal *documents.Refusal
	var fe form.Errors
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &refusal):
		if refusal.TooLarge {
			return refusal.Reason, http.StatusRequestEntityTooLarge, nil
		}
		return refusal.Reason, http.StatusUnprocessableEntity, nil
	case errors.As(err, &fe):
		for _, k := range []string{"folder_id", "client_id", "tags"} {
			if m := fe[k]; m != "" {
				return m, http.StatusUnprocessableEntity, nil
			}
		}
		return "Some fields need attention.", http.StatusUnprocessableEntity, nil
	case errors.As(err, &tooBig):
		return "The upload is larger than allowed.", http.StatusRequestEntityTooLarge, nil
	case errors.Is(err, documents.ErrArchived):
		return documentArchivedMessage, http.StatusBadRequest, nil
	}
	return "", 0, err
}

// DocumentsUpload stores the files of a multipart upload as new documents.
// The page's uploader sends one file per request and gets JSON; a form
// posted without JavaScript may carry several files and gets a redirect
// (or, when some were refused, the page with what happened to each).
func (h *Handlers) DocumentsUpload(c echo.Context) error {
	mr, err := h.beginUpload(c, maxFilesPerRequest)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := docActor(c)
	var place documents.Placement
	outcomes, err := h.readUpload(mr, uploadSteps{
		field: func(part *multipart.Part) error { return readPlacementField(part, &place) },
		start: func() error { return h.Documents.CheckPlacement(ctx, a, place) },
		store: func(name string, content io.Reader) (db.Document, error) {
			return h.Documents.Upload(ctx, a, documents.UploadInput{Filename: name, Content: content, Placement: place})
		},
	})
	if err != nil {
		return err
	}
	return h.answerUpload(c, outcomes, place)
}

// readPlacementField reads one small form field of an upload.
func readPlacementField(part *multipart.Part, place *documents.Placement) error {
	defer part.Close()
	b, err := io.ReadAll(io.LimitReader(part, 4096))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The upload could not be read.")
	}
	val := string(b)
	switch part.FormName() {
	case "folder_id":
		id, ok := optionalUUID(val)
		if !ok {
			return form.Errors{"folder_id": "Choose a folder from the list."}
		}
		place.FolderID = id
	case "client_id":
		id, ok := optionalUUID(val)
		if !ok {
			return form.Errors{"client_id": "Choose a client from the list."}
		}
		place.ClientID = id
	case "tags":
		place.Tags = documents.ParseTags(val)
	}
	return nil
}

func (h *Handlers) answerUpload(c echo.Context, outcomes []uploadOutcome, place documents.Placement) error {
	base := docsBase(c)
	if wantsJSON(c) {
		return uploadAnswer(c, outcomes, func(d *db.Document) string { return base + "/" + d.ID.String() })
	}
	back := base
	if place.FolderID != nil {
		back += "?" + url.Values{"folder": {place.FolderID.String()}}.Encode()
	}
	failed, ok := 0, 0
	for _, o := range outcomes {
		if o.Doc == nil {
			failed++
		} else {
			ok++
		}
	}
	switch {
	case len(outcomes) == 0:
		return h.renderUploadPage(c, nil, "Choose at least one file to upload.")
	case failed == 0:
		if ok == 1 {
			h.flash(c, "success", outcomes[0].Doc.Name+" was uploaded.")
		} else {
			h.flash(c, "success", strconv.Itoa(ok)+" documents were uploaded.")
		}
		return h.redirect(c, back)
	}
	return h.renderUploadPage(c, outcomes, "")
}

// renderUploadPage shows the list with what happened to each file (422).
func (h *Handlers) renderUploadPage(c echo.Context, outcomes []uploadOutcome, errMsg string) error {
	v, err := h.documentsListView(c)
	if err != nil {
		return err
	}
	v.Upload.Error = errMsg
	base := docsBase(c)
	for _, o := range outcomes {
		r := docsview.UploadResult{Name: o.Name, Error: o.Error}
		if o.Doc != nil {
			r.URL = base + "/" + o.Doc.ID.String()
		}
		v.Results = append(v.Results, r)
	}
	status := http.StatusUnprocessableEntity
	for _, o := range outcomes {
		if o.Status == http.StatusRequestEntityTooLarge {
			status = o.Status
		}
	}
	return h.render(c, status, docsview.DocumentsPage(h.shell(c, "Documents", "documents"), v))
}

// docID parses the :id of a document route.
func docID(c echo.Context) (uuid.UUID, error) { return pathUUID(c, "id") }

// DocumentsShow shows a document, its versions and its forms.
func (h *Handlers) DocumentsShow(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	d, err := h.Documents.Get(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	v, err := h.documentShowView(c, d)
	if err != nil {
		return err
	}
	// An agent's citation opens the document at the passage it cites
	// (handlers/agent_answers.go).
	if ref := strings.TrimSpace(c.QueryParam("passage")); ref != "" && len(ref) <= 200 {
		texts, err := h.runsSvc().Passages(c.Request().Context(), principal(c).Org.ID, id, ref)
		if err != nil {
			return err
		}
		v.Passage = &docsview.PassageView{Ref: ref}
		for _, t := range texts {
			v.Passage.Texts = append(v.Passage.Texts, t.Content)
		}
	}
	return h.render(c, http.StatusOK, docsview.DocumentPage(h.shell(c, d.Document.Name, "documents"), v))
}

func (h *Handlers) documentShowView(c echo.Context, d documents.Details) (docsview.ShowView, error) {
	doc := d.Document
	base := docsBase(c)
	url := base + "/" + doc.ID.String()
	v := docsview.ShowView{
		BasePath: base, URL: url, Name: doc.Name, TypeLabel: typeLabel(doc.ContentType), Size: documents.FormatBytes(doc.Size),
		Version: int(doc.Version), Created: doc.CreatedAt.Format(clientDateLayout), CreatedBy: doc.CreatedByName,
		Updated: doc.UpdatedAt.Format(clientDateLayout), Client: doc.ClientName, Folder: doc.FolderName, Tags: doc.Tags,
		DownloadURL: url + "/download", Archived: doc.ArchivedAt != nil, CanWrite: canWriteDocuments(c),
		Status: statusView(url, doc.ParseStatus, doc.ParseError),
	}
	if doc.ArchivedAt != nil {
		v.ArchivedOn = doc.ArchivedAt.Format(clientDateLayout)
	}
	if doc.ClientID != nil {
		v.ClientURL = clientsBase(c) + "/" + doc.ClientID.String()
	}
	if doc.FolderID != nil {
		v.FolderURL = base + "?folder=" + doc.FolderID.String()
	}
	for _, ver := range d.Versions {
		full := ver.Sha256Hex
		v.Versions = append(v.Versions, docsview.VersionRow{
			Version: int(ver.Version), Filename: ver.Filename, Size: documents.FormatBytes(ver.Size), TypeLabel: typeLabel(ver.ContentType),
			UploadedBy: ver.UploadedByName, Uploaded: ver.CreatedAt.Format("2 Jan 2006, 15:04"), SHA256: full[:min(12, len(full))],
			SHA256Full: full, DownloadURL: url + "/versions/" + ver.ID.String() + "/download",
			Current: doc.CurrentVersionID != nil && *doc.CurrentVersionID == ver.ID,
		})
	}
	if v.CanWrite && !v.Archived {
		edit, err := h.editForm(c, url, doc.Name, strings.Join(doc.Tags, ", "), doc.FolderID, doc.ClientID, nil)
		if err != nil {
			return v, err
		}
		v.Edit = edit
		v.NewVersion = docsview.VersionUpload{Action: url + "/versions", MaxBytes: h.Config.Documents.UploadMaxBytes,
			MaxLabel: documents.FormatBytes(h.Config.Documents.UploadMaxBytes), Accept: uploadAccept}
	}
	return v, nil
}

func (h *Handlers) editForm(c echo.Context, url, name, tags string, folder, client *uuid.UUID, errs form.Errors) (docsview.EditForm, error) {
	folders, err := h.Documents.Folders(c.Request().Context(), principal(c).Org.ID)
	if err != nil {
		return docsview.EditForm{}, err
	}
	clients, err := h.clientOptions(c, client, "No client")
	if err != nil {
		return docsview.EditForm{}, err
	}
	return docsview.EditForm{Action: url, Name: name, Tags: tags, Folders: folderOptions(folders, folder, "Not in a folder"),
		Clients: clients, Errors: errs}, nil
}

// DocumentsUpdate saves the details form: rename, move, client, tags.
func (h *Handlers) DocumentsUpdate(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	url := docsBase(c) + "/" + id.String()
	in := documents.DetailsInput{Name: c.FormValue("name"), Placement: documents.Placement{Tags: documents.ParseTags(c.FormValue("tags"))}}
	errs := form.Errors{}
	var ok bool
	if in.FolderID, ok = optionalUUID(c.FormValue("folder_id")); !ok {
		errs.Add("folder_id", "Choose a folder from the list.")
	}
	if in.ClientID, ok = optionalUUID(c.FormValue("client_id")); !ok {
		errs.Add("client_id", "Choose a client from the list.")
	}
	if strings.TrimSpace(form.Clean(in.Name)) == "" {
		errs.Add("name", "This field is required.")
	}
	var doc db.Document
	if !errs.Any() {
		doc, err = h.Documents.Update(c.Request().Context(), docActor(c), id, in)
		if errors.As(err, &errs) {
			err = nil
		}
	}
	switch {
	case errors.Is(err, documents.ErrArchived):
		return echo.NewHTTPError(http.StatusBadRequest, documentArchivedMessage)
	case err != nil:
		return err
	case errs.Any():
		edit, err := h.editForm(c, url, c.FormValue("name"), c.FormValue("tags"), in.FolderID, in.ClientID, errs)
		if err != nil {
			return err
		}
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, docsview.DetailsForm(edit))
		}
		d, err := h.Documents.Get(c.Request().Context(), principal(c).Org.ID, id)
		if err != nil {
			return err
		}
		v, err := h.documentShowView(c, d)
		if err != nil {
			return err
		}
		v.Edit = edit
		return h.render(c, http.StatusUnprocessableEntity, docsview.DocumentPage(h.shell(c, d.Document.Name, "documents"), v))
	}
	h.flash(c, "success", "The details of "+doc.Name+" were saved.")
	return h.redirect(c, url)
}

// DocumentsAddVersion uploads a new version over a document.
func (h *Handlers) DocumentsAddVersion(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// Refuse before reading the file when the document cannot take it.
	if _, err := h.Documents.CheckWritable(ctx, principal(c).Org.ID, id); err != nil {
		if errors.Is(err, documents.ErrArchived) {
			return echo.NewHTTPError(http.StatusBadRequest, documentArchivedMessage)
		}
		return err
	}
	url := docsBase(c) + "/" + id.String()
	mr, err := h.beginUpload(c, 1)
	if err != nil {
		return err
	}
	var doc db.Document
	var msg string
	status := http.StatusUnprocessableEntity
	for mr != nil {
		part, perr := mr.NextPart()
		if perr == io.EOF {
			break
		}
		if perr != nil {
			if m, s, ferr := uploadFailure(perr); ferr == nil {
				msg, status = m, s
				break
			}
			return echo.NewHTTPError(http.StatusBadRequest, "The upload could not be read.")
		}
		if part.FileName() == "" {
			part.Close()
			continue
		}
		doc, err = h.Documents.AddVersion(ctx, docActor(c), id, part.FileName(), part)
		part.Close()
		if err != nil {
			m, s, ferr := uploadFailure(err)
			if ferr != nil {
				return ferr
			}
			msg, status = m, s
		}
		break
	}
	if doc.ID == uuid.Nil && msg == "" {
		msg = "Choose a file to upload."
	}
	if wantsJSON(c) {
		if msg != "" {
			return c.JSON(status, uploadJSON{Error: msg})
		}
		return c.JSON(http.StatusCreated, uploadJSON{Document: &uploadedDoc{
			ID: doc.ID.String(), Name: doc.Name, URL: url, Version: int(doc.Version), Size: doc.Size, ContentType: doc.ContentType, Status: doc.ParseStatus,
		}})
	}
	if msg != "" {
		d, err := h.Documents.Get(ctx, principal(c).Org.ID, id)
		if err != nil {
			return err
		}
		v, err := h.documentShowView(c, d)
		if err != nil {
			return err
		}
		v.NewVersion.Error = msg
		return h.render(c, status, docsview.DocumentPage(h.shell(c, d.Document.Name, "documents"), v))
	}
	h.flash(c, "success", fmt.Sprintf("Version %d of %s was uploaded.", doc.Version, doc.Name))
	return h.redirect(c, url)
}

// DocumentsArchive archives a document.
func (h *Handlers) DocumentsArchive(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	doc, err := h.Documents.Archive(c.Request().Context(), docActor(c), id)
	if err != nil {
		return err
	}
	h.flash(c, "success", doc.Name+" was archived.")
	return h.redirect(c, docsBase(c)+"/"+id.String())
}

// DocumentsRestore restores an archived document.
func (h *Handlers) DocumentsRestore(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	doc, err := h.Documents.Restore(c.Request().Context(), docActor(c), id)
	if err != nil {
		return err
	}
	h.flash(c, "success", doc.Name+" was restored.")
	return h.redirect(c, docsBase(c)+"/"+id.String())
}

// DocumentsStatus answers the extraction status badge (polled while
// pending).
func (h *Handlers) DocumentsStatus(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	d, err := h.Documents.Status(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.render(c, http.StatusOK, docsview.StatusBadge(statusView(docsBase(c)+"/"+id.String(), d.ParseStatus, d.ParseError)))
}

// DocumentsDownload sends the current version.
func (h *Handlers) DocumentsDownload(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	return h.serveDocument(c, id, nil)
}

// DocumentsDownloadVersion sends one version.
func (h *Handlers) DocumentsDownloadVersion(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	version, err := pathUUID(c, "version")
	if err != nil {
		return err
	}
	return h.serveDocument(c, id, &version)
}

// serveDocument streams a version, decrypting as it goes: always as an
// attachment (never rendered in the app's origin), with the type decided
// at upload, nosniff, and range requests (resumed downloads, PDF viewers)
// answered by http.ServeContent over the decrypting reader.
func (h *Handlers) serveDocument(c echo.Context, id uuid.UUID, version *uuid.UUID) error {
	ctx := c.Request().Context()
	content, err := h.Documents.Open(ctx, principal(c).Org.ID, id, version)
	if err != nil {
		return err
	}
	return h.sendContent(c, content, func() { h.Documents.RecordDownload(ctx, docActor(c), content) })
}

// sendContent streams opened content (and closes it), as serveDocument
// describes; record audits the download (not for range requests, so a
// resumed download or a PDF viewer's chunks count once). The client
// portal's downloads use it too, after their own visibility check.
func (h *Handlers) sendContent(c echo.Context, content *documents.Content, record func()) error {
	ctx := c.Request().Context()
	defer content.Close()
	// The transaction is done with: a long download holds no connection.
	if err := store.CommitRequest(ctx); err != nil {
		return err
	}
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(uploadWindow))
	hdr := c.Response().Header()
	hdr.Set("Content-Type", content.ContentType)
	hdr.Set("Content-Disposition", attachmentDisposition(content.Filename))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hdr.Set("Cache-Control", "private, no-cache")
	hdr.Set("ETag", `"`+hex.EncodeToString(content.SHA256)+`"`)
	if c.Request().Header.Get("Range") == "" {
		record()
	}
	h.debugHeaders(c)
	http.ServeContent(c.Response(), c.Request(), "", content.Modified, content.Reader)
	return nil
}

// attachmentDisposition is a Content-Disposition that makes browsers save
// the file under name: an ASCII fallback without quotes, slashes or
// control characters, and the exact name in RFC 5987 encoding.
func attachmentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		switch {
		case r > unicode.MaxASCII || r < 0x20 || r == 0x7f:
			return '_'
		case r == '"' || r == '\\' || r == '/' || r == ';' || r == '%':
			return '_'
		}
		return r
	}, name)
	if strings.Trim(ascii, "_. ") == "" {
		ascii = "download"
	}
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
}

// FoldersCreate creates a folder.
func (h *Handlers) FoldersCreate(c echo.Context) error {
	parent, ok := optionalUUID(c.FormValue("parent_id"))
	name := c.FormValue("name")
	var f db.DocumentFolder
	err := error(form.Errors{"name": "Choose a folder from the list."})
	if ok {
		f, err = h.Documents.CreateFolder(c.Request().Context(), docActor(c), name, parent)
	}
	var fe form.Errors
	if errors.As(err, &fe) {
		v, verr := h.documentsListView(c)
		if verr != nil {
			return verr
		}
		v.FolderForm.Name = name
		v.FolderForm.Error = fe["name"]
		if v.FolderForm.Error == "" {
			v.FolderForm.Error = fe["parent_id"]
		}
		return h.render(c, http.StatusUnprocessableEntity, docsview.DocumentsPage(h.shell(c, "Documents", "documents"), v))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "The folder "+f.Name+" was created.")
	return h.redirect(c, docsBase(c)+"?"+url.Values{"folder": {f.ID.String()}}.Encode())
}

// FoldersRename renames a folder.
func (h *Handlers) FoldersRename(c echo.Context) error {
	id, err := pathUUID(c, "folder")
	if err != nil {
		return err
	}
	back := docsBase(c) + "?" + url.Values{"folder": {id.String()}}.Encode()
	f, err := h.Documents.RenameFolder(c.Request().Context(), docActor(c), id, c.FormValue("name"))
	var fe form.Errors
	if errors.As(err, &fe) {
		h.flash(c, "error", fe["name"])
		return h.redirect(c, back)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "The folder is now called "+f.Name+".")
	return h.redirect(c, back)
}

// FoldersDelete deletes an empty folder.
func (h *Handlers) FoldersDelete(c echo.Context) error {
	id, err := pathUUID(c, "folder")
	if err != nil {
		return err
	}
	f, err := h.Documents.DeleteFolder(c.Request().Context(), docActor(c), id)
	if errors.Is(err, documents.ErrFolderNotEmpty) {
		h.flash(c, "error", "Only empty folders can be deleted: move or archive its documents and subfolders first. (Archived documents count too.)")
		return h.redirect(c, docsBase(c)+"?"+url.Values{"folder": {id.String()}}.Encode())
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "The folder "+f.Name+" was deleted.")
	return h.redirect(c, docsBase(c))
}

// clientDocumentsCard is the Documents card of a client's page, for
// members who may read documents.
func (h *Handlers) clientDocumentsCard(c echo.Context, client uuid.UUID) (*docsview.ClientCard, error) {
	p := principal(c)
	if p.Membership == nil || !p.Membership.Permissions.Has(tenant.DocumentsRead) {
		return nil, nil
	}
	rows, total, err := h.Documents.ClientDocuments(c.Request().Context(), p.Org.ID, client, 5)
	if err != nil {
		return nil, err
	}
	base := docsBase(c)
	list := base + "?" + url.Values{"client": {client.String()}}.Encode()
	card := &docsview.ClientCard{Total: total, ListURL: list, UploadURL: list + "#upload", CanWrite: canWriteDocuments(c)}
	for _, r := range rows {
		card.Rows = append(card.Rows, h.documentRow(c, r.ID, r.Name, r.ContentType, nil, nil, "", "", r.ParseStatus, "", r.Version, r.Size, r.UpdatedAt, false))
	}
	return card, nil
}
