package handlers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"accute/internal/requests"
)

// TestBrowserPortalRequestUploadAndAccept drives the client portal in
// Chromium (under the app's CSP): a client user logs in and lands in the
// portal, opens the open request from the home page, uploads a file
// against its first item with the progress bar, completes the identity
// check; then the firm's member logs in and accepts the request, which the
// client then sees accepted.
func TestBrowserPortalRequestUploadAndAccept(t *testing.T) {
	p := newPortalFirm(t)
	r := p.request(t, p.a, "Year-end 2026 documents", "Bank statement – December", "Payroll summary")
	ctx := newBrowser(t)
	base := p.app.Srv.URL
	dir := t.TempDir()
	statement := filepath.Join(dir, "december-statement.csv")
	passport := filepath.Join(dir, "passport.png")
	_ = os.WriteFile(statement, []byte("date,amount\n2026-12-01,120.00\n"), 0o600)
	_ = os.WriteFile(passport, pngBytes, 0o600)
	requestPath := "/o/" + p.org.Slug + "/portal/requests/" + r.ID.String()

	step(t, ctx, "client logs in",
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), p.userA.Email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "correct-horse-battery"),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=portal-home]")),
	)
	screenshot(t, ctx, "portal-01-home")
	if got := text(t, ctx, "[data-testid=home-requests]"); !strings.Contains(got, "Year-end 2026 documents") {
		t.Fatalf("home shows requests %q", got)
	}
	step(t, ctx, "open the request",
		chromedp.Click(chromedp.CSS("[data-testid=home-requests] [data-testid=request-link]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=request-item-upload]")),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, requestPath) {
		t.Fatalf("request page at %q (%v)", loc, err)
	}
	step(t, ctx, "upload against the first item",
		chromedp.SetUploadFiles(chromedp.CSS("[data-testid=request-item] [data-testid=request-item-upload-input]"), []string{statement}),
		chromedp.WaitVisible(chromedp.CSS(".doc-progress.is-done")),
	)
	screenshot(t, ctx, "portal-02-uploaded")
	// The page reloads when the batch is through: the file is listed
	// under its item and the request is with the firm.
	step(t, ctx, "see it listed", chromedp.WaitVisible(chromedp.CSS("[data-testid=request-item] [data-testid=request-upload]")))
	if got := text(t, ctx, "[data-testid=request-item]"); !strings.Contains(got, "december-statement.csv") {
		t.Fatalf("first item after upload: %q", got)
	}
	if got := text(t, ctx, "[data-testid=request-status]"); got != "With your firm" {
		t.Fatalf("request status %q", got)
	}

	// The identity check: upload a passport (one file, the page comes
	// back), then submit.
	step(t, ctx, "open the identity check",
		chromedp.Click(chromedp.CSS("[data-testid=portal-nav-kyc]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=kyc-upload]")),
	)
	step(t, ctx, "upload a passport",
		chromedp.SetValue(chromedp.CSS("[data-testid=kyc-upload] select[name=kind]"), "passport"),
		chromedp.SetUploadFiles(chromedp.CSS("[data-testid=kyc-upload-input]"), []string{passport}),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=kyc-document]")),
	)
	screenshot(t, ctx, "portal-03-kyc-uploaded")
	step(t, ctx, "submit the identity check",
		chromedp.Click(chromedp.CSS("[data-testid=kyc-submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=kyc-under-review]")),
	)
	screenshot(t, ctx, "portal-04-kyc-submitted")
	if got := text(t, ctx, "[data-testid=kyc-status]"); got != "Under review" {
		t.Fatalf("identity check status %q", got)
	}
	step(t, ctx, "open the documents",
		chromedp.Click(chromedp.CSS("[data-testid=portal-nav-documents]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=portal-document-table]")),
	)
	screenshot(t, ctx, "portal-04c-documents")
	if got := text(t, ctx, "[data-testid=portal-document-table]"); !strings.Contains(got, "december-statement.csv") ||
		!strings.Contains(got, "Uploaded by you") || strings.Contains(got, "passport.png") {
		t.Fatalf("documents page: %q", got)
	}
	step(t, ctx, "client logs out",
		chromedp.Click(chromedp.CSS(".portal-user summary")),
		chromedp.Click(chromedp.CSS("[data-testid=logout]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=login-form]")),
	)

	// The firm's member accepts the request.
	step(t, ctx, "staff logs in",
		chromedp.SendKeys(chromedp.CSS("#f-email"), p.owner.Email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "correct-horse-battery"),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=current-user]")),
	)
	step(t, ctx, "open the request",
		chromedp.Navigate(base+"/o/"+p.org.Slug+"/requests/"+r.ID.String()),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=review]")),
	)
	if got := text(t, ctx, "[data-testid=request-documents]"); !strings.Contains(got, "december-statement.csv") {
		t.Fatalf("staff's request page lacks the upload: %q", got)
	}
	step(t, ctx, "accept",
		chromedp.Click(chromedp.CSS("[data-testid=accept]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=flash]")),
	)
	screenshot(t, ctx, "portal-04b-accepted")
	d, err := p.app.Reqs.Get(context.Background(), p.org.ID, r.ID)
	if err != nil || d.Request.Status != requests.StatusAccepted {
		t.Fatalf("request after accepting: %q (%v)", d.Request.Status, err)
	}
	// The client page shows the identity check waiting for review.
	step(t, ctx, "open the client page",
		chromedp.Navigate(base+p.clientsA),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=portal-access]")),
	)
	if got := text(t, ctx, "[data-testid=portal-user-kyc]"); got != "Under review" {
		t.Fatalf("client page shows identity check %q", got)
	}
	screenshot(t, ctx, "portal-05-client-page-review")
	step(t, ctx, "verify the identity",
		chromedp.Click(chromedp.CSS("[data-testid=kyc-verify]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=portal-notice]")),
	)
	screenshot(t, ctx, "portal-06-client-page")
	if got := text(t, ctx, "[data-testid=portal-user-kyc]"); got != "Verified" {
		t.Fatalf("after verifying: %q", got)
	}
}
