package handlers

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/form"
	"accute/internal/portal"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/views/components"
	"accute/views/layouts"
	docsview "accute/views/pages/documents"
	portalview "accute/views/pages/portal"
)

// The client portal (internal/portal): the pages a client user (a member
// with the role client) sees under /o/{org}/portal. Client users are kept
// there: portalGate sends them from the firm's pages to the portal, and
// requireClientUser keeps the firm's members out of it.

func portalActor(c echo.Context) portal.Actor { return portal.ActorOf(principal(c)) }

func portalBase(c echo.Context) string { return orgURL(c, "/portal") }

func isClientUser(p *tenant.Principal) bool {
	return p != nil && p.Membership != nil && p.Membership.Role == tenant.RoleClient
}

// portalGate sends a client user who opens one of the firm's pages (the
// organization's address after signing in, above all) to the portal. Only
// page views are redirected; other requests go on to the permission check,
// which refuses them (a client user holds no permission).
func (h *Handlers) portalGate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principal(c)
		if !isClientUser(p) || c.Request().Method != http.MethodGet || strings.HasPrefix(c.Path(), "/o/:org/portal") {
			return next(c)
		}
		if c.Path() != "/o/:org" {
			h.flash(c, "info", "That page is for "+p.Org.Name+"'s team. Here is your client portal.")
		}
		return h.redirect(c, portalBase(c))
	}
}

// requireClientUser admits client users to the portal's routes. The firm's
// members are sent back to their dashboard (or refused, for a change).
func (h *Handlers) requireClientUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principal(c)
		if p == nil || p.Membership == nil {
			return echo.ErrNotFound
		}
		if isClientUser(p) {
			return next(c)
		}
		if c.Request().Method == http.MethodGet {
			h.flash(c, "info", "The client portal is what your clients see. Give a client's people access from the client's page, under Portal access.")
			return h.redirect(c, orgURL(c, ""))
		}
		return echo.NewHTTPError(http.StatusForbidden, "The client portal is for the firm's clients.")
	}
}

// portalShell builds the portal's frame for the current request.
func (h *Handlers) portalShell(c echo.Context, title, active string) layouts.PortalShell {
	p := principal(c)
	s := layouts.PortalShell{Title: title, OrgName: p.Org.Name, OrgSlug: p.Org.Slug, Active: active, Requests: h.Requests != nil}
	s.User = &layouts.User{Name: p.User.Name, Email: p.User.Email, Initials: initials(p.User.Name), Unverified: p.User.EmailVerifiedAt == nil}
	for _, o := range p.Orgs {
		s.Orgs = append(s.Orgs, layouts.Org{Slug: o.Slug, Name: o.Name, Role: roleLabel(o.Role)})
	}
	if f := h.Sessions.PopFlash(c.Request().Context()); f != nil {
		s.Flash = &layouts.Flash{Kind: f.Kind, Message: f.Message}
	}
	return s
}

func kycBadge(status string) portalview.Badge {
	label, kind := portal.KYCStatusLabel(status)
	return portalview.Badge{Kind: kind, Label: label}
}

func portalDocURL(c echo.Context, id uuid.UUID) string {
	return portalBase(c) + "/documents/" + id.String()
}

func (h *Handlers) portalDocumentRow(c echo.Context, r db.ListPortalDocumentsRow) portalview.DocumentRow {
	u := portalDocURL(c, r.ID)
	return portalview.DocumentRow{
		Name: r.Name, DownloadURL: u + "/download", Client: r.ClientName, TypeLabel: typeLabel(r.ContentType),
		Size: documents.FormatBytes(r.Size), Added: r.CreatedAt.Format(clientDateLayout), ByYou: r.UploadedByMe,
		Status: portalStatusView(u, r.ParseStatus, r.ParseError),
	}
}

// portalStatusView is a document's processing status in the client's
// words (the library's badge, which polls while it is pending).
func portalStatusView(docURL, status, reason string) docsview.StatusView {
	v := statusView(docURL, status, reason)
	switch status {
	case documents.StatusQueued:
		v.Label = "Waiting to be processed"
	case documents.StatusParsing:
		v.Label = "Processing"
	case documents.StatusParsed:
		v.Label = "Processed"
	case documents.StatusNoText:
		v.Label, v.Kind = "Processed (no text found)", "neutral"
	case documents.StatusFailed:
		v.Label = "Could not be read"
	}
	return v
}

// PortalHome is the portal's home page.
func (h *Handlers) PortalHome(c echo.Context) error {
	ctx := c.Request().Context()
	a := portalActor(c)
	home, err := h.Portal.Home(ctx, a)
	if err != nil {
		return err
	}
	base := portalBase(c)
	v := portalview.HomeView{
		FirstName: firstName(principal(c).User.Name), OrgName: a.OrgName, DocumentsURL: base + "/documents",
		UploadURL: base + "/documents#upload", KYCURL: base + "/kyc", TotalRecent: home.TotalRecent,
	}
	for _, cl := range home.Clients {
		v.Clients = append(v.Clients, portalview.ClientCard{Name: cl.Name, KYC: kycBadge(cl.KYC.Status),
			DocumentsURL: base + "/documents?" + url.Values{"client": {cl.ID.String()}}.Encode()})
		if cl.KYC.Status == portal.KYCPending || cl.KYC.Status == portal.KYCRejected {
			v.KYCToDo++
		}
	}
	for _, r := range home.Recent {
		v.Recent = append(v.Recent, h.portalDocumentRow(c, r))
	}
	if h.Requests != nil {
		v.ShowRequests, v.RequestsURL = true, base+"/requests"
		if v.Requests, v.TotalRequests, err = h.portalOpenRequests(c, portal.ClientIDs(home.Clients), 5); err != nil {
			return err
		}
	}
	return h.render(c, http.StatusOK, portalview.HomePage(h.portalShell(c, a.OrgName, "home"), v))
}

func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

// PortalDocuments lists the documents of the user's clients (optionally
// one client's), with the uploader.
func (h *Handlers) PortalDocuments(c echo.Context) error {
	v, err := h.portalDocumentsView(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, portalview.DocumentsPage(h.portalShell(c, "Documents", "documents"), v))
}

func (h *Handlers) portalDocumentsView(c echo.Context) (portalview.DocumentsView, error) {
	ctx := c.Request().Context()
	a := portalActor(c)
	page, _ := strconv.Atoi(c.QueryParam("page"))
	f := portal.DocumentFilter{Page: page}
	if id, ok := optionalUUID(c.QueryParam("client")); ok {
		f.ClientID = id
	}
	clients, err := h.Portal.Clients(ctx, a)
	if err != nil {
		return portalview.DocumentsView{}, err
	}
	res, err := h.Portal.Documents(ctx, a, f)
	if err != nil {
		return portalview.DocumentsView{}, err
	}
	base := portalBase(c)
	v := portalview.DocumentsView{BasePath: base + "/documents"}
	if f.ClientID != nil {
		v.ClientID = f.ClientID.String()
	}
	for _, cl := range clients {
		v.Clients = append(v.Clients, components.Option{Value: cl.ID.String(), Label: cl.Name, Selected: f.ClientID != nil && *f.ClientID == cl.ID})
	}
	for _, r := range res.Rows {
		v.Rows = append(v.Rows, h.portalDocumentRow(c, r))
	}
	v.Pager = components.Pager{Page: res.Page, PerPage: portal.PerPage, Total: res.Total, URL: v.PageURL}
	v.Upload = h.portalUploadView(base+"/documents", clients, f.ClientID)
	return v, nil
}

// portalUploadView is the uploader: with one client the client is implied;
// with several the user chooses (the one shown, if any, preselected).
func (h *Handlers) portalUploadView(action string, clients []portal.Client, selected *uuid.UUID) portalview.UploadView {
	u := portalview.UploadView{Action: action, MaxBytes: h.Config.Documents.UploadMaxBytes,
		MaxLabel: documents.FormatBytes(h.Config.Documents.UploadMaxBytes), Accept: uploadAccept, TestID: "portal-upload"}
	switch {
	case len(clients) == 1:
		u.ClientID, u.ClientName = clients[0].ID.String(), clients[0].Name
	case len(clients) > 1:
		if selected == nil {
			u.Clients = append(u.Clients, components.Option{Value: "", Label: "Choose a client…"})
		}
		for _, cl := range clients {
			u.Clients = append(u.Clients, components.Option{Value: cl.ID.String(), Label: cl.Name, Selected: selected != nil && *selected == cl.ID})
		}
	}
	return u
}

// PortalUpload stores the files of a multipart upload as documents of one
// of the user's clients. The page's uploader sends one file per request
// and gets JSON; a form posted without JavaScript gets a redirect, or the
// page with what happened to each file.
func (h *Handlers) PortalUpload(c echo.Context) error {
	mr, err := h.beginUpload(c, maxFilesPerRequest)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := portalActor(c)
	var place documents.Placement
	var client uuid.UUID
	outcomes, err := h.readUpload(mr, uploadSteps{
		// client_id only; the other placement fields are not the client's.
		field: func(part *multipart.Part) error { return readPlacementField(part, &place) },
		start: func() (err error) {
			client, err = h.Portal.CheckUpload(ctx, a, place.ClientID)
			return err
		},
		store: func(name string, content io.Reader) (db.Document, error) {
			return h.Portal.Upload(ctx, a, client, name, content)
		},
	})
	if err != nil {
		return err
	}
	return h.answerPortalUpload(c, outcomes)
}

func (h *Handlers) answerPortalUpload(c echo.Context, outcomes []uploadOutcome) error {
	list := portalBase(c) + "/documents"
	if wantsJSON(c) {
		return uploadAnswer(c, outcomes, func(d *db.Document) string { return portalDocURL(c, d.ID) + "/download" })
	}
	failed := 0
	for _, o := range outcomes {
		if o.Doc == nil {
			failed++
		}
	}
	if len(outcomes) > 0 && failed == 0 {
		if len(outcomes) == 1 {
			h.flash(c, "success", outcomes[0].Doc.Name+" was uploaded. Your firm can see it now.")
		} else {
			h.flash(c, "success", strconv.Itoa(len(outcomes))+" documents were uploaded. Your firm can see them now.")
		}
		return h.redirect(c, list)
	}
	v, err := h.portalDocumentsView(c)
	if err != nil {
		return err
	}
	status := http.StatusUnprocessableEntity
	if len(outcomes) == 0 {
		v.Upload.Error = "Choose at least one file to upload."
	}
	for _, o := range outcomes {
		r := docsview.UploadResult{Name: o.Name, Error: o.Error}
		if o.Doc != nil {
			r.URL = portalDocURL(c, o.Doc.ID) + "/download"
		}
		v.Results = append(v.Results, r)
		if o.Status == http.StatusRequestEntityTooLarge {
			status = o.Status
		}
	}
	return h.render(c, status, portalview.DocumentsPage(h.portalShell(c, "Documents", "documents"), v))
}

// PortalDocumentStatus answers a document's processing badge (polled while
// pending).
func (h *Handlers) PortalDocumentStatus(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	d, err := h.Portal.Document(c.Request().Context(), portalActor(c), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.render(c, http.StatusOK, docsview.StatusBadge(portalStatusView(portalDocURL(c, id), d.ParseStatus, d.ParseError)))
}

// PortalDownload sends a document the user may see (the current version),
// through the library's download path.
func (h *Handlers) PortalDownload(c echo.Context) error {
	id, err := docID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := portalActor(c)
	content, err := h.Portal.Open(ctx, a, id)
	if err != nil {
		return err
	}
	return h.sendContent(c, content, func() { h.Portal.RecordDownload(ctx, a, content) })
}

// PortalKYC is the identity check page.
func (h *Handlers) PortalKYC(c echo.Context) error {
	v, err := h.portalKYCView(c, nil)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, portalview.KYCPage(h.portalShell(c, "Identity check", "kyc"), v))
}

// portalKYCView builds the identity check page; uploadErr, when set, is
// shown on the upload form of its client.
func (h *Handlers) portalKYCView(c echo.Context, uploadErr map[uuid.UUID]string) (portalview.KYCView, error) {
	checks, err := h.Portal.KYC(c.Request().Context(), portalActor(c))
	if err != nil {
		return portalview.KYCView{}, err
	}
	base := portalBase(c)
	var kinds []components.Option
	for _, k := range portal.KYCKinds {
		kinds = append(kinds, components.Option{Value: k.Key, Label: k.Label})
	}
	var v portalview.KYCView
	for n, k := range checks {
		url := base + "/kyc/" + k.Client.ID.String()
		card := portalview.KYCCard{
			ClientName: k.Client.Name, Status: k.Client.KYC.Status, Badge: kycBadge(k.Client.KYC.Status),
			RejectReason: k.Client.KYC.RejectReason, Editable: k.Editable(), SubmitURL: url + "/submit",
			Upload: portalview.UploadView{Action: url + "/documents", MaxBytes: h.Config.Documents.UploadMaxBytes,
				MaxLabel: documents.FormatBytes(h.Config.Documents.UploadMaxBytes), Accept: uploadAccept, Kinds: kinds,
				Single: true, TestID: "kyc-upload", Error: uploadErr[k.Client.ID], ID: "kyc-upload-" + strconv.Itoa(n+1), Plain: true},
		}
		if k.Submitted != nil {
			card.Submitted = k.Submitted.Format(clientDateLayout)
		}
		if k.Reviewed != nil {
			card.Reviewed = k.Reviewed.Format(clientDateLayout)
		}
		for _, d := range k.Documents {
			card.Documents = append(card.Documents, portalview.KYCDocRow{
				Name: d.Name, Kind: portal.KYCKindLabel(d.Kind), Added: d.Added.Format(clientDateLayout), Size: documents.FormatBytes(d.Size),
				DownloadURL: portalDocURL(c, d.DocumentID) + "/download", RemoveURL: url + "/documents/" + d.ID.String() + "/delete",
			})
		}
		v.Checks = append(v.Checks, card)
	}
	return v, nil
}

// portalRefusal maps the portal's state refusals (409, with the message)
// and leaves other errors to the error handler.
func portalRefusal(err error) error {
	var se *portal.StateError
	if errors.As(err, &se) {
		return echo.NewHTTPError(http.StatusConflict, se.Message)
	}
	return err
}

// PortalKYCUpload uploads one identity document for the check of the
// client in the path (fields: kind, then file). The page's uploader gets
// JSON; without JavaScript, a redirect or the page with the error.
func (h *Handlers) PortalKYCUpload(c echo.Context) error {
	client, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := portalActor(c)
	// Refused before the file is read: not the user's client (404), or a
	// check under review or verified (409).
	if err := h.Portal.CheckKYCOpen(ctx, a, client); err != nil {
		var se *portal.StateError
		if errors.As(err, &se) && wantsJSON(c) {
			return c.JSON(http.StatusConflict, uploadJSON{Error: se.Message})
		}
		return portalRefusal(err)
	}
	mr, err := h.beginUpload(c, 1)
	if err != nil {
		return err
	}
	kind := ""
	var added *portal.KYCDocument
	outcomes, err := h.readUpload(mr, uploadSteps{
		max: 1,
		field: func(part *multipart.Part) error {
			if part.FormName() == "kind" {
				b, _ := io.ReadAll(io.LimitReader(part, 64))
				kind = strings.TrimSpace(string(b))
			}
			return nil
		},
		store: func(name string, content io.Reader) (db.Document, error) {
			kd, err := h.Portal.AddKYCDocument(ctx, a, client, kind, name, content)
			if err != nil {
				return db.Document{}, err
			}
			added = &kd
			return db.Document{ID: kd.DocumentID, Name: kd.Name}, nil
		},
		refusal: func(err error) (string, int, error) {
			var fe form.Errors
			var se *portal.StateError
			switch {
			case errors.Is(err, store.ErrNotFound):
				return "", 0, err
			case errors.As(err, &fe):
				return fe["kind"], http.StatusUnprocessableEntity, nil
			case errors.As(err, &se):
				return se.Message, http.StatusConflict, nil
			}
			return uploadFailure(err)
		},
	})
	if err != nil {
		return err
	}
	msg, status := "", http.StatusUnprocessableEntity
	if len(outcomes) > 0 && outcomes[0].Error != "" {
		msg, status = outcomes[0].Error, outcomes[0].Status
	}
	if added == nil && msg == "" {
		msg = "Choose a file to upload."
	}
	kycURL := portalBase(c) + "/kyc"
	if wantsJSON(c) {
		if added == nil {
			return c.JSON(status, uploadJSON{Error: msg})
		}
		return c.JSON(http.StatusCreated, uploadJSON{Document: &uploadedDoc{
			ID: added.DocumentID.String(), Name: added.Name, URL: kycURL, Size: added.Size, ContentType: added.ContentType,
			Status: added.ParseStatus, Version: 1,
		}})
	}
	if added == nil {
		v, err := h.portalKYCView(c, map[uuid.UUID]string{client: msg})
		if err != nil {
			return err
		}
		return h.render(c, status, portalview.KYCPage(h.portalShell(c, "Identity check", "kyc"), v))
	}
	h.flash(c, "success", added.Name+" was added. Submit your documents when you have uploaded everything.")
	return h.redirect(c, kycURL)
}

// PortalKYCRemove removes an identity document before submitting (or
// after a rejection).
func (h *Handlers) PortalKYCRemove(c echo.Context) error {
	client, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	id, err := pathUUID(c, "kycdoc")
	if err != nil {
		return err
	}
	if err := h.Portal.RemoveKYCDocument(c.Request().Context(), portalActor(c), client, id); err != nil {
		return portalRefusal(err)
	}
	h.flash(c, "success", "The document was removed.")
	return h.redirect(c, portalBase(c)+"/kyc")
}

// PortalKYCSubmit submits the identity documents for review.
func (h *Handlers) PortalKYCSubmit(c echo.Context) error {
	client, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Portal.SubmitKYC(c.Request().Context(), portalActor(c), client); err != nil {
		return portalRefusal(err)
	}
	h.flash(c, "success", "Thank you. Your documents were sent to "+principal(c).Org.Name+" for review; we will e-mail you when they have looked at them.")
	return h.redirect(c, portalBase(c)+"/kyc")
}
