package parse

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// report.pdf was written by LibreOffice from testdata/src/report.fodt:
// three pages, a table, a bold span, non-ASCII text, an empty paragraph.
func TestPDFReport(t *testing.T) {
	res := mustExtract(t, fixture(t, "report.pdf"), KindPDF, testLimits())
	if res.Pages != 3 || res.Kind != KindPDF {
		t.Errorf("pages %d kind %s", res.Pages, res.Kind)
	}
	assertSegments(t, res, []wantSeg{
		{"page 1", "Quarterly Report 2024\nPrepared for Acme Holdings by the audit team.\n\nCafé Zürich owes €1,234.56 for consulting.\nClient\tService\tAmount\nAcme Holdings\tTax return\t2,500.00\nFederal and state"},
		{"page 2", "Page two begins with the balance sheet review.\nTotal assets increased by 12% year over year."},
		{"page 3", "Page three contains the signature block."},
	})
	if len(res.NoTextPages) != 0 || len(res.OCRPages) != 0 {
		t.Errorf("no text %v ocr %v", res.NoTextPages, res.OCRPages)
	}
	if res.Chars != len([]rune(res.Segments[0].Text))+len([]rune(res.Segments[1].Text))+len([]rune(res.Segments[2].Text)) {
		t.Errorf("chars %d", res.Chars)
	}
}

func TestPDFHundredPages(t *testing.T) {
	res := mustExtract(t, fixture(t, "hundred.pdf"), KindPDF, testLimits())
	if res.Pages != 100 || len(res.Segments) != 100 {
		t.Fatalf("pages %d segments %d", res.Pages, len(res.Segments))
	}
	for i, s := range res.Segments {
		if s.Loc.Page != i+1 || !strings.HasPrefix(s.Text, fmt.Sprintf("Page %d summary of accounts\n", i+1)) {
			t.Fatalf("segment %d at %s starts %q", i, s.Loc, s.Text[:min(40, len(s.Text))])
		}
	}
}

func TestPDFEncrypted(t *testing.T) {
	for _, name := range []string{"encrypted-aes256.pdf", "encrypted-rc4.pdf"} {
		t.Run(name, func(t *testing.T) {
			_, err := extractBytes(t, fixture(t, name), KindPDF, testLimits())
			assertErr(t, err, ErrEncrypted)
			if errors.Is(err, ErrMalformed) {
				t.Errorf("an encrypted file is not a damaged one: %v", err)
			}
			if !strings.Contains(Reason(err), "password") {
				t.Errorf("reason %q", Reason(err))
			}
		})
	}
}

// A PDF encrypted with an empty user password (permissions only, as banks
// send statements) opens for everyone: its text is read.
func TestPDFRestrictedOpens(t *testing.T) {
	res := mustExtract(t, fixture(t, "restricted-aes256.pdf"), KindPDF, testLimits())
	want := mustExtract(t, fixture(t, "report.pdf"), KindPDF, testLimits())
	if res.Text() != want.Text() || len(res.Segments) != 3 {
		t.Fatalf("got %q", res.Text())
	}
}

func TestPDFMalformed(t *testing.T) {
	good := fixture(t, "report.pdf")
	cases := map[string][]byte{
		"empty":          {},
		"not a pdf":      []byte("hello, this is not a PDF at all"),
		"header only":    []byte("%PDF-1.7\n"),
		"header garbage": append([]byte("%PDF-1.4\n"), []byte(strings.Repeat("garbage ( [ << /", 500))...),
		"first 100":      good[:100],
		"first 1000":     good[:1000],
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := extractBytes(t, b, KindPDF, testLimits())
			assertErr(t, err, ErrMalformed)
		})
	}
}

// A truncated PDF either fails cleanly or, when pdfcpu can rebuild the
// cross-reference table, yields only text the full file has on those
// pages: never garbage, never a panic.
func TestPDFTruncated(t *testing.T) {
	good := fixture(t, "report.pdf")
	full := mustExtract(t, good, KindPDF, testLimits())
	for _, n := range []int{len(good) / 4, len(good) / 2, len(good) * 3 / 4, len(good) - 30} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			res, err := extractBytes(t, good[:n], KindPDF, testLimits())
			if err != nil {
				assertErr(t, err, ErrMalformed)
				t.Logf("error: %v", err)
				return
			}
			t.Logf("rebuilt: %d pages of text", len(res.Segments))
			for _, s := range res.Segments {
				if s.Loc.Page < 1 || s.Loc.Page > len(full.Segments) || s.Text != full.Segments[s.Loc.Page-1].Text {
					t.Errorf("truncated file gave [%s] %q", s.Loc, s.Text)
				}
			}
		})
	}
}

// Text placed the ways producers place it: kerning arrays with word gaps,
// T* and ' line moves, hex strings, a Form XObject, a Type0 font with a
// ToUnicode CMap, a Differences encoding with glyph names, and a rotated
// page.
func TestPDFTextOperators(t *testing.T) {
	b := &pdfBuilder{}
	catalog := b.reserve()
	tree := b.reserve()
	helv := b.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 126 /Widths [" + strings.Repeat("500 ", 95) + "] >>")
	diffs := b.add("<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [1 /eacute /Euro /fi /uni00FC] >> >>")
	cmap := b.stream("", []byte(`/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Test-UCS def
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0001> <0048> <0002> <0069> endbfchar
1 beginbfrange <0010> <0012> <0041> endbfrange
1 beginbfrange <0020> <0021> [<00660069> <D835DC00>] endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end`))
	cid := b.add(fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /Test /Encoding /Identity-H /ToUnicode %d 0 R /DescendantFonts [<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Test /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 500 /W [1 [600 700]] >>] >>", cmap))
	form := b.stream(fmt.Sprintf(" /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >>", helv),
		[]byte("BT /F1 12 Tf 72 400 Td (Drawn by a form) Tj ET"))
	res := fmt.Sprintf("/Resources << /Font << /F1 %d 0 R /F2 %d 0 R /F3 %d 0 R >> /XObject << /Fm1 %d 0 R >> >>", helv, diffs, cid, form)
	page1 := b.stream("", []byte(`BT /F1 12 Tf 72 720 Td (Hello ) Tj [(W) 80 (orld) -250 (again)] TJ
14 TL T* (Second line) Tj (Third line) ' <4865782074657874> ' ET
BT /F2 12 Tf 72 600 Td (caf\001 \0023 \003ne Z\004rich) Tj ET
BT /F3 12 Tf 72 500 Td [<00010002> -300 <001000110012>] TJ <00200021> Tj ET
q 1 0 0 1 0 0 cm /Fm1 Do Q`))
	page2 := b.stream("", []byte(`BT /F1 12 Tf 0 1 -1 0 100 100 Tm (Rotated first) Tj 0 1 -1 0 114 100 Tm (Rotated second) Tj ET`))
	p1 := b.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R %s >>", tree, page1, res))
	p2 := b.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents [%d 0 R] %s >>", tree, page2, res))
	b.set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 2 >>", p1, p2))
	b.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", tree))

	got := mustExtract(t, b.bytes(catalog, ""), KindPDF, testLimits())
	assertSegments(t, got, []wantSeg{
		{"page 1", "Hello World again\nSecond line\nThird line\nHex text\n\ncafé €3 fine Zürich\n\nHi ABCfi𝐀\n\nDrawn by a form"},
		{"page 2", "Rotated first\nRotated second"},
	})
}

// A page with only an image (a scan) and no text layer: with OCR off or
// not installed it is listed in NoTextPages; the other pages are read and
// the document does not fail.
func scannedPDF(t *testing.T) []byte { return scannedPDFWith(t, "") }

// scannedPDFWith adds a text layer to the scan's page (a stamp).
func scannedPDFWith(t *testing.T, stamp string) []byte {
	t.Helper()
	jpeg := fixture(t, "scan-page.jpg") // page 1 of report.pdf rendered by pdftoppm at 100 dpi
	b := &pdfBuilder{}
	catalog := b.reserve()
	tree := b.reserve()
	font := b.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	img := b.stream(" /Type /XObject /Subtype /Image /Width 827 /Height 1170 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", jpeg)
	scanContent := "q 595 0 0 842 0 0 cm /Im1 Do Q"
	if stamp != "" {
		scanContent += " BT /F1 8 Tf 20 20 Td (" + stamp + ") Tj ET"
	}
	scan := b.stream("", []byte(scanContent))
	text := b.stream("", []byte("BT /F1 12 Tf 72 720 Td (Typed page) Tj ET"))
	p1 := b.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /XObject << /Im1 %d 0 R >> /Font << /F1 %d 0 R >> >> >>", tree, scan, img, font))
	p2 := b.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /Font << /F1 %d 0 R >> >> >>", tree, text, font))
	b.set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 2 >>", p1, p2))
	b.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", tree))
	return b.bytes(catalog, "")
}

func TestPDFScannedWithoutOCR(t *testing.T) {
	pdf := scannedPDF(t)
	for name, ocr := range map[string]OCR{
		"disabled":          {Disabled: true},
		"tesseract missing": {Tesseract: "/nonexistent/tesseract"},
		"pdftoppm missing":  {Pdftoppm: "/nonexistent/pdftoppm"},
	} {
		t.Run(name, func(t *testing.T) {
			limits := testLimits()
			limits.OCR = ocr
			res := mustExtract(t, pdf, KindPDF, limits)
			assertSegments(t, res, []wantSeg{{"page 2", "Typed page"}})
			if fmt.Sprint(res.NoTextPages) != "[1]" || len(res.OCRPages) != 0 || len(res.Notes) != 1 {
				t.Fatalf("no text %v ocr %v notes %v", res.NoTextPages, res.OCRPages, res.Notes)
			}
		})
	}
}

// A page-sized image with a few words of text (a scanner app's stamp) is
// a scan too; a page of text with a small logo is not.
func TestPDFScanWithStamp(t *testing.T) {
	limits := testLimits()
	res := mustExtract(t, scannedPDFWith(t, "Scanned with ScanApp"), KindPDF, limits)
	assertSegments(t, res, []wantSeg{{"page 1", "Scanned with ScanApp"}, {"page 2", "Typed page"}})
	if fmt.Sprint(res.NoTextPages) != "[1]" {
		t.Fatalf("no text %v", res.NoTextPages)
	}
	logo := fixture(t, "scan-page.jpg")
	b := &pdfBuilder{}
	catalog := b.reserve()
	tree := b.reserve()
	font := b.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	img := b.stream(" /Type /XObject /Subtype /Image /Width 827 /Height 1170 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", logo)
	content := b.stream("", []byte("q 60 0 0 85 20 740 cm /Im1 Do Q BT /F1 12 Tf 100 700 Td (Invoice 2024-117 for consulting services) Tj ET"))
	page := b.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /XObject << /Im1 %d 0 R >> /Font << /F1 %d 0 R >> >> >>", tree, content, img, font))
	b.set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", page))
	b.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", tree))
	res = mustExtract(t, b.bytes(catalog, ""), KindPDF, limits)
	assertSegments(t, res, []wantSeg{{"page 1", "Invoice 2024-117 for consulting services"}})
	if len(res.NoTextPages) != 0 {
		t.Fatalf("no text %v", res.NoTextPages)
	}
}

func TestPDFScannedOCR(t *testing.T) {
	for _, tool := range []string{"tesseract", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian: tesseract-ocr, poppler-utils)", tool)
		}
	}
	limits := testLimits()
	limits.OCR = OCR{PageTimeout: time.Minute}
	res := mustExtract(t, scannedPDF(t), KindPDF, limits)
	if fmt.Sprint(res.OCRPages) != "[1]" || len(res.NoTextPages) != 0 || len(res.Segments) != 2 {
		t.Fatalf("ocr %v no text %v segments %v notes %v", res.OCRPages, res.NoTextPages, res.Segments, res.Notes)
	}
	ocr := res.Segments[0]
	if ocr.Loc.Page != 1 || res.Segments[1].Loc.Page != 2 {
		t.Fatalf("order %v", res.Segments)
	}
	for _, word := range []string{"Quarterly Report 2024", "Acme Holdings", "consulting"} {
		if !strings.Contains(ocr.Text, word) {
			t.Errorf("OCR text lacks %q:\n%s", word, ocr.Text)
		}
	}

	// A stamp on the scan comes first, then the recognized text.
	res = mustExtract(t, scannedPDFWith(t, "Scanned with ScanApp"), KindPDF, limits)
	if fmt.Sprint(res.OCRPages) != "[1]" || !strings.HasPrefix(res.Segments[0].Text, "Scanned with ScanApp\n\n") || !strings.Contains(res.Segments[0].Text, "Acme Holdings") {
		t.Fatalf("ocr %v segments %v", res.OCRPages, res.Segments)
	}

	// A page timeout too short for OCR leaves the page without text, and
	// the document still parses.
	limits.OCR.PageTimeout = time.Millisecond
	res = mustExtract(t, scannedPDF(t), KindPDF, limits)
	if fmt.Sprint(res.NoTextPages) != "[1]" || len(res.Segments) != 1 || len(res.Notes) == 0 {
		t.Fatalf("no text %v segments %v notes %v", res.NoTextPages, res.Segments, res.Notes)
	}
}

func TestPDFLimits(t *testing.T) {
	hundred := fixture(t, "hundred.pdf")
	t.Run("pages", func(t *testing.T) {
		l := testLimits()
		l.MaxPages = 50
		_, err := extractBytes(t, hundred, KindPDF, l)
		assertLimit(t, err, LimitPages)
		if !strings.Contains(Reason(err), "50 pages") {
			t.Errorf("reason %q", Reason(err))
		}
	})
	t.Run("chars", func(t *testing.T) {
		l := testLimits()
		l.MaxChars = 1000
		_, err := extractBytes(t, hundred, KindPDF, l)
		assertLimit(t, err, LimitChars)
	})
	t.Run("decompressed", func(t *testing.T) {
		// A content stream that inflates from about 8 KB to 8 MB.
		b := &pdfBuilder{}
		catalog := b.reserve()
		tree := b.reserve()
		content := b.flateStream("", []byte("BT /F1 12 Tf 72 720 Td (bomb) Tj ET\n"+strings.Repeat(" ", 8<<20)))
		page := b.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>", tree, content))
		b.set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", page))
		b.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", tree))
		l := testLimits()
		l.MaxDecompressedBytes = 1 << 20
		_, err := extractBytes(t, b.bytes(catalog, ""), KindPDF, l)
		assertLimit(t, err, LimitDecompressed)
	})
	t.Run("time", func(t *testing.T) {
		l := testLimits()
		l.Time = time.Nanosecond
		_, err := extractBytes(t, hundred, KindPDF, l)
		assertLimit(t, err, LimitTime)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a time limit is a deadline: %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Extract(ctx, strings.NewReader(string(hundred)), int64(len(hundred)), KindPDF, testLimits())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}

// Hostile structures end quickly with an error or with text, never hang:
// a page tree that contains itself, thousands of nested arrays in a
// content stream, a Form XObject that draws itself.
func TestPDFHostileStructures(t *testing.T) {
	t.Run("page tree cycle", func(t *testing.T) {
		b := &pdfBuilder{}
		catalog := b.reserve()
		tree := b.reserve()
		inner := b.reserve()
		content := b.stream("", []byte("BT /F1 12 Tf 72 720 Td (Only page) Tj ET"))
		page := b.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Contents %d 0 R >>", inner, content))
		b.set(inner, fmt.Sprintf("<< /Type /Pages /Parent %d 0 R /Kids [%d 0 R %d 0 R] /Count 1 >>", tree, page, tree))
		b.set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 1 >>", inner, tree))
		b.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", tree))
		res, err := extractBytes(t, b.bytes(catalog, ""), KindPDF, testLimits())
		if err != nil {
			assertErr(t, err, ErrMalformed)
			t.Logf("error: %v", err)
			return
		}
		assertSegments(t, res, []wantSeg{{"page 1", "Only page"}})
	})
	t.Run("nested arrays", func(t *testing.T) {
		deep := strings.Repeat("[", 200000) + strings.Repeat("]", 200000)
		pdf := buildPDF(pdfPageSpec{content: deep + " BT /F1 12 Tf 72 720 Td (After the arrays) Tj ET"})
		res := mustExtract(t, pdf, KindPDF, testLimits())
		assertSegments(t, res, []wantSeg{{"page 1", "After the arrays"}})
	})
	t.Run("form draws itself", func(t *testing.T) {
		b := &pdfBuilder{}
		catalog := b.reserve()
		tree := b.reserve()
		font := b.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
		form := b.reserve()
		b.set(form, fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /Fm1 %d 0 R >> /Font << /F1 %d 0 R >> >> /Length 44 >>\nstream\nBT /F1 12 Tf 72 720 Td (Loop) Tj ET /Fm1 Do\nendstream", form, font))
		content := b.stream("", []byte("/Fm1 Do"))
		page := b.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Contents %d 0 R /Resources << /XObject << /Fm1 %d 0 R >> >> >>", tree, content, form))
		b.set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", page))
		b.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", tree))
		res := mustExtract(t, b.bytes(catalog, ""), KindPDF, testLimits())
		if len(res.Segments) != 1 || !strings.HasPrefix(res.Segments[0].Text, "Loop") {
			t.Fatalf("got %v", res.Segments)
		}
	})
}

func BenchmarkExtractPDF100(b *testing.B) {
	pdf := fixture(b, "hundred.pdf")
	limits := testLimits()
	b.SetBytes(int64(len(pdf)))
	b.ReportAllocs()
	for b.Loop() {
		res := mustExtract(b, pdf, KindPDF, limits)
		if len(res.Segments) != 100 {
			b.Fatalf("%d segments", len(res.Segments))
		}
	}
}
