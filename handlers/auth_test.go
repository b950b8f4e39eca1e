package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"accute/internal/testutil"
)

func TestSignupCreatesUserAndOrganization(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	res := c.PostForm("/signup", url.Values{"name": {"Ada Lovelace"}, "email": {"Ada@Example.TEST"}, "password": {"a-long-password"}, "org_name": {"Lovelace & Co"}})
	res.AssertStatus(http.StatusSeeOther)
	if loc := res.Location(); loc != "/o/lovelace-co" {
		t.Fatalf("redirect = %q", loc)
	}
	page := c.Follow(res).AssertStatus(http.StatusOK)
	if got := page.Text("[data-testid=current-user]"); got != "Ada Lovelace" {
		t.Fatalf("current user = %q", got)
	}
	// E-mail is stored lower-case and a verification message is queued.
	mail := app.lastEmail("ada@example.test")
	if !strings.Contains(mail.TextBody, "/verify-email?token=") {
		t.Fatalf("verification mail: %q", mail.TextBody)
	}
	// Same address in another case is taken.
	c2 := app.client()
	res = c2.PostForm("/signup", url.Values{"name": {"Other"}, "email": {"ADA@example.test"}, "password": {"a-long-password"}, "org_name": {"X"}})
	res.AssertStatus(http.StatusUnprocessableEntity)
	if res.Count("[data-testid=error-email]") != 1 {
		t.Fatalf("want e-mail error, got %s", res.Body)
	}
}

func TestSignupValidationIsInlineForHTMX(t *testing.T) {
	app := newTestApp(t)
	res := app.client().HTMX(http.MethodPost, "/signup", url.Values{"name": {""}, "email": {"not-an-email"}, "password": {"short"}, "org_name": {""}})
	res.AssertStatus(http.StatusUnprocessableEntity)
	for _, f := range []string{"name", "email", "password", "org_name"} {
		if res.Count("[data-testid=error-"+f+"]") != 1 {
			t.Errorf("no inline error for %s", f)
		}
	}
	if strings.Contains(res.Body, "<html") {
		t.Fatal("HTMX answer should be the form fragment, not a page")
	}
}

func TestLoginAnswersAlikeForUnknownEmailAndWrongPassword(t *testing.T) {
	app := newTestApp(t)
	u := app.F.User("known@example.test")
	a := app.client().PostForm("/login", url.Values{"email": {u.Email}, "password": {"wrong-password"}})
	b := app.client().PostForm("/login", url.Values{"email": {"nobody@example.test"}, "password": {"wrong-password"}})
	a.AssertStatus(http.StatusUnprocessableEntity)
	b.AssertStatus(http.StatusUnprocessableEntity)
	if a.Text("[data-testid=form-error]") != b.Text("[data-testid=form-error]") || a.Text("[data-testid=form-error]") == "" {
		t.Fatalf("messages differ: %q vs %q", a.Text("[data-testid=form-error]"), b.Text("[data-testid=form-error]"))
	}
}

func TestLoginIsCaseInsensitiveAndRenewsSessionToken(t *testing.T) {
	app := newTestApp(t)
	u := app.F.User("case@example.test")
	c := app.client()
	c.Get("/login")
	before := c.Cookie("accute_session")
	res := c.PostForm("/login", url.Values{"email": {"CASE@Example.Test"}, "password": {testutil.Password}})
	res.AssertStatus(http.StatusSeeOther)
	after := c.Cookie("accute_session")
	if after == "" || after == before {
		t.Fatalf("session token not renewed at login: %q -> %q", before, after)
	}
	_ = u
}

func TestLogoutEndsSessionOnServer(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	stolen := c.Cookie("accute_session")
	c.PostForm("/logout", nil).AssertStatus(http.StatusSeeOther)
	// Replaying the old cookie must not work.
	thief := app.client()
	thief.SetCookie("accute_session", stolen)
	res := thief.Get("/o/" + org.Slug)
	res.AssertStatus(http.StatusSeeOther)
	if !strings.HasPrefix(res.Location(), "/login") {
		t.Fatalf("location %q", res.Location())
	}
}

var tokenLink = regexp.MustCompile(`/reset-password\?token=([A-Za-z0-9_-]+)`)

func TestPasswordResetIsSingleUseAndEndsOtherSessions(t *testing.T) {
	app := newTestApp(t)
	other, u, org := app.owner()

	c := app.client()
	c.PostForm("/forgot-password", url.Values{"email": {u.Email}}).AssertStatus(http.StatusOK)
	// Unknown addresses get the same answer.
	c.PostForm("/forgot-password", url.Values{"email": {"ghost@example.test"}}).AssertStatus(http.StatusOK)

	m := tokenLink.FindStringSubmatch(app.lastEmail(u.Email).TextBody)
	if m == nil {
		t.Fatal("no reset link in e-mail")
	}
	res := c.Get("/reset-password?token=" + m[1])
	res.AssertStatus(http.StatusSeeOther)
	if res.Location() != "/reset-password" {
		t.Fatalf("token should leave the URL, got %q", res.Location())
	}
	form := c.Follow(res).AssertStatus(http.StatusOK)
	if strings.Contains(form.Body, m[1]) {
		t.Fatal("token appears in the page")
	}
	c.PostForm("/reset-password", url.Values{"password": {"short"}}).AssertStatus(http.StatusUnprocessableEntity)
	c.PostForm("/reset-password", url.Values{"password": {"brand-new-password"}}).AssertStatus(http.StatusSeeOther)
	c.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)

	// The other session is over.
	res = other.Get("/o/" + org.Slug)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
		t.Fatalf("other session still valid: %d %s", res.StatusCode, res.Location())
	}
	// The link works once.
	c2 := app.client()
	c2.Get("/reset-password?token=" + m[1])
	c2.Get("/reset-password").AssertStatus(http.StatusBadRequest)
	// The new password works, the old one does not.
	app.client().PostForm("/login", url.Values{"email": {u.Email}, "password": {testutil.Password}}).AssertStatus(http.StatusUnprocessableEntity)
	app.client().PostForm("/login", url.Values{"email": {u.Email}, "password": {"brand-new-password"}}).AssertStatus(http.StatusSeeOther)
}

func TestEmailVerification(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	c.PostForm("/signup", url.Values{"name": {"Vera"}, "email": {"vera@example.test"}, "password": {"a-long-password"}, "org_name": {"Vera CPA"}}).AssertStatus(http.StatusSeeOther)
	page := c.Get("/o/vera-cpa")
	if !strings.Contains(page.Body, "Please confirm your e-mail") {
		t.Fatal("no unverified banner")
	}
	link := regexp.MustCompile(`/verify-email\?token=[A-Za-z0-9_-]+`).FindString(app.lastEmail("vera@example.test").TextBody)
	c.Get(link).AssertStatus(http.StatusOK)
	c.Get(link).AssertStatus(http.StatusBadRequest) // single use
	if strings.Contains(c.Get("/o/vera-cpa").Body, "Please confirm your e-mail") {
		t.Fatal("banner still shown after verification")
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	app := newTestApp(t)
	u := app.F.User("")
	res := app.client().PostForm("/login", url.Values{"email": {u.Email}, "password": {testutil.Password}, "next": {"//evil.example/x"}})
	res.AssertStatus(http.StatusSeeOther)
	if res.Location() != "/orgs" {
		t.Fatalf("redirected to %q", res.Location())
	}
}
