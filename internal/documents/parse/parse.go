// Package parse extracts text from documents (PDF, DOCX, XLSX, CSV, TXT)
// together with the exact place each piece of text came from: the page of
// a PDF, the paragraph or table cell of a Word document, the sheet and
// cell of a spreadsheet, the row and column of a CSV file, the lines of a
// text file. Those locators are what search results and the AI agents
// cite, so every parser keeps them exact.
//
// The package is a pure library: no database, no storage. It reads from an
// io.ReaderAt, respects the caller's context (deadline and cancellation)
// and enforces Limits against hostile input (zip bombs, deeply nested XML,
// huge page counts). Malformed, truncated, encrypted and oversized inputs
// fail with an error, never a panic: Extract recovers a panic from a
// third-party library as a last resort and returns it as a *PanicError.
package parse

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Kind is a document format. The caller decides it from the content (not
// the file name) before calling Extract.
type Kind string

// The formats Extract reads.
const (
	KindPDF  Kind = "pdf"
	KindDOCX Kind = "docx"
	KindXLSX Kind = "xlsx"
	KindCSV  Kind = "csv"
	KindTXT  Kind = "txt"
)

// Kinds lists every supported Kind.
var Kinds = []Kind{KindPDF, KindDOCX, KindXLSX, KindCSV, KindTXT}

// Locator is the exact place of a Segment in its document. Only the fields
// that apply to the document's Kind are set:
//
//   - PDF: Page (1-based).
//   - DOCX: Paragraph (1-based index among the body's paragraphs, empty
//     ones included, so the number is stable) for body text; Table, Row
//     and Column (all 1-based) for a table cell.
//   - XLSX: Sheet, Row, and the row's cells from Column to ColumnEnd
//     (1-based, column 2 is "B") as Cell: "B7", or a range "A7:D7".
//   - CSV: the same without Sheet: Row is the 1-based record number (the
//     header is row 1), the cells in A1 style as a spreadsheet shows the
//     file.
//   - TXT: LineStart and LineEnd (1-based, inclusive).
type Locator struct {
	Page      int    `json:"page,omitempty"`
	Sheet     string `json:"sheet,omitempty"`
	Cell      string `json:"cell,omitempty"`
	Paragraph int    `json:"paragraph,omitempty"`
	Table     int    `json:"table,omitempty"`
	Row       int    `json:"row,omitempty"`
	Column    int    `json:"column,omitempty"`
	ColumnEnd int    `json:"column_end,omitempty"`
	LineStart int    `json:"line_start,omitempty"`
	LineEnd   int    `json:"line_end,omitempty"`
}

// String is the locator as a person (or an agent) cites it: "page 3",
// "Summary!A7:D7", "paragraph 12", "table 1, row 2, cell 3", "B5:F5" (a
// CSV row), "lines 10-42".
func (l Locator) String() string {
	switch {
	case l.Page > 0:
		return "page " + strconv.Itoa(l.Page)
	case l.Sheet != "":
		return SheetRef(l.Sheet, l.Cell)
	case l.Table > 0:
		return fmt.Sprintf("table %d, row %d, cell %d", l.Table, l.Row, l.Column)
	case l.Paragraph > 0:
		return "paragraph " + strconv.Itoa(l.Paragraph)
	case l.Cell != "":
		return l.Cell
	case l.LineStart > 0:
		if l.LineEnd > l.LineStart {
			return fmt.Sprintf("lines %d-%d", l.LineStart, l.LineEnd)
		}
		return "line " + strconv.Itoa(l.LineStart)
	}
	return ""
}

// SheetRef joins a sheet name and a cell or range as a spreadsheet formula
// would: Summary!B7, 'Q1 2024'!A1:F50 (names that are not plain words are
// quoted, quotes doubled).
func SheetRef(sheet, cells string) string {
	plain := sheet != ""
	for _, r := range sheet {
		if !(r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			plain = false
			break
		}
	}
	if !plain {
		sheet = "'" + strings.ReplaceAll(sheet, "'", "''") + "'"
	}
	if cells == "" {
		return sheet
	}
	return sheet + "!" + cells
}

// Segment is a piece of text in document order with its exact place.
type Segment struct {
	Text string  `json:"text"`
	Loc  Locator `json:"loc"`
}

// Result is the text of a document.
type Result struct {
	Kind     Kind      `json:"kind"`
	Segments []Segment `json:"segments"`
	// Pages is the number of pages of a PDF.
	Pages int `json:"pages,omitempty"`
	// Sheets are the names of a workbook's sheets in workbook order.
	Sheets []string `json:"sheets,omitempty"`
	// NoTextPages are PDF pages that look scanned (images, no text layer)
	// whose text could not be recovered: OCR is not installed, is
	// disabled, failed or ran out of time. The document is still parsed.
	NoTextPages []int `json:"no_text_pages,omitempty"`
	// OCRPages are PDF pages whose text came from OCR.
	OCRPages []int `json:"ocr_pages,omitempty"`
	// Chars is the number of characters (runes) in all segments.
	Chars int `json:"chars"`
	// Notes are non-fatal observations worth showing (such as "OCR is not
	// installed").
	Notes []string `json:"notes,omitempty"`
}

// Text is the whole text, segments separated by blank lines.
func (r *Result) Text() string {
	var b strings.Builder
	for i, s := range r.Segments {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s.Text)
	}
	return b.String()
}

// Extract reads the document of the given kind from r (size bytes) and
// returns its text with locators, segments in document order. It fails
// at the first limit exceeded (a *LimitError, ErrLimit; Limits.Time is
// one), on input it cannot read (a *FormatError, ErrMalformed), on a
// password-protected document (an *EncryptedError, ErrEncrypted), and
// when ctx is cancelled (ctx's error: worth retrying, unlike the others).
// Scanned PDF pages that cannot be read are not an error: see
// Result.NoTextPages. Extract never panics: a panic in a parser becomes a
// *PanicError (ErrMalformed). Reason turns any of these into a sentence
// for people.
func Extract(ctx context.Context, r io.ReaderAt, size int64, kind Kind, limits Limits) (res *Result, err error) {
	limits = limits.withDefaults()
	if limits.Time > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limits.Time)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, &PanicError{Kind: kind, Value: p, Stack: string(debug.Stack())}
		}
		if err != nil {
			res, err = nil, finishError(ctx, limits, err)
		}
	}()
	if r == nil || size < 0 {
		return nil, formatErr(kind, "no content")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e := &extraction{ctx: ctx, limits: limits, res: &Result{Kind: kind}}
	switch kind {
	case KindPDF:
		err = extractPDF(e, r, size)
	case KindDOCX:
		err = extractDOCX(e, r, size)
	case KindXLSX:
		err = extractXLSX(e, r, size)
	case KindCSV:
		err = extractCSV(e, r, size)
	case KindTXT:
		err = extractTXT(e, r, size)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedKind, kind)
	}
	if err != nil {
		return nil, err
	}
	return e.res, nil
}

// extraction is the state shared by a parser run: the context, the limits
// and the result being built.
type extraction struct {
	ctx    context.Context
	limits Limits
	res    *Result
	ticks  int
}

// check reports the context's end; loops call it often.
func (e *extraction) check() error {
	return e.ctx.Err()
}

// tick is a cheaper check for tight loops: it looks at the context every
// 256 calls.
func (e *extraction) tick() error {
	e.ticks++
	if e.ticks&255 != 0 {
		return nil
	}
	return e.ctx.Err()
}

// add appends a segment after normalizing its text; empty text is
// dropped. It enforces Limits.MaxChars.
func (e *extraction) add(text string, loc Locator) error {
	text = cleanText(text)
	if text == "" {
		return nil
	}
	n := utf8.RuneCountInString(text)
	if e.res.Chars+n > e.limits.MaxChars {
		return &LimitError{Limit: LimitChars, Max: int64(e.limits.MaxChars)}
	}
	e.res.Chars += n
	e.res.Segments = append(e.res.Segments, Segment{Text: text, Loc: loc})
	return nil
}

// cleanText normalizes extracted text: Unicode NFC, newlines as \n, no
// control characters other than tab and newline, no spaces at line ends,
// no blank lines at either end and at most one blank line in a row.
func cleanText(s string) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = ligatures.Replace(norm.NFC.String(s))
	var b strings.Builder
	b.Grow(len(s))
	blank := 0
	lines := 0
	for line := range strings.SplitSeq(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		line = strings.Map(func(r rune) rune {
			switch {
			case r == '\t':
				return r
			case r == '\r' || r == '\v' || r == '\f' || r == '\u00a0':
				return ' '
			case r == '\u00ad' || r == '\ufeff' || r == '\u200b':
				return -1 // soft hyphen, BOM, zero-width space
			case unicode.IsControl(r):
				return -1
			}
			return r
		}, line)
		line = strings.TrimRight(line, " \t")
		if line == "" {
			blank++
			continue
		}
		if lines > 0 {
			b.WriteByte('\n')
			if blank > 0 {
				b.WriteByte('\n')
			}
		}
		blank = 0
		lines++
		b.WriteString(line)
	}
	return b.String()
}

// ligatures spells typographic ligatures (from PDF fonts) as letters, so
// that "ﬁnance" is found as "finance".
var ligatures = strings.NewReplacer("\ufb00", "ff", "\ufb01", "fi", "\ufb02", "fl", "\ufb03", "ffi", "\ufb04", "ffl", "\ufb05", "st", "\ufb06", "st")

// withTimeout derives a context for one step (an OCR run) bounded by d and
// by the parent.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
