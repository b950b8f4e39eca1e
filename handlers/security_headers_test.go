package handlers

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"accute/internal/config"
)

// The security headers, exactly, with a fresh nonce per request that the
// templates get through the context; HSTS in production only.
func TestSecurityHeadersExact(t *testing.T) {
	for _, env := range []string{config.EnvProduction, "development"} {
		h := &Handlers{Deps: Deps{Config: &config.Config{Env: env}}}
		e := echo.New()
		var nonces []string
		mw := h.securityHeaders(func(c echo.Context) error {
			nonces = append(nonces, templ.GetNonce(c.Request().Context()))
			c.Response().Header().Add("X-Frame-Options", "changed by a handler") // must not leak into the next answer
			return nil
		})
		var last http.Header
		for range 2 {
			rec := httptest.NewRecorder()
			if err := mw(e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)); err != nil {
				t.Fatal(err)
			}
			last = rec.Header()
		}
		if len(nonces) != 2 || nonces[0] == nonces[1] || !regexp.MustCompile(`^[A-Za-z0-9+/]{24}$`).MatchString(nonces[1]) {
			t.Fatalf("nonces %q", nonces)
		}
		want := map[string][]string{
			"Content-Security-Policy": {"default-src 'self'; script-src 'self' 'nonce-" + nonces[1] + "'; style-src 'self'; img-src 'self' data:; " +
				"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"},
			"X-Content-Type-Options":     {"nosniff"},
			"X-Frame-Options":            {"DENY", "changed by a handler"},
			"Referrer-Policy":            {"strict-origin-when-cross-origin"},
			"Permissions-Policy":         {"camera=(), microphone=(), geolocation=(), payment=()"},
			"Cross-Origin-Opener-Policy": {"same-origin"},
		}
		if env == config.EnvProduction {
			want["Strict-Transport-Security"] = []string{"max-age=63072000; includeSubDomains"}
		}
		if len(last) != len(want) {
			t.Errorf("%s: headers %v", env, last)
		}
		for k, v := range want {
			if got := last.Values(k); len(got) != len(v) || got[0] != v[0] || got[len(got)-1] != v[len(v)-1] {
				t.Errorf("%s: %s = %q, want %q", env, k, got, v)
			}
		}
	}
}
