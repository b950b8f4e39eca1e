package handlers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"accute/internal/requests"
)

// TestBrowserRequestDocuments: from a client's page, "Request documents",
// a template fills the form (the typed client and due date stay), the
// request is sent; the client uploads (the portal's call); staff upload one
// more file on the client's behalf with the page's uploader, then send the
// request back with a reason.
func TestBrowserRequestDocuments(t *testing.T) {
	app := newTestApp(t)
	_, owner, org := app.owner()
	client := app.F.Client(org, "Acme Holdings")
	customer, _ := portalUser(t, app, org, client)
	ctx := newBrowser(t)
	base := app.Srv.URL

	step(t, ctx, "log in",
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), owner.Email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "correct-horse-battery"),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=current-user]")),
	)
	step(t, ctx, "open the client and request documents",
		chromedp.Navigate(base+"/o/"+org.Slug+"/clients/"+client.ID.String()),
		chromedp.Click(chromedp.CSS("[data-testid=client-request-documents]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=request-form]")),
	)
	step(t, ctx, "apply a template",
		chromedp.Click(chromedp.CSS("[data-testid=template-year-end]")),
	)
	// The template is a GET form submission: a navigation. Wait for the
	// new page (evaluations fail while the old one is torn down).
	var title string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search.includes("template=year-end") && document.readyState === "complete" && document.querySelector("#f-title") ? document.querySelector("#f-title").value : ""`))
		if err == nil && got != "" {
			title = got
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the template page did not load (%v)", err)
		}
	}
	if !strings.HasPrefix(title, "Documents for your") {
		t.Fatalf("title after the template %q", title)
	}
	items, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=item-input]").length`))
	if err != nil || items < 5 {
		t.Fatalf("%d item inputs (%v)", items, err)
	}
	screenshot(t, ctx, "requests-new-template")
	step(t, ctx, "send",
		chromedp.Click(chromedp.CSS("[data-testid=send-request]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=request-status]")),
	)
	if got := text(t, ctx, "[data-testid=request-status]"); got != "Waiting for client" {
		t.Fatalf("status %q", got)
	}
	if got := text(t, ctx, "[data-testid=request-client]"); got != "Acme Holdings" {
		t.Fatalf("client %q", got)
	}

	// The client uploads through the portal's service call.
	page, err := app.Reqs.List(context.Background(), org.ID, requests.Filter{})
	if err != nil || len(page.Rows) != 1 {
		t.Fatalf("requests %+v %v", page, err)
	}
	id := page.Rows[0].ID
	if _, err := app.Reqs.Upload(context.Background(), customer, id, nil, "payslips.pdf", strings.NewReader(string(pdfBytes))); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "receipts.csv")
	_ = os.WriteFile(file, []byte("date,amount\n2026-01-02,10.00\n"), 0o600)
	step(t, ctx, "upload for the client",
		chromedp.Navigate(base+"/o/"+org.Slug+"/requests/"+id.String()),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=review]")),
		chromedp.SetUploadFiles(chromedp.CSS("[data-testid=request-upload-input]"), []string{file}),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=request-upload]:nth-child(2)")),
	)
	screenshot(t, ctx, "requests-submitted")
	step(t, ctx, "send back with a reason",
		chromedp.SendKeys(chromedp.CSS("[data-testid=reject-form] textarea"), "The payslip for March is missing."),
		chromedp.Click(chromedp.CSS("[data-testid=reject]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=rejection-notice]")),
	)
	if got := text(t, ctx, "[data-testid=request-status]"); got != "Changes requested" {
		t.Fatalf("status %q", got)
	}
	screenshot(t, ctx, "requests-rejected")
	step(t, ctx, "the list",
		chromedp.Navigate(base+"/o/"+org.Slug+"/requests"),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=request-row]")),
	)
	screenshot(t, ctx, "requests-list")
}
