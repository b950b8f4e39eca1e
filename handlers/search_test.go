package handlers

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/documents"
)

// fixture reads a file of the parsing library's test data (real files
// written by LibreOffice).
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "documents", "parse", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSearchParsedFixtures: real PDF, DOCX and XLSX files go through upload,
// the documents.parse job and search; hits point at the exact page, sheet
// and cell range, or paragraphs, and the page links to the document.
func TestSearchParsedFixtures(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/documents"
	client := app.F.Client(org, "Acme Holdings")
	pdf := uploadedDocument(t, postFiles(c, base, map[string]string{"client_id": client.ID.String()}, "", true, upload{"report.pdf", fixture(t, "report.pdf")}))
	docx := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"report.docx", fixture(t, "report.docx")}))
	xlsx := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"workbook.xlsx", fixture(t, "workbook.xlsx")}))
	enc := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"locked.pdf", fixture(t, "encrypted-aes256.pdf")}))

	// Before the job runs the badge polls.
	if st := c.Get(pdf.URL); st.Attr("[data-testid=parse-status]", "hx-trigger") != "every 2s" {
		t.Fatalf("queued badge does not poll: %q", st.Attr("[data-testid=parse-status]", "hx-trigger"))
	}

	app.workJobs(nil, false)

	for _, d := range []uploadedDoc{pdf, docx, xlsx} {
		row, err := app.Docs.Status(context.Background(), org.ID, uuid.MustParse(d.ID))
		if err != nil || row.ParseStatus != documents.StatusParsed {
			t.Fatalf("%s: %q %q %v", d.Name, row.ParseStatus, row.ParseError, err)
		}
	}
	row, _ := app.Docs.Status(context.Background(), org.ID, uuid.MustParse(enc.ID))
	if row.ParseStatus != documents.StatusFailed || !strings.Contains(row.ParseError, "password-protected") {
		t.Fatalf("encrypted pdf: %q %q", row.ParseStatus, row.ParseError)
	}
	st := c.HTMX(http.MethodGet, enc.URL+"/status", nil)
	if st.Text("[data-testid=parse-status]") != "Failed" || st.Attr("[data-testid=parse-status]", "hx-get") != "" {
		t.Fatalf("failed badge: %q", st.Body)
	}
	if got := c.Get(enc.URL).Text("[data-testid=parse-reason]"); !strings.Contains(got, "password-protected") {
		t.Fatalf("reason on the page: %q", got)
	}

	// Chunks keep their exact places.
	type chunk struct {
		page       *int32
		sheet, ref string
		cell       *string
		locator    string
	}
	chunks := map[string][]chunk{}
	err := rawInOrg(app, org.ID, func(tx pgx.Tx) error {
		rows, err := tx.Query(context.Background(), `SELECT document_id::text, page, sheet, cell, ref, locator::text FROM document_chunks ORDER BY document_id, seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var ch chunk
			var sheet *string
			if err := rows.Scan(&id, &ch.page, &sheet, &ch.cell, &ch.ref, &ch.locator); err != nil {
				return err
			}
			if sheet != nil {
				ch.sheet = *sheet
			}
			chunks[id] = append(chunks[id], ch)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := chunks[pdf.ID]; len(got) != 3 || got[1].page == nil || *got[1].page != 2 || got[1].ref != "page 2" {
		t.Fatalf("pdf chunks: %+v", got)
	}
	if got := chunks[xlsx.ID]; len(got) != 2 || got[0].sheet != "Summary" || got[0].cell == nil || *got[0].cell != "A1:D5" ||
		got[1].ref != "'Q1 Data'!B1:C2" || !strings.Contains(got[0].locator, `"sheet": "Summary"`) {
		t.Fatalf("xlsx chunks: %+v", got)
	}
	if got := chunks[docx.ID]; len(got) != 3 || got[1].ref != "table 1, rows 1-2" || got[2].ref != "paragraphs 5-7" {
		t.Fatalf("docx chunks: %+v", got)
	}

	// The search page: a phrase on page 2 of the PDF and in paragraphs 5-7
	// of the Word document.
	res := c.Get(base + "/search?" + url.Values{"q": {`"balance sheet"`}}.Encode())
	if res.StatusCode != http.StatusOK || res.Count("[data-testid=search-hit]") != 2 {
		t.Fatalf("search: %d, %d hits\n%.2000s", res.StatusCode, res.Count("[data-testid=search-hit]"), res.Body)
	}
	locs := map[string]string{}
	res.Doc().Find("[data-testid=search-hit]").Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Find("[data-testid=hit-document]").Attr("href")
		locs[href] = strings.TrimSpace(s.Find("[data-testid=hit-locator]").Text())
		if html, _ := s.Find("[data-testid=hit-snippet] mark").Html(); html != "balance" {
			t.Errorf("first highlight %q", html)
		}
	})
	if locs[pdf.URL] != "page 2" || locs[docx.URL] != "paragraphs 5-7" {
		t.Fatalf("locators %v", locs)
	}

	// A workbook cell: the sheet and range.
	res = c.Get(base + "/search?q=invoice")
	if res.Count("[data-testid=search-hit]") != 1 || res.Text("[data-testid=hit-locator]") != "'Q1 Data'!B1:C2" {
		t.Fatalf("xlsx hit: %q", res.Text("[data-testid=hit-locator]"))
	}

	// Filters: client, type, dates.
	res = c.Get(base + "/search?" + url.Values{"q": {"acme"}, "client": {client.ID.String()}}.Encode())
	if res.Count("[data-testid=search-hit]") != 1 || res.Attr("[data-testid=hit-document]", "href") != pdf.URL || res.Text("[data-testid=hit-client]") != "Acme Holdings" {
		t.Fatalf("client filter: %d", res.Count("[data-testid=search-hit]"))
	}
	res = c.Get(base + "/search?" + url.Values{"q": {"acme"}, "type": {"xlsx"}}.Encode())
	if res.Count("[data-testid=search-hit]") != 1 || res.Attr("[data-testid=hit-document]", "href") != xlsx.URL {
		t.Fatalf("type filter: %d", res.Count("[data-testid=search-hit]"))
	}
	if n := c.Get(base + "/search?" + url.Values{"q": {"acme"}, "to": {"2001-01-01"}}.Encode()).Count("[data-testid=search-hit]"); n != 0 {
		t.Fatalf("date filter: %d hits", n)
	}
	if n := c.Get(base + "/search?" + url.Values{"q": {"acme"}, "from": {"2001-01-01"}}.Encode()).Count("[data-testid=search-hit]"); n != 4 {
		t.Fatalf("from filter: %d hits", n)
	}
	bad := c.Get(base + "/search?" + url.Values{"q": {"acme"}, "from": {"yesterday"}, "client": {"nope"}}.Encode())
	if bad.StatusCode != http.StatusUnprocessableEntity || bad.Text("[data-testid=error-from]") == "" || bad.Text("[data-testid=error-client]") == "" {
		t.Fatalf("bad filters: %d", bad.StatusCode)
	}
	if e := c.Get(base + "/search?q=zebracorn"); e.StatusCode != http.StatusOK || e.Count("[data-testid=empty-state]") != 1 {
		t.Fatalf("no matches: %d", e.StatusCode)
	}

	// Archived documents and other organizations are not searched.
	if r := c.PostForm(xlsx.URL+"/archive", nil); r.StatusCode >= 400 {
		t.Fatalf("archive: %d", r.StatusCode)
	}
	if n := c.Get(base + "/search?q=invoice").Count("[data-testid=search-hit]"); n != 0 {
		t.Fatalf("archived document found: %d", n)
	}
	c2, _, org2 := app.owner()
	if n := c2.Get("/o/" + org2.Slug + "/documents/search?q=acme").Count("[data-testid=search-hit]"); n != 0 {
		t.Fatalf("another organization sees %d hits", n)
	}
}

// TestSearchRankingAndEscaping: the better match ranks first; document
// text is escaped in snippets, and only the highlight markers become
// <mark>.
func TestSearchRankingAndEscaping(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/documents"
	weak := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"weak.txt", []byte("A note that mentions depreciation once among many other unrelated words about filing and meetings.\n")}))
	strong := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"strong.txt", []byte("Depreciation schedule: depreciation of equipment, depreciation of vehicles.\n")}))
	xss := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"xss.txt", []byte("<script>alert(1)</script> <b>payroll</b> Q1 < Q2 & \uE000fake\uE001 payroll\n")}))
	app.workJobs(nil, false)

	res := c.Get(base + "/search?q=depreciation")
	var order []string
	res.Doc().Find("[data-testid=hit-document]").Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Attr("href")
		order = append(order, href)
	})
	if len(order) != 2 || order[0] != strong.URL || order[1] != weak.URL {
		t.Fatalf("ranking %v", order)
	}
	if res.Text("[data-testid=hit-locator]") != "line 1line 1" {
		t.Fatalf("text locators %q", res.Text("[data-testid=hit-locator]"))
	}

	res = c.Get(base + "/search?q=payroll")
	if res.Count("[data-testid=search-hit]") != 1 || res.Attr("[data-testid=hit-document]", "href") != xss.URL {
		t.Fatalf("payroll hits %d", res.Count("[data-testid=search-hit]"))
	}
	if res.Count("[data-testid=hit-snippet] script, [data-testid=hit-snippet] b") != 0 {
		t.Fatal("document markup rendered in the snippet")
	}
	snippet, _ := res.Doc().Find("[data-testid=hit-snippet]").Html()
	if !strings.Contains(snippet, "Q1 &lt; Q2") || !strings.Contains(snippet, "&amp;") || strings.Count(snippet, "<mark>") != 2 {
		t.Fatalf("snippet %q", snippet)
	}
	if res.Text("[data-testid=hit-snippet] mark") != "payrollpayroll" {
		t.Fatalf("marks %q", res.Text("[data-testid=hit-snippet] mark"))
	}
	if got := documents.SnippetHTML("a<\uE000b&\uE001 \uE001c \uE000d"); got != "a&lt;<mark>b&amp;</mark> c <mark>d</mark>" {
		t.Fatalf("SnippetHTML %q", got)
	}
}
