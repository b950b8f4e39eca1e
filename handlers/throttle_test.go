package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"accute/internal/auth"
	"accute/internal/testutil"
)

func loginFrom(c *testutil.Client, email, password, forwardedFor string) *testutil.Response {
	req := c.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	return c.Do(req)
}

func assertThrottled(t *testing.T, res *testutil.Response) {
	t.Helper()
	res.AssertStatus(http.StatusTooManyRequests)
	ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 15*60 {
		t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	if !strings.Contains(res.Text("[data-testid=form-error]"), "Too many failed sign-in attempts") {
		t.Fatalf("message %q", res.Text("[data-testid=form-error]"))
	}
}

func TestLoginThrottlePerAccount(t *testing.T) {
	app := newTestApp(t)
	victim := app.F.User("")
	bystander := app.F.User("")
	c := app.client()
	for i := range auth.DefaultAccountLimit {
		if res := loginFrom(c, victim.Email, "wrong-password", ""); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: %d", i+1, res.StatusCode)
		}
	}
	// The sixth attempt is refused, even with the right password.
	assertThrottled(t, loginFrom(c, victim.Email, testutil.Password, ""))
	// Another case of the same address is the same account.
	assertThrottled(t, loginFrom(app.client(), strings.ToUpper(victim.Email), testutil.Password, ""))
	// HTMX gets the form fragment, still 429.
	hx := app.client().HTMX(http.MethodPost, "/login", url.Values{"email": {victim.Email}, "password": {testutil.Password}})
	hx.AssertStatus(http.StatusTooManyRequests)
	if strings.Contains(hx.Body, "<html") || hx.Count("[data-testid=login-form] [data-testid=form-error]") != 1 || hx.Header.Get("Retry-After") == "" {
		t.Fatalf("HTMX answer:\n%s", hx.Body)
	}
	// Another account from the same address is unaffected.
	loginFrom(c, bystander.Email, "wrong-password", "").AssertStatus(http.StatusUnprocessableEntity)
	loginFrom(c, bystander.Email, testutil.Password, "").AssertStatus(http.StatusSeeOther)
	// Unknown addresses are throttled the same way (no account enumeration).
	for range auth.DefaultAccountLimit {
		loginFrom(app.client(), "ghost@example.test", "x-wrong-password", "").AssertStatus(http.StatusUnprocessableEntity)
	}
	assertThrottled(t, loginFrom(app.client(), "ghost@example.test", "x-wrong-password", ""))
	// The table holds no e-mail addresses.
	var n int
	_ = app.Store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM rate_limits WHERE key LIKE '%@%'").Scan(&n)
	if n != 0 {
		t.Fatalf("%d rate-limit keys contain an address", n)
	}
}

func TestLoginThrottleSuccessDoesNotCount(t *testing.T) {
	app := newTestApp(t)
	u := app.F.User("")
	// Four failures, then many successes: the successes do not use the limit.
	for range auth.DefaultAccountLimit - 1 {
		loginFrom(app.client(), u.Email, "wrong-password", "").AssertStatus(http.StatusUnprocessableEntity)
	}
	for range 3 {
		loginFrom(app.client(), u.Email, testutil.Password, "").AssertStatus(http.StatusSeeOther)
	}
	loginFrom(app.client(), u.Email, "wrong-password", "").AssertStatus(http.StatusUnprocessableEntity)
	assertThrottled(t, loginFrom(app.client(), u.Email, testutil.Password, ""))
}

func TestLoginThrottlePerAddress(t *testing.T) {
	// Behind a trusted proxy, so that the test can speak from several addresses.
	app := newTestAppWith(t, map[string]string{"LOGIN_IP_LIMIT": "5", "TRUSTED_PROXIES": "127.0.0.1"})
	users := make([]string, 7)
	for i := range users {
		users[i] = app.F.User("").Email
	}
	sprayer := "203.0.113.7"
	for i := range 5 { // one wrong password for each of five accounts
		loginFrom(app.client(), users[i], "wrong-password", sprayer).AssertStatus(http.StatusUnprocessableEntity)
	}
	// The address is spent, even for an untouched account and the right password.
	assertThrottled(t, loginFrom(app.client(), users[5], testutil.Password, sprayer))
	// Another address is unaffected, for the same account too.
	loginFrom(app.client(), users[5], testutil.Password, "198.51.100.9").AssertStatus(http.StatusSeeOther)
	loginFrom(app.client(), users[0], testutil.Password, "198.51.100.9").AssertStatus(http.StatusSeeOther)
}

func TestLoginThrottleIgnoresForgedForwardedFor(t *testing.T) {
	app := newTestApp(t) // no TRUSTED_PROXIES: the client address is the TCP peer
	u := app.F.User("")
	for i := range auth.DefaultAccountLimit {
		res := loginFrom(app.client(), u.Email, "wrong-password", "10.0.0."+strconv.Itoa(i+1))
		res.AssertStatus(http.StatusUnprocessableEntity)
	}
	assertThrottled(t, loginFrom(app.client(), u.Email, testutil.Password, "192.0.2.200"))
	// The per-address count went to the real peer, not to the forged ones.
	var keys []string
	rows, err := app.Store.Pool.Query(context.Background(), "SELECT key FROM rate_limits WHERE key LIKE 'login:ip:%' ORDER BY key")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		keys = append(keys, k)
	}
	rows.Close()
	if len(keys) != 1 || keys[0] != "login:ip:127.0.0.1" {
		t.Fatalf("address keys %v", keys)
	}
}
