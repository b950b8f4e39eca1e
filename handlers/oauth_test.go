package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/auth/oauth/oauthtest"
	"accute/internal/db"
	"accute/internal/testutil"
)

// oidcApp is the application with the generic OpenID Connect provider
// pointing at a provider running in this test.
func oidcApp(t *testing.T) (*testApp, *oauthtest.Server) {
	t.Helper()
	idp := oauthtest.New(t)
	app := newTestAppWith(t, map[string]string{
		"OIDC_ISSUER": idp.Issuer(), "OIDC_CLIENT_ID": idp.ClientID, "OIDC_CLIENT_SECRET": idp.ClientSecret, "OIDC_NAME": "Okta",
	})
	return app, idp
}

// toCallback starts a sign-in at start, goes through the provider, and
// returns the provider's redirect back to the application (not followed).
func toCallback(t *testing.T, c *testutil.Client, idp *oauthtest.Server, res *testutil.Response) string {
	t.Helper()
	res.AssertStatus(http.StatusSeeOther)
	if !strings.HasPrefix(res.Location(), idp.URL+"/authorize?") {
		t.Fatalf("start redirected to %q, want the provider", res.Location())
	}
	back := c.Follow(res).AssertStatus(http.StatusFound)
	return back.Location()
}

func (a *testApp) userByEmail(email string) (db.User, bool) {
	a.t.Helper()
	u, err := a.Store.Q().GetUserByEmail(context.Background(), email)
	if err != nil {
		return db.User{}, false
	}
	return u, true
}

func (a *testApp) identities(userID uuid.UUID) []db.UserIdentity {
	a.t.Helper()
	ids, err := a.Store.Q().ListIdentitiesByUser(context.Background(), userID)
	if err != nil {
		a.t.Fatal(err)
	}
	return ids
}

// auditEvents counts audit events (any organization, or none) with action
// whose actor e-mail contains actor (empty: any).
func (a *testApp) auditEvents(action, actor string) int {
	a.t.Helper()
	var n int32
	err := a.Store.AsPlatform(context.Background(), func(q *db.Queries) error {
		var err error
		n, err = q.CountAllAuditEvents(context.Background(), db.CountAllAuditEventsParams{Action: action, Actor: actor})
		return err
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return int(n)
}

// signedInAs reports which user the client's session belongs to ("" when
// signed out).
func signedInAs(c *testutil.Client) string {
	res := c.Get("/orgs?all=1")
	if res.StatusCode != http.StatusOK {
		return ""
	}
	return res.Text("[data-testid=current-user]")
}

func TestOAuthButtonsOnlyWhenConfigured(t *testing.T) {
	plain := newTestApp(t)
	res := plain.client().Get("/login").AssertStatus(http.StatusOK)
	if res.Count("[data-testid=oauth-buttons]") != 0 {
		t.Fatal("buttons shown with no provider configured")
	}
	plain.client().Get("/auth/oauth/google").AssertStatus(http.StatusNotFound)
	plain.client().Get("/auth/oauth/oidc/callback?code=x&state=y").AssertStatus(http.StatusNotFound)

	app := newTestAppWith(t, map[string]string{
		"GOOGLE_CLIENT_ID": "g-id", "GOOGLE_CLIENT_SECRET": "g-secret",
		"GITHUB_CLIENT_ID": "gh-id", "GITHUB_CLIENT_SECRET": "gh-secret",
	})
	res = app.client().Get("/login?next=/o/firm/clients").AssertStatus(http.StatusOK)
	if res.Count("[data-testid=oauth-buttons] a") != 2 || res.Count("[data-testid=oauth-microsoft]") != 0 || res.Count("[data-testid=oauth-oidc]") != 0 {
		t.Fatalf("buttons: %s", res.Text("[data-testid=oauth-buttons]"))
	}
	if got := res.Attr("[data-testid=oauth-google]", "href"); got != "/auth/oauth/google?next=%2Fo%2Ffirm%2Fclients" {
		t.Fatalf("google button href %q", got)
	}
	if res.Text("[data-testid=oauth-github]") != "Continue with GitHub" {
		t.Fatalf("github label %q", res.Text("[data-testid=oauth-github]"))
	}
	// GitHub is not OpenID Connect: no discovery needed, straight to GitHub.
	start := app.client().Get("/auth/oauth/github").AssertStatus(http.StatusSeeOther)
	if !strings.HasPrefix(start.Location(), "https://github.com/login/oauth/authorize?") || !strings.Contains(start.Location(), "state=") {
		t.Fatalf("github start: %q", start.Location())
	}
}

func TestOAuthNewUserSignsUpThenCreatesOrganization(t *testing.T) {
	app, idp := oidcApp(t)
	idp.SetUser(oauthtest.User{Subject: "okta-new", Email: "New.Person@Example.TEST", EmailVerified: true, Name: "New Person"})
	c := app.client()
	callback := toCallback(t, c, idp, c.Get("/auth/oauth/oidc"))
	res := c.Get(callback).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/orgs/new" {
		t.Fatalf("new user sent to %q, want /orgs/new", res.Location())
	}
	page := c.Follow(res).AssertStatus(http.StatusOK)
	if page.Text("[data-testid=current-user]") != "New Person" || !strings.Contains(page.Body, "Create your firm") {
		t.Fatalf("new organization page: user %q", page.Text("[data-testid=current-user]"))
	}
	u, ok := app.userByEmail("new.person@example.test")
	if !ok || u.EmailVerifiedAt == nil || u.PasswordSet {
		t.Fatalf("user %+v (found %v): want verified, without password", u, ok)
	}
	ids := app.identities(u.ID)
	if len(ids) != 1 || ids[0].Provider != "oidc" || ids[0].Subject != "okta-new" || ids[0].Issuer != idp.Issuer() {
		t.Fatalf("identities %+v", ids)
	}
	for _, action := range []string{audit.OAuthSignup, audit.IdentityLinked, audit.OAuthLogin} {
		if app.auditEvents(action, u.Email) != 1 {
			t.Errorf("audit %s missing", action)
		}
	}
	// The password form cannot be used: no password was ever chosen.
	other := app.client()
	other.PostForm("/login", url.Values{"email": {u.Email}, "password": {testutil.Password}}).AssertStatus(http.StatusUnprocessableEntity)
	// They create their organization.
	c.PostForm("/orgs", url.Values{"name": {"Person & Co"}}).AssertStatus(http.StatusSeeOther)
}

func TestOAuthLinksExistingAccountByVerifiedEmail(t *testing.T) {
	app, idp := oidcApp(t)
	user := app.F.User("pat@example.test")
	app.F.Org(user, "Pat's Firm")
	idp.SetUser(oauthtest.User{Subject: "okta-pat", Email: "PAT@example.test", EmailVerified: true, Name: "Pat"})
	c := app.client()
	res := c.Get(toCallback(t, c, idp, c.Get("/auth/oauth/oidc?next=/account"))).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/account" {
		t.Fatalf("redirect %q, want the next page", res.Location())
	}
	if got := signedInAs(c); got != user.Name {
		t.Fatalf("signed in as %q, want %q", got, user.Name)
	}
	if ids := app.identities(user.ID); len(ids) != 1 || ids[0].Subject != "okta-pat" {
		t.Fatalf("identities %+v", ids)
	}
	if app.auditEvents(audit.IdentityLinked, user.Email) != 1 || app.auditEvents(audit.OAuthLogin, user.Email) != 1 {
		t.Fatal("link and login not audited")
	}
	// Next time the subject alone decides, even after the address changed
	// at the provider.
	idp.SetUser(oauthtest.User{Subject: "okta-pat", Email: "pat.renamed@example.test", EmailVerified: false})
	c2 := app.client()
	c2.Get(toCallback(t, c2, idp, c2.Get("/auth/oauth/oidc"))).AssertStatus(http.StatusSeeOther)
	if got := signedInAs(c2); got != user.Name {
		t.Fatalf("second sign-in as %q", got)
	}
	if _, exists := app.userByEmail("pat.renamed@example.test"); exists {
		t.Fatal("a second account was created")
	}
}

func TestOAuthRefusesAnUnverifiedEmail(t *testing.T) {
	app, idp := oidcApp(t)
	victim := app.F.User("victim@example.test")
	idp.SetUser(oauthtest.User{Subject: "attacker", Email: "victim@example.test", EmailVerified: false})
	c := app.client()
	res := c.Get(toCallback(t, c, idp, c.Get("/auth/oauth/oidc"))).AssertStatus(http.StatusForbidden)
	if msg := res.Text("[data-testid=message]"); !strings.Contains(msg, "did not confirm") {
		t.Fatalf("message %q", msg)
	}
	if signedInAs(c) != "" || len(app.identities(victim.ID)) != 0 {
		t.Fatal("an unverified address got into the account")
	}
	if app.auditEvents(audit.OAuthLoginFailed, "victim@example.test") != 1 {
		t.Fatal("refusal not audited")
	}
	// Nobody is created for an unverified new address either.
	idp.SetUser(oauthtest.User{Subject: "someone", Email: "someone@example.test", EmailVerified: false})
	c2 := app.client()
	c2.Get(toCallback(t, c2, idp, c2.Get("/auth/oauth/oidc"))).AssertStatus(http.StatusForbidden)
	if _, exists := app.userByEmail("someone@example.test"); exists {
		t.Fatal("account created for an unverified address")
	}
}

func TestOAuthRefusesUnconfirmedAccountsAndSuspendedUsers(t *testing.T) {
	app, idp := oidcApp(t)
	// An account someone signed up for with this address but never
	// confirmed: they may know its password, so it is not handed over.
	c := app.client()
	c.PostForm("/signup", url.Values{"name": {"Squatter"}, "email": {"owner@firm.example"}, "password": {"squatter-password"}, "org_name": {"Squat"}}).AssertStatus(http.StatusSeeOther)
	idp.SetUser(oauthtest.User{Subject: "real-owner", Email: "owner@firm.example", EmailVerified: true})
	b := app.client()
	res := b.Get(toCallback(t, b, idp, b.Get("/auth/oauth/oidc"))).AssertStatus(http.StatusForbidden)
	if !strings.Contains(res.Text("[data-testid=message]"), "not been confirmed") {
		t.Fatalf("message %q", res.Text("[data-testid=message]"))
	}

	suspended := app.F.User("gone@example.test")
	if err := app.Store.InTx(context.Background(), func(q *db.Queries) error { _, err := q.SuspendUser(context.Background(), suspended.ID); return err }); err != nil {
		t.Fatal(err)
	}
	idp.SetUser(oauthtest.User{Subject: "gone", Email: "gone@example.test", EmailVerified: true})
	s := app.client()
	res = s.Get(toCallback(t, s, idp, s.Get("/auth/oauth/oidc"))).AssertStatus(http.StatusForbidden)
	if !strings.Contains(res.Text("[data-testid=message]"), "suspended") || signedInAs(s) != "" {
		t.Fatalf("suspended user: %q", res.Text("[data-testid=message]"))
	}
}

func TestOAuthStateIsChecked(t *testing.T) {
	app, idp := oidcApp(t)
	idp.SetUser(oauthtest.User{Subject: "st", Email: "state@example.test", EmailVerified: true})
	c := app.client()
	callback := toCallback(t, c, idp, c.Get("/auth/oauth/oidc"))
	u, _ := url.Parse(callback)
	q := u.Query()
	q.Set("state", "forged-"+q.Get("state"))
	u.RawQuery = q.Encode()
	res := c.Get(u.String()).AssertStatus(http.StatusBadRequest)
	if !strings.Contains(res.Text("[data-testid=message]"), "could not be verified") || signedInAs(c) != "" {
		t.Fatalf("forged state: %q", res.Text("[data-testid=message]"))
	}
	// The attempt is used up: the genuine answer no longer works either.
	c.Get(callback).AssertStatus(http.StatusBadRequest)
	// A callback opened in a browser that did not start the sign-in (a
	// link sent to a victim) is refused.
	c2 := app.client()
	callback = toCallback(t, c2, idp, c2.Get("/auth/oauth/oidc"))
	victim := app.client()
	res = victim.Get(callback).AssertStatus(http.StatusBadRequest)
	if !strings.Contains(res.Text("[data-testid=message]"), "expired or was started in another browser") || signedInAs(victim) != "" {
		t.Fatalf("foreign callback: %q", res.Text("[data-testid=message]"))
	}
	if _, exists := app.userByEmail("state@example.test"); exists {
		t.Fatal("an account was created")
	}
	if app.auditEvents(audit.OAuthLoginFailed, "") < 3 {
		t.Fatal("failures not audited")
	}
}

// A code issued to one browser (for its PKCE challenge), injected into
// another browser's callback with that browser's valid state, fails at
// the token endpoint: the verifier does not match.
func TestOAuthPKCEVerifierMismatchIsRefused(t *testing.T) {
	app, idp := oidcApp(t)
	idp.SetUser(oauthtest.User{Subject: "pkce", Email: "pkce@example.test", EmailVerified: true})
	attacker := app.client()
	stolen, _ := url.Parse(toCallback(t, attacker, idp, attacker.Get("/auth/oauth/oidc")))
	if authz := idp.LastAuthorization(); authz.Get("code_challenge_method") != "S256" || len(authz.Get("code_challenge")) != 43 {
		t.Fatalf("authorization request without S256 PKCE: %v", authz)
	}
	victim := app.client()
	own, _ := url.Parse(toCallback(t, victim, idp, victim.Get("/auth/oauth/oidc")))
	injected := *own
	q := own.Query()
	q.Set("code", stolen.Query().Get("code"))
	injected.RawQuery = q.Encode()
	res := victim.Get(injected.String()).AssertStatus(http.StatusUnauthorized)
	if idp.PKCEFailures() != 1 {
		t.Fatalf("provider saw %d PKCE failures, want 1", idp.PKCEFailures())
	}
	if signedInAs(victim) != "" || !strings.Contains(res.Text("[data-testid=message]"), "could not complete") {
		t.Fatalf("injected code: %q", res.Text("[data-testid=message]"))
	}
	if _, exists := app.userByEmail("pkce@example.test"); exists {
		t.Fatal("an account was created")
	}
}

func TestOAuthProviderErrorIsShown(t *testing.T) {
	app, idp := oidcApp(t)
	idp.Deny("access_denied")
	c := app.client()
	callback := toCallback(t, c, idp, c.Get("/auth/oauth/oidc"))
	if !strings.Contains(callback, "error=access_denied") {
		t.Fatalf("provider answer %q", callback)
	}
	res := c.Get(callback).AssertStatus(http.StatusBadRequest)
	if msg := res.Text("[data-testid=message]"); msg != "Signing in with Okta was cancelled." {
		t.Fatalf("message %q", msg)
	}
	if strings.Contains(res.Body, "declined to sign in") {
		t.Fatal("the provider's free text was rendered")
	}
	if app.auditEvents(audit.OAuthLoginFailed, "") != 1 {
		t.Fatal("provider error not audited")
	}
}

func TestIdentitiesLinkAndUnlink(t *testing.T) {
	app, idp := oidcApp(t)
	c, owner, _ := app.owner()
	page := c.Get("/account/identities").AssertStatus(http.StatusOK)
	if page.Count("[data-testid=identity-row]") != 0 || page.Count("[data-testid=link-oidc]") != 1 {
		t.Fatalf("identities page before linking: %s", page.Text("main"))
	}
	// The provider's address need not be the account's: the person signed
	// in to both.
	idp.SetUser(oauthtest.User{Subject: "linked-sub", Email: "someone.else@example.test", EmailVerified: false})
	res := c.PostForm("/account/identities/link/oidc", nil)
	res = c.Get(toCallback(t, c, idp, res)).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/account/identities" {
		t.Fatalf("after linking: %q", res.Location())
	}
	page = c.Follow(res).AssertStatus(http.StatusOK)
	if page.Count("[data-testid=identity-row]") != 1 || !strings.Contains(page.Text("[data-testid=identity-row]"), "someone.else@example.test") {
		t.Fatalf("linked identity not listed: %s", page.Text("[data-testid=identities]"))
	}
	ids := app.identities(owner.ID)
	if len(ids) != 1 {
		t.Fatalf("identities %+v", ids)
	}
	// Signing in with it now works from a fresh browser.
	fresh := app.client()
	fresh.Get(toCallback(t, fresh, idp, fresh.Get("/auth/oauth/oidc"))).AssertStatus(http.StatusSeeOther)
	if signedInAs(fresh) != owner.Name {
		t.Fatal("linked identity does not sign in")
	}
	// Another user cannot link the same identity.
	other, _ := app.member(app.F.Org(app.F.User(""), ""), "staff")
	res = other.Get(toCallback(t, other, idp, other.PostForm("/account/identities/link/oidc", nil))).AssertStatus(http.StatusConflict)
	if !strings.Contains(res.Text("[data-testid=message]"), "already linked to another") {
		t.Fatalf("taken identity: %q", res.Text("[data-testid=message]"))
	}
	// Someone else's identity id is not found; a bad id too.
	otherUser := app.F.User("")
	other2 := app.client()
	app.login(other2, otherUser.Email)
	other2.PostForm("/account/identities/"+ids[0].ID.String()+"/unlink", nil).AssertStatus(http.StatusNotFound)
	other2.PostForm("/account/identities/not-a-uuid/unlink", nil).AssertStatus(http.StatusNotFound)
	// The owner has a password, so the only identity may go.
	c.PostForm("/account/identities/"+ids[0].ID.String()+"/unlink", nil).AssertStatus(http.StatusSeeOther)
	if len(app.identities(owner.ID)) != 0 || app.auditEvents(audit.IdentityUnlinked, owner.Email) != 1 {
		t.Fatal("unlink not done or not audited")
	}
	// A link answer arriving in a browser signed in as someone else is refused.
	res = c.PostForm("/account/identities/link/oidc", nil)
	callback := toCallback(t, c, idp, res)
	c.PostForm("/logout", nil)
	app.login(c, otherUser.Email)
	c.Get(callback).AssertStatus(http.StatusBadRequest)
	if len(app.identities(otherUser.ID)) != 0 || len(app.identities(owner.ID)) != 0 {
		t.Fatal("linked to the wrong account")
	}
}

func TestIdentitiesLastWayInCannotBeUnlinked(t *testing.T) {
	app, idp := oidcApp(t)
	idp.SetUser(oauthtest.User{Subject: "only-way", Email: "only@example.test", EmailVerified: true, Name: "Only Way"})
	c := app.client()
	c.Get(toCallback(t, c, idp, c.Get("/auth/oauth/oidc"))).AssertStatus(http.StatusSeeOther)
	u, _ := app.userByEmail("only@example.test")
	ids := app.identities(u.ID)
	page := c.Get("/account/identities").AssertStatus(http.StatusOK)
	if page.Count("[data-testid=identity-last]") != 1 || page.Count("[data-testid=identity-unlink]") != 0 || page.Count("[data-testid=no-password]") != 1 {
		t.Fatalf("page: %s", page.Text("[data-testid=identities]"))
	}
	res := c.PostForm("/account/identities/"+ids[0].ID.String()+"/unlink", nil).AssertStatus(http.StatusConflict)
	if !strings.Contains(res.Text("[data-testid=form-error]"), "only way you can sign in") {
		t.Fatalf("refusal: %q", res.Text("[data-testid=form-error]"))
	}
	c.HTMX(http.MethodPost, "/account/identities/"+ids[0].ID.String()+"/unlink", nil).AssertStatus(http.StatusConflict)
	if len(app.identities(u.ID)) != 1 {
		t.Fatal("the last sign-in method was removed")
	}
	// After setting a password (reset link), it can go.
	c.PostForm("/forgot-password", url.Values{"email": {u.Email}}).AssertStatus(http.StatusOK)
	m := tokenLink.FindStringSubmatch(app.lastEmail(u.Email).TextBody)
	if m == nil {
		t.Fatal("no reset link")
	}
	c.Get("/reset-password?token=" + m[1])
	c.PostForm("/reset-password", url.Values{"password": {"a-chosen-password"}}).AssertStatus(http.StatusSeeOther)
	c.PostForm("/account/identities/"+ids[0].ID.String()+"/unlink", nil).AssertStatus(http.StatusSeeOther)
	if len(app.identities(u.ID)) != 0 {
		t.Fatal("unlink after setting a password failed")
	}
}

// An OAuth sign-in proves the provider account, not the second factor:
// a user with two-factor authentication is still asked for the code.
func TestOAuthStillAsksForTheSecondFactor(t *testing.T) {
	app, idp := oidcApp(t)
	clock := newTestClock(app)
	c, owner, _ := app.owner()
	secret, _ := enrolMFA(t, app, c, clock) // mfa_test.go
	idp.SetUser(oauthtest.User{Subject: "mfa-user", Email: owner.Email, EmailVerified: true})
	b := app.client()
	res := b.Get(toCallback(t, b, idp, b.Get("/auth/oauth/oidc?next=/account"))).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/login/mfa" || signedInAs(b) != "" {
		t.Fatalf("OAuth sign-in skipped the second factor: %q", res.Location())
	}
	res = b.PostForm("/login/mfa", url.Values{"code": {totpCode(t, secret, clock.Now())}, "remember": {"1"}}).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/account" || signedInAs(b) != owner.Name {
		t.Fatalf("after the code: %q", res.Location())
	}
	// The device is remembered for OAuth sign-ins too.
	b.PostForm("/logout", nil).AssertStatus(http.StatusSeeOther)
	res = b.Get(toCallback(t, b, idp, b.Get("/auth/oauth/oidc?next=/account"))).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/account" || signedInAs(b) != owner.Name {
		t.Fatalf("remembered device asked again after OAuth: %q", res.Location())
	}
}

// A provider that cannot be reached gets a clear 502 page, not a 500.
func TestOAuthUnreachableProvider(t *testing.T) {
	idp := oauthtest.New(t)
	issuer := idp.Issuer()
	idp.Close()
	app := newTestAppWith(t, map[string]string{"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": "x", "OIDC_CLIENT_SECRET": "y", "OIDC_NAME": "Okta"})
	res := app.client().Get("/auth/oauth/oidc").AssertStatus(http.StatusBadGateway)
	if !strings.Contains(res.Text("[data-testid=message]"), "Okta is not reachable") {
		t.Fatalf("message %q", res.Text("[data-testid=message]"))
	}
}
