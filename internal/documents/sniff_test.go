package documents

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func inspect(t testing.TB, content []byte, writes int) *inspector {
	t.Helper()
	in := newInspector(1<<30, nil)
	step := max(1, len(content)/max(writes, 1))
	for i := 0; i < len(content); i += step {
		if _, err := in.Write(content[i:min(i+step, len(content))]); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// TestInspectorTextAcrossWrites: UTF-8 is validated across write
// boundaries that split a character.
func TestInspectorTextAcrossWrites(t *testing.T) {
	text := []byte(strings.Repeat("Relevé de compte — 1 200,00 € ✓\n", 50))
	for _, writes := range []int{1, 7, 100, len(text)} {
		if !inspect(t, text, writes).isText() {
			t.Fatalf("valid UTF-8 in %d writes judged not text", writes)
		}
	}
	if inspect(t, append([]byte("abc"), 0xE2, 0x82), 3).isText() {
		t.Fatal("a truncated character at the end judged text")
	}
	if inspect(t, []byte("abc\x00def"), 2).isText() {
		t.Fatal("NUL judged text")
	}
	if inspect(t, []byte("caf\xe9"), 1).isText() {
		t.Fatal("Latin-1 judged UTF-8")
	}
}

func TestInspectorLimitAndHash(t *testing.T) {
	in := newInspector(10, nil)
	if _, err := in.Write([]byte("12345")); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Write([]byte("123456")); !errors.Is(err, errTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
}

func zipWith(files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte(body))
	}
	_ = zw.Close()
	return buf.Bytes()
}

func sniffBytes(b []byte, name string) (Type, error) {
	head := b[:min(len(b), headSize)]
	text := utf8.Valid(b) && !bytes.Contains(b, []byte{0})
	return sniff(head, text, int64(len(b)), name, func() (io.ReaderAt, error) { return bytes.NewReader(b), nil })
}

func TestSniff(t *testing.T) {
	ct := func(main string) string {
		return `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/x" ContentType="` + main + `"/></Types>`
	}
	cases := []struct {
		name    string
		content []byte
		want    string // type key, or "" when refused
	}{
		{"a.pdf", []byte("%PDF-1.7\n..."), "pdf"},
		{"a.pdf", append([]byte("\r\n   "), []byte("%PDF-1.4")...), "pdf"},
		{"a", []byte("%PDF-1.4"), "pdf"},
		{"a.png", []byte("\x89PNG\r\n\x1a\nrest"), "png"},
		{"a.jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10}, "jpeg"},
		{"a.JPG", []byte{0xFF, 0xD8, 0xFF, 0xE1}, "jpeg"},
		{"notes", []byte("plain words"), "txt"},
		{"data.csv", []byte("a,b\n1,2\n"), "csv"},
		{"data.txt", []byte("a,b\n1,2\n"), "txt"},
		{"readme.md", []byte("# Title"), "txt"},
		{"w.docx", zipWith(map[string]string{"[Content_Types].xml": ct(ctWordMain)}), "docx"},
		{"x.xlsx", zipWith(map[string]string{"[Content_Types].xml": ct(ctExcelMain)}), "xlsx"},
		{"x.zip", zipWith(map[string]string{"a.txt": "hi"}), ""},
		{"x.docx", zipWith(map[string]string{"[Content_Types].xml": "not xml <"}), ""},
		{"x.docx", zipWith(map[string]string{"[Content_Types].xml": ct(ctWordMacro)}), ""},
		{"x.docx", []byte("PK\x03\x04 truncated zip"), ""},
		{"x.doc", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, ""},
		{"x.doc", []byte("text in a .doc"), ""},
		{"x.exe", []byte("MZ\x90\x00"), ""},
		{"x.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00"), ""},
		{"x.txt", []byte{}, ""},
	}
	for _, c := range cases {
		got, err := sniffBytes(c.content, c.name)
		var refusal *Refusal
		switch {
		case c.want == "" && !errors.As(err, &refusal):
			t.Errorf("%s (%q): got %s, %v; want a refusal", c.name, c.content[:min(10, len(c.content))], got.Key, err)
		case c.want != "" && (err != nil || got.Key != c.want):
			t.Errorf("%s: got %s, %v; want %s", c.name, got.Key, err, c.want)
		}
	}
}

func TestCleanFilenameAndDownloadName(t *testing.T) {
	cases := map[string]string{
		`C:\fakepath\Statement.pdf`:       "Statement.pdf",
		"../../etc/passwd":                "passwd",
		"  a\x00b\tc.txt  ":               "ab c.txt",
		"...":                             "",
		"":                                "",
		strings.Repeat("é", 300) + ".pdf": strings.Repeat("é", 251) + ".pdf",
	}
	for in, want := range cases {
		if got := CleanFilename(in); got != want {
			t.Errorf("CleanFilename(%q) = %q, want %q", in, got, want)
		}
	}
	if got := DownloadName("Book", TypeXLSX.MIME); got != "Book.xlsx" {
		t.Errorf("DownloadName = %q", got)
	}
	if got := DownloadName("photo.jpeg", TypeJPEG.MIME); got != "photo.jpeg" {
		t.Errorf("DownloadName = %q", got)
	}
	if got := DownloadName("x.txt", TypeCSV.MIME); got != "x.txt" {
		t.Errorf("DownloadName = %q", got)
	}
	if got := FormatBytes(52_428_800); got != "52.4 MB" {
		t.Errorf("FormatBytes = %q", got)
	}
	if got := ParseTags(" bank , Bank,, 2026 ,  year   end "); strings.Join(got, "|") != "bank|2026|year end" {
		t.Errorf("ParseTags = %q", got)
	}
}

func collect(t *testing.T, p ParserFunc, content string) []Chunk {
	t.Helper()
	var out []Chunk
	err := p(context.Background(), strings.NewReader(content), int64(len(content)), func(c Chunk) error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTextParserChunksByLines(t *testing.T) {
	line := strings.Repeat("x", 99) + "\n"
	chunks, err := runParser(context.Background(), TypeTXT.Key, []byte(strings.Repeat(line, 100)))
	if err != nil || len(chunks) < 2 || chunks[0].LineStart != 1 || chunks[len(chunks)-1].LineEnd != 100 {
		t.Fatalf("%v %+v", err, chunks)
	}
	// Windows line ends, a last line without one, and blank lines.
	chunks, err = runParser(context.Background(), TypeTXT.Key, []byte("one\r\ntwo\r\n\r\nthree"))
	if err != nil || len(chunks) != 1 || !strings.Contains(chunks[0].Text, "three") || chunks[0].LineStart != 1 || chunks[0].LineEnd != 4 {
		t.Fatalf("%v %+v", err, chunks)
	}
	if _, err := runParser(context.Background(), TypeTXT.Key, []byte("\n\n  \n")); !errors.Is(err, ErrNoText) {
		t.Fatalf("blank file: %v", err)
	}
}

func TestParseCSVChunksByRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("date,amount,memo,extra\n")
	for i := 0; i < 120; i++ {
		b.WriteString("2026-01-01,1.00,\"rent, office\"\n")
	}
	chunks := collect(t, parseCSV, b.String())
	if len(chunks) != 3 {
		t.Fatalf("%d chunks", len(chunks))
	}
	if chunks[0].Cell != "A1:D50" || chunks[1].Cell != "A51:C100" || chunks[2].Cell != "A101:C121" {
		t.Fatalf("cells %q %q %q", chunks[0].Cell, chunks[1].Cell, chunks[2].Cell)
	}
	if !strings.HasPrefix(chunks[0].Text, "date | amount | memo | extra\n2026-01-01 | 1.00 | rent, office") {
		t.Fatalf("text %q", chunks[0].Text[:80])
	}
	if columnName(28) != "AB" || columnName(1) != "A" || columnName(26) != "Z" {
		t.Fatal("column names")
	}
	// Stray quotes, as spreadsheets export them, do not fail the file.
	if got := collect(t, parseCSV, "name,note\nBob,says \"hi\"\n"); len(got) != 1 || !strings.Contains(got[0].Text, `says "hi"`) {
		t.Fatalf("stray quotes: %+v", got)
	}
}

func FuzzSniff(f *testing.F) {
	f.Add([]byte("%PDF-1.4"), "a.pdf")
	f.Add(zipWith(map[string]string{"[Content_Types].xml": "<Types/>"}), "a.docx")
	f.Add([]byte("plain"), "a.csv")
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		_, _ = sniffBytes(b, name)
	})
}

func FuzzParseCSV(f *testing.F) {
	f.Add("a\nb\r\nc")
	f.Add("x,\"y\nz\",w\n")
	f.Fuzz(func(t *testing.T, s string) {
		_ = parseCSV(context.Background(), strings.NewReader(s), int64(len(s)), func(c Chunk) error {
			if c.Text == "" {
				t.Fatal("empty chunk")
			}
			return nil
		})
	})
}
