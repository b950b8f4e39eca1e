package handlers

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"accute/handlers/api"
	"accute/internal/tenant"
)

// apiUpload posts a multipart upload to the API: fields first, then the
// file in "file".
func (c *apiClient) upload(path string, fields map[string]string, name string, content []byte) *apiResponse {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if name != "" {
		fw, _ := w.CreateFormFile("file", name)
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	return c.raw(http.MethodPost, path, w.FormDataContentType(), body.Bytes())
}

// content downloads a document's file through the API.
func (c *apiClient) content(path, rangeHeader string) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// TestAPIDocumentsUploadParseSearch: upload through the API (201 with the
// status), the parse job, the document's status, its content with the web
// download's headers, search hits with locators; 404 for bad and foreign
// ids, 403 without the permission, 400/415/422 for bad uploads. Every
// answer is checked against the OpenAPI document.
func TestAPIDocumentsUploadParseSearch(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	client := app.F.Client(org, "Acme Holdings")
	token, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	c := app.api(token)
	base := "/api/v1/orgs/" + org.Slug

	var pdf, xlsx api.DocumentInfo
	c.upload(base+"/documents", map[string]string{"client_id": client.ID.String()}, "report.pdf", fixture(t, "report.pdf")).expect(http.StatusCreated).into(&pdf)
	if pdf.Status != "queued" || pdf.Type != "pdf" || pdf.ClientID == nil || *pdf.ClientID != client.ID || pdf.Version != 1 {
		t.Fatalf("created %+v", pdf)
	}
	c.upload(base+"/documents", nil, "workbook.xlsx", fixture(t, "workbook.xlsx")).expect(http.StatusCreated).into(&xlsx)

	app.workJobs(nil, false)

	var got api.DocumentInfo
	c.get(base + "/documents/" + pdf.ID.String()).expect(http.StatusOK).into(&got)
	if got.Status != "parsed" || got.ParsedAt == nil || got.ID != pdf.ID {
		t.Fatalf("after parsing %+v", got)
	}

	// The file, as the web download sends it.
	res, body := c.content(base+"/documents/"+pdf.ID.String()+"/content", "")
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, fixture(t, "report.pdf")) || res.Header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("content: %d %v", res.StatusCode, res.Header)
	}
	res, body = c.content(base+"/documents/"+pdf.ID.String()+"/content", "bytes=0-4")
	if res.StatusCode != http.StatusPartialContent || string(body) != "%PDF-" {
		t.Fatalf("range: %d %q", res.StatusCode, body)
	}

	// Search: locators.
	var found api.SearchResults
	c.get(base + "/search?" + url.Values{"q": {`"balance sheet"`}}.Encode()).expect(http.StatusOK).into(&found)
	if found.Total != 1 || len(found.Items) != 1 || found.Items[0].DocumentID != pdf.ID || found.Items[0].Page == nil || *found.Items[0].Page != 2 ||
		found.Items[0].Ref != "page 2" || !strings.Contains(found.Items[0].SnippetHTML, "<mark>balance</mark>") || strings.Contains(found.Items[0].Snippet, "\uE000") {
		t.Fatalf("pdf hit %+v", found)
	}
	c.get(base + "/search?q=invoice").expect(http.StatusOK).into(&found)
	if len(found.Items) != 1 || found.Items[0].DocumentID != xlsx.ID || found.Items[0].Sheet == nil || *found.Items[0].Sheet != "Q1 Data" ||
		found.Items[0].Cell == nil || *found.Items[0].Cell != "B1:C2" || found.Items[0].Page != nil {
		t.Fatalf("xlsx hit %+v", found)
	}
	c.get(base + "/search?" + url.Values{"q": {"acme"}, "client_id": {client.ID.String()}}.Encode()).expect(http.StatusOK).into(&found)
	if len(found.Items) != 1 || found.Items[0].DocumentID != pdf.ID {
		t.Fatalf("client filter %+v", found)
	}
	c.get(base + "/search?" + url.Values{"q": {"acme"}, "type": {"xlsx"}}.Encode()).expect(http.StatusOK).into(&found)
	if len(found.Items) != 1 || found.Items[0].DocumentID != xlsx.ID {
		t.Fatalf("type filter %+v", found)
	}
	bad := c.get(base + "/search?type=exe&from=soon").expect(http.StatusBadRequest)
	if bad.Env.Details["q"] == "" || bad.Env.Details["type"] == "" || bad.Env.Details["from"] == "" {
		t.Fatalf("details %v", bad.Env.Details)
	}
	// An end before the start is refused, as on the search page; the same
	// day is a valid range.
	if r := c.get(base + "/search?q=acme&from=2026-03-02&to=2026-03-01").expect(http.StatusBadRequest); !strings.Contains(r.Env.Details["to"], "before the start") {
		t.Fatalf("from after to: %v", r.Env.Details)
	}
	c.get(base + "/search?q=acme&from=2026-03-01&to=2026-03-01").expect(http.StatusOK)

	// Bad uploads.
	if r := c.upload(base+"/documents", nil, "", nil).expect(http.StatusBadRequest); r.Env.Details["file"] == "" {
		t.Fatalf("no file: %v", r.Env.Details)
	}
	c.upload(base+"/documents", map[string]string{"client_id": "nope"}, "a.txt", []byte("x")).expect(http.StatusBadRequest)
	c.upload(base+"/documents", map[string]string{"client_id": app.F.Client(app.F.Org(app.F.User(""), ""), "Other").ID.String()}, "a.txt", []byte("x")).expect(http.StatusBadRequest)
	c.upload(base+"/documents", nil, "tool.exe", []byte("MZ\x90\x00\x03\x00\x00\x00binary\x00\x00")).expect(http.StatusUnprocessableEntity)
	c.do(http.MethodPost, base+"/documents", map[string]any{"file": "x"}).expect(http.StatusUnsupportedMediaType)

	// 404: not a uuid, unknown, another organization's document.
	c.get(base + "/documents/nope").expect(http.StatusNotFound)
	c.get(base + "/documents/" + client.ID.String()).expect(http.StatusNotFound)
	other := app.F.User("")
	org2 := app.F.Org(other, "")
	token2, _ := app.pat(other, org2, tenant.RoleAdmin, nil)
	c2 := c.with(token2)
	base2 := "/api/v1/orgs/" + org2.Slug
	c2.get(base2 + "/documents/" + pdf.ID.String()).expect(http.StatusNotFound)
	if res, _ := c2.content(base2+"/documents/"+pdf.ID.String()+"/content", ""); res.StatusCode != http.StatusNotFound {
		t.Fatalf("foreign content: %d", res.StatusCode)
	}
	c2.get(base2 + "/search?q=acme").expect(http.StatusOK).into(&found)
	if found.Total != 0 || len(found.Items) != 0 {
		t.Fatalf("another organization finds %+v", found)
	}
	c2.get(base + "/documents/" + pdf.ID.String()).expect(http.StatusNotFound) // its token cannot reach org

	// 403: a role without documents.write cannot upload.
	viewerToken, _ := app.pat(owner, org, tenant.RoleClient, nil)
	c.with(viewerToken).upload(base+"/documents", nil, "a.txt", []byte("hello")).expect(http.StatusForbidden)
}
