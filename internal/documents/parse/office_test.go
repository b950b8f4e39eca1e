package parse

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"
)

// report.docx was written by LibreOffice from testdata/src/report.fodt.
func TestDOCXReport(t *testing.T) {
	res := mustExtract(t, fixture(t, "report.docx"), KindDOCX, testLimits())
	assertSegments(t, res, []wantSeg{
		{"paragraph 1", "Quarterly Report 2024"},
		{"paragraph 2", "Prepared for Acme Holdings by the audit team."},
		// paragraph 3 is empty: counted, not returned
		{"paragraph 4", "Café Zürich owes €1,234.56 for consulting."},
		{"table 1, row 1, cell 1", "Client"},
		{"table 1, row 1, cell 2", "Service"},
		{"table 1, row 1, cell 3", "Amount"},
		{"table 1, row 2, cell 1", "Acme Holdings"},
		{"table 1, row 2, cell 2", "Tax return\nFederal and state"},
		{"table 1, row 2, cell 3", "2,500.00"},
		{"paragraph 5", "Page two begins with the balance sheet review."},
		{"paragraph 6", "Total assets increased by 12% year over year."},
		{"paragraph 7", "Page three contains the signature block."},
	})
	if s := res.Segments[7].Loc; s.Table != 1 || s.Row != 2 || s.Column != 2 {
		t.Errorf("cell locator %+v", s)
	}
}

// What Word puts in document.xml besides plain runs: tabs and breaks,
// tracked deletions and field codes (not shown), a text box with its
// legacy fallback copy (read once), a nested table, content controls.
func TestDOCXStructures(t *testing.T) {
	body := `<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Name:</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">Acme </w:t></w:r><w:ins><w:r><w:t>Holdings</w:t></w:r></w:ins><w:del><w:r><w:delText>Removed</w:delText></w:r></w:del></w:p>
<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:t>Line one</w:t><w:br/><w:t>Line two</w:t></w:r></w:p>
<w:sdt><w:sdtContent><w:p><w:r><w:t>In a content control</w:t></w:r></w:p></w:sdtContent></w:sdt>
<w:p><w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>Text box</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Text box</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r><w:r><w:t>after</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Outer</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>n1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>n2</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:tc><w:tc><w:p><w:r><w:t>Right</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:t>Last</w:t><w:noBreakHyphen/><w:t>one</w:t></w:r></w:p>
<w:sectPr><w:pgSz w:w="12240"/></w:sectPr>`
	res := mustExtract(t, buildDOCX(t, body), KindDOCX, testLimits())
	assertSegments(t, res, []wantSeg{
		{"paragraph 1", "Name:\tAcme Holdings"},
		{"paragraph 2", "Line one\nLine two"},
		{"paragraph 3", "In a content control"},
		{"paragraph 4", "Text box\nafter"},
		{"table 1, row 1, cell 1", "Outer\nn1 | n2"},
		{"table 1, row 1, cell 2", "Right"},
		{"paragraph 5", "Last-one"},
	})
}

func TestDOCXMalformed(t *testing.T) {
	good := fixture(t, "report.docx")
	cases := map[string][]byte{
		"empty":       {},
		"not a zip":   []byte("PK but not really a zip file"),
		"truncated":   good[:len(good)/2],
		"no document": buildZip(t, zipFile{"_rels/.rels", strings.NewReader(docxRels)}),
		"bad xml":     replaceZipEntry(t, good, "word/document.xml", []byte(`<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>unclosed`)),
		"not xml":     replaceZipEntry(t, good, "word/document.xml", []byte("\x00\x01binary")),
		"no body":     replaceZipEntry(t, good, "word/document.xml", []byte(`<w:document xmlns:w="x"/>`)),
		"legacy doc":  cfbFile(false),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := extractBytes(t, b, KindDOCX, testLimits())
			assertErr(t, err, ErrMalformed)
		})
	}
}

// cfbFile is the start of an OLE compound file, the container Office uses
// for password-protected documents (with an EncryptionInfo stream) and for
// legacy .doc/.xls files.
func cfbFile(encrypted bool) []byte {
	b := append([]byte{}, cfbMagic...)
	b = append(b, make([]byte, 1024)...)
	if encrypted {
		for _, r := range "EncryptionInfo" {
			b = binary.LittleEndian.AppendUint16(b, uint16(r))
		}
	}
	return append(b, make([]byte, 512)...)
}

func TestOfficeEncrypted(t *testing.T) {
	for _, kind := range []Kind{KindDOCX, KindXLSX} {
		_, err := extractBytes(t, cfbFile(true), kind, testLimits())
		assertErr(t, err, ErrEncrypted)
	}
	// A zip entry with the encryption flag.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "_rels/.rels", Method: zip.Store})
	_, _ = w.Write([]byte(docxRels))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "word/document.xml", Method: zip.Store, Flags: 0x1})
	_, _ = w.Write([]byte("encrypted bytes"))
	_ = zw.Close()
	_, err := extractBytes(t, buf.Bytes(), KindDOCX, testLimits())
	assertErr(t, err, ErrEncrypted)
}

// A zip bomb: document.xml inflates to 16 MB of zeros from about 70 KB.
// The declared size is refused before anything is inflated; a lying
// declaration is caught while reading.
func TestDOCXZipBomb(t *testing.T) {
	const size = 16 << 20
	head := `<?xml version="1.0"?><w:document xmlns:w="x"><w:body><w:p><w:r><w:t>`
	bomb := buildZip(t, zipFile{"_rels/.rels", strings.NewReader(docxRels)},
		zipFile{"word/document.xml", ioMulti(strings.NewReader(head), repeated('0', size))})
	if len(bomb) > 200<<10 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	l := testLimits()
	l.MaxDecompressedBytes = 2 << 20
	_, err := extractBytes(t, bomb, KindDOCX, l)
	assertLimit(t, err, LimitDecompressed)

	// The same archive declaring a small size for document.xml.
	lying := patchDeclaredSize(t, bomb, "word/document.xml", 1000)
	_, err = extractBytes(t, lying, KindDOCX, l)
	if err == nil {
		t.Fatal("lying bomb accepted")
	}
	assertErr(t, err, ErrMalformed)

	l.MaxChars = 1000
	_, err = extractBytes(t, buildDOCX(t, `<w:p><w:r><w:t>`+strings.Repeat("x", 2000)+`</w:t></w:r></w:p>`), KindDOCX, l)
	assertLimit(t, err, LimitChars)
}

// The inflation budget is shared by all entries and counted on the bytes
// actually read, whatever the headers declare.
func TestZipCountsInflatedBytes(t *testing.T) {
	e := &extraction{limits: Limits{MaxDecompressedBytes: 1000, MaxZipEntries: 10}.withDefaults()}
	e.limits.MaxDecompressedBytes = 1000
	z := buildZip(t, zipFile{"a.xml", repeated('a', 600)}, zipFile{"b.xml", repeated('b', 600)})
	zd, err := openZip(e, KindDOCX, bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) error {
		rc, err := zd.open(zd.file(name))
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = readAllString(rc)
		return err
	}
	if err := read("a.xml"); err != nil {
		t.Fatal(err)
	}
	// b.xml declares 600 bytes, 400 remain: refused before inflating.
	assertLimit(t, read("b.xml"), LimitDecompressed)
	// With the declaration passed but the reading counted: the reader
	// stops at the budget.
	zd.used = 0
	e.limits.MaxDecompressedBytes = 1100
	if err := read("a.xml"); err != nil {
		t.Fatal(err)
	}
	zd.used = 600
	cr := &countingReader{z: zd, rc: io.NopCloser(nil), r: repeated('x', 1000)}
	_, err = readAllString(cr)
	assertLimit(t, err, LimitDecompressed)
}

// patchDeclaredSize rewrites an entry's uncompressed size in its local
// header and in the central directory.
func patchDeclaredSize(t *testing.T, z []byte, name string, size uint32) []byte {
	t.Helper()
	out := append([]byte{}, z...)
	patched := 0
	for i := 0; i+46 < len(out); i++ {
		switch {
		case bytes.Equal(out[i:i+4], []byte("PK\x03\x04")):
			n := int(binary.LittleEndian.Uint16(out[i+26:]))
			if string(out[i+30:i+30+n]) == name {
				binary.LittleEndian.PutUint32(out[i+22:], size)
				patched++
			}
		case bytes.Equal(out[i:i+4], []byte("PK\x01\x02")):
			n := int(binary.LittleEndian.Uint16(out[i+28:]))
			if string(out[i+46:i+46+n]) == name {
				binary.LittleEndian.PutUint32(out[i+24:], size)
				patched++
			}
		case bytes.Equal(out[i:i+4], []byte("PK\x07\x08")):
			// the data descriptor after the entry's data
			if patched == 1 {
				binary.LittleEndian.PutUint32(out[i+12:], size)
			}
		}
	}
	if patched != 2 {
		t.Fatalf("patched %d headers", patched)
	}
	return out
}

func TestDOCXXMLDepth(t *testing.T) {
	deep := strings.Repeat("<w:sdt><w:sdtContent>", 300) + "<w:p><w:r><w:t>deep</w:t></w:r></w:p>" + strings.Repeat("</w:sdtContent></w:sdt>", 300)
	_, err := extractBytes(t, buildDOCX(t, deep), KindDOCX, testLimits())
	assertLimit(t, err, LimitXMLDepth)
	l := testLimits()
	l.MaxXMLDepth = 1000
	res := mustExtract(t, buildDOCX(t, deep), KindDOCX, l)
	assertSegments(t, res, []wantSeg{{"paragraph 1", "deep"}})
}

func TestZipEntriesLimit(t *testing.T) {
	files := []zipFile{{"_rels/.rels", strings.NewReader(docxRels)}}
	for i := range 20 {
		files = append(files, zipFile{"media/" + strings.Repeat("x", i+1), strings.NewReader("x")})
	}
	l := testLimits()
	l.MaxZipEntries = 10
	for _, kind := range []Kind{KindDOCX, KindXLSX} {
		_, err := extractBytes(t, buildZip(t, files...), kind, l)
		assertLimit(t, err, LimitZipEntries)
	}
}

// workbook.xlsx was written by LibreOffice from testdata/src/workbook.fods:
// two sheets (one with a space in its name), number formats with
// grouping, a percentage, a date, a formula, empty cells and rows.
func TestXLSXWorkbook(t *testing.T) {
	res := mustExtract(t, fixture(t, "workbook.xlsx"), KindXLSX, testLimits())
	assertSegments(t, res, []wantSeg{
		{"Summary!A1:D1", "A1: Client | B1: Fee | C1: Share | D1: Due"},
		{"Summary!A2:D2", "A2: Acme Holdings | B2: 2,500.00 | C2: 62.5% | D2: 2024-03-31"},
		{"Summary!A3:C3", "A3: Café Zürich | B3: 1,500.00 | C3: 37.5%"},
		{"Summary!A5:B5", "A5: Total | B5: 4,000.00"},
		{"'Q1 Data'!B1:C1", "B1: Invoice | C1: 42"},
		{"'Q1 Data'!B2", "B2: Note with | pipe"},
	})
	if strings.Join(res.Sheets, ",") != "Summary,Q1 Data" {
		t.Errorf("sheets %v", res.Sheets)
	}
	l := res.Segments[4].Loc
	if l.Sheet != "Q1 Data" || l.Row != 1 || l.Column != 2 || l.ColumnEnd != 3 || l.Cell != "B1:C1" {
		t.Errorf("locator %+v", l)
	}
}

func TestXLSXMalformed(t *testing.T) {
	good := fixture(t, "workbook.xlsx")
	cases := map[string][]byte{
		"truncated":   good[:len(good)*2/3],
		"not a zip":   []byte("not a spreadsheet"),
		"no workbook": buildZip(t, zipFile{"hello.txt", strings.NewReader("hi")}),
		"bad sheet":   replaceZipEntry(t, good, "xl/worksheets/sheet1.xml", []byte(`<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c>`)),
		"bad strings": replaceZipEntry(t, good, "xl/sharedStrings.xml", []byte(`<sst><si><t>unclosed`)),
		"legacy xls":  cfbFile(false),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := extractBytes(t, b, KindXLSX, testLimits())
			assertErr(t, err, ErrMalformed)
		})
	}
}

func TestXLSXLimits(t *testing.T) {
	good := fixture(t, "workbook.xlsx")
	t.Run("bomb", func(t *testing.T) {
		sheet := ioMulti(strings.NewReader(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`), repeated(' ', 8<<20), strings.NewReader(`</sheetData></worksheet>`))
		b, _ := readAllString(sheet)
		bomb := replaceZipEntry(t, good, "xl/worksheets/sheet2.xml", []byte(b))
		l := testLimits()
		l.MaxDecompressedBytes = 1 << 20
		_, err := extractBytes(t, bomb, KindXLSX, l)
		assertLimit(t, err, LimitDecompressed)
	})
	t.Run("depth", func(t *testing.T) {
		deep := `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + strings.Repeat("<x>", 500) + strings.Repeat("</x>", 500) + `</sheetData></worksheet>`
		_, err := extractBytes(t, replaceZipEntry(t, good, "xl/worksheets/sheet1.xml", []byte(deep)), KindXLSX, testLimits())
		assertLimit(t, err, LimitXMLDepth)
	})
	t.Run("chars", func(t *testing.T) {
		l := testLimits()
		l.MaxChars = 50
		_, err := extractBytes(t, good, KindXLSX, l)
		assertLimit(t, err, LimitChars)
	})
}
