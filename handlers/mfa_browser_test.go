package handlers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"accute/internal/testutil"
)

// TestBrowserMFAEnrolment sets up two-factor authentication in Chromium:
// the QR code renders under the CSP, a wrong code is refused inline, the
// right one shows ten backup codes; then a new login asks for a code.
func TestBrowserMFAEnrolment(t *testing.T) {
	app := newTestApp(t)
	clock := newTestClock(app)
	u := app.F.User("")
	org := app.F.Org(u, "Enrolment Partners")
	ctx := newBrowser(t)
	base := app.Srv.URL

	step(t, ctx, "log in",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=login-form]")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), u.Email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), testutil.Password),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=current-user]")),
	)
	step(t, ctx, "open security",
		chromedp.Navigate(base+"/account/security"),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=mfa-start]")),
	)
	if got := text(t, ctx, "[data-testid=mfa-status]"); got != "Off" {
		t.Fatalf("status %q", got)
	}
	step(t, ctx, "start set-up",
		chromedp.Click(chromedp.CSS("[data-testid=mfa-start]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=mfa-qr]")),
	)
	// The inline PNG loaded: the CSP (img-src 'self' data:) let it through.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	width, err := chromedp.Run(sctx, chromedp.Evaluate[int](`document.querySelector("[data-testid=mfa-qr]").naturalWidth`))
	cancel()
	if err != nil || width < 100 {
		t.Fatalf("QR code not rendered: width %d, %v", width, err)
	}
	screenshot(t, ctx, "mfa-01-setup")
	secret := strings.ReplaceAll(text(t, ctx, "[data-testid=mfa-secret]"), " ", "")

	step(t, ctx, "wrong code",
		chromedp.SendKeys(chromedp.CSS("[data-testid=setup-form] #f-code"), "000000"),
		chromedp.Click(chromedp.CSS("[data-testid=mfa-confirm]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=setup-form] [data-testid=form-error]")),
	)
	step(t, ctx, "right code",
		chromedp.SetValue(chromedp.CSS("[data-testid=setup-form] #f-code"), totpCode(t, secret, clock.Now())),
		chromedp.Click(chromedp.CSS("[data-testid=mfa-confirm]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=backup-codes]")),
	)
	screenshot(t, ctx, "mfa-02-backup-codes")
	codes := text(t, ctx, "[data-testid=backup-codes]")
	if n := len(strings.Fields(codes)); n != 10 {
		t.Fatalf("%d backup codes shown: %q", n, codes)
	}
	step(t, ctx, "done",
		chromedp.Click(chromedp.CSS("[data-testid=backup-codes-done]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=backup-codes-left]")),
	)
	if got := text(t, ctx, "[data-testid=mfa-status]"); got != "On" {
		t.Fatalf("status after set-up %q", got)
	}
	screenshot(t, ctx, "mfa-03-security")
	step(t, ctx, "sessions page",
		chromedp.Click(chromedp.CSS("[data-testid=tab-sessions]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=this-device]")),
	)
	if got := text(t, ctx, "[data-testid=session-device]"); got != "Headless Chrome on Linux" {
		t.Fatalf("device %q", got)
	}
	screenshot(t, ctx, "mfa-04-sessions")

	// Log out and in again: the code is asked after the password.
	clock.Step()
	step(t, ctx, "log out",
		chromedp.Click(chromedp.CSS("[data-testid=logout]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=login-form]")),
	)
	step(t, ctx, "password",
		chromedp.SendKeys(chromedp.CSS("#f-email"), u.Email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), testutil.Password),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=mfa-login-form]")),
	)
	screenshot(t, ctx, "mfa-05-code")
	step(t, ctx, "code",
		chromedp.SendKeys(chromedp.CSS("[data-testid=mfa-login-form] #f-code"), totpCode(t, secret, clock.Now())),
		chromedp.Click(chromedp.CSS("[data-testid=mfa-login-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=current-user]")),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/o/"+org.Slug) {
		t.Fatalf("after the code at %q (err %v)", loc, err)
	}
}
