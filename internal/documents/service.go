// Package documents stores a firm's documents: uploads checked by content
// (type, size, viruses), encrypted at rest in content-addressed blobs per
// organization, documents with versions in folders with tags, belonging to
// clients, and the text extraction job that feeds search.
//
// Every method takes the organization from an Actor (built by the handler
// from the request's principal, never from a form field) and works inside
// store.InOrg for it, recording an audit event in the same transaction as
// each change.
//
// Uploads stream: the bytes go from the request through the size limit,
// the SHA-256, the type sniffer and the virus scanner into the encrypting
// writer and on to storage, a chunk at a time, so a file never sits whole
// in memory. A long upload holds no database transaction: the caller ends
// the request's transaction before streaming (see handlers), and the
// document rows are written in one short transaction at the end, together
// with the documents.parse job.
package documents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/queue"
	"accute/internal/storage"
	"accute/internal/store"
)

// Service implements document operations.
type Service struct {
	Store   *store.Store
	Backend storage.Backend
	Keys    *Keys
	Jobs    queue.Inserter
	// Scanner scans uploads for viruses; nil when CLAMAV_ADDR is unset.
	Scanner Scanner
	// MaxBytes is the largest file accepted (UPLOAD_MAX_BYTES).
	MaxBytes int64
	// Parsers extract text by type; DefaultParsers when nil.
	Parsers Parsers
	Logger  *slog.Logger
}

// Errors the handlers map to answers.
var (
	// ErrArchived: archived documents are read-only until restored.
	ErrArchived = errors.New("document is archived")
	// ErrFolderNotEmpty: only empty folders can be deleted.
	ErrFolderNotEmpty = errors.New("folder is not empty")
)

// Actor is who acts, and in which organization.
type Actor struct {
	OrgID  uuid.UUID
	UserID uuid.UUID
	Email  string
}

func (a Actor) event(action, targetType, targetID, summary string) audit.Event {
	return audit.Event{
		OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email,
		Action: action, TargetType: targetType, TargetID: targetID, Summary: summary,
	}
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Placement says where a document lives: its folder, its client and tags.
type Placement struct {
	FolderID *uuid.UUID
	ClientID *uuid.UUID
	Tags     []string
}

// Limits of names and tags.
const (
	maxNameLen = 255
	maxTags    = 20
	maxTagLen  = 40
)

// ParseTags splits a comma-separated list into clean tags, dropping
// duplicates (ignoring case) and empties.
func ParseTags(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range strings.Split(s, ",") {
		t = strings.Join(strings.Fields(form.Clean(t)), " ")
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out
}

// checkPlacement validates the folder and client (they must exist in the
// organization) and the tags.
func (s *Service) checkPlacement(ctx context.Context, q *db.Queries, org uuid.UUID, p Placement) form.Errors {
	errs := form.Errors{}
	if p.FolderID != nil {
		if _, err := q.GetDocumentFolder(ctx, db.GetDocumentFolderParams{OrganizationID: org, ID: *p.FolderID}); err != nil {
			errs.Add("folder_id", "Choose a folder from the list.")
		}
	}
	if p.ClientID != nil {
		if _, err := q.GetClient(ctx, db.GetClientParams{OrganizationID: org, ID: *p.ClientID}); err != nil {
			errs.Add("client_id", "Choose a client from the list.")
		}
	}
	if len(p.Tags) > maxTags {
		errs.Add("tags", fmt.Sprintf("Use at most %d tags.", maxTags))
	}
	for _, t := range p.Tags {
		if utf8.RuneCountInString(t) > maxTagLen {
			errs.Add("tags", fmt.Sprintf("Keep each tag to %d characters.", maxTagLen))
		}
	}
	return errs
}

// CleanFilename turns an uploaded file's name into a document name: the
// last path element (some browsers send a path), without control
// characters, at most 255 characters with the extension kept.
func CleanFilename(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base("/" + name)
	name = strings.Join(strings.Fields(form.Clean(name)), " ")
	name = strings.Trim(name, ". ")
	if name == "" || name == "/" {
		return ""
	}
	if utf8.RuneCountInString(name) > maxNameLen {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 16 {
			ext = ""
		}
		r := []rune(strings.TrimSuffix(name, ext))
		name = string(r[:maxNameLen-utf8.RuneCountInString(ext)]) + ext
	}
	return name
}

// stored is a blob after an upload.
type stored struct {
	blob db.Blob
	typ  Type
	// dedup is true when the organization already had this content.
	dedup bool
}

func blobKey(org, blob uuid.UUID) string { return "orgs/" + org.String() + "/blobs/" + blob.String() }

// storeBlob streams content into storage, encrypted, while inspecting it;
// it answers a *Refusal for a file that is too large, of a refused type,
// unscannable or infected, and stores nothing then.
func (s *Service) storeBlob(ctx context.Context, a Actor, filename string, content io.Reader) (stored, error) {
	key, err := s.Keys.Active(ctx, a.OrgID)
	if err != nil {
		return stored{}, err
	}
	var scan ScanSession
	if s.Scanner != nil {
		scan, err = s.Scanner.Begin(ctx)
		if err != nil {
			s.log().ErrorContext(ctx, "virus scanner unavailable", slog.String("error", err.Error()))
			return stored{}, refuse("%s could not be checked for viruses right now, so it was not stored. Please try again in a few minutes.", displayName(filename))
		}
		defer scan.Close()
	}
	var scanW io.Writer
	if scan != nil {
		scanW = scan
	}
	insp := newInspector(s.MaxBytes, scanW)
	blobID := uuid.New()
	enc, err := storage.NewEncryptReader(io.TeeReader(content, insp), key, blobID)
	if err != nil {
		return stored{}, err
	}
	objKey := blobKey(a.OrgID, blobID)
	if _, err := s.Backend.Put(ctx, objKey, enc); err != nil {
		if errors.Is(err, errTooLarge) {
			r := refuse("%s is larger than the limit of %s.", displayName(filename), FormatBytes(s.MaxBytes))
			r.TooLarge = true
			return stored{}, r
		}
		return stored{}, fmt.Errorf("store upload: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			if err := s.Backend.Delete(context.WithoutCancel(ctx), objKey); err != nil {
				s.log().ErrorContext(ctx, "deleting a refused upload", slog.String("key", objKey), slog.String("error", err.Error()))
			}
		}
	}()

	if scan != nil {
		found, err := scan.Verdict()
		switch {
		case err != nil:
			s.log().ErrorContext(ctx, "virus scan failed", slog.String("error", err.Error()))
			return stored{}, refuse("%s could not be checked for viruses, so it was not stored. Please try again, or contact your administrator if it keeps happening.", displayName(filename))
		case found != "":
			s.recordRefusal(ctx, a, filename, "virus found: "+found)
			return stored{}, refuse("%s contains malware (%s) and was not stored.", displayName(filename), found)
		}
	}

	var zipObj storage.Object
	defer func() {
		if zipObj != nil {
			zipObj.Close()
		}
	}()
	typ, err := sniff(insp.head, insp.isText(), insp.n, filename, func() (io.ReaderAt, error) {
		obj, err := s.Backend.Open(ctx, objKey)
		if err != nil {
			return nil, err
		}
		zipObj = obj
		return storage.Open(obj, obj.Size(), blobID, s.Keys.keyFunc(ctx, a.OrgID))
	})
	if err != nil {
		return stored{}, err
	}

	// Content-addressed: the organization's existing blob of the same
	// content is reused and the new copy dropped.
	sum := insp.sha.Sum(nil)
	var out stored
	err = s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		b, err := q.InsertBlob(ctx, db.InsertBlobParams{
			OrganizationID: a.OrgID, ID: blobID, Sha256: sum, Size: insp.n, ContentType: typ.MIME,
			StorageKey: objKey, DataKeyID: uuid.UUID(key.ID),
		})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			out.dedup = true
			b, err = q.GetBlobBySHA(ctx, db.GetBlobBySHAParams{OrganizationID: a.OrgID, Sha256: sum})
		}
		out.blob = b
		return err
	})
	if err != nil {
		return stored{}, fmt.Errorf("record blob: %w", err)
	}
	keep = !out.dedup
	out.typ = typ
	return out, nil
}

func (s *Service) recordRefusal(ctx context.Context, a Actor, filename, why string) {
	err := s.Store.InOrg(context.WithoutCancel(ctx), a.OrgID, func(q *db.Queries) error {
		return audit.Record(ctx, q, a.event(audit.DocumentRefused, "document", "", filename+": "+why))
	})
	if err != nil {
		s.log().ErrorContext(ctx, "recording a refused upload", slog.String("error", err.Error()))
	}
}

// UploadInput is one uploaded file and where it goes.
type UploadInput struct {
	Filename string
	Content  io.Reader
	Placement
	// Link, when set, runs in the transaction that records the document,
	// after it (a document request links the upload to itself and changes
	// its state there); an error from it undoes the document.
	Link func(ctx context.Context, tx pgx.Tx, q *db.Queries, doc db.Document) error
}

// CheckPlacement validates where uploads will go, before their bytes are
// read (so a bad folder costs no upload).
func (s *Service) CheckPlacement(ctx context.Context, a Actor, p Placement) error {
	var errs form.Errors
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		errs = s.checkPlacement(ctx, q, a.OrgID, p)
		return nil
	})
	if err != nil {
		return err
	}
	return errs.Err()
}

// Upload stores a new document. It answers form.Errors for a bad
// placement and *Refusal for a file that is not accepted.
func (s *Service) Upload(ctx context.Context, a Actor, in UploadInput) (db.Document, error) {
	name := CleanFilename(in.Filename)
	if name == "" {
		name = "Untitled"
	}
	if err := s.CheckPlacement(ctx, a, in.Placement); err != nil {
		return db.Document{}, err
	}
	st, err := s.storeBlob(ctx, a, name, in.Content)
	if err != nil {
		return db.Document{}, err
	}
	var doc db.Document
	err = s.Store.InOrgTx(ctx, a.OrgID, func(tx pgx.Tx, q *db.Queries) error {
		// The placement is checked again: the folder or client may have
		// gone while the file was uploading.
		if errs := s.checkPlacement(ctx, q, a.OrgID, in.Placement); errs.Any() {
			return errs
		}
		tags := in.Tags
		if tags == nil {
			tags = []string{}
		}
		d, err := q.CreateDocument(ctx, db.CreateDocumentParams{
			OrganizationID: a.OrgID, ClientID: in.ClientID, FolderID: in.FolderID, Name: name, Tags: tags, CreatedBy: &a.UserID,
		})
		if err != nil {
			return err
		}
		if doc, err = s.addVersion(ctx, tx, q, a, d, st, name); err != nil {
			return err
		}
		summary := fmt.Sprintf("%s (%s, %s)", name, st.typ.Label, FormatBytes(st.blob.Size))
		if err := audit.Record(ctx, q, a.event(audit.DocumentUploaded, "document", d.ID.String(), summary)); err != nil {
			return err
		}
		if in.Link != nil {
			return in.Link(ctx, tx, q, doc)
		}
		return nil
	})
	if err != nil {
		return db.Document{}, err
	}
	return doc, nil
}

// addVersion makes st the document's next version and queues its text
// extraction, in the caller's transaction.
func (s *Service) addVersion(ctx context.Context, tx pgx.Tx, q *db.Queries, a Actor, d db.Document, st stored, filename string) (db.Document, error) {
	v, err := q.InsertDocumentVersion(ctx, db.InsertDocumentVersionParams{
		OrganizationID: a.OrgID, DocumentID: d.ID, Version: d.Version + 1, BlobID: st.blob.ID,
		Filename: filename, Size: st.blob.Size, ContentType: st.typ.MIME, UploadedBy: &a.UserID,
	})
	if err != nil {
		return db.Document{}, err
	}
	doc, err := q.SetDocumentCurrentVersion(ctx, db.SetDocumentCurrentVersionParams{
		OrganizationID: a.OrgID, ID: d.ID, VersionID: &v.ID, Version: v.Version, ContentType: v.ContentType, Size: v.Size,
	})
	if err != nil {
		return db.Document{}, err
	}
	if _, err := s.Jobs.InsertTx(ctx, tx, ParseArgs{OrganizationID: a.OrgID, DocumentID: d.ID, VersionID: v.ID}, nil); err != nil {
		return db.Document{}, fmt.Errorf("queue text extraction: %w", err)
	}
	return doc, nil
}

// CheckWritable reports ErrArchived (or not found) for a document that
// cannot take a new version, before its bytes are read.
func (s *Service) CheckWritable(ctx context.Context, org, id uuid.UUID) (db.GetDocumentRow, error) {
	var d db.GetDocumentRow
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		d, err = q.GetDocument(ctx, db.GetDocumentParams{OrganizationID: org, ID: id})
		return err
	})
	if err == nil && d.ArchivedAt != nil {
		err = ErrArchived
	}
	return d, err
}

// AddVersion uploads a new version of a document; the document keeps its
// name, and every earlier version stays downloadable.
func (s *Service) AddVersion(ctx context.Context, a Actor, id uuid.UUID, filename string, content io.Reader) (db.Document, error) {
	filename = CleanFilename(filename)
	if filename == "" {
		filename = "Untitled"
	}
	if _, err := s.CheckWritable(ctx, a.OrgID, id); err != nil {
		return db.Document{}, err
	}
	st, err := s.storeBlob(ctx, a, filename, content)
	if err != nil {
		return db.Document{}, err
	}
	var doc db.Document
	err = s.Store.InOrgTx(ctx, a.OrgID, func(tx pgx.Tx, q *db.Queries) error {
		d, err := q.LockDocument(ctx, db.LockDocumentParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		if d.ArchivedAt != nil {
			return ErrArchived
		}
		cur, err := q.GetDocumentVersionContent(ctx, db.GetDocumentVersionContentParams{OrganizationID: a.OrgID, DocumentID: id})
		if err == nil && cur.BlobID == st.blob.ID {
			return refuse("%s is identical to the current version (version %d), so no new version was added.", displayName(filename), cur.Version)
		}
		if doc, err = s.addVersion(ctx, tx, q, a, d, st, filename); err != nil {
			return err
		}
		summary := fmt.Sprintf("%s: version %d from %s (%s)", d.Name, doc.Version, filename, FormatBytes(st.blob.Size))
		return audit.Record(ctx, q, a.event(audit.DocumentVersionAdded, "document", id.String(), summary))
	})
	if err != nil {
		return db.Document{}, err
	}
	return doc, nil
}

// Details is a document with its versions.
type Details struct {
	Document db.GetDocumentRow
	Versions []db.ListDocumentVersionsRow
}

// Get returns a document and its versions.
func (s *Service) Get(ctx context.Context, org, id uuid.UUID) (Details, error) {
	var d Details
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		if d.Document, err = q.GetDocument(ctx, db.GetDocumentParams{OrganizationID: org, ID: id}); err != nil {
			return err
		}
		d.Versions, err = q.ListDocumentVersions(ctx, db.ListDocumentVersionsParams{OrganizationID: org, DocumentID: id})
		return err
	})
	return d, err
}

// Status returns a document's extraction status (for the polling badge).
func (s *Service) Status(ctx context.Context, org, id uuid.UUID) (db.GetDocumentRow, error) {
	var d db.GetDocumentRow
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		d, err = q.GetDocument(ctx, db.GetDocumentParams{OrganizationID: org, ID: id})
		return err
	})
	return d, err
}

// DetailsInput is the edit form: rename, move, client and tags.
type DetailsInput struct {
	Name string
	Placement
}

// Update renames, moves, re-assigns or re-tags a document.
func (s *Service) Update(ctx context.Context, a Actor, id uuid.UUID, in DetailsInput) (db.Document, error) {
	in.Name = strings.Join(strings.Fields(form.Clean(in.Name)), " ")
	var doc db.Document
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		old, err := q.LockDocument(ctx, db.LockDocumentParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		if old.ArchivedAt != nil {
			return ErrArchived
		}
		errs := s.checkPlacement(ctx, q, a.OrgID, in.Placement)
		errs.Required("name", in.Name, maxNameLen)
		if errs.Any() {
			return errs
		}
		tags := in.Tags
		if tags == nil {
			tags = []string{}
		}
		doc, err = q.UpdateDocumentDetails(ctx, db.UpdateDocumentDetailsParams{
			OrganizationID: a.OrgID, ID: id, Name: in.Name, FolderID: in.FolderID, ClientID: in.ClientID, Tags: tags,
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, a.event(audit.DocumentUpdated, "document", id.String(), changes(old, doc)))
	})
	return doc, err
}

// changes describes an edit for the audit trail.
func changes(old, doc db.Document) string {
	var parts []string
	if old.Name != doc.Name {
		parts = append(parts, fmt.Sprintf("renamed from %q to %q", old.Name, doc.Name))
	}
	if !sameID(old.FolderID, doc.FolderID) {
		parts = append(parts, "moved to another folder")
	}
	if !sameID(old.ClientID, doc.ClientID) {
		parts = append(parts, "client changed")
	}
	if strings.Join(old.Tags, ",") != strings.Join(doc.Tags, ",") {
		parts = append(parts, "tags: "+strings.Join(doc.Tags, ", "))
	}
	if len(parts) == 0 {
		return doc.Name + ": no changes"
	}
	return doc.Name + ": " + strings.Join(parts, "; ")
}

func sameID(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Archive takes a document out of the lists; Restore brings it back.
func (s *Service) Archive(ctx context.Context, a Actor, id uuid.UUID) (db.Document, error) {
	return s.setArchived(ctx, a, id, true)
}

// Restore brings an archived document back.
func (s *Service) Restore(ctx context.Context, a Actor, id uuid.UUID) (db.Document, error) {
	return s.setArchived(ctx, a, id, false)
}

func (s *Service) setArchived(ctx context.Context, a Actor, id uuid.UUID, archived bool) (db.Document, error) {
	var doc db.Document
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		doc, err = q.SetDocumentArchived(ctx, db.SetDocumentArchivedParams{OrganizationID: a.OrgID, ID: id, Archived: archived})
		if err != nil {
			return err
		}
		action := audit.DocumentRestored
		if archived {
			action = audit.DocumentArchived
		}
		return audit.Record(ctx, q, a.event(action, "document", id.String(), doc.Name))
	})
	return doc, err
}

// Filter selects a page of the document list.
type Filter struct {
	FolderID *uuid.UUID
	Unfiled  bool // only documents in no folder
	ClientID *uuid.UUID
	Tag      string
	Status   string // a parse status
	Query    string // in the name
	Archived bool
	Page     int
}

// PerPage is the size of a page of the document list.
const PerPage = 25

// Page is one page of documents.
type Page struct {
	Rows  []db.ListDocumentsRow
	Total int
	Page  int
}

// ValidStatus reports whether s is a parse status.
func ValidStatus(s string) bool {
	switch s {
	case StatusQueued, StatusParsing, StatusParsed, StatusFailed, StatusNoText:
		return true
	}
	return false
}

// List returns a page of the organization's documents.
func (s *Service) List(ctx context.Context, org uuid.UUID, f Filter) (Page, error) {
	page := min(max(f.Page, 1), 100000)
	if !ValidStatus(f.Status) {
		f.Status = ""
	}
	q := form.LikeEscape(form.Clean(f.Query))
	if utf8.RuneCountInString(q) > 100 {
		q = string([]rune(q)[:100])
	}
	var out Page
	err := s.Store.InOrg(ctx, org, func(qs *db.Queries) error {
		params := db.ListDocumentsParams{
			OrganizationID: org, Archived: f.Archived, FolderID: f.FolderID, Unfiled: f.Unfiled, ClientID: f.ClientID,
			Tag: f.Tag, Status: f.Status, Query: q, MaxRows: PerPage, Skip: int32((page - 1) * PerPage),
		}
		rows, err := qs.ListDocuments(ctx, params)
		if err != nil {
			return err
		}
		if len(rows) == 0 && page > 1 {
			page = 1
			params.Skip = 0
			if rows, err = qs.ListDocuments(ctx, params); err != nil {
				return err
			}
		}
		out.Rows = rows
		if len(rows) > 0 {
			out.Total = int(rows[0].Total)
		}
		return nil
	})
	out.Page = page
	return out, err
}

// Tags lists the tags in use, for the filter.
func (s *Service) Tags(ctx context.Context, org uuid.UUID) ([]string, error) {
	var tags []string
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		tags, err = q.ListDocumentTags(ctx, org)
		return err
	})
	return tags, err
}

// ClientDocuments returns a client's latest documents and their number.
func (s *Service) ClientDocuments(ctx context.Context, org, client uuid.UUID, limit int) ([]db.ListClientDocumentsRow, int, error) {
	var rows []db.ListClientDocumentsRow
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		rows, err = q.ListClientDocuments(ctx, db.ListClientDocumentsParams{OrganizationID: org, ClientID: &client, MaxRows: int32(limit)})
		return err
	})
	total := 0
	if len(rows) > 0 {
		total = int(rows[0].Total)
	}
	return rows, total, err
}

// Content is a version's decrypted content, ready to serve.
type Content struct {
	Reader      *storage.Reader
	Filename    string // the document's name, with its type's extension
	ContentType string
	Modified    time.Time
	SHA256      []byte
	Version     int
	DocumentID  uuid.UUID
	obj         storage.Object
}

// Close releases the stored object.
func (c *Content) Close() error { return c.obj.Close() }

type blobContent struct {
	Reader *storage.Reader
	obj    storage.Object
}

func (b blobContent) Close() error { return b.obj.Close() }

func (s *Service) openBlob(ctx context.Context, org, blobID uuid.UUID, key string) (blobContent, error) {
	obj, err := s.Backend.Open(ctx, key)
	if err != nil {
		return blobContent{}, fmt.Errorf("open blob %s: %w", blobID, err)
	}
	r, err := storage.Open(obj, obj.Size(), blobID, s.Keys.keyFunc(ctx, org))
	if err != nil {
		obj.Close()
		return blobContent{}, fmt.Errorf("open blob %s: %w", blobID, err)
	}
	return blobContent{Reader: r, obj: obj}, nil
}

// Open returns a version of a document (the current one when versionID is
// nil) for download. The caller closes it.
func (s *Service) Open(ctx context.Context, org, docID uuid.UUID, versionID *uuid.UUID) (*Content, error) {
	var v db.GetDocumentVersionContentRow
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		var err error
		v, err = q.GetDocumentVersionContent(ctx, db.GetDocumentVersionContentParams{OrganizationID: org, DocumentID: docID, VersionID: versionID})
		return err
	})
	if err != nil {
		return nil, err
	}
	b, err := s.openBlob(ctx, org, v.BlobID, v.StorageKey)
	if err != nil {
		return nil, err
	}
	return &Content{
		Reader: b.Reader, obj: b.obj, Filename: DownloadName(v.DocumentName, v.ContentType), ContentType: v.ContentType,
		Modified: v.CreatedAt, SHA256: v.Sha256, Version: int(v.Version), DocumentID: docID,
	}, nil
}

// RecordDownload appends a download to the audit trail.
func (s *Service) RecordDownload(ctx context.Context, a Actor, c *Content) {
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		return audit.Record(ctx, q, a.event(audit.DocumentDownloaded, "document", c.DocumentID.String(), fmt.Sprintf("%s (version %d)", c.Filename, c.Version)))
	})
	if err != nil {
		s.log().ErrorContext(ctx, "recording a download", slog.String("error", err.Error()))
	}
}

// DownloadName is the file name a download is saved as: the document's
// name, ending with its type's extension.
func DownloadName(name, mime string) string {
	t, ok := TypeByMIME(mime)
	if !ok {
		return name
	}
	ext := strings.ToLower(path.Ext(name))
	if ext == t.Ext || (t.Key == "jpeg" && ext == ".jpeg") || (t.Key == "txt" && (ext == ".text" || ext == ".csv")) || (t.Key == "csv" && ext == ".txt") {
		return name
	}
	return name + t.Ext
}

// FormatBytes prints a size for people: 512 B, 1.5 MB.
func FormatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v >= 100 || v == float64(int64(v)) {
		return fmt.Sprintf("%.0f %cB", v, "kMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %cB", v, "kMGTPE"[exp])
}
