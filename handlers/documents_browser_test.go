package handlers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserUploadWithProgress drives the uploader in Chromium (under the
// app's CSP): files chosen go up one request each with a progress bar, a
// refused one says why, and the list refreshes when all went through.
func TestBrowserUploadWithProgress(t *testing.T) {
	app := newTestApp(t)
	_, owner, org := app.owner()
	ctx := newBrowser(t)
	base := app.Srv.URL
	dir := t.TempDir()
	good := filepath.Join(dir, "bank.csv")
	bad := filepath.Join(dir, "invoice.pdf")
	second := filepath.Join(dir, "notes.txt")
	_ = os.WriteFile(good, []byte("date,amount\n2026-01-02,10.00\n"), 0o600)
	_ = os.WriteFile(bad, exeBytes, 0o600)
	_ = os.WriteFile(second, []byte("call the client"), 0o600)

	step(t, ctx, "log in",
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), owner.Email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "correct-horse-battery"),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=current-user]")),
	)
	step(t, ctx, "open documents",
		chromedp.Navigate(base+"/o/"+org.Slug+"/documents"),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=upload-card]")),
	)
	step(t, ctx, "choose two files",
		chromedp.SetUploadFiles(chromedp.CSS("[data-testid=upload-input]"), []string{good, bad}),
		chromedp.WaitVisible(chromedp.CSS(".doc-progress.is-done")),
		chromedp.WaitVisible(chromedp.CSS(".doc-progress.is-error")),
	)
	screenshot(t, ctx, "documents-upload-progress")
	if got := text(t, ctx, ".doc-progress.is-error .doc-progress-status"); !strings.Contains(got, "not a file type we accept") {
		t.Fatalf("refusal shown: %q", got)
	}
	if got := text(t, ctx, ".doc-progress.is-done .doc-progress-status"); got != "Uploaded" {
		t.Fatalf("success shown: %q", got)
	}
	value, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector(".doc-progress.is-done progress").value`))
	if err != nil || value != 100 {
		t.Fatalf("progress bar at %v (%v)", value, err)
	}
	// All good: the list reloads and shows the new documents.
	step(t, ctx, "upload one more",
		chromedp.SetUploadFiles(chromedp.CSS("[data-testid=upload-input]"), []string{second}),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=document-row]:nth-child(2)")),
	)
	if list := text(t, ctx, "[data-testid=document-table]"); !strings.Contains(list, "bank.csv") || !strings.Contains(list, "notes.txt") || strings.Contains(list, "invoice.pdf") {
		t.Fatalf("list after uploads: %q", list)
	}
}
