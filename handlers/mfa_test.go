package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"accute/internal/audit"
	"accute/internal/auth"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// testClock is a clock tests move forward (TOTP codes are single use per
// 30-second step, so a test that signs in twice needs the next step).
type testClock struct{ ns atomic.Int64 }

func newTestClock(app *testApp) *testClock {
	c := &testClock{}
	c.ns.Store(time.Now().UnixNano())
	app.MFA.Now = c.Now
	return c
}

func (c *testClock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Step moves to the next TOTP time step.
func (c *testClock) Step() { c.ns.Add(int64(30 * time.Second)) }

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrolMFA turns two-factor authentication on for the signed-in client
// through the pages and returns the secret and the backup codes.
func enrolMFA(t *testing.T, app *testApp, c *testutil.Client, clock *testClock) (string, []string) {
	t.Helper()
	res := c.PostForm("/account/security/mfa", nil).AssertStatus(http.StatusSeeOther)
	page := c.Follow(res).AssertStatus(http.StatusOK)
	secret := strings.ReplaceAll(page.Text("[data-testid=mfa-secret]"), " ", "")
	if len(secret) != 32 {
		t.Fatalf("secret %q", secret)
	}
	done := c.PostForm("/account/security/mfa/confirm", url.Values{"code": {totpCode(t, secret, clock.Now())}}).AssertStatus(http.StatusOK)
	var codes []string
	done.Find("[data-testid=backup-codes] code").Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.Text()) })
	if len(codes) != 10 {
		t.Fatalf("want 10 backup codes, got %v", codes)
	}
	clock.Step()
	return secret, codes
}

// auditCount counts audit events of action by actor (platform view).
func auditCount(t *testing.T, app *testApp, action string, actor uuid.UUID) int {
	t.Helper()
	ctx := context.Background()
	tx, err := app.Store.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT set_config('app.platform', 'on', true)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = $1 AND actor_user_id = $2", action, actor).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func loginPassword(c *testutil.Client, email string) *testutil.Response {
	return c.PostForm("/login", url.Values{"email": {email}, "password": {testutil.Password}})
}

func TestMFAEnrolmentAndLogin(t *testing.T) {
	app := newTestApp(t)
	clock := newTestClock(app)
	c, u, org := app.owner()

	page := c.Get("/account/security").AssertStatus(http.StatusOK)
	if got := page.Text("[data-testid=mfa-status]"); got != "Off" {
		t.Fatalf("status %q", got)
	}
	res := c.PostForm("/account/security/mfa", nil).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/account/security/mfa" {
		t.Fatalf("location %q", res.Location())
	}
	setup := c.Follow(res).AssertStatus(http.StatusOK)
	// The QR code is an inline PNG (img-src allows data:).
	src := setup.Attr("[data-testid=mfa-qr]", "src")
	raw, ok := strings.CutPrefix(src, "data:image/png;base64,")
	if !ok {
		t.Fatalf("qr src %.60q", src)
	}
	pngBytes, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(pngBytes)); err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("qr png: %v", err)
	}
	secret := strings.ReplaceAll(setup.Text("[data-testid=mfa-secret]"), " ", "")

	// The secret is stored sealed, not in the clear.
	f, err := app.Store.Q().GetUserMFA(context.Background(), u.ID)
	if err != nil || f.ConfirmedAt != nil || strings.Contains(f.TotpSecret, secret) {
		t.Fatalf("stored secret: %+v %v", f, err)
	}

	// A wrong code: 422, inline, the fragment for HTMX.
	bad := c.HTMX(http.MethodPost, "/account/security/mfa/confirm", url.Values{"code": {"000000"}})
	bad.AssertStatus(http.StatusUnprocessableEntity)
	if bad.Count("[data-testid=form-error]") != 1 || strings.Contains(bad.Body, "<html") {
		t.Fatalf("wrong code answer:\n%s", bad.Body)
	}
	if on, _ := app.MFA.Enabled(context.Background(), u.ID); on {
		t.Fatal("enabled by a wrong code")
	}

	done := c.HTMX(http.MethodPost, "/account/security/mfa/confirm", url.Values{"code": {totpCode(t, secret, clock.Now())}})
	done.AssertStatus(http.StatusOK)
	if n := done.Count("[data-testid=backup-codes] code"); n != 10 {
		t.Fatalf("%d backup codes", n)
	}
	if done.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("backup codes may be cached")
	}
	code0 := done.Find("[data-testid=backup-codes] code").First().Text()
	var stored int
	if err := app.Store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM mfa_backup_codes WHERE user_id = $1 AND position($2::bytea in code_hash) = 0", u.ID, []byte(code0)).Scan(&stored); err != nil || stored != 10 {
		t.Fatalf("backup codes stored: %d %v", stored, err)
	}
	if auditCount(t, app, audit.MFAEnrolled, u.ID) != 1 {
		t.Fatal("enrolment not audited")
	}
	page = c.Get("/account/security").AssertStatus(http.StatusOK)
	if got := page.Text("[data-testid=mfa-status]"); got != "On" {
		t.Fatalf("status after enrolment %q", got)
	}

	// The confirmation code cannot be used to sign in (single use).
	usedCode := totpCode(t, secret, clock.Now())
	b := app.client()
	res = loginPassword(b, u.Email).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/login/mfa" {
		t.Fatalf("after password: %q", res.Location())
	}
	// Not signed in until the second factor passes.
	if r := b.Get("/o/" + org.Slug); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/login") {
		t.Fatalf("pending session reached the organization: %d %s", r.StatusCode, r.Location())
	}
	if r := b.Get("/account/security"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("pending session reached the account: %d", r.StatusCode)
	}
	b.Get("/login/mfa").AssertStatus(http.StatusOK).AssertContains("Enter your code")
	b.PostForm("/login/mfa", url.Values{"code": {usedCode}}).AssertStatus(http.StatusUnprocessableEntity)
	wrong := b.HTMX(http.MethodPost, "/login/mfa", url.Values{"code": {"123456"}})
	wrong.AssertStatus(http.StatusUnprocessableEntity)
	if wrong.Count("[data-testid=form-error]") != 1 || strings.Contains(wrong.Body, "<html") {
		t.Fatalf("wrong code fragment:\n%s", wrong.Body)
	}
	// One wrong code during set-up, two at login.
	if n := auditCount(t, app, audit.MFACodeFailed, u.ID); n != 3 {
		t.Fatalf("failed codes audited: %d, want 3", n)
	}

	clock.Step()
	code := totpCode(t, secret, clock.Now())
	res = b.PostForm("/login/mfa", url.Values{"code": {code}}).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/orgs" {
		t.Fatalf("after code: %q", res.Location())
	}
	b.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)

	// The same code again, from another browser: replay refused.
	r2 := app.client()
	loginPassword(r2, u.Email).AssertStatus(http.StatusSeeOther)
	r2.PostForm("/login/mfa", url.Values{"code": {code}}).AssertStatus(http.StatusUnprocessableEntity)
	if r := r2.Get("/o/" + org.Slug); r.StatusCode != http.StatusSeeOther {
		t.Fatal("replayed code signed in")
	}
}

func TestMFALoginKeepsNextAndExpires(t *testing.T) {
	app := newTestApp(t)
	clock := newTestClock(app)
	c, u, org := app.owner()
	secret, _ := enrolMFA(t, app, c, clock)

	b := app.client()
	b.PostForm("/login", url.Values{"email": {u.Email}, "password": {testutil.Password}, "next": {"/o/" + org.Slug + "/clients"}}).AssertStatus(http.StatusSeeOther)
	res := b.PostForm("/login/mfa", url.Values{"code": {totpCode(t, secret, clock.Now())}}).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/o/"+org.Slug+"/clients" {
		t.Fatalf("next lost: %q", res.Location())
	}
	// Without a pending password, the code page sends back to the login.
	res = app.client().Get("/login/mfa").AssertStatus(http.StatusSeeOther)
	if res.Location() != "/login" {
		t.Fatalf("no pending login: %q", res.Location())
	}
}

func TestMFABackupCodeIsSingleUse(t *testing.T) {
	app := newTestApp(t)
	clock := newTestClock(app)
	c, u, _ := app.owner()
	_, codes := enrolMFA(t, app, c, clock)

	b := app.client()
	loginPassword(b, u.Email).AssertStatus(http.StatusSeeOther)
	// Lower case and without dashes works too.
	typed := strings.ToLower(strings.ReplaceAll(codes[3], "-", ""))
	res := b.PostForm("/login/mfa", url.Values{"code": {typed}}).AssertStatus(http.StatusSeeOther)
	flash := b.Follow(res)
	if res.Location() == "/orgs" {
		flash = b.Follow(flash) // /orgs redirects to the only organization
	}
	if !strings.Contains(flash.Text("[data-testid=flash]"), "9 left") {
		t.Fatalf("flash %q", flash.Text("[data-testid=flash]"))
	}
	if auditCount(t, app, audit.MFABackupCodeUsed, u.ID) != 1 {
		t.Fatal("backup code use not audited")
	}

	again := app.client()
	loginPassword(again, u.Email).AssertStatus(http.StatusSeeOther)
	again.PostForm("/login/mfa", url.Values{"code": {codes[3]}}).AssertStatus(http.StatusUnprocessableEntity)
	if got := c.Get("/account/security").Text("[data-testid=backup-codes-left]"); !strings.HasPrefix(got, "9 of 10") {
		t.Fatalf("codes left %q", got)
	}

	// Regenerating needs a current code, and replaces every old code.
	c.PostForm("/account/security/mfa/backup-codes", url.Values{"code": {"999999"}}).AssertStatus(http.StatusUnprocessableEntity)
	fresh := c.PostForm("/account/security/mfa/backup-codes", url.Values{"code": {codes[0]}}).AssertStatus(http.StatusOK)
	if fresh.Count("[data-testid=backup-codes] code") != 10 {
		t.Fatal("no new codes")
	}
	if auditCount(t, app, audit.MFABackupCodesRenewed, u.ID) != 1 {
		t.Fatal("regeneration not audited")
	}
	old := app.client()
	loginPassword(old, u.Email).AssertStatus(http.StatusSeeOther)
	old.PostForm("/login/mfa", url.Values{"code": {codes[5]}}).AssertStatus(http.StatusUnprocessableEntity)
	newCode := fresh.Find("[data-testid=backup-codes] code").First().Text()
	old.PostForm("/login/mfa", url.Values{"code": {newCode}}).AssertStatus(http.StatusSeeOther)
}

func TestMFARememberedDevice(t *testing.T) {
	app := newTestApp(t)
	clock := newTestClock(app)
	c, u, _ := app.owner()
	secret, codes := enrolMFA(t, app, c, clock)

	b := app.client()
	loginPassword(b, u.Email).AssertStatus(http.StatusSeeOther)
	res := b.PostForm("/login/mfa", url.Values{"code": {totpCode(t, secret, clock.Now())}, "remember": {"1"}}).AssertStatus(http.StatusSeeOther)
	var setCookie string
	for _, h := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, auth.RememberCookie+"=") {
			setCookie = h
		}
	}
	if !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "Path=/;") || !strings.Contains(setCookie, "Max-Age=2592000") {
		t.Fatalf("remember cookie: %q", setCookie)
	}
	token := b.Cookie(auth.RememberCookie)
	if token == "" {
		// The jar only returns cookies for matching paths.
		u2, _ := url.Parse(app.Srv.URL + "/login")
		for _, ck := range b.HTTP.Jar.Cookies(u2) {
			if ck.Name == auth.RememberCookie {
				token = ck.Value
			}
		}
	}
	if token == "" {
		t.Fatal("no remember cookie in the jar")
	}
	b.PostForm("/logout", nil).AssertStatus(http.StatusSeeOther)
	// Same browser: the password is enough for 30 days.
	res = loginPassword(b, u.Email).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/orgs" {
		t.Fatalf("remembered device asked again: %q", res.Location())
	}
	// Another browser is asked.
	if res := loginPassword(app.client(), u.Email); res.Location() != "/login/mfa" {
		t.Fatalf("other browser: %q", res.Location())
	}
	// The token is bound to its user: another user with MFA is still asked.
	c2, u2, _ := app.owner()
	enrolMFA(t, app, c2, clock)
	thief := app.client()
	thief.HTTP.Jar.SetCookies(mustURL(t, app.Srv.URL+"/login"), []*http.Cookie{{Name: auth.RememberCookie, Value: token, Path: "/login"}})
	if res := loginPassword(thief, u2.Email); res.Location() != "/login/mfa" {
		t.Fatalf("token of another user accepted: %q", res.Location())
	}
	// A forged token is ignored.
	forged := app.client()
	forged.HTTP.Jar.SetCookies(mustURL(t, app.Srv.URL+"/login"), []*http.Cookie{{Name: auth.RememberCookie, Value: token[:len(token)-4] + "AAAA", Path: "/login"}})
	if res := loginPassword(forged, u.Email); res.Location() != "/login/mfa" {
		t.Fatalf("forged token accepted: %q", res.Location())
	}

	// Resetting MFA (off, then on again) revokes remembered devices.
	c.PostForm("/account/security/mfa/disable", url.Values{"code": {codes[1]}}).AssertStatus(http.StatusSeeOther)
	enrolMFA(t, app, c, clock)
	b.PostForm("/logout", nil)
	if res := loginPassword(b, u.Email); res.Location() != "/login/mfa" {
		t.Fatalf("remembered device survived an MFA reset: %q", res.Location())
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestMFACodeAttemptsAreThrottled(t *testing.T) {
	app := newTestApp(t)
	clock := newTestClock(app)
	c, u, _ := app.owner()
	secret, _ := enrolMFA(t, app, c, clock)

	b := app.client()
	loginPassword(b, u.Email).AssertStatus(http.StatusSeeOther)
	for i := range auth.DefaultCodeLimit {
		if res := b.PostForm("/login/mfa", url.Values{"code": {"00000" + string(rune('0'+i))}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: %d", i+1, res.StatusCode)
		}
	}
	// Even the right code is refused now, with Retry-After.
	res := b.PostForm("/login/mfa", url.Values{"code": {totpCode(t, secret, clock.Now())}})
	res.AssertStatus(http.StatusTooManyRequests)
	if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	if !strings.Contains(res.Text("[data-testid=form-error]"), "Too many wrong codes") {
		t.Fatalf("message %q", res.Text("[data-testid=form-error]"))
	}
	// The limit is the user's, not the browser's.
	other := app.client()
	loginPassword(other, u.Email).AssertStatus(http.StatusSeeOther)
	other.PostForm("/login/mfa", url.Values{"code": {totpCode(t, secret, clock.Now())}}).AssertStatus(http.StatusTooManyRequests)
	// Disabling MFA is throttled by the same count.
	c.PostForm("/account/security/mfa/disable", url.Values{"code": {totpCode(t, secret, clock.Now())}}).AssertStatus(http.StatusTooManyRequests)
}

func TestMFADisableNeedsACurrentCode(t *testing.T) {
	app := newTestApp(t)
	clock := newTestClock(app)
	c, u, _ := app.owner()
	secret, _ := enrolMFA(t, app, c, clock)

	bad := c.HTMX(http.MethodPost, "/account/security/mfa/disable", url.Values{"code": {"111111"}})
	bad.AssertStatus(http.StatusUnprocessableEntity)
	if bad.Count("[data-testid=error-code]") != 1 || strings.Contains(bad.Body, "<html") {
		t.Fatalf("fragment:\n%s", bad.Body)
	}
	c.PostForm("/account/security/mfa/disable", url.Values{"code": {totpCode(t, secret, clock.Now())}}).AssertStatus(http.StatusSeeOther)
	if on, _ := app.MFA.Enabled(context.Background(), u.ID); on {
		t.Fatal("still on")
	}
	var codes int
	_ = app.Store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM mfa_backup_codes WHERE user_id = $1", u.ID).Scan(&codes)
	if codes != 0 {
		t.Fatalf("%d backup codes left behind", codes)
	}
	if auditCount(t, app, audit.MFADisabled, u.ID) != 1 {
		t.Fatal("not audited")
	}
	if res := loginPassword(app.client(), u.Email); res.Location() != "/orgs" {
		t.Fatalf("password alone should sign in now: %q", res.Location())
	}
}

func TestMFAOrganizationPolicy(t *testing.T) {
	app := newTestApp(t)
	clock := newTestClock(app)
	ownerC, owner, org := app.owner()
	staffC, staff := app.member(org, tenant.RoleStaff)
	base := "/o/" + org.Slug

	// The policy needs the administrator's own MFA first.
	res := ownerC.HTMX(http.MethodPost, base+"/settings/mfa", url.Values{"require_mfa": {"0", "1"}})
	res.AssertStatus(http.StatusUnprocessableEntity)
	if res.Count("[data-testid=error-require_mfa]") != 1 || strings.Contains(res.Body, "<html") {
		t.Fatalf("no inline error:\n%s", res.Body)
	}
	full := ownerC.PostForm(base+"/settings/mfa", url.Values{"require_mfa": {"0", "1"}}).AssertStatus(http.StatusUnprocessableEntity)
	if full.Count("[data-testid=mfa-policy] [data-testid=error-require_mfa]") != 1 || full.Count("[data-testid=custom-roles]") != 1 {
		t.Fatal("the full settings page with the error expected")
	}
	ownerSecret, ownerCodes := enrolMFA(t, app, ownerC, clock)
	settings := ownerC.Get(base + "/settings").AssertStatus(http.StatusOK)
	if settings.Count("[data-testid=require-mfa][checked]") != 0 || !strings.HasPrefix(settings.Text("[data-testid=members-without-mfa]"), "1 member") {
		t.Fatalf("policy card: %q", settings.Text("[data-testid=mfa-policy]"))
	}
	ownerC.PostForm(base+"/settings/mfa", url.Values{"require_mfa": {"0", "1"}}).AssertStatus(http.StatusSeeOther)
	if !ownerC.Get(base + "/settings").Find("[data-testid=require-mfa]").Is("[checked]") {
		t.Fatal("policy not shown as on")
	}
	o, _ := app.Store.Q().GetOrganizationBySlug(context.Background(), org.Slug)
	if !o.RequireMfa {
		t.Fatal("policy not saved")
	}
	if auditCount(t, app, audit.MFAPolicyChanged, owner.ID) != 1 {
		t.Fatal("policy change not audited")
	}

	// A member without MFA is taken to enrolment before any page.
	for _, path := range []string{base, base + "/clients", base + "/clients/new"} {
		res := staffC.Get(path).AssertStatus(http.StatusSeeOther)
		if want := "/account/security?next=" + url.QueryEscape(path); res.Location() != want {
			t.Fatalf("%s -> %q, want %q", path, res.Location(), want)
		}
	}
	if res := staffC.PostForm(base+"/clients", url.Values{"name": {"Sneaky"}}); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/account/security") {
		t.Fatalf("post without MFA: %d %s", res.StatusCode, res.Location())
	}
	var n int
	_ = app.Store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM clients WHERE name = 'Sneaky'").Scan(&n)
	if n != 0 {
		t.Fatal("a member without MFA created a client")
	}
	hx := staffC.HTMX(http.MethodGet, base+"/clients", nil)
	if !strings.HasPrefix(hx.Header.Get("HX-Redirect"), "/account/security") {
		t.Fatalf("HTMX: %d %v", hx.StatusCode, hx.Header)
	}
	sec := staffC.Get("/account/security?next=" + url.QueryEscape(base+"/clients")).AssertStatus(http.StatusOK)
	if !strings.Contains(sec.Text("[data-testid=mfa-required]"), org.Name) {
		t.Fatalf("no explanation: %q", sec.Text("main"))
	}
	// The owner, with MFA, works normally.
	ownerC.Get(base + "/clients").AssertStatus(http.StatusOK)

	// Enrolment through the redirect continues where the member was going.
	res = staffC.PostForm("/account/security/mfa", url.Values{"next": {base + "/clients"}}).AssertStatus(http.StatusSeeOther)
	setup := staffC.Follow(res).AssertStatus(http.StatusOK)
	secret := strings.ReplaceAll(setup.Text("[data-testid=mfa-secret]"), " ", "")
	done := staffC.PostForm("/account/security/mfa/confirm", url.Values{"code": {totpCode(t, secret, clock.Now())}, "next": {base + "/clients"}}).AssertStatus(http.StatusOK)
	if href := done.Attr("[data-testid=backup-codes-done]", "href"); href != base+"/clients" {
		t.Fatalf("continue link %q", href)
	}
	staffC.Get(base + "/clients").AssertStatus(http.StatusOK)

	// The last factor cannot be removed while the policy holds.
	page := ownerC.Get("/account/security").AssertStatus(http.StatusOK)
	if page.Count("[data-testid=disable-form]") != 0 || !strings.Contains(page.Text("[data-testid=disable-blocked]"), org.Name) {
		t.Fatal("disable offered while the organization requires MFA")
	}
	ownerC.PostForm("/account/security/mfa/disable", url.Values{"code": {ownerCodes[0]}}).AssertStatus(http.StatusConflict)
	if on, _ := app.MFA.Enabled(context.Background(), owner.ID); !on {
		t.Fatal("last factor removed despite the policy")
	}
	_ = staff
	_ = ownerSecret

	// Policy off again: disabling works.
	clock.Step()
	ownerC.PostForm(base+"/settings/mfa", url.Values{"require_mfa": {"0"}}).AssertStatus(http.StatusSeeOther)
	ownerC.PostForm("/account/security/mfa/disable", url.Values{"code": {ownerCodes[0]}}).AssertStatus(http.StatusSeeOther)
}
