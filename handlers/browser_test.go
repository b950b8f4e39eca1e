package handlers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium. There is no silent skip: `make test`
// installs it (as root) or explains how to.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ACCUTE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed: run `make test` (it installs Debian's chromium as root) or `sudo apt-get install -y --no-install-recommends chromium`, or set ACCUTE_CHROMIUM")
	return ""
}

// newBrowser starts headless Chromium and returns its tab context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 860),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first action starts the browser on this long-lived context.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions with a timeout, failing with what was being done.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		screenshot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		t.Fatalf("%s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// screenshot saves a PNG when ACCUTE_SCREENSHOTS names a directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("ACCUTE_SCREENSHOTS")
	if dir == "" {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err == nil {
		_ = os.MkdirAll(dir, 0o755)
		_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
}

// TestBrowserSignupClientLogoutLogin drives the main flow in Chromium:
// sign up -> create a client -> see it listed -> log out -> log in.
func TestBrowserSignupClientLogoutLogin(t *testing.T) {
	app := newTestApp(t)
	ctx := newBrowser(t)
	base := app.Srv.URL

	step(t, ctx, "open sign-up", chromedp.Navigate(base+"/signup"), chromedp.WaitVisible(chromedp.CSS("[data-testid=signup-form]")))
	screenshot(t, ctx, "01-signup")

	// Invalid input first: errors appear inline without a reload.
	step(t, ctx, "submit empty-ish sign-up",
		chromedp.SendKeys(chromedp.CSS("#f-name"), "Grace Hopper"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "grace@example.test"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "short"),
		chromedp.SendKeys(chromedp.CSS("#f-org_name"), "Hopper Tax Advisors"),
		chromedp.Click(chromedp.CSS("[data-testid=signup-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=error-password]")),
	)
	screenshot(t, ctx, "02-signup-errors")
	step(t, ctx, "fix password and sign up",
		chromedp.SendKeys(chromedp.CSS("#f-password"), "a-much-longer-password"),
		chromedp.Click(chromedp.CSS("[data-testid=signup-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=current-user]")),
	)
	if got := text(t, ctx, "[data-testid=current-user]"); got != "Grace Hopper" {
		t.Fatalf("signed in as %q", got)
	}
	screenshot(t, ctx, "03-dashboard")

	step(t, ctx, "open new client form",
		chromedp.Navigate(base+"/o/hopper-tax-advisors/clients/new"),
		chromedp.WaitVisible(chromedp.CSS("main form input[name=name]")),
	)
	step(t, ctx, "create client",
		chromedp.SendKeys(chromedp.CSS("main form input[name=name]"), "Babbage Engines Ltd"),
		chromedp.SendKeys(chromedp.CSS("main form input[name=email]"), "books@babbage.example"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=flash]")),
	)
	if h1 := text(t, ctx, "main h1"); h1 != "Babbage Engines Ltd" {
		t.Fatalf("after creating the client the page shows %q", h1)
	}
	screenshot(t, ctx, "04-client")
	step(t, ctx, "see it listed",
		chromedp.Navigate(base+"/o/hopper-tax-advisors/clients"),
		chromedp.WaitVisible(chromedp.CSS("main table")),
	)
	if list := text(t, ctx, "main table"); !strings.Contains(list, "Babbage Engines Ltd") {
		t.Fatalf("client list does not show the new client: %q", list)
	}
	screenshot(t, ctx, "05-clients")

	step(t, ctx, "log out",
		chromedp.Click(chromedp.CSS("[data-testid=logout]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=login-form]")),
	)
	step(t, ctx, "log in",
		chromedp.SendKeys(chromedp.CSS("#f-email"), "GRACE@example.test"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "a-much-longer-password"),
		chromedp.Click(chromedp.CSS("[data-testid=login-form] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=current-user]")),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/o/hopper-tax-advisors") {
		t.Fatalf("after login at %q (err %v)", loc, err)
	}
}
