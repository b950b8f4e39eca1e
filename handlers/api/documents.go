package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/form"
	"accute/internal/store"
)

// DocumentInfo is a document with the text extraction status of its current
// version.
type DocumentInfo struct {
	ID          uuid.UUID  `json:"id"`
	Name        string     `json:"name"`
	ClientID    *uuid.UUID `json:"client_id"`
	FolderID    *uuid.UUID `json:"folder_id"`
	Tags        []string   `json:"tags"`
	Type        string     `json:"type"` // pdf, docx, xlsx, csv, txt, png, jpeg
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size"`
	Version     int32      `json:"version"`
	VersionID   *uuid.UUID `json:"version_id"`
	// Status is the text extraction's: queued, parsing, parsed, failed
	// (with ParseError) or no_text.
	Status     string     `json:"status"`
	ParseError string     `json:"parse_error"`
	ParsedAt   *time.Time `json:"parsed_at"`
	ArchivedAt *time.Time `json:"archived_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// SearchHit is a place in a document matching a search. Page is set for
// PDFs; Sheet (workbooks) and Cell (a cell or range, workbooks and CSV)
// for spreadsheets; LineStart and LineEnd for text; Ref always says where
// in words ("page 3", "Summary!A1:D5", "paragraphs 4-9").
type SearchHit struct {
	DocumentID   uuid.UUID  `json:"document_id"`
	DocumentName string     `json:"document_name"`
	ClientID     *uuid.UUID `json:"client_id"`
	Type         string     `json:"type"`
	Page         *int       `json:"page"`
	Sheet        *string    `json:"sheet"`
	Cell         *string    `json:"cell"`
	LineStart    *int       `json:"line_start"`
	LineEnd      *int       `json:"line_end"`
	Ref          string     `json:"ref"`
	Snippet      string     `json:"snippet"`
	SnippetHTML  string     `json:"snippet_html"`
	Rank         float64    `json:"rank"`
}

// SearchResults is a page of search hits. A search ranks at most the
// first documents.SearchPool matching places: when more match, Total is
// that many and TotalCapped is set ("1,000+"), and pages end there.
type SearchResults struct {
	Items       []SearchHit `json:"items"`
	Total       int         `json:"total"`
	TotalCapped bool        `json:"total_capped"`
	Page        int         `json:"page"`
	PerPage     int         `json:"per_page"`
}

func typeKey(mime string) string {
	if t, ok := documents.TypeByMIME(mime); ok {
		return t.Key
	}
	return ""
}

func documentOut(d db.Document) DocumentInfo {
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return DocumentInfo{ID: d.ID, Name: d.Name, ClientID: d.ClientID, FolderID: d.FolderID, Tags: tags, Type: typeKey(d.ContentType),
		ContentType: d.ContentType, Size: d.Size, Version: d.Version, VersionID: d.CurrentVersionID, Status: d.ParseStatus,
		ParseError: d.ParseError, ParsedAt: d.ParsedAt, ArchivedAt: d.ArchivedAt, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func documentRowOut(d db.GetDocumentRow) DocumentInfo {
	return documentOut(db.Document{OrganizationID: d.OrganizationID, ID: d.ID, ClientID: d.ClientID, FolderID: d.FolderID, Name: d.Name,
		Tags: d.Tags, CurrentVersionID: d.CurrentVersionID, Version: d.Version, ContentType: d.ContentType, Size: d.Size,
		ParseStatus: d.ParseStatus, ParseError: d.ParseError, ParsedAt: d.ParsedAt, ArchivedAt: d.ArchivedAt,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt})
}

func docActor(c echo.Context) documents.Actor {
	p := principal(c)
	return documents.Actor{OrgID: p.Org.ID, UserID: p.User.ID, Email: p.User.Email}
}

// uploadWindow is how long an upload may take to arrive.
const uploadWindow = 30 * time.Minute

// DocumentsCreate uploads one document: multipart/form-data with the file
// in "file" and, optionally before it, "client_id". The request is
// streamed (never buffered) into encrypted storage; the answer is 201 with
// the document, whose status is "queued" until its text is extracted.
func (a *API) DocumentsCreate(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return errorf(http.StatusUnsupportedMediaType, "Send the file as multipart/form-data in the field \"file\".")
	}
	// An upload may take minutes: it holds no database connection.
	if err := store.CommitRequest(ctx); err != nil {
		return err
	}
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Now().Add(uploadWindow))
	_ = rc.SetWriteDeadline(time.Now().Add(uploadWindow))
	req.Body = http.MaxBytesReader(c.Response(), req.Body, a.UploadMaxBytes+1<<20)
	mr, err := req.MultipartReader()
	if err != nil {
		return errorf(http.StatusBadRequest, "The upload could not be read.")
	}
	var place documents.Placement
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.", Details: map[string]string{"file": "Attach a file."}}
		}
		if err != nil {
			return uploadError(err)
		}
		switch part.FormName() {
		case "client_id":
			b, _ := io.ReadAll(io.LimitReader(part, 100))
			v := strings.TrimSpace(string(b))
			if v == "" {
				continue
			}
			id, err := uuid.Parse(v)
			if err != nil {
				return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.", Details: map[string]string{"client_id": "Must be a client's id."}}
			}
			place.ClientID = &id
		case "file":
			doc, err := a.Documents.Upload(ctx, docActor(c), documents.UploadInput{Filename: part.FileName(), Content: part, Placement: place})
			part.Close()
			if err != nil {
				return uploadError(err)
			}
			return respond(c, http.StatusCreated, documentOut(doc))
		default:
			// Other fields are ignored.
		}
		part.Close()
	}
}

// uploadError maps an upload's failure to an API error.
func uploadError(err error) error {
	var refusal *documents.Refusal
	var fe form.Errors
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &refusal):
		if refusal.TooLarge {
			return errorf(http.StatusRequestEntityTooLarge, refusal.Reason)
		}
		return errorf(http.StatusUnprocessableEntity, refusal.Reason)
	case errors.As(err, &fe):
		return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.", Details: fe}
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, "The upload is larger than allowed.")
	}
	return err
}

// DocumentsShow returns a document and its extraction status.
func (a *API) DocumentsShow(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := a.Documents.Status(c.Request().Context(), principal(c).Org.ID, id)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, documentRowOut(d))
}

// DocumentsContent sends the current version's file, exactly as the web
// download does (attachment, type, nosniff, ranges).
func (a *API) DocumentsContent(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return a.ServeContent(c, id)
}

// Search is full-text search across the organization's documents.
func (a *API) Search(c echo.Context) error {
	errs := form.Errors{}
	q := documents.CleanQuery(c.QueryParam("q"))
	if q == "" {
		errs.Add("q", "Enter something to search for.")
	}
	f := documents.SearchFilter{Query: q, Type: c.QueryParam("type")}
	if f.Type != "" && typeOf(f.Type) == "" {
		errs.Add("type", "Must be one of pdf, docx, xlsx, csv, txt, png, jpeg.")
	}
	if v := c.QueryParam("client_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			errs.Add("client_id", "Must be a client's id.")
		}
		f.ClientID = &id
	}
	for k, msg := range f.SetDates(c.QueryParam("from"), c.QueryParam("to")) {
		errs.Add(k, msg)
	}
	f.PerPage = limitParam(c, errs)
	if v := c.QueryParam("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > documents.SearchMaxPage {
			errs.Add("page", "Must be a whole number from 1 to "+strconv.Itoa(documents.SearchMaxPage)+".")
		}
		f.Page = n
	}
	if errs.Any() {
		return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.", Details: errs}
	}
	res, err := a.Documents.Search(c.Request().Context(), principal(c).Org.ID, f)
	if err != nil {
		return err
	}
	out := SearchResults{Items: make([]SearchHit, 0, len(res.Hits)), Total: res.Total, TotalCapped: res.Capped, Page: res.Page, PerPage: f.PerPage}
	for _, h := range res.Hits {
		hit := SearchHit{DocumentID: h.DocumentID, DocumentName: h.DocumentName, ClientID: h.ClientID, Type: typeKey(h.ContentType),
			Ref: h.Ref, Snippet: documents.SnippetText(h.Snippet), SnippetHTML: documents.SnippetHTML(h.Snippet), Rank: h.Rank}
		if h.Page > 0 {
			hit.Page = &h.Page
		}
		if h.Sheet != "" {
			hit.Sheet = &h.Sheet
		}
		if h.Cell != "" {
			hit.Cell = &h.Cell
		}
		if h.LineStart > 0 {
			hit.LineStart, hit.LineEnd = &h.LineStart, &h.LineEnd
		}
		out.Items = append(out.Items, hit)
	}
	return respond(c, http.StatusOK, out)
}

func typeOf(key string) string {
	for _, t := range documents.Types {
		if t.Key == key {
			return t.Key
		}
	}
	return ""
}
