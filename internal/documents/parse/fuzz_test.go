package parse

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets: any input must end in a result that keeps the package's
// promises or in an error, never in a panic of our own code, a hang or a
// runaway allocation. A panic inside a third-party library is recovered
// by Extract as a *PanicError: logged here, not failed, as it is not ours
// to fix and the caller sees a clean error. `make fuzz` runs each target;
// `go test` runs their seed corpus (the fixtures and broken variants).

func fuzzLimits() Limits {
	return Limits{
		MaxPages:             200,
		MaxDecompressedBytes: 32 << 20,
		MaxZipEntries:        1000,
		MaxChars:             1 << 20,
		MaxPDFObjects:        100000,
		Time:                 10 * time.Second,
		OCR:                  OCR{Disabled: true},
	}
}

func fuzzSeeds(f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
		// Broken variants: truncated, and with bytes flipped in the middle.
		f.Add(s[:len(s)/2])
		if len(s) > 64 {
			m := append([]byte{}, s...)
			for i := len(m) / 3; i < len(m)/3+16; i++ {
				m[i] ^= 0x5a
			}
			f.Add(m)
		}
	}
}

func checkExtract(t *testing.T, kind Kind, data []byte) {
	res, err := Extract(context.Background(), bytes.NewReader(data), int64(len(data)), kind, fuzzLimits())
	if err != nil {
		var pe *PanicError
		if errors.As(err, &pe) {
			if ownPanic(pe.Stack) {
				t.Fatalf("panic in our code: %v\n%s", pe.Value, pe.Stack)
			}
			t.Logf("third-party panic recovered: %v", pe.Value)
		}
		if Reason(err) == "" || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrEncrypted) || errors.Is(err, ErrLimit)) {
			t.Fatalf("unclassified error %T: %v", err, err)
		}
		return
	}
	chars := 0
	for _, s := range res.Segments {
		if s.Text == "" || !utf8.ValidString(s.Text) || strings.ContainsAny(s.Text, "\r\x00") {
			t.Fatalf("bad segment text %q", s.Text)
		}
		chars += utf8.RuneCountInString(s.Text)
		l := s.Loc
		ok := false
		switch kind {
		case KindPDF:
			ok = l.Page >= 1 && l.Page <= res.Pages
		case KindDOCX:
			ok = l.Paragraph > 0 || (l.Table > 0 && l.Row > 0 && l.Column > 0)
		case KindXLSX:
			ok = l.Sheet != "" && l.Row > 0 && l.Column > 0 && l.Cell != ""
		case KindCSV:
			ok = l.Row > 0 && l.Column > 0 && l.ColumnEnd >= l.Column && l.Cell != ""
		case KindTXT:
			ok = l.LineStart > 0 && l.LineEnd >= l.LineStart
		}
		if !ok {
			t.Fatalf("bad %s locator %+v", kind, l)
		}
	}
	if chars != res.Chars {
		t.Fatalf("Chars %d, segments hold %d", res.Chars, chars)
	}
	for _, c := range Chunks(res, 200) {
		if utf8.RuneCountInString(c.Text) > 200 || c.Ref() == "" {
			t.Fatalf("chunk %q %q", c.Ref(), c.Text)
		}
	}
}

// ownPanic reports whether the panicking frame is in this package.
func ownPanic(stack string) bool {
	lines := strings.Split(stack, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "panic(") {
			continue
		}
		for _, next := range lines[i+1:] {
			if strings.HasPrefix(next, "\t") || strings.HasPrefix(next, "runtime.") {
				continue
			}
			return strings.HasPrefix(next, "accute/internal/documents/parse.")
		}
	}
	return true
}

func FuzzExtractPDF(f *testing.F) {
	fuzzSeeds(f, fixture(f, "report.pdf"), fixture(f, "restricted-aes256.pdf"), fixture(f, "encrypted-rc4.pdf"),
		buildPDF(pdfPageSpec{content: "BT /F1 12 Tf 72 720 Td (Hello) Tj [(W) -250 (orld)] TJ T* <414243> ' ET"}),
		[]byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"))
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, KindPDF, data) })
}

func FuzzExtractDOCX(f *testing.F) {
	fuzzSeeds(f, fixture(f, "report.docx"),
		buildDOCX(f, `<w:p><w:r><w:t>a</w:t><w:tab/><w:br/></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc></w:tr></w:tbl>`))
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, KindDOCX, data) })
}

func FuzzExtractXLSX(f *testing.F) {
	fuzzSeeds(f, fixture(f, "workbook.xlsx"))
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, KindXLSX, data) })
}

func FuzzExtractCSV(f *testing.F) {
	fuzzSeeds(f, fixture(f, "workbook.csv"), fixture(f, "workbook-semicolon.csv"), utf16LE("a\tb\r\n1\t2\r\n"),
		[]byte("a,\"b\nc\",d\n\"unterminated"))
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, KindCSV, data) })
}

func FuzzExtractTXT(f *testing.F) {
	fuzzSeeds(f, fixture(f, "notes.txt"), []byte("a\rb\r\n\r\nc"), utf16LE("x\ny"), []byte("bad \xff utf8"))
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, KindTXT, data) })
}
