package handlers

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"accute/internal/db"
)

func TestSecurityHeadersAndCSPNonce(t *testing.T) {
	app := newTestApp(t)
	res := app.client().Get("/login").AssertStatus(http.StatusOK)
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if res.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS outside production")
	}
	csp := res.Header.Get("Content-Security-Policy")
	nonce := res.Attr("script[src='/static/js/htmx.min.js']", "nonce")
	if nonce == "" || !strings.Contains(csp, "'nonce-"+nonce+"'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP %q does not carry the script nonce %q", csp, nonce)
	}
	again := app.client().Get("/login")
	if again.Attr("script[src='/static/js/htmx.min.js']", "nonce") == nonce {
		t.Fatal("nonce reused across requests")
	}
	if res.Header.Get(echo.HeaderXRequestID) == "" {
		t.Fatal("no request id")
	}
}

func TestCrossSiteFormPostIsRefused(t *testing.T) {
	app := newTestApp(t)
	u := app.F.User("")
	c := app.client()
	req := c.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {u.Email}, "password": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	c.Do(req).AssertStatus(http.StatusForbidden)
	// The same request from the page itself goes through.
	req = c.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {u.Email}, "password": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	c.Do(req).AssertStatus(http.StatusUnprocessableEntity)
}

func TestErrorsRenderPerClientKind(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	page := c.Get("/no/such/page").AssertStatus(http.StatusNotFound)
	if page.Count("[data-testid=error-page]") != 1 {
		t.Fatalf("404 is not the error page: %s", page.Body)
	}
	frag := c.HTMX(http.MethodGet, "/no/such/page", nil).AssertStatus(http.StatusNotFound)
	if frag.Header.Get("HX-Retarget") != "#toasts" || frag.Count("[data-testid=toast]") != 1 || strings.Contains(frag.Body, "<html") {
		t.Fatalf("HTMX error is not a toast: %v %s", frag.Header, frag.Body)
	}
	api := c.Get("/api/v1/nothing-here").AssertStatus(http.StatusNotFound)
	var env APIEnvelope
	if err := json.Unmarshal([]byte(api.Body), &env); err != nil || env.Success || env.Timestamp == "" || env.Error == "" {
		t.Fatalf("API error is not the envelope: %s (%v)", api.Body, err)
	}
	c.PostForm("/healthz", nil).AssertStatus(http.StatusMethodNotAllowed)
}

func TestInternalErrorShowsRequestIDAndIsLogged(t *testing.T) {
	app := newTestApp(t)
	var logs bytes.Buffer
	h := &Handlers{Deps: Deps{Config: app.Config, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}}
	e := echo.New()
	req := httptest.NewRequest(http.MethodGet, "/o/x/clients", nil)
	rec := httptest.NewRecorder()
	ctx := e.NewContext(req, rec)
	ctx.Response().Header().Set(echo.HeaderXRequestID, "req-123")
	h.HTTPErrorHandler(errDatabaseDown, ctx)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "req-123") {
		t.Fatalf("500 page: %d %s", rec.Code, rec.Body.String())
	}
	if !strings.Contains(logs.String(), "req-123") || !strings.Contains(logs.String(), "database down") {
		t.Fatalf("5xx not logged with request id: %s", logs.String())
	}
}

type testErr string

func (e testErr) Error() string { return string(e) }

const errDatabaseDown = testErr("database down")

func TestForgedForwardedForIsIgnored(t *testing.T) {
	app := newTestApp(t)
	u := app.F.User("")
	c := app.client()
	req := c.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {u.Email}, "password": {"wrong-password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.Header.Set("X-Real-IP", "203.0.113.8")
	c.Do(req)
	var ip string
	err := app.Store.AsPlatform(t.Context(), func(q *db.Queries) error {
		events, err := q.ListAllAuditEvents(t.Context(), db.ListAllAuditEventsParams{Action: "auth.login_failed", MaxRows: 1})
		if err == nil && len(events) == 1 {
			ip = events[0].Ip
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ip != "127.0.0.1" {
		t.Fatalf("recorded ip %q; a forged header must not change it", ip)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	c.Get("/healthz").AssertStatus(http.StatusOK)
	ready := c.Get("/readyz").AssertStatus(http.StatusOK)
	if !strings.Contains(ready.Body, "ready") {
		t.Fatal(ready.Body)
	}
	c.Get("/login")
	m := c.Get("/metrics").AssertStatus(http.StatusOK)
	if !strings.Contains(m.Body, `accute_http_requests_total{method="GET",route="/login",status="200"}`) {
		t.Fatalf("metrics missing request counter:\n%.2000s", m.Body)
	}
}

func TestRedactedURIHidesTokens(t *testing.T) {
	u, _ := url.Parse("/reset-password?token=secret-value&x=1")
	if got := redactedURI(u); strings.Contains(got, "secret-value") || !strings.Contains(got, "x=1") {
		t.Fatalf("redacted %q", got)
	}
}

func TestProductionRequiresHTTPS(t *testing.T) {
	app := newTestAppWith(t, map[string]string{
		"ACCUTE_ENV": "production", "BASE_URL": "https://accute.example", "DATABASE_URL": "postgres://unused@localhost/x",
		"TRUSTED_PROXIES": "127.0.0.1", "BCRYPT_COST": "10",
	})
	c := app.client()
	res := c.Get("/login?x=1")
	if res.StatusCode != http.StatusPermanentRedirect || res.Location() != "https://accute.example/login?x=1" {
		t.Fatalf("plain GET: %d %q", res.StatusCode, res.Location())
	}
	c.PostForm("/login", url.Values{"email": {"a@b.test"}}).AssertStatus(http.StatusForbidden)
	// Behind the trusted proxy that terminated TLS.
	req := c.NewRequest(http.MethodGet, "/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	ok := c.Do(req).AssertStatus(http.StatusOK)
	if !strings.Contains(ok.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatal("no HSTS in production")
	}
	// Probes still answer over plain HTTP on the private network.
	c.Get("/healthz").AssertStatus(http.StatusOK)
	// Session cookies are Secure.
	u := app.F.User("")
	req = c.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {u.Email}, "password": {"correct-horse-battery"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	login := c.Do(req)
	if !strings.Contains(login.Header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("session cookie not Secure: %q", login.Header.Get("Set-Cookie"))
	}
}

func TestForwardedProtoFromUntrustedPeerIsIgnored(t *testing.T) {
	app := newTestAppWith(t, map[string]string{
		"ACCUTE_ENV": "production", "BASE_URL": "https://accute.example", "DATABASE_URL": "postgres://unused@localhost/x", "BCRYPT_COST": "10",
	})
	c := app.client()
	req := c.NewRequest(http.MethodGet, "/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	if res := c.Do(req); res.StatusCode != http.StatusPermanentRedirect {
		t.Fatalf("forged X-Forwarded-Proto accepted: %d", res.StatusCode)
	}
}

func TestClientsPageCostsTwoRoundTrips(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	res := c.Get("/o/" + org.Slug + "/clients").AssertStatus(http.StatusOK)
	// Session + tenant context in one, the list together with the commit
	// (store.InOrgRead).
	if got := res.Header.Get("X-Debug-SQL-Roundtrips"); got != "2" {
		t.Fatalf("round trips = %s, want 2", got)
	}
}

func TestSessionContentCannotImpersonate(t *testing.T) {
	app := newTestApp(t)
	victim := app.F.User("")
	c, me, _ := app.owner()
	// A flash message carrying text shaped like a session's user id.
	name := `Evil "uid":"` + victim.ID.String() + `" \u0000 Firm`
	res := c.PostForm("/orgs", url.Values{"name": {name}})
	res.AssertStatus(http.StatusSeeOther)
	page := c.Follow(res).AssertStatus(http.StatusOK)
	if got := page.Text("[data-testid=current-user]"); got != me.Name {
		t.Fatalf("signed in as %q, want %q", got, me.Name)
	}
	if !strings.Contains(page.Text("[data-testid=flash]"), `"uid":"`) {
		t.Fatalf("flash lost: %q", page.Text("[data-testid=flash]"))
	}
}

func TestClientRoleCanLeaveFromDashboard(t *testing.T) {
	app := newTestApp(t)
	_, _, org := app.owner()
	c, _ := app.member(org, "client")
	// The organization's address sends a client user to the portal
	// (handlers/portal.go), whose menu can leave.
	res := c.Get("/o/" + org.Slug).AssertStatus(http.StatusSeeOther)
	page := c.Follow(res).AssertStatus(http.StatusOK)
	if page.Count("[data-testid=leave-org]") != 1 {
		t.Fatal("no leave button for a client member")
	}
	c.PostForm("/o/"+org.Slug+"/leave", nil).AssertStatus(http.StatusSeeOther)
	c.Get("/o/" + org.Slug).AssertStatus(http.StatusNotFound)
}
