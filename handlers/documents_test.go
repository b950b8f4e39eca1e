package handlers

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// Small real files of each accepted type.
var (
	pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0x11, 0x00, 0x42}, 100)...)
	exeBytes = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), bytes.Repeat([]byte{0}, 200)...)
)

// officeZip builds a minimal OOXML package whose [Content_Types].xml
// declares mainType for its main part.
func officeZip(t testing.TB, mainPart, mainType string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("[Content_Types].xml")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/` + mainPart + `" ContentType="` + mainType + `"/>
</Types>`))
	w, _ = zw.Create(mainPart)
	_, _ = w.Write([]byte(`<?xml version="1.0"?><root/>`))
	_ = zw.Close()
	return buf.Bytes()
}

func uploadedDocument(t *testing.T, res *testutil.Response) uploadedDoc {
	t.Helper()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("upload: status %d, want 201\n%s", res.StatusCode, res.Body)
	}
	var out uploadJSON
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil || out.Document == nil {
		t.Fatalf("upload answer %q: %v", res.Body, err)
	}
	return *out.Document
}

func uploadError(t *testing.T, res *testutil.Response, status int) string {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("upload: status %d, want %d\n%.500s", res.StatusCode, status, res.Body)
	}
	var out uploadJSON
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil || out.Error == "" {
		t.Fatalf("refusal answer %q: %v", res.Body, err)
	}
	return out.Error
}

// storedFiles lists the files under the app's storage directory.
func storedFiles(t *testing.T, app *testApp) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(app.Config.Documents.FilesDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func countRows(t *testing.T, app *testApp, org uuid.UUID, query string, args ...any) int {
	t.Helper()
	var n int
	err := rawInOrg(app, org, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), query, args...).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDocumentsUploadHappyPath(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	client := app.F.Client(org, "Acme Books")
	base := "/o/" + org.Slug + "/documents"

	content := []byte("Opening balance 1,200.00\nClosing balance 3,400.00\n")
	res := postFiles(c, base, map[string]string{"client_id": client.ID.String(), "tags": "bank, 2026, Bank"}, "", true, upload{"statement.txt", content})
	doc := uploadedDocument(t, res)
	if doc.Name != "statement.txt" || doc.Version != 1 || doc.Status != documents.StatusQueued || doc.ContentType != documents.TypeTXT.MIME || doc.Size != int64(len(content)) {
		t.Fatalf("uploaded document: %+v", doc)
	}
	id := uuid.MustParse(doc.ID)

	d, err := app.Docs.Get(context.Background(), org.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Document.ClientID == nil || *d.Document.ClientID != client.ID || strings.Join(d.Document.Tags, ",") != "bank,2026" || d.Document.CreatedBy == nil || *d.Document.CreatedBy != owner.ID {
		t.Fatalf("document row: %+v", d.Document)
	}
	if len(d.Versions) != 1 || d.Versions[0].Filename != "statement.txt" {
		t.Fatalf("versions: %+v", d.Versions)
	}
	// The parse job was inserted with the document.
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM river_job WHERE kind = 'documents.parse' AND args->>'document_id' = $1 AND queue = 'documents'`, doc.ID); n != 1 {
		t.Fatalf("documents.parse jobs: %d, want 1", n)
	}
	// Stored encrypted: one file, which does not contain the plaintext.
	files := storedFiles(t, app)
	if len(files) != 1 {
		t.Fatalf("stored files: %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	if bytes.Contains(raw, []byte("Opening balance")) || !bytes.HasPrefix(raw, []byte("ACS1")) {
		t.Fatal("the stored file is not encrypted")
	}
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM audit_events WHERE action = $1 AND target_id = $2`, audit.DocumentUploaded, doc.ID); n != 1 {
		t.Fatalf("audit events: %d", n)
	}

	// Listed, filterable by client and tag, and downloadable.
	page := c.Get(base)
	if page.StatusCode != http.StatusOK || page.Text("[data-testid=document-link]") != "statement.txt" {
		t.Fatalf("list: %d %q", page.StatusCode, page.Text("[data-testid=document-link]"))
	}
	if got := page.Text("[data-testid=parse-status]"); got != "Queued" {
		t.Fatalf("status badge %q", got)
	}
	if page.Attr("[data-testid=parse-status]", "hx-get") == "" {
		t.Fatal("a queued document's badge does not refresh itself")
	}
	if n := c.Get(base + "?tag=bank").Count("[data-testid=document-row]"); n != 1 {
		t.Fatalf("tag filter: %d rows", n)
	}
	if n := c.Get(base + "?tag=other").Count("[data-testid=document-row]"); n != 0 {
		t.Fatalf("other tag: %d rows", n)
	}
	if n := c.Get(base + "?client=" + uuid.NewString()).Count("[data-testid=document-row]"); n != 0 {
		t.Fatalf("other client: %d rows", n)
	}
	if n := c.Get(base + "?client=" + client.ID.String() + "&status=queued").Count("[data-testid=document-row]"); n != 1 {
		t.Fatalf("client + status filter: %d rows", n)
	}
	dl := c.Get(doc.URL + "/download")
	if dl.StatusCode != http.StatusOK || dl.Body != string(content) {
		t.Fatalf("download: %d %q", dl.StatusCode, dl.Body)
	}
	// The client's page has a Documents card.
	cp := c.Get("/o/" + org.Slug + "/clients/" + client.ID.String())
	if cp.Count("[data-testid=client-document]") != 1 || !strings.Contains(cp.Text("[data-testid=client-documents]"), "statement.txt") {
		t.Fatalf("client page documents card: %q", cp.Text("[data-testid=client-documents]"))
	}
}

// TestDocumentsUploadSeveralFilesWithoutJavaScript posts the form as a
// browser does without the uploader: several files, then a redirect.
func TestDocumentsUploadSeveralFilesWithoutJavaScript(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	folder, err := app.Docs.CreateFolder(context.Background(), documents.Actor{OrgID: org.ID, UserID: owner.ID}, "Returns", nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "/o/" + org.Slug + "/documents"
	res := postFiles(c, base, map[string]string{"folder_id": folder.ID.String(), "tags": "2026"}, "", false,
		upload{"a.pdf", pdfBytes}, upload{"b.png", pngBytes}, upload{"c.csv", []byte("name,amount\nrent,100\n")})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Location(), folder.ID.String()) {
		t.Fatalf("upload: %d %q\n%.400s", res.StatusCode, res.Location(), res.Body)
	}
	page := c.Follow(res)
	if got := page.Text("[data-testid=flash]"); got != "3 documents were uploaded." {
		t.Fatalf("flash %q", got)
	}
	if n := page.Count("[data-testid=document-row]"); n != 3 {
		t.Fatalf("folder shows %d documents", n)
	}
	types := map[string]string{}
	for _, r := range mustList(t, app, org.ID) {
		types[r.Name] = r.ContentType
		if r.FolderID == nil || *r.FolderID != folder.ID || strings.Join(r.Tags, ",") != "2026" {
			t.Errorf("%s: folder %v tags %v", r.Name, r.FolderID, r.Tags)
		}
	}
	if types["a.pdf"] != documents.TypePDF.MIME || types["b.png"] != documents.TypePNG.MIME || types["c.csv"] != documents.TypeCSV.MIME {
		t.Fatalf("types %v", types)
	}

	// Some refused: the page says which, with 422, and keeps the others.
	res = postFiles(c, base, nil, "", false, upload{"good.txt", []byte("fine")}, upload{"bad.pdf", exeBytes})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("mixed upload: %d", res.StatusCode)
	}
	if n := res.Count("[data-testid=upload-result]"); n != 2 {
		t.Fatalf("%d results", n)
	}
	if !strings.Contains(res.Text("[data-testid=upload-result-error]"), "bad.pdf") {
		t.Fatalf("error %q", res.Text("[data-testid=upload-result-error]"))
	}
	if len(mustList(t, app, org.ID)) != 4 {
		t.Fatal("the good file of a mixed upload was not kept")
	}
	// No file at all.
	res = postFiles(c, base, nil, "", false)
	if res.StatusCode != http.StatusUnprocessableEntity || res.Text("[data-testid=upload-error]") == "" {
		t.Fatalf("empty upload: %d", res.StatusCode)
	}
}

func mustList(t *testing.T, app *testApp, org uuid.UUID) []db.ListDocumentsRow {
	t.Helper()
	p, err := app.Docs.List(context.Background(), org, documents.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Rows
}

// TestDocumentsUploadRefusals: the size limit while streaming, and type by
// content, whatever the name says.
func TestDocumentsUploadRefusals(t *testing.T) {
	app := newTestAppWith(t, map[string]string{"UPLOAD_MAX_BYTES": "100KB"})
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/documents"
	big := bytes.Repeat([]byte("a line of text\n"), 7000) // 105 kB of valid text

	cases := []struct {
		name    string
		file    upload
		status  int
		message string
	}{
		{"too large", upload{"big.txt", big}, http.StatusRequestEntityTooLarge, "larger than the limit of 100 kB"},
		{"exe named pdf", upload{"invoice.pdf", exeBytes}, http.StatusUnprocessableEntity, "not a file type we accept"},
		{"exe", upload{"setup.exe", exeBytes}, http.StatusUnprocessableEntity, "not a file type we accept"},
		{"pdf named txt", upload{"notes.txt", pdfBytes}, http.StatusUnprocessableEntity, "named .txt but its content is a PDF"},
		{"text named pdf", upload{"scan.pdf", []byte("just text")}, http.StatusUnprocessableEntity, "named .pdf but its content is a Text"},
		{"png named jpg", upload{"photo.jpg", pngBytes}, http.StatusUnprocessableEntity, "named .jpg but its content is a PNG image"},
		{"binary with NULs named txt", upload{"data.txt", []byte("abc\x00def")}, http.StatusUnprocessableEntity, "not a file type we accept"},
		{"invalid UTF-8", upload{"latin1.txt", []byte("caf\xe9 cr\xe8me")}, http.StatusUnprocessableEntity, "not a file type we accept"},
		{"plain zip", upload{"archive.zip", officeZip(t, "data.bin", "application/octet-stream")}, http.StatusUnprocessableEntity, "ZIP archive, not a Word or Excel document"},
		{"zip named docx", upload{"letter.docx", officeZip(t, "data.bin", "application/octet-stream")}, http.StatusUnprocessableEntity, "ZIP archive"},
		{"macro workbook", upload{"book.xlsx", officeZip(t, "xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")}, http.StatusUnprocessableEntity, "contains macros"},
		{"docx named xlsx", upload{"sheet.xlsx", officeZip(t, "word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")}, http.StatusUnprocessableEntity, "named .xlsx but its content is a Word document"},
		{"empty", upload{"empty.txt", nil}, http.StatusUnprocessableEntity, "is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := uploadError(t, postFiles(c, base, nil, "", true, tc.file), tc.status)
			if !strings.Contains(msg, tc.message) {
				t.Fatalf("message %q does not say %q", msg, tc.message)
			}
		})
	}
	// Nothing of any refused upload was kept: no document, no blob, no file.
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM documents`); n != 0 {
		t.Fatalf("%d documents after refusals", n)
	}
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM blobs`); n != 0 {
		t.Fatalf("%d blobs after refusals", n)
	}
	if files := storedFiles(t, app); len(files) != 0 {
		t.Fatalf("files left behind: %v", files)
	}
	// Without JavaScript the refusal is on the page.
	res := postFiles(c, base, nil, "", false, upload{"big.txt", big})
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.Text("[data-testid=upload-result-error]"), "larger than the limit") {
		t.Fatalf("page refusal: %d %q", res.StatusCode, res.Text("[data-testid=upload-result-error]"))
	}
	// A file just under the limit is fine; Word and Excel are recognised.
	doc := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"ok.txt", big[:100_000]}))
	if doc.Size != 100_000 {
		t.Fatalf("size %d", doc.Size)
	}
	docx := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"letter.docx", officeZip(t, "word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")}))
	xlsx := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"Book", officeZip(t, "xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")}))
	if docx.ContentType != documents.TypeDOCX.MIME || xlsx.ContentType != documents.TypeXLSX.MIME {
		t.Fatalf("office types: %s, %s", docx.ContentType, xlsx.ContentType)
	}
	// A name without an extension gets its type's on download.
	if cd := c.Get(xlsx.URL + "/download").Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="Book.xlsx"`) {
		t.Fatalf("Content-Disposition %q", cd)
	}
}

// TestDocumentsDownloadHeadersAndRanges checks what a download says about
// itself, and byte ranges across the encrypted chunks' boundaries.
func TestDocumentsDownloadHeadersAndRanges(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/documents"
	body := make([]byte, 200_000)
	_, _ = rand.Read(body)
	copy(body, pngBytes[:16])
	doc := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{`Relevé "Q1"; 2026.png`, body}))

	res := c.Get(doc.URL + "/download")
	if res.StatusCode != http.StatusOK || res.Body != string(body) {
		t.Fatalf("download: %d, %d bytes", res.StatusCode, len(res.Body))
	}
	h := res.Header
	wantHeaders := map[string]string{
		"Content-Type":           "image/png",
		"X-Content-Type-Options": "nosniff",
		"Accept-Ranges":          "bytes",
		"Content-Length":         "200000",
		"Cache-Control":          "private, no-cache",
	}
	for k, v := range wantHeaders {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	cd := h.Get("Content-Disposition")
	if !strings.HasPrefix(cd, `attachment; filename="Relev_ _Q1__ 2026.png"; filename*=UTF-8''`) || !strings.Contains(cd, "Relev%C3%A9") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("CSP %q", h.Get("Content-Security-Policy"))
	}
	etag := h.Get("ETag")
	if len(etag) != 66 {
		t.Errorf("ETag %q", etag)
	}

	get := func(rng string, extra map[string]string) *testutil.Response {
		req := c.NewRequest(http.MethodGet, doc.URL+"/download", nil)
		req.Header.Set("Range", rng)
		for k, v := range extra {
			req.Header.Set(k, v)
		}
		return c.Do(req)
	}
	// A range across the first chunk boundary (64 KiB).
	r := get("bytes=65530-65545", nil)
	if r.StatusCode != http.StatusPartialContent || r.Body != string(body[65530:65546]) || r.Header.Get("Content-Range") != "bytes 65530-65545/200000" {
		t.Fatalf("range: %d %q %q", r.StatusCode, r.Header.Get("Content-Range"), r.Body)
	}
	// The last bytes, and an open-ended range.
	if r := get("bytes=-10", nil); r.StatusCode != http.StatusPartialContent || r.Body != string(body[len(body)-10:]) {
		t.Fatalf("suffix range: %d", r.StatusCode)
	}
	if r := get("bytes=131000-", nil); r.StatusCode != http.StatusPartialContent || r.Body != string(body[131000:]) {
		t.Fatalf("open range: %d", r.StatusCode)
	}
	// Past the end: 416; a stale If-Range: the whole file.
	if r := get("bytes=300000-", nil); r.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("unsatisfiable range: %d", r.StatusCode)
	}
	if r := get("bytes=0-9", map[string]string{"If-Range": `"stale"`}); r.StatusCode != http.StatusOK || len(r.Body) != len(body) {
		t.Fatalf("stale If-Range: %d", r.StatusCode)
	}
	if r := get("bytes=0-9", map[string]string{"If-Range": etag}); r.StatusCode != http.StatusPartialContent || r.Body != string(body[:10]) {
		t.Fatalf("If-Range: %d", r.StatusCode)
	}
	// Conditional GET.
	req := c.NewRequest(http.MethodGet, doc.URL+"/download", nil)
	req.Header.Set("If-None-Match", etag)
	if r := c.Do(req); r.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}
	// Full downloads are audited, range requests are not.
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM audit_events WHERE action = $1`, audit.DocumentDownloaded); n != 2 {
		t.Fatalf("%d download events, want 2 (the full downloads)", n)
	}
	// Another organization's member gets 404; a role without
	// documents.read gets 403 (the route matrix checks every route).
	_, _, other := app.owner()
	outsider, _ := app.member(other, tenant.RoleOwner)
	if r := outsider.Get(doc.URL + "/download"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("outsider: %d", r.StatusCode)
	}
	if r := outsider.Get("/o/" + other.Slug + "/documents/" + doc.ID + "/download"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("outsider with own slug: %d", r.StatusCode)
	}
	// A client user is sent to the client portal (handlers/portal.go),
	// whose downloads check the client links.
	clientUser, _ := app.member(org, tenant.RoleClient)
	if r := clientUser.Get(doc.URL + "/download"); r.StatusCode != http.StatusSeeOther || r.Location() != "/o/"+org.Slug+"/portal" {
		t.Fatalf("client role: %d %q", r.StatusCode, r.Location())
	}
}

// TestDocumentsVersions: a new version keeps the history; each version
// downloads its own content.
func TestDocumentsVersions(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/documents"
	doc := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"ledger.csv", []byte("a,b\n1,2\n")}))

	res := postFiles(c, doc.URL+"/versions", nil, "file", false, upload{"ledger (final).csv", []byte("a,b\n1,2\n3,4\n")})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("new version: %d\n%.400s", res.StatusCode, res.Body)
	}
	page := c.Follow(res)
	if got := page.Text("[data-testid=flash]"); got != "Version 2 of ledger.csv was uploaded." {
		t.Fatalf("flash %q", got)
	}
	if n := page.Count("[data-testid=version-row]"); n != 2 {
		t.Fatalf("%d versions shown", n)
	}
	if got := page.Text("[data-testid=version-row]:first-child [data-testid=version-filename]"); got != "ledger (final).csv" {
		t.Fatalf("newest version %q", got)
	}
	if c.Get(doc.URL+"/download").Body != "a,b\n1,2\n3,4\n" {
		t.Fatal("the document does not download its new version")
	}
	// Version 1 is still there.
	v1, _ := page.Find("[data-testid=version-download]").Last().Attr("href") // the oldest is last
	if r := c.Get(v1); r.Body != "a,b\n1,2\n" {
		t.Fatalf("version 1 downloads %q", r.Body)
	}
	// The same content again is not a new version.
	msg := uploadError(t, postFiles(c, doc.URL+"/versions", nil, "file", true, upload{"again.csv", []byte("a,b\n1,2\n3,4\n")}), http.StatusUnprocessableEntity)
	if !strings.Contains(msg, "identical to the current version") {
		t.Fatalf("identical version: %q", msg)
	}
	// A refused type shows on the page.
	res = postFiles(c, doc.URL+"/versions", nil, "file", false, upload{"x.exe", exeBytes})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Text("[data-testid=version-error]"), "not a file type") {
		t.Fatalf("refused version: %d %q", res.StatusCode, res.Text("[data-testid=version-error]"))
	}
	// Archived documents take no new version.
	if r := c.PostForm(doc.URL+"/archive", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("archive: %d", r.StatusCode)
	}
	res = postFiles(c, doc.URL+"/versions", nil, "file", false, upload{"late.csv", []byte("x\n")})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("version of an archived document: %d", res.StatusCode)
	}
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM document_versions`); n != 2 {
		t.Fatalf("%d versions stored", n)
	}
	// Each version queued its own extraction.
	if n := countRows(t, app, org.ID, `SELECT count(DISTINCT args->>'version_id') FROM river_job WHERE kind = 'documents.parse'`); n != 2 {
		t.Fatalf("%d parse jobs", n)
	}
}

// TestDocumentsDeduplicateContent: the same content uploaded twice in an
// organization is stored once; another organization stores its own copy.
func TestDocumentsDeduplicateContent(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	c2, _, org2 := app.owner()
	content := []byte("the same bytes")
	uploadedDocument(t, postFiles(c, "/o/"+org.Slug+"/documents", nil, "", true, upload{"one.txt", content}))
	uploadedDocument(t, postFiles(c, "/o/"+org.Slug+"/documents", nil, "", true, upload{"two.txt", content}))
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM documents`); n != 2 {
		t.Fatalf("%d documents", n)
	}
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM blobs`); n != 1 {
		t.Fatalf("%d blobs for one content", n)
	}
	if files := storedFiles(t, app); len(files) != 1 {
		t.Fatalf("%d files for one content", len(files))
	}
	uploadedDocument(t, postFiles(c2, "/o/"+org2.Slug+"/documents", nil, "", true, upload{"one.txt", content}))
	if files := storedFiles(t, app); len(files) != 2 {
		t.Fatalf("%d files after another organization's upload", len(files))
	}
}

// TestDocumentsParseJob works the queued extraction jobs: text and CSV
// become located chunks; a damaged PDF fails with the reason.
func TestDocumentsParseJob(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/documents"
	txt := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"notes.txt", []byte("\uFEFFfirst line\nsecond line\n")}))
	csvDoc := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"rows.csv", []byte("date,amount,memo\n2026-01-02,10.00,rent\n2026-01-03,5.50,\"coffee, beans\"\n")}))
	pdf := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"scan.pdf", pdfBytes}))

	app.workJobs(nil, false)

	check := func(d uploadedDoc, status string) db.GetDocumentRow {
		t.Helper()
		row, err := app.Docs.Status(context.Background(), org.ID, uuid.MustParse(d.ID))
		if err != nil || row.ParseStatus != status {
			t.Fatalf("%s: status %q (%v), want %q; reason %q", d.Name, row.ParseStatus, err, status, row.ParseError)
		}
		return row
	}
	check(txt, documents.StatusParsed)
	check(csvDoc, documents.StatusParsed)
	row := check(pdf, documents.StatusFailed)
	if !strings.Contains(row.ParseError, "could not be read as PDF") {
		t.Fatalf("pdf reason %q", row.ParseError)
	}
	var content, cell string
	var lineStart, lineEnd int
	err := rawInOrg(app, org.ID, func(tx pgx.Tx) error {
		if err := tx.QueryRow(context.Background(), `SELECT content, line_start, line_end FROM document_chunks WHERE document_id = $1`, txt.ID).Scan(&content, &lineStart, &lineEnd); err != nil {
			return err
		}
		return tx.QueryRow(context.Background(), `SELECT content, cell FROM document_chunks WHERE document_id = $1`, csvDoc.ID).Scan(&content, &cell)
	})
	if err != nil {
		t.Fatal(err)
	}
	if lineStart != 1 || lineEnd != 2 {
		t.Fatalf("text chunk lines %d-%d", lineStart, lineEnd)
	}
	if cell != "A1:C3" || !strings.Contains(content, "2026-01-03 | 5.50 | coffee, beans") {
		t.Fatalf("csv chunk %q at %q", content, cell)
	}
	// The badge stops polling once done, and says why it failed.
	st := c.HTMX(http.MethodGet, pdf.URL+"/status", nil)
	if st.StatusCode != http.StatusOK || st.Text("[data-testid=parse-status]") != "Failed" || st.Attr("[data-testid=parse-status]", "hx-get") != "" {
		t.Fatalf("status fragment: %d %q", st.StatusCode, st.Body)
	}
	show := c.Get(pdf.URL)
	if !strings.Contains(show.Text("[data-testid=parse-reason]"), "could not be read as PDF") {
		t.Fatalf("reason on the page: %q", show.Text("[data-testid=parse-reason]"))
	}
	if c.Get(base+"?status=parsed").Count("[data-testid=document-row]") != 2 {
		t.Fatal("status filter")
	}
}

// TestDocumentsEditArchiveRestore: rename, move, re-assign and re-tag,
// with inline errors; archive and restore.
func TestDocumentsEditArchiveRestore(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	base := "/o/" + org.Slug + "/documents"
	folder, _ := app.Docs.CreateFolder(context.Background(), documents.Actor{OrgID: org.ID, UserID: owner.ID}, "Payroll", nil)
	client := app.F.Client(org, "Zed Ltd")
	doc := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"p60.pdf", pdfBytes}))

	// Inline errors through htmx: 422 with the form.
	res := c.HTMX(http.MethodPost, doc.URL, url.Values{"name": {""}, "folder_id": {uuid.NewString()}, "client_id": {"nope"}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.Count("form[data-testid=details-form]") != 1 {
		t.Fatalf("invalid edit: %d", res.StatusCode)
	}
	for _, f := range []string{"name", "client_id"} {
		if res.Text("[data-testid=error-"+f+"]") == "" {
			t.Errorf("no error for %s", f)
		}
	}
	// Another organization's folder is not a folder here.
	_, otherOwner, other := app.owner()
	otherFolder, _ := app.Docs.CreateFolder(context.Background(), documents.Actor{OrgID: other.ID, UserID: otherOwner.ID}, "Theirs", nil)
	res = c.HTMX(http.MethodPost, doc.URL, url.Values{"name": {"x"}, "folder_id": {otherFolder.ID.String()}})
	if res.StatusCode != http.StatusUnprocessableEntity || res.Text("[data-testid=error-folder_id]") == "" {
		t.Fatalf("foreign folder: %d", res.StatusCode)
	}
	res = c.PostForm(doc.URL, url.Values{"name": {"P60 2026"}, "folder_id": {folder.ID.String()}, "client_id": {client.ID.String()}, "tags": {"payroll, year-end"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %.300s", res.StatusCode, res.Body)
	}
	d, _ := app.Docs.Get(context.Background(), org.ID, uuid.MustParse(doc.ID))
	if d.Document.Name != "P60 2026" || *d.Document.FolderID != folder.ID || *d.Document.ClientID != client.ID || strings.Join(d.Document.Tags, "|") != "payroll|year-end" {
		t.Fatalf("after edit: %+v", d.Document)
	}
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM audit_events WHERE action = $1 AND summary LIKE '%renamed from%'`, audit.DocumentUpdated); n != 1 {
		t.Fatalf("edit audit events: %d", n)
	}
	show := c.Get(doc.URL)
	if show.Text("[data-testid=document-client]") != "Zed Ltd" || show.Count("[data-testid=document-tag]") != 2 {
		t.Fatalf("page after edit: %q", show.Text("[data-testid=document-summary]"))
	}
	// Archive: out of the list, into the Archived tab, read-only.
	c.PostForm(doc.URL+"/archive", nil)
	if c.Get(base).Count("[data-testid=document-row]") != 0 || c.Get(base+"?archived=1").Count("[data-testid=document-row]") != 1 {
		t.Fatal("archived document still listed as active")
	}
	if r := c.PostForm(doc.URL, url.Values{"name": {"changed"}}); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("edit of an archived document: %d", r.StatusCode)
	}
	show = c.Get(doc.URL)
	if show.Count("[data-testid=archived-notice]") != 1 || show.Count("[data-testid=details-form]") != 0 || show.Count("[data-testid=restore]") != 1 {
		t.Fatal("archived page")
	}
	if r := c.Get(doc.URL + "/download"); r.StatusCode != http.StatusOK {
		t.Fatalf("archived download: %d", r.StatusCode)
	}
	c.PostForm(doc.URL+"/restore", nil)
	if c.Get(base).Count("[data-testid=document-row]") != 1 {
		t.Fatal("restored document not listed")
	}
	// Bad ids are 404.
	for _, p := range []string{base + "/not-a-uuid", base + "/" + uuid.NewString(), doc.URL + "/versions/nope/download"} {
		if r := c.Get(p); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
}

// TestDocumentsFolders: create (nested), duplicate names, rename, delete
// only when empty.
func TestDocumentsFolders(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/documents"
	res := c.PostForm(base+"/folders", url.Values{"name": {"Clients 2026"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", res.StatusCode)
	}
	parent := strings.TrimPrefix(res.Location(), base+"?folder=")
	res = c.PostForm(base+"/folders", url.Values{"name": {"Invoices"}, "parent_id": {parent}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create nested: %d", res.StatusCode)
	}
	child := strings.TrimPrefix(res.Location(), base+"?folder=")
	page := c.Get(base)
	if got := page.Text("[data-testid=folder-link]"); !strings.Contains(got, "Clients 2026") || !strings.Contains(got, "Invoices") {
		t.Fatalf("tree %q", got)
	}
	if page.Find("li.depth-1 [data-testid=folder-link]").Length() != 1 {
		t.Fatal("the nested folder is not indented")
	}
	// Same name at the same level: 422 with the form open.
	res = c.PostForm(base+"/folders", url.Values{"name": {"clients 2026"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Text("[data-testid=error-name]"), "already a folder") {
		t.Fatalf("duplicate: %d %q", res.StatusCode, res.Text("[data-testid=error-name]"))
	}
	// A folder page, with its documents only.
	uploadedDocument(t, postFiles(c, base, map[string]string{"folder_id": child}, "", true, upload{"inv.txt", []byte("invoice")}))
	uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"loose.txt", []byte("loose")}))
	fp := c.Get(base + "?folder=" + child)
	if fp.Count("[data-testid=document-row]") != 1 || fp.Text("h1") != "Invoices" {
		t.Fatalf("folder page: %q, %d rows", fp.Text("h1"), fp.Count("[data-testid=document-row]"))
	}
	if c.Get(base+"?folder=unfiled").Count("[data-testid=document-row]") != 1 {
		t.Fatal("unfiled filter")
	}
	if r := c.Get(base + "?folder=" + uuid.NewString()); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown folder: %d", r.StatusCode)
	}
	// Rename.
	if r := c.PostForm(base+"/folders/"+child, url.Values{"name": {"Sales invoices"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", r.StatusCode)
	}
	if c.Get(base+"?folder="+child).Text("h1") != "Sales invoices" {
		t.Fatal("not renamed")
	}
	// Not empty: refused with a message; the parent has a subfolder.
	for _, id := range []string{child, parent} {
		r := c.PostForm(base+"/folders/"+id+"/delete", nil)
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(c.Follow(r).Text("[data-testid=flash]"), "Only empty folders") {
			t.Fatalf("delete of a non-empty folder %s", id)
		}
	}
	empty := strings.TrimPrefix(c.PostForm(base+"/folders", url.Values{"name": {"Scratch"}}).Location(), base+"?folder=")
	if r := c.PostForm(base+"/folders/"+empty+"/delete", nil); r.StatusCode != http.StatusSeeOther || r.Location() != base {
		t.Fatalf("delete: %d %q", r.StatusCode, r.Location())
	}
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM document_folders`); n != 2 {
		t.Fatalf("%d folders left", n)
	}
}
