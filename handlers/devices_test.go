package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/auth"
	"accute/internal/db"
	"accute/internal/testutil"
)

// loginWithAgent signs a new client in as email with a browser's User-Agent.
func (a *testApp) loginWithAgent(email, ua string) *testutil.Client {
	a.t.Helper()
	c := a.client()
	c.HTTP.Transport = uaTransport{ua: ua}
	a.login(c, email)
	return c
}

type uaTransport struct{ ua string }

func (t uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", t.ua)
	return http.DefaultTransport.RoundTrip(r)
}

const (
	uaChromeLinux  = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaSafariIPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaFirefoxWin   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)

func TestSessionsPageListsAndRevokes(t *testing.T) {
	app := newTestApp(t)
	u := app.F.User("")
	org := app.F.Org(u, "")
	laptop := app.loginWithAgent(u.Email, uaChromeLinux)
	phone := app.loginWithAgent(u.Email, uaSafariIPhone)
	// Someone else's session never shows.
	other := app.F.User("")
	app.loginWithAgent(other.Email, uaFirefoxWin)

	page := laptop.Get("/account/sessions").AssertStatus(http.StatusOK)
	if n := page.Count("[data-testid=session-row]"); n != 2 {
		t.Fatalf("%d sessions listed, want 2\n%s", n, page.Text("[data-testid=sessions]"))
	}
	first := page.Find("[data-testid=session-row]").First()
	if got := strings.TrimSpace(first.Find("[data-testid=session-device]").Text()); got != "Chrome on Linux" || first.Find("[data-testid=this-device]").Length() != 1 {
		t.Fatalf("current session first: %q", got)
	}
	second := page.Find("[data-testid=session-row]").Eq(1)
	if got := strings.TrimSpace(second.Find("[data-testid=session-device]").Text()); got != "Safari on iPhone" {
		t.Fatalf("other session: %q", got)
	}
	if ip := strings.TrimSpace(second.Find("[data-testid=session-ip]").Text()); ip != "127.0.0.1" {
		t.Fatalf("ip %q", ip)
	}
	if page.Count("[data-testid=this-device]") != 1 || page.Count("[data-testid=revoke-session]") != 1 {
		t.Fatal("exactly the other session has a sign-out button")
	}
	// The page never shows session tokens.
	if strings.Contains(page.Body, laptop.Cookie("accute_session")) || strings.Contains(page.Body, phone.Cookie("accute_session")) {
		t.Fatal("a session token is in the page")
	}
	revoke, _ := second.Find("form").Attr("action")

	// Bad ids: 404, not 500; someone else's session: 404.
	laptop.PostForm("/account/sessions/not-a-uuid/revoke", nil).AssertStatus(http.StatusNotFound)
	laptop.PostForm("/account/sessions/"+uuid.NewString()+"/revoke", nil).AssertStatus(http.StatusNotFound)
	var otherID, currentID uuid.UUID
	_ = app.Store.Pool.QueryRow(context.Background(), "SELECT id FROM sessions WHERE user_id = $1", other.ID).Scan(&otherID)
	laptop.PostForm("/account/sessions/"+otherID.String()+"/revoke", nil).AssertStatus(http.StatusNotFound)
	_ = app.Store.Pool.QueryRow(context.Background(), "SELECT id FROM sessions WHERE token = $1", laptop.Cookie("accute_session")).Scan(&currentID)
	laptop.PostForm("/account/sessions/"+currentID.String()+"/revoke", nil).AssertStatus(http.StatusNotFound)

	phone.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)
	res := laptop.PostForm(revoke, nil).AssertStatus(http.StatusSeeOther)
	if res.Location() != "/account/sessions" {
		t.Fatalf("location %q", res.Location())
	}
	if auditCount(t, app, audit.SessionRevoked, u.ID) != 1 {
		t.Fatal("revoke not audited")
	}
	// The revoked browser is signed out on its next request.
	if r := phone.Get("/o/" + org.Slug); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/login") {
		t.Fatalf("revoked session still works: %d %s", r.StatusCode, r.Location())
	}
	if r := phone.Get("/account"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoked session reached /account: %d", r.StatusCode)
	}
	page = laptop.Get("/account/sessions").AssertStatus(http.StatusOK)
	if page.Count("[data-testid=session-row]") != 1 || page.Count("[data-testid=no-other-sessions]") != 1 {
		t.Fatal("revoked session still listed")
	}
	laptop.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)
}

func TestSignOutEverywhereElse(t *testing.T) {
	app := newTestApp(t)
	u := app.F.User("")
	org := app.F.Org(u, "")
	me := app.loginWithAgent(u.Email, uaFirefoxWin)
	others := []*testutil.Client{app.loginWithAgent(u.Email, uaChromeLinux), app.loginWithAgent(u.Email, uaSafariIPhone)}
	bystander := app.F.User("")
	b := app.loginWithAgent(bystander.Email, uaChromeLinux)

	page := me.Get("/account/sessions").AssertStatus(http.StatusOK)
	if page.Count("[data-testid=session-row]") != 3 || page.Count("[data-testid=revoke-others]") != 1 {
		t.Fatalf("sessions page:\n%s", page.Text("main"))
	}
	res := me.PostForm("/account/sessions/revoke-others", nil).AssertStatus(http.StatusSeeOther)
	flash := me.Follow(res).AssertStatus(http.StatusOK)
	if !strings.Contains(flash.Text("[data-testid=flash]"), "2 other sessions") {
		t.Fatalf("flash %q", flash.Text("[data-testid=flash]"))
	}
	for i, c := range others {
		if r := c.Get("/o/" + org.Slug); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/login") {
			t.Fatalf("other session %d still works: %d", i, r.StatusCode)
		}
	}
	me.Get("/o/" + org.Slug).AssertStatus(http.StatusOK)
	b.Get("/orgs?all=1").AssertStatus(http.StatusOK) // another user's session is untouched
	if auditCount(t, app, audit.SessionsRevokedOthers, u.ID) != 1 {
		t.Fatal("not audited")
	}
}

func TestSessionRowsFollowTheSession(t *testing.T) {
	app := newTestApp(t)
	u := app.F.User("")
	org := app.F.Org(u, "")
	c := app.loginWithAgent(u.Email, uaChromeLinux)
	token := c.Cookie("accute_session")
	ctx := context.Background()
	var uid *uuid.UUID
	var ua, ip string
	if err := app.Store.Pool.QueryRow(ctx, "SELECT user_id, user_agent, ip FROM sessions WHERE token = $1", token).Scan(&uid, &ua, &ip); err != nil {
		t.Fatal(err)
	}
	if uid == nil || *uid != u.ID || ua != uaChromeLinux || ip != "127.0.0.1" {
		t.Fatalf("session row: %v %q %q", uid, ua, ip)
	}

	// Last seen is refreshed at most every few minutes, in the write of the
	// session itself: a page costs its usual round trips, plus one write when
	// the entry is stale.
	if _, err := app.Store.Pool.Exec(ctx, `UPDATE sessions SET last_seen_at = now() - interval '1 hour',
		data = convert_to(regexp_replace(convert_from(data, 'UTF8'), '"seen":"[0-9]+"', '"seen":"1"'), 'UTF8') WHERE token = $1`, token); err != nil {
		t.Fatal(err)
	}
	res := c.Get("/o/" + org.Slug + "/clients").AssertStatus(http.StatusOK)
	if got := res.Header.Get("X-Debug-SQL-Roundtrips"); got != "2" && got != "3" {
		t.Fatalf("round trips with a stale entry: %s", got)
	}
	var stale bool
	_ = app.Store.Pool.QueryRow(ctx, "SELECT last_seen_at < now() - interval '1 minute' FROM sessions WHERE token = $1", token).Scan(&stale)
	if stale {
		t.Fatal("last seen not refreshed")
	}
	res = c.Get("/o/" + org.Slug + "/clients").AssertStatus(http.StatusOK)
	if got := res.Header.Get("X-Debug-SQL-Roundtrips"); got != "2" {
		t.Fatalf("round trips with a fresh entry: %s, want 2", got)
	}

	// Logout removes the row with the session.
	c.PostForm("/logout", nil).AssertStatus(http.StatusSeeOther)
	var n int
	_ = app.Store.Pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE user_id = $1", u.ID).Scan(&n)
	if n != 0 {
		t.Fatalf("%d session rows after logout", n)
	}

	// A password reset ends the other sessions: they leave the list.
	a := app.loginWithAgent(u.Email, uaChromeLinux)
	b := app.loginWithAgent(u.Email, uaSafariIPhone)
	if _, err := app.Store.Q().SetUserPassword(ctx, db.SetUserPasswordParams{ID: u.ID, PasswordHash: u.PasswordHash}); err != nil {
		t.Fatal(err)
	}
	_, _ = a, b
	devices, err := app.Store.Q().ListUserSessions(ctx, db.ListUserSessionsParams{UserID: &u.ID})
	if err != nil || len(devices) != 0 {
		t.Fatalf("sessions of an older version listed: %v %v", devices, err)
	}
}

func TestDescribeUserAgent(t *testing.T) {
	for ua, want := range map[string]string{
		uaChromeLinux:  "Chrome on Linux",
		uaSafariIPhone: "Safari on iPhone",
		uaFirefoxWin:   "Firefox on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": "Edge on macOS",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":                  "Safari on macOS",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36":               "Chrome on Android",
		"curl/8.5.0": "curl",
		"":           "Unknown device",
	} {
		if got := auth.DescribeUserAgent(ua); got != want {
			t.Errorf("%q -> %q, want %q", ua, got, want)
		}
	}
}
