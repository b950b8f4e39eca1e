package documents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"accute/internal/db"
	"accute/internal/documents/parse"
	"accute/internal/queue"
	"accute/internal/store"
)

// Text extraction runs as the documents.parse job, inserted with every new
// version in the upload's transaction. The job marks the document
// "parsing", runs the Parser registered for the version's type over the
// decrypted content, stores the text as chunks that keep their place
// (page, sheet and cell, or lines) and marks the document "parsed", "no
// text" or "failed" with the reason. Parsers for more types plug in
// through Parsers without touching the job.

// Parse statuses (documents.parse_status).
const (
	StatusQueued  = "queued"
	StatusParsing = "parsing"
	StatusParsed  = "parsed"
	StatusFailed  = "failed"
	StatusNoText  = "no_text"
)

// Chunk is a piece of extracted text and where it came from. Set the
// locator fields that apply: Page for PDFs, Sheet and Cell (a cell or a
// range such as "A1:F50") for spreadsheets and CSV, LineStart and LineEnd
// for plain text. Ref is the place as people cite it ("page 3",
// "Summary!A1:D5", "paragraphs 4-9"); empty, it is derived from the other
// fields. Locator, when set, is the parser's full locator (stored as JSON
// for agents' citations).
type Chunk struct {
	Page      int
	Sheet     string
	Cell      string
	LineStart int
	LineEnd   int
	Text      string
	Ref       string
	Locator   any
}

// Parser extracts the text of one type of file. It calls emit for each
// chunk in document order and returns when done; it must respect ctx and
// the limits in Limits, and fail with a *ParseFailure (whose reason is
// shown to people) for files it cannot read.
type Parser interface {
	Parse(ctx context.Context, r io.ReaderAt, size int64, emit func(Chunk) error) error
}

// ParserFunc adapts a function to Parser.
type ParserFunc func(ctx context.Context, r io.ReaderAt, size int64, emit func(Chunk) error) error

// Parse implements Parser.
func (f ParserFunc) Parse(ctx context.Context, r io.ReaderAt, size int64, emit func(Chunk) error) error {
	return f(ctx, r, size, emit)
}

// Parsers maps a Type's Key to its parser.
type Parsers map[string]Parser

// DefaultParsers are the parsers this package has.
func DefaultParsers() Parsers {
	return Parsers{
		TypeTXT.Key:  libraryParser(parse.KindTXT),
		TypeCSV.Key:  ParserFunc(parseCSV),
		TypePDF.Key:  libraryParser(parse.KindPDF),
		TypeDOCX.Key: libraryParser(parse.KindDOCX),
		TypeXLSX.Key: libraryParser(parse.KindXLSX),
	}
}

// ParseFailure is a file that cannot be parsed, with the reason shown on
// the document.
type ParseFailure struct{ Reason string }

func (f *ParseFailure) Error() string { return f.Reason }

// ErrNoText reports that a file has no extractable text (a scan without a
// text layer): the document is marked "no text", not failed.
var ErrNoText = errors.New("no text")

// Limits of one extraction.
var Limits = struct {
	Time     time.Duration // per document
	Chunks   int
	Text     int // bytes of text in all
	ChunkLen int // bytes of text per CSV chunk, roughly
}{Time: 2 * time.Minute, Chunks: 20000, Text: 32 << 20, ChunkLen: 4000}

// errTooMuchText stops a parser that passes Limits.
var errTooMuchText = &ParseFailure{Reason: "The document has more text than we extract (over 32 MB or 20,000 sections)."}

// ParseArgs is the documents.parse job.
type ParseArgs struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	DocumentID     uuid.UUID `json:"document_id"`
	VersionID      uuid.UUID `json:"version_id"`
}

// Kind implements river.JobArgs.
func (ParseArgs) Kind() string { return "documents.parse" }

// OrgID implements queue.TenantArgs.
func (a ParseArgs) OrgID() uuid.UUID { return a.OrganizationID }

// InsertOpts puts extraction on the documents queue, one job per version.
func (ParseArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.QueueDocuments, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

var _ queue.TenantArgs = ParseArgs{}

// ParseWorker works ParseArgs.
type ParseWorker struct {
	river.WorkerDefaults[ParseArgs]
	Docs   *Service
	Logger *slog.Logger
}

// Timeout bounds a job a little above the parser's own limit.
func (w *ParseWorker) Timeout(*river.Job[ParseArgs]) time.Duration {
	return Limits.Time + 30*time.Second
}

// Work extracts the version's text. Everything it reads and writes is in
// the job's organization (store.InOrg).
func (w *ParseWorker) Work(ctx context.Context, job *river.Job[ParseArgs]) error {
	a := job.Args
	err := w.Docs.parseVersion(ctx, a)
	var failure *ParseFailure
	switch {
	case err == nil:
		return nil
	case errors.As(err, &failure):
		return w.Docs.setParseStatus(ctx, a, StatusFailed, failure.Reason)
	case job.Attempt >= job.MaxAttempts:
		// Out of attempts: the document says so; the job stays dead in the
		// console, where it can be retried.
		if serr := w.Docs.setParseStatus(ctx, a, StatusFailed, "The document could not be read after several attempts; a platform administrator can retry it from the Jobs page."); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	default:
		return err
	}
}

func (s *Service) setParseStatus(ctx context.Context, a ParseArgs, status, reason string) error {
	err := s.Store.InOrg(ctx, a.OrganizationID, func(q *db.Queries) error {
		_, err := q.SetDocumentParseStatus(ctx, db.SetDocumentParseStatusParams{
			OrganizationID: a.OrganizationID, ID: a.DocumentID, VersionID: &a.VersionID, ParseStatus: status, ParseError: reason,
		})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // a newer version replaced this one
	}
	return err
}

// parseVersion runs one extraction.
func (s *Service) parseVersion(ctx context.Context, a ParseArgs) error {
	// Mark it parsing; a version that is no longer current has nothing to do.
	var v db.GetDocumentVersionContentRow
	err := s.Store.InOrg(ctx, a.OrganizationID, func(q *db.Queries) error {
		if _, err := q.SetDocumentParseStatus(ctx, db.SetDocumentParseStatusParams{
			OrganizationID: a.OrganizationID, ID: a.DocumentID, VersionID: &a.VersionID, ParseStatus: StatusParsing,
		}); err != nil {
			return err
		}
		var err error
		v, err = q.GetDocumentVersionContent(ctx, db.GetDocumentVersionContentParams{OrganizationID: a.OrganizationID, DocumentID: a.DocumentID, VersionID: &a.VersionID})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	t, ok := TypeByMIME(v.ContentType)
	parser := s.parsers()[t.Key]
	if !ok || parser == nil {
		label := v.ContentType
		if ok {
			label = t.Label
		}
		return &ParseFailure{Reason: "Text extraction for " + label + " files is not available yet."}
	}
	content, err := s.openBlob(ctx, a.OrganizationID, v.BlobID, v.StorageKey)
	if err != nil {
		return err
	}
	defer content.Close()

	pctx, cancel := context.WithTimeout(ctx, Limits.Time)
	defer cancel()
	var chunks []Chunk
	total := 0
	err = parser.Parse(pctx, content.Reader, content.Reader.Size(), func(c Chunk) error {
		if c.Text == "" {
			return nil
		}
		total += len(c.Text)
		if len(chunks) >= Limits.Chunks || total > Limits.Text {
			return errTooMuchText
		}
		chunks = append(chunks, c)
		return pctx.Err()
	})
	switch {
	case errors.Is(err, ErrNoText):
		chunks = nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return &ParseFailure{Reason: "Text extraction took too long (over " + Limits.Time.String() + ")."}
	case err != nil:
		return err
	}
	status := StatusParsed
	if len(chunks) == 0 {
		status = StatusNoText
	}
	return s.Store.InOrg(ctx, a.OrganizationID, func(q *db.Queries) error {
		doc, err := q.SetDocumentParseStatus(ctx, db.SetDocumentParseStatusParams{
			OrganizationID: a.OrganizationID, ID: a.DocumentID, VersionID: &a.VersionID, ParseStatus: status,
		})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := q.DeleteDocumentChunks(ctx, db.DeleteDocumentChunksParams{OrganizationID: a.OrganizationID, VersionID: a.VersionID}); err != nil {
			return err
		}
		rows := make([]db.InsertDocumentChunksParams, len(chunks))
		for i, c := range chunks {
			rows[i] = chunkParams(doc, a.VersionID, i, c)
		}
		// One batch: the statements go to the server in one round trip.
		var first error
		br := q.InsertDocumentChunks(ctx, rows)
		br.Exec(func(i int, err error) {
			if err != nil && first == nil {
				first = fmt.Errorf("store chunk %d: %w", i, err)
			}
		})
		if err := br.Close(); err != nil && first == nil {
			first = err
		}
		return first
	})
}

func chunkParams(doc db.Document, version uuid.UUID, seq int, c Chunk) db.InsertDocumentChunksParams {
	p := db.InsertDocumentChunksParams{OrganizationID: doc.OrganizationID, DocumentID: doc.ID, VersionID: version, Seq: int32(seq), Content: c.Text,
		Ref: c.ref(), Locator: []byte("{}")}
	if c.Locator != nil {
		if b, err := json.Marshal(c.Locator); err == nil {
			p.Locator = b
		}
	}
	if c.Page > 0 {
		n := int32(c.Page)
		p.Page = &n
	}
	if c.Sheet != "" {
		p.Sheet = &c.Sheet
	}
	if c.Cell != "" {
		p.Cell = &c.Cell
	}
	if c.LineStart > 0 {
		a, b := int32(c.LineStart), int32(max(c.LineEnd, c.LineStart))
		p.LineStart, p.LineEnd = &a, &b
	}
	return p
}

func (s *Service) parsers() Parsers {
	if s.Parsers != nil {
		return s.Parsers
	}
	return DefaultParsers()
}
