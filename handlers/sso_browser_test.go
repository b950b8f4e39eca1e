package handlers

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"accute/internal/tenant"
)

// TestBrowserSSOLogin signs in through SAML in Chromium: the login page's
// "Sign in with SSO", the work e-mail, the IdP's login form, its
// self-posting response form (a cross-origin POST to the ACS), and the
// organization's dashboard, as a member provisioned just in time.
func TestBrowserSSOLogin(t *testing.T) {
	f := newSSOFixture(t, ssoOpts{})
	f.owner.PostForm(f.settingsURL("/groups"), url.Values{"group": {"Partners"}, "role": {tenant.RoleManager}})
	email := "nora@" + f.domain
	f.idp.AddUser("nora", email, "nora-password", "Partners")
	ctx := newBrowser(t)
	base := f.app.Srv.URL

	step(t, ctx, "open the login page",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=sso-link]")),
	)
	step(t, ctx, "choose SSO",
		chromedp.Click(chromedp.CSS("[data-testid=sso-link]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=sso-start-form]")),
	)
	screenshot(t, ctx, "sso-01-start")
	step(t, ctx, "enter the work e-mail",
		chromedp.SendKeys(chromedp.CSS("#f-identifier"), email),
		chromedp.Click(chromedp.CSS("[data-testid=sso-start-form] button[type=submit]")),
		// The IdP's own login form.
		chromedp.WaitVisible(chromedp.CSS("input[name=user]")),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasPrefix(loc, f.idp.Srv.URL+"/sso") {
		t.Fatalf("at %q (err %v), want the IdP", loc, err)
	}
	screenshot(t, ctx, "sso-02-idp")
	step(t, ctx, "sign in at the IdP",
		chromedp.SendKeys(chromedp.CSS("input[name=user]"), "nora"),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), "nora-password"),
		chromedp.Click(chromedp.CSS("input[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=current-user]")),
	)
	screenshot(t, ctx, "sso-03-dashboard")
	if got := text(t, ctx, "[data-testid=current-user]"); got != "Common nora" {
		t.Fatalf("signed in as %q", got)
	}
	loc, err = chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != base+"/o/"+f.org.Slug {
		t.Fatalf("landed on %q (err %v)", loc, err)
	}
	if flash := text(t, ctx, "[data-testid=flash]"); !strings.Contains(flash, "Welcome to "+f.org.Name) {
		t.Fatalf("flash %q", flash)
	}
}
