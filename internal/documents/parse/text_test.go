package parse

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// workbook.csv is LibreOffice's default CSV export (comma, ISO-8859-1);
// workbook-semicolon.csv its UTF-8 export with semicolons and quotes.
func TestCSVLibreOffice(t *testing.T) {
	latin1 := mustExtract(t, fixture(t, "workbook.csv"), KindCSV, testLimits())
	assertSegments(t, latin1, []wantSeg{
		{"A1:D1", "A1: Client | B1: Fee | C1: Share | D1: Due"},
		{"A2:D2", "A2: Acme Holdings | B2: 2500 | C2: 62.5% | D2: 2024-03-31"},
		{"A3:C3", "A3: Café Zürich | B3: 1500 | C3: 37.5%"},
		{"A5:B5", "A5: Total | B5: 4000"},
	})
	semi := mustExtract(t, fixture(t, "workbook-semicolon.csv"), KindCSV, testLimits())
	assertSegments(t, semi, []wantSeg{
		{"A1:D1", "A1: Client | B1: Fee | C1: Share | D1: Due"},
		{"A2:D2", "A2: Acme Holdings | B2: 2,500.00 | C2: 62.5% | D2: 2024-03-31"},
		{"A3:C3", "A3: Café Zürich | B3: 1,500.00 | C3: 37.5%"},
		{"A5:B5", "A5: Total | B5: 4,000.00"},
	})
	if l := semi.Segments[2].Loc; l.Row != 3 || l.Column != 1 || l.ColumnEnd != 3 || l.Sheet != "" {
		t.Errorf("locator %+v", l)
	}
}

func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestCSVFormats(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want []wantSeg
	}{
		{"tabs in UTF-16 (Excel unicode text)", utf16LE("Date\tAmount\r\n2024-01-31\t1200.50\r\n"), []wantSeg{
			{"A1:B1", "A1: Date | B1: Amount"}, {"A2:B2", "A2: 2024-01-31 | B2: 1200.50"}}},
		{"quoted newline keeps record numbers", []byte("name,note\n\"Acme\",\"two\nlines\"\nBeta,x\n"), []wantSeg{
			{"A1:B1", "A1: name | B1: note"}, {"A2:B2", "A2: Acme | B2: two lines"}, {"A3:B3", "A3: Beta | B3: x"}}},
		{"lazy quotes and ragged rows", []byte("a,b\"c,d\n1\n,,3,4\n"), []wantSeg{
			{"A1:C1", "A1: a | B1: b\"c | C1: d"}, {"A2", "A2: 1"}, {"C3:D3", "C3: 3 | D3: 4"}}},
		{"pipes", []byte("x|y|z\n1|2|3\n"), []wantSeg{{"A1:C1", "A1: x | B1: y | C1: z"}, {"A2:C2", "A2: 1 | B2: 2 | C2: 3"}}},
		{"BOM and semicolons with decimal commas", []byte("\xef\xbb\xbfKonto;Betrag\n4400;1.234,56\n"), []wantSeg{
			{"A1:B1", "A1: Konto | B1: Betrag"}, {"A2:B2", "A2: 4400 | B2: 1.234,56"}}},
		{"empty", []byte(""), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertSegments(t, mustExtract(t, c.in, KindCSV, testLimits()), c.want)
		})
	}
}

func TestCSVLimits(t *testing.T) {
	var b strings.Builder
	for range 1000 {
		b.WriteString("some,values,here\n")
	}
	l := testLimits()
	l.MaxChars = 500
	_, err := extractBytes(t, []byte(b.String()), KindCSV, l)
	assertLimit(t, err, LimitChars)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Extract(ctx, strings.NewReader(b.String()), int64(b.Len()), KindCSV, testLimits())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestTXT(t *testing.T) {
	res := mustExtract(t, fixture(t, "notes.txt"), KindTXT, testLimits())
	assertSegments(t, res, []wantSeg{
		{"lines 1-2", "Engagement notes\nClient: Acme Holdings"},
		{"lines 5-6", "Meeting on 2024-03-31 about the tax return.\nFollow-up: send the bank statements (Jan–Mar)."},
		{"line 8", "Café Zürich invoice €1,234.56"},
	})
	cases := []struct {
		name string
		in   []byte
		want []wantSeg
	}{
		{"old Mac line ends", []byte("one\rtwo\r\rfour"), []wantSeg{{"lines 1-2", "one\ntwo"}, {"line 4", "four"}}},
		{"UTF-16 with BOM", utf16LE("héllo\nwörld\n"), []wantSeg{{"lines 1-2", "héllo\nwörld"}}},
		{"BOM, spaces-only lines separate blocks", []byte("\xef\xbb\xbfa\n   \nb\n"), []wantSeg{{"line 1", "a"}, {"line 3", "b"}}},
		{"empty", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertSegments(t, mustExtract(t, c.in, KindTXT, testLimits()), c.want)
		})
	}
}

// Blocks are cut at a line end once they pass about 1,500 characters, and
// a line longer than the read buffer comes in pieces that keep its number.
func TestTXTLongText(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		b.WriteString(strings.Repeat("x", 49))
		if i < 99 {
			b.WriteByte('\n')
		}
	}
	res := mustExtract(t, []byte(b.String()), KindTXT, testLimits())
	if len(res.Segments) != 4 || res.Segments[0].Loc.LineStart != 1 || res.Segments[0].Loc.LineEnd != 31 || res.Segments[3].Loc.LineEnd != 100 {
		for _, s := range res.Segments {
			t.Logf("%s", s.Loc)
		}
		t.Fatalf("got %d segments", len(res.Segments))
	}
	long := "first\n" + strings.Repeat("é", 100000) + "\nlast"
	res = mustExtract(t, []byte(long), KindTXT, testLimits())
	total := 0
	for _, s := range res.Segments[1 : len(res.Segments)-1] {
		if s.Loc.LineStart != 2 || s.Loc.LineEnd != 2 || !utf8.ValidString(s.Text) {
			t.Fatalf("piece at %s", s.Loc)
		}
		total += utf8.RuneCountInString(s.Text)
	}
	if total != 100000 || res.Segments[0].Text != "first" || res.Segments[len(res.Segments)-1].Loc.LineStart != 3 {
		t.Fatalf("total %d, %d segments", total, len(res.Segments))
	}
}

func TestTXTInvalid(t *testing.T) {
	for name, in := range map[string][]byte{
		"latin-1":    []byte("caf\xe9\n"),
		"bad later":  append(bytes.Repeat([]byte("ok line\n"), 20000), 0xff, 0xfe, 'x'),
		"binary NUL": []byte("text\x00more"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := extractBytes(t, in, KindTXT, testLimits())
			assertErr(t, err, ErrInvalidEncoding)
			assertErr(t, err, ErrMalformed)
			if !strings.Contains(Reason(err), "UTF-8") {
				t.Errorf("reason %q", Reason(err))
			}
		})
	}
}

func TestChunks(t *testing.T) {
	t.Run("pdf pages stay apart", func(t *testing.T) {
		res := mustExtract(t, fixture(t, "report.pdf"), KindPDF, testLimits())
		chunks := Chunks(res, 60)
		var pages []int
		for _, c := range chunks {
			if utf8.RuneCountInString(c.Text) > 60 || c.Loc.Page != c.End.Page {
				t.Errorf("chunk %s: %q", c.Ref(), c.Text)
			}
			pages = append(pages, c.Loc.Page)
		}
		if pages[0] != 1 || pages[len(pages)-1] != 3 {
			t.Errorf("pages %v", pages)
		}
		if got := chunks[0]; got.Ref() != "page 1" || got.Text != "Quarterly Report 2024\nPrepared for Acme Holdings by the" {
			t.Errorf("first chunk %s %q", got.Ref(), got.Text)
		}
		whole := Chunks(res, 0)
		if len(whole) != 3 || whole[1].Text != res.Segments[1].Text {
			t.Errorf("default size: %d chunks", len(whole))
		}
	})
	t.Run("sheet ranges", func(t *testing.T) {
		res := mustExtract(t, fixture(t, "workbook.xlsx"), KindXLSX, testLimits())
		var refs []string
		for _, c := range Chunks(res, 2000) {
			refs = append(refs, c.Ref())
		}
		if strings.Join(refs, ";") != "Summary!A1:D5;'Q1 Data'!B1:C2" {
			t.Errorf("refs %v", refs)
		}
		small := Chunks(res, 70)
		if small[0].Ref() != "Summary!A1:D1" || small[1].Ref() != "Summary!A2:D2" {
			t.Errorf("small chunks %s %s", small[0].Ref(), small[1].Ref())
		}
	})
	t.Run("docx paragraphs and tables", func(t *testing.T) {
		res := mustExtract(t, fixture(t, "report.docx"), KindDOCX, testLimits())
		var got []string
		for _, c := range Chunks(res, 1500) {
			got = append(got, c.Ref()+" = "+c.Text)
		}
		want := []string{
			"paragraphs 1-4 = Quarterly Report 2024\nPrepared for Acme Holdings by the audit team.\nCafé Zürich owes €1,234.56 for consulting.",
			"table 1, rows 1-2 = Client | Service | Amount\nAcme Holdings | Tax return / Federal and state | 2,500.00",
			"paragraphs 5-7 = Page two begins with the balance sheet review.\nTotal assets increased by 12% year over year.\nPage three contains the signature block.",
		}
		if strings.Join(got, "\n--\n") != strings.Join(want, "\n--\n") {
			t.Errorf("got\n%s", strings.Join(got, "\n--\n"))
		}
	})
	t.Run("text lines stay exact", func(t *testing.T) {
		var b strings.Builder
		for i := range 30 {
			b.WriteString(strings.Repeat("word ", 10+i%5))
			b.WriteString("\n")
			if i%10 == 9 {
				b.WriteString("\n")
			}
		}
		res := mustExtract(t, []byte(b.String()), KindTXT, testLimits())
		lines := strings.Split(b.String(), "\n")
		for _, c := range Chunks(res, 200) {
			if utf8.RuneCountInString(c.Text) > 200 {
				t.Fatalf("chunk too long: %d", len(c.Text))
			}
			// Every line of the chunk is the source line its locator says.
			n := c.Loc.LineStart
			for l := range strings.SplitSeq(c.Text, "\n") {
				for l != "" && strings.TrimSpace(lines[n-1]) == "" {
					n++
				}
				if l != "" && l != strings.TrimRight(lines[n-1], " ") {
					t.Fatalf("chunk %s: line %d is %q, source %q", c.Ref(), n, l, lines[n-1])
				}
				n++
			}
			if n-1 != c.Loc.LineEnd {
				t.Fatalf("chunk %s ends at %d", c.Ref(), n-1)
			}
		}
	})
	t.Run("long cell split", func(t *testing.T) {
		res := &Result{Kind: KindXLSX, Segments: []Segment{{Text: "A1: " + strings.Repeat("abc ", 100), Loc: rowLocator("S", 1, 1, 1)}}}
		chunks := Chunks(res, 100)
		if len(chunks) < 4 {
			t.Fatalf("%d chunks", len(chunks))
		}
		for _, c := range chunks {
			if c.Ref() != "S!A1" || utf8.RuneCountInString(c.Text) > 100 {
				t.Fatalf("chunk %s %q", c.Ref(), c.Text)
			}
		}
	})
}

// A panic in a parser (here: in the reader, standing for a third-party
// library) comes back as a *PanicError matching ErrMalformed.
func TestPanicRecovered(t *testing.T) {
	for _, kind := range Kinds {
		_, err := Extract(context.Background(), panicReader{}, 4096, kind, testLimits())
		var pe *PanicError
		if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) || pe.Stack == "" || pe.Kind != kind {
			t.Fatalf("%s: got %v", kind, err)
		}
	}
	_, err := extractBytes(t, []byte("x"), Kind("odt"), testLimits())
	if !errors.Is(err, ErrUnsupportedKind) {
		t.Fatalf("got %v", err)
	}
}

type panicReader struct{}

func (panicReader) ReadAt([]byte, int64) (int, error) { panic("reader exploded") }

func TestLocatorStrings(t *testing.T) {
	for want, l := range map[string]Locator{
		"page 3":                 {Page: 3},
		"Summary!B7":             {Sheet: "Summary", Cell: "B7"},
		"'Q1 2024'!A1:F50":       {Sheet: "Q1 2024", Cell: "A1:F50"},
		"'Bob''s'!C2":            {Sheet: "Bob's", Cell: "C2"},
		"paragraph 12":           {Paragraph: 12},
		"table 1, row 2, cell 3": {Table: 1, Row: 2, Column: 3},
		"B5:F5":                  {Row: 5, Column: 2, ColumnEnd: 6, Cell: "B5:F5"},
		"lines 10-42":            {LineStart: 10, LineEnd: 42},
		"line 7":                 {LineStart: 7, LineEnd: 7},
	} {
		if got := l.String(); got != want {
			t.Errorf("%+v: %q, want %q", l, got, want)
		}
	}
	for col, want := range map[int]string{1: "A", 26: "Z", 27: "AA", 52: "AZ", 703: "AAA", 16384: "XFD"} {
		if got := columnName(col); got != want {
			t.Errorf("column %d: %s, want %s", col, got, want)
		}
	}
}

// The documents worker may parse several files at once.
func TestConcurrentExtract(t *testing.T) {
	inputs := []struct {
		name string
		kind Kind
	}{{"report.pdf", KindPDF}, {"restricted-aes256.pdf", KindPDF}, {"report.docx", KindDOCX}, {"workbook.xlsx", KindXLSX}, {"workbook.csv", KindCSV}, {"notes.txt", KindTXT}}
	want := map[string]string{}
	for _, in := range inputs {
		want[in.name] = mustExtract(t, fixture(t, in.name), in.kind, testLimits()).Text()
	}
	errs := make(chan error, 4*len(inputs))
	for range 4 {
		for _, in := range inputs {
			go func() {
				res, err := extractBytes(t, fixture(t, in.name), in.kind, testLimits())
				switch {
				case err != nil:
					errs <- err
				case res.Text() != want[in.name]:
					errs <- errors.New(in.name + ": different text")
				default:
					errs <- nil
				}
			}()
		}
	}
	for range 4 * len(inputs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
