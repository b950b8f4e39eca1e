package parse

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testLimits keep tests fast and independent of the machine: OCR off
// unless a test turns it on.
func testLimits() Limits {
	return Limits{Time: 30 * time.Second, OCR: OCR{Disabled: true}}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func extractBytes(t testing.TB, b []byte, kind Kind, limits Limits) (*Result, error) {
	t.Helper()
	return Extract(context.Background(), bytes.NewReader(b), int64(len(b)), kind, limits)
}

func mustExtract(t testing.TB, b []byte, kind Kind, limits Limits) *Result {
	t.Helper()
	res, err := extractBytes(t, b, kind, limits)
	if err != nil {
		t.Fatalf("Extract(%s): %v", kind, err)
	}
	return res
}

type wantSeg struct {
	loc  string
	text string
}

func assertSegments(t *testing.T, res *Result, want []wantSeg) {
	t.Helper()
	var got []wantSeg
	for _, s := range res.Segments {
		got = append(got, wantSeg{s.Loc.String(), s.Text})
	}
	if len(got) != len(want) {
		t.Errorf("got %d segments, want %d", len(got), len(want))
	}
	for i := range max(len(got), len(want)) {
		var g, w wantSeg
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("segment %d:\n got [%s] %q\nwant [%s] %q", i, g.loc, g.text, w.loc, w.text)
		}
	}
}

// assertErr checks that err matches target (errors.Is) and is not a
// recovered panic.
func assertErr(t *testing.T, err error, target error) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error matching %v, got none", target)
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		t.Fatalf("parser panicked: %v\n%s", pe.Value, pe.Stack)
	}
	if !errors.Is(err, target) {
		t.Fatalf("error %q (%T) does not match %v", err, err, target)
	}
	if Reason(err) == "" {
		t.Fatalf("no reason for %v", err)
	}
}

func assertLimit(t *testing.T, err error, limit LimitName) {
	t.Helper()
	assertErr(t, err, ErrLimit)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != limit {
		t.Fatalf("error %v: want the %s limit", err, limit)
	}
}

// pdfBuilder writes small PDFs object by object with a correct
// cross-reference table, for cases no office program produces.
type pdfBuilder struct {
	objs []string
}

func (b *pdfBuilder) reserve() int {
	b.objs = append(b.objs, "null")
	return len(b.objs)
}

func (b *pdfBuilder) set(n int, body string) { b.objs[n-1] = body }

func (b *pdfBuilder) add(body string) int {
	n := b.reserve()
	b.set(n, body)
	return n
}

func (b *pdfBuilder) stream(dict string, data []byte) int {
	return b.add(fmt.Sprintf("<<%s /Length %d>>\nstream\n%s\nendstream", dict, len(data), data))
}

func (b *pdfBuilder) flateStream(dict string, data []byte) int {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	_, _ = w.Write(data)
	_ = w.Close()
	return b.stream(dict+" /Filter /FlateDecode", z.Bytes())
}

func (b *pdfBuilder) bytes(root int, trailer string) []byte {
	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(b.objs))
	for i, body := range b.objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(b.objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n", len(b.objs)+1, root, trailer, xref)
	return out.Bytes()
}

// pdfPageSpec is one page of a built PDF: its content stream and extra
// resource entries.
type pdfPageSpec struct {
	content   string
	resources string
}

// buildPDF makes a PDF of the given pages with Helvetica as /F1.
func buildPDF(pages ...pdfPageSpec) []byte {
	b := &pdfBuilder{}
	catalog := b.reserve()
	tree := b.reserve()
	font := b.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	var kids []string
	for _, p := range pages {
		content := b.stream("", []byte(p.content))
		page := b.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R /Resources << /Font << /F1 %d 0 R >> %s >> >>", tree, content, font, p.resources))
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
	}
	b.set(tree, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids)))
	b.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", tree))
	return b.bytes(catalog, "")
}

// zipFile is one entry of a built zip.
type zipFile struct {
	name string
	data io.Reader
}

func buildZip(t testing.TB, files ...zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// replaceZipEntry copies a zip, replacing (or adding) one entry.
func replaceZipEntry(t testing.TB, src []byte, name string, data []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	var files []zipFile
	replaced := false
	for _, f := range zr.File {
		if f.Name == name {
			files = append(files, zipFile{name, bytes.NewReader(data)})
			replaced = true
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, zipFile{f.Name, bytes.NewReader(b)})
	}
	if !replaced {
		files = append(files, zipFile{name, bytes.NewReader(data)})
	}
	return buildZip(t, files...)
}

// zeros is an endless reader of a byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// repeated is n bytes of c.
func repeated(c byte, n int64) io.Reader { return io.LimitReader(repeatReader(c), n) }

const docxRels = `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`

// buildDOCX makes a minimal DOCX around a document.xml body.
func buildDOCX(t testing.TB, body string) []byte {
	doc := `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body + `</w:body></w:document>`
	return buildZip(t, zipFile{"_rels/.rels", strings.NewReader(docxRels)}, zipFile{"word/document.xml", strings.NewReader(doc)})
}

func ioMulti(r ...io.Reader) io.Reader { return io.MultiReader(r...) }

func readAllString(r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	return string(b), err
}
