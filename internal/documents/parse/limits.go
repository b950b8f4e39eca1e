package parse

import "time"

// Limits bound one extraction. A zero field takes its default (see
// DefaultLimits); Extract enforces every one of them.
type Limits struct {
	// MaxPages is the most pages a PDF may have.
	MaxPages int
	// MaxDecompressedBytes bounds the bytes inflated from compressed data:
	// all zip entries read from a DOCX or XLSX together (their declared
	// sizes are checked first, then the bytes are counted while reading),
	// and all PDF streams read (page contents, fonts' Unicode maps).
	MaxDecompressedBytes int64
	// MaxZipEntries is the most entries a DOCX or XLSX archive may list.
	MaxZipEntries int
	// MaxXMLDepth is the deepest element nesting accepted in the XML parts
	// of a DOCX or XLSX.
	MaxXMLDepth int
	// MaxChars is the most characters (runes) extracted in all.
	MaxChars int
	// MaxPDFObjects bounds the object count a PDF may declare (its
	// cross-reference size), which the PDF library allocates up front.
	MaxPDFObjects int
	// Time bounds the whole extraction, OCR included, on top of the
	// caller's context. Negative: no limit other than the context.
	Time time.Duration
	// OCR configures text recognition of scanned PDF pages.
	OCR OCR
}

// OCR configures recognition of PDF pages without a text layer. It runs
// when Tesseract (Debian's tesseract-ocr) and pdftoppm (poppler-utils) are
// installed; without them such pages are listed in Result.NoTextPages.
type OCR struct {
	// Disabled turns OCR off: scanned pages are only reported.
	Disabled bool
	// Tesseract and Pdftoppm are the programs to run; empty means look
	// them up on PATH.
	Tesseract, Pdftoppm string
	// Language is Tesseract's -l argument (default "eng").
	Language string
	// DPI is the resolution pages are rendered at for OCR (default 300).
	DPI int
	// PageTimeout bounds rendering plus recognition of one page (default
	// 60 s).
	PageTimeout time.Duration
	// MaxPages is the most pages OCR runs on in one document (default
	// 200); further scanned pages are reported in Result.NoTextPages.
	MaxPages int
}

// DefaultLimits are the limits used for fields left zero.
func DefaultLimits() Limits {
	return Limits{
		MaxPages:             2000,
		MaxDecompressedBytes: 512 << 20,
		MaxZipEntries:        10000,
		MaxXMLDepth:          256,
		MaxChars:             20 << 20,
		MaxPDFObjects:        4_000_000,
		Time:                 2 * time.Minute,
		OCR: OCR{
			Language:    "eng",
			DPI:         300,
			PageTimeout: 60 * time.Second,
			MaxPages:    200,
		},
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxPages <= 0 {
		l.MaxPages = d.MaxPages
	}
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = d.MaxDecompressedBytes
	}
	if l.MaxZipEntries <= 0 {
		l.MaxZipEntries = d.MaxZipEntries
	}
	if l.MaxXMLDepth <= 0 {
		l.MaxXMLDepth = d.MaxXMLDepth
	}
	if l.MaxChars <= 0 {
		l.MaxChars = d.MaxChars
	}
	if l.MaxPDFObjects <= 0 {
		l.MaxPDFObjects = d.MaxPDFObjects
	}
	if l.Time == 0 {
		l.Time = d.Time
	}
	if l.OCR.Language == "" {
		l.OCR.Language = d.OCR.Language
	}
	if l.OCR.DPI <= 0 {
		l.OCR.DPI = d.OCR.DPI
	}
	if l.OCR.PageTimeout <= 0 {
		l.OCR.PageTimeout = d.OCR.PageTimeout
	}
	if l.OCR.MaxPages <= 0 {
		l.OCR.MaxPages = d.OCR.MaxPages
	}
	return l
}
