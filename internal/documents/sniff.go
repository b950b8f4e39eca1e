package documents

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"
	"unicode/utf8"
)

// Type is an accepted kind of file. The type of an upload is decided by
// its content, never by its name or the browser's Content-Type.
type Type struct {
	Key   string // pdf, docx, xlsx, csv, txt, png, jpeg
	MIME  string // what downloads are served as
	Label string // for people
	Ext   string // the usual extension, with the dot
}

// The accepted types.
var (
	TypePDF  = Type{"pdf", "application/pdf", "PDF", ".pdf"}
	TypeDOCX = Type{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word document", ".docx"}
	TypeXLSX = Type{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook", ".xlsx"}
	TypeCSV  = Type{"csv", "text/csv; charset=utf-8", "CSV", ".csv"}
	TypeTXT  = Type{"txt", "text/plain; charset=utf-8", "Text", ".txt"}
	TypePNG  = Type{"png", "image/png", "PNG image", ".png"}
	TypeJPEG = Type{"jpeg", "image/jpeg", "JPEG image", ".jpg"}
)

// Types lists the accepted types.
var Types = []Type{TypePDF, TypeDOCX, TypeXLSX, TypeCSV, TypeTXT, TypePNG, TypeJPEG}

// TypeByMIME returns the accepted type served as mime.
func TypeByMIME(mime string) (Type, bool) {
	for _, t := range Types {
		if t.MIME == mime {
			return t, true
		}
	}
	return Type{}, false
}

// AcceptedList is the sentence that says what is accepted.
const AcceptedList = "PDF, Word (.docx), Excel (.xlsx), CSV, plain text, PNG and JPEG files"

// extTypes maps the extensions of accepted types to their type key. A file
// named with one of them must have that type's content.
var extTypes = map[string]string{
	".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".csv": "text", ".txt": "text", ".text": "text",
	".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg",
	// Extensions of types that are refused, so that their content is not
	// accepted under their name either (a Word 97 file is not text).
	".doc": "refused", ".xls": "refused", ".docm": "refused", ".xlsm": "refused", ".exe": "refused", ".zip": "refused",
}

// Refusal is an upload turned away, with a message for the user.
// TooLarge marks a file over the size limit (413 rather than 422).
type Refusal struct {
	Reason   string
	TooLarge bool
}

func (r *Refusal) Error() string { return r.Reason }

func refuse(format string, args ...any) *Refusal {
	return &Refusal{Reason: fmt.Sprintf(format, args...)}
}

// headSize is how much of the start of a file sniffing looks at.
const headSize = 8 << 10

// inspector sees an upload's plaintext as it streams past (it is the
// writer of a TeeReader): it counts and limits its size, hashes it, keeps
// its first bytes for sniffing, checks whether it is valid UTF-8 text
// without NUL bytes, and forwards it to the virus scanner.
type inspector struct {
	max     int64
	n       int64
	sha     hash.Hash
	head    []byte
	text    bool
	partial []byte // an incomplete UTF-8 sequence at the end of the last write
	scan    io.Writer
	scanErr error
}

// errTooLarge stops the stream when the size limit is passed.
var errTooLarge = errors.New("upload too large")

func newInspector(max int64, scan io.Writer) *inspector {
	return &inspector{max: max, sha: sha256.New(), head: make([]byte, 0, headSize), text: true, scan: scan}
}

func (in *inspector) Write(p []byte) (int, error) {
	in.n += int64(len(p))
	if in.n > in.max {
		return 0, errTooLarge
	}
	in.sha.Write(p)
	if len(in.head) < headSize {
		in.head = append(in.head, p[:min(len(p), headSize-len(in.head))]...)
	}
	if in.text {
		in.checkText(p)
	}
	if in.scan != nil && in.scanErr == nil {
		if _, err := in.scan.Write(p); err != nil {
			// The scanner's verdict (or its failure) is read at the end.
			in.scanErr = err
		}
	}
	return len(p), nil
}

// checkText validates UTF-8 across write boundaries.
func (in *inspector) checkText(p []byte) {
	if bytes.IndexByte(p, 0) >= 0 {
		in.text = false
		return
	}
	buf := p
	if len(in.partial) > 0 {
		buf = append(append([]byte(nil), in.partial...), p...)
		in.partial = in.partial[:0]
	}
	// Hold back a trailing incomplete sequence (at most 3 bytes).
	end := len(buf)
	for i := 1; i <= 3 && i <= len(buf); i++ {
		b := buf[len(buf)-i]
		if utf8.RuneStart(b) {
			if !utf8.FullRune(buf[len(buf)-i:]) {
				end = len(buf) - i
			}
			break
		}
	}
	if !utf8.Valid(buf[:end]) {
		in.text = false
		return
	}
	in.partial = append(in.partial, buf[end:]...)
}

// isText reports whether the whole stream was UTF-8 text without NULs.
func (in *inspector) isText() bool { return in.text && len(in.partial) == 0 }

// Magic numbers.
var (
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicZIP  = []byte("PK\x03\x04")
	magicPDF  = []byte("%PDF-")
)

// sniff decides the type from the start of the content; ZIP files (the
// container of DOCX and XLSX) need the whole file, through openZip.
func sniff(head []byte, text bool, size int64, name string, openZip func() (io.ReaderAt, error)) (Type, error) {
	if size == 0 {
		return Type{}, refuse("%s is empty.", displayName(name))
	}
	var t Type
	switch {
	case bytes.HasPrefix(head, magicPNG):
		t = TypePNG
	case bytes.HasPrefix(head, magicJPEG):
		t = TypeJPEG
	// The PDF header may follow some junk within the first 1024 bytes.
	case bytes.Contains(head[:min(len(head), 1024)], magicPDF):
		t = TypePDF
	case bytes.HasPrefix(head, magicZIP):
		ra, err := openZip()
		if err != nil {
			return Type{}, err
		}
		if t, err = officeType(ra, size, name); err != nil {
			return Type{}, err
		}
	case text:
		t = TypeTXT
		if strings.EqualFold(path.Ext(name), ".csv") {
			t = TypeCSV
		}
	default:
		return Type{}, refuse("%s is not a file type we accept. Upload %s.", displayName(name), AcceptedList)
	}
	// A name that claims another accepted type is refused: the person
	// meant something else, and a file named .txt served as a PDF would
	// surprise whoever opens it.
	ext := strings.ToLower(path.Ext(name))
	if want, ok := extTypes[ext]; ok {
		got := t.Key
		if got == "csv" || got == "txt" {
			got = "text"
		}
		if want != got {
			return Type{}, refuse("%s is named %s but its content is %s. Rename it to %s, or upload the right file.",
				displayName(name), ext, article(t.Label), t.Ext)
		}
	}
	return t, nil
}

func article(label string) string {
	if strings.ContainsRune("AEIOU", rune(label[0])) {
		return "an " + label
	}
	return "a " + label
}

func displayName(name string) string {
	if name == "" {
		return "The file"
	}
	return "“" + name + "”"
}

// Limits for looking inside a ZIP (a zip bomb must not cost anything).
const (
	maxZipEntries      = 10000
	maxContentTypesXML = 1 << 20
)

// Content types of OOXML main parts.
const (
	ctWordMain         = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
	ctExcelMain        = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
	ctWordMacro        = "application/vnd.ms-word.document.macroEnabled.main+xml"
	ctExcelMacro       = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
	ctVBAProject       = "application/vnd.ms-office.vbaProject"
	contentTypesXMLEnt = "[Content_Types].xml"
)

// officeType accepts a ZIP only when its [Content_Types].xml declares a
// Word document or an Excel workbook main part (and no macros).
func officeType(ra io.ReaderAt, size int64, name string) (Type, error) {
	notOffice := refuse("%s is a ZIP archive, not a Word or Excel document. Upload %s.", displayName(name), AcceptedList)
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return Type{}, notOffice
	}
	if len(zr.File) > maxZipEntries {
		return Type{}, notOffice
	}
	var ct *zip.File
	for _, f := range zr.File {
		if f.Name == contentTypesXMLEnt {
			ct = f
			break
		}
	}
	if ct == nil || ct.UncompressedSize64 > maxContentTypesXML {
		return Type{}, notOffice
	}
	rc, err := ct.Open()
	if err != nil {
		return Type{}, notOffice
	}
	defer rc.Close()
	var types struct {
		Defaults []struct {
			ContentType string `xml:"ContentType,attr"`
		} `xml:"Default"`
		Overrides []struct {
			PartName    string `xml:"PartName,attr"`
			ContentType string `xml:"ContentType,attr"`
		} `xml:"Override"`
	}
	if err := xml.NewDecoder(io.LimitReader(rc, maxContentTypesXML)).Decode(&types); err != nil {
		return Type{}, notOffice
	}
	var word, excel bool
	for _, o := range types.Overrides {
		switch o.ContentType {
		case ctWordMain:
			word = true
		case ctExcelMain:
			excel = true
		case ctWordMacro, ctExcelMacro, ctVBAProject:
			return Type{}, refuse("%s contains macros. Save it as a plain .docx or .xlsx file and upload that.", displayName(name))
		}
	}
	for _, d := range types.Defaults {
		if d.ContentType == ctVBAProject {
			return Type{}, refuse("%s contains macros. Save it as a plain .docx or .xlsx file and upload that.", displayName(name))
		}
	}
	switch {
	case word && !excel:
		return TypeDOCX, nil
	case excel && !word:
		return TypeXLSX, nil
	}
	return Type{}, notOffice
}
