package parse

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors returned by Extract. Use errors.Is and errors.As: the concrete
// errors carry details and wrap these.
var (
	// ErrEncrypted: the document is password-protected (an encrypted PDF,
	// an Office file saved with a password, an encrypted zip entry).
	ErrEncrypted = errors.New("the document is password-protected")
	// ErrMalformed: the document is damaged, truncated or not of the kind
	// it was taken for. Every *FormatError matches it.
	ErrMalformed = errors.New("the document is damaged or not in the expected format")
	// ErrLimit: a limit was exceeded. Every *LimitError matches it.
	ErrLimit = errors.New("the document exceeds a processing limit")
	// ErrUnsupportedKind: Extract does not know the Kind.
	ErrUnsupportedKind = errors.New("unsupported document kind")
	// ErrInvalidEncoding: a text file is not valid UTF-8 (or UTF-16 with
	// a byte order mark). It is wrapped in a *FormatError.
	ErrInvalidEncoding = errors.New("the text is not valid UTF-8")
)

// FormatError is a document that cannot be read: damaged, truncated, or
// not what its kind says.
type FormatError struct {
	Kind   Kind
	Reason string
	Err    error // the underlying error, if any
}

func (e *FormatError) Error() string {
	msg := "malformed " + string(e.Kind) + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrMalformed) true, and reaches the cause.
func (e *FormatError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrMalformed, e.Err}
	}
	return []error{ErrMalformed}
}

func formatErr(kind Kind, reason string) error {
	return &FormatError{Kind: kind, Reason: reason}
}

func wrapFormatErr(kind Kind, reason string, err error) error {
	return &FormatError{Kind: kind, Reason: reason, Err: err}
}

// EncryptedError is a document that needs a password to open. It matches
// ErrEncrypted.
type EncryptedError struct {
	Kind   Kind
	Detail string
}

func (e *EncryptedError) Error() string {
	return "encrypted " + string(e.Kind) + ": " + e.Detail
}

// Unwrap makes errors.Is(err, ErrEncrypted) true.
func (e *EncryptedError) Unwrap() error { return ErrEncrypted }

func encryptedErr(kind Kind, detail string) error {
	return &EncryptedError{Kind: kind, Detail: detail}
}

// LimitName names a limit of Limits.
type LimitName string

// The limits a *LimitError can name.
const (
	LimitPages        LimitName = "pages"
	LimitDecompressed LimitName = "decompressed bytes"
	LimitZipEntries   LimitName = "zip entries"
	LimitXMLDepth     LimitName = "XML nesting depth"
	LimitChars        LimitName = "extracted characters"
	LimitTime         LimitName = "time"
	LimitObjects      LimitName = "PDF objects"
)

// LimitError is a document over one of the Limits.
type LimitError struct {
	Limit LimitName
	Max   int64 // the limit's value (nanoseconds for LimitTime)
}

func (e *LimitError) Error() string {
	if e.Limit == LimitTime {
		return fmt.Sprintf("the document exceeds the limit on %s (%s)", e.Limit, time.Duration(e.Max))
	}
	return fmt.Sprintf("the document exceeds the limit on %s (%d)", e.Limit, e.Max)
}

// Unwrap makes errors.Is(err, ErrLimit) true; a time limit also matches
// context.DeadlineExceeded.
func (e *LimitError) Unwrap() []error {
	if e.Limit == LimitTime {
		return []error{ErrLimit, context.DeadlineExceeded}
	}
	return []error{ErrLimit}
}

// PanicError is a panic recovered inside a parser (most likely in a
// third-party library, on input it did not expect). It matches
// ErrMalformed: the document is what made it fail.
type PanicError struct {
	Kind  Kind
	Value any
	Stack string
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("malformed %s: the parser failed: %v", e.Kind, e.Value)
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (e *PanicError) Unwrap() error { return ErrMalformed }

// finishError turns the end of the time budget into a *LimitError. A
// caller's cancellation stays context.Canceled.
func finishError(ctx context.Context, limits Limits, err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		return err
	}
	if limits.Time <= 0 {
		return err // no time limit of ours: a deadline is the caller's
	}
	if errors.Is(err, context.DeadlineExceeded) || (ctx.Err() == context.DeadlineExceeded && !errors.Is(err, ErrEncrypted)) {
		return &LimitError{Limit: LimitTime, Max: int64(limits.Time)}
	}
	return err
}

// Reason is a short sentence for people about why a document could not be
// read; err is an error returned by Extract.
func Reason(err error) string {
	var le *LimitError
	var fe *FormatError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrEncrypted):
		return "The document is password-protected. Upload a copy without a password."
	case errors.As(err, &le):
		switch le.Limit {
		case LimitPages:
			return fmt.Sprintf("The document has more than %d pages.", le.Max)
		case LimitTime:
			return fmt.Sprintf("Reading the document took too long (over %s).", time.Duration(le.Max))
		case LimitChars:
			return fmt.Sprintf("The document has more text than we extract (over %d characters).", le.Max)
		case LimitDecompressed, LimitZipEntries, LimitObjects:
			return "The document is too large to read once unpacked (" + string(le.Limit) + ")."
		default:
			return "The document is too complex to read (" + string(le.Limit) + ")."
		}
	case errors.Is(err, ErrInvalidEncoding):
		return "The text file is not UTF-8 encoded. Save it as UTF-8 and upload it again."
	case errors.As(err, &fe):
		return fmt.Sprintf("The file could not be read as %s: it is damaged or not a %s file.", kindLabel(fe.Kind), kindLabel(fe.Kind))
	case errors.Is(err, ErrMalformed):
		return "The file could not be read: it is damaged or in an unexpected format."
	case errors.Is(err, ErrUnsupportedKind):
		return "Text extraction is not available for this type of file."
	case errors.Is(err, context.Canceled):
		return "Reading the document was cancelled."
	}
	return "The document could not be read."
}

func kindLabel(k Kind) string {
	switch k {
	case KindPDF:
		return "PDF"
	case KindDOCX:
		return "Word (DOCX)"
	case KindXLSX:
		return "Excel (XLSX)"
	case KindCSV:
		return "CSV"
	case KindTXT:
		return "text"
	}
	return string(k)
}
