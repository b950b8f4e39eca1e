package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"accute/internal/audit"
	"accute/internal/store"
	"accute/internal/tenant"
)

func roundTripsFrom(c echo.Context) *atomic.Int64 {
	n, _ := c.Get("roundtrips").(*atomic.Int64)
	return n
}

// requestContext puts the request id, the client address and a SQL
// round-trip counter into the request's context.
func (h *Handlers) requestContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, n := store.WithRoundTripCounter(c.Request().Context())
		c.Set("roundtrips", n)
		ctx = audit.WithRequestInfo(ctx, audit.RequestInfo{
			IP:        c.RealIP(),
			UserAgent: c.Request().UserAgent(),
			RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		})
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// sensitiveParams never reach the logs.
var sensitiveParams = []string{"token", "password", "code"}

// redactedURI is the request URI with secret query values replaced.
func redactedURI(u *url.URL) string {
	if u.RawQuery == "" {
		return u.Path
	}
	q := u.Query()
	for _, k := range sensitiveParams {
		if q.Has(k) {
			q.Set(k, "REDACTED")
		}
	}
	return u.Path + "?" + q.Encode()
}

// accessLog writes one JSON line per request through slog.
func (h *Handlers) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		path := c.Path()
		if path == "" {
			path = "unmatched"
		}
		elapsed := time.Since(start)
		h.metrics.observe(req.Method, path, res.Status, elapsed)
		if strings.HasPrefix(req.URL.Path, "/static/") || req.URL.Path == "/healthz" || req.URL.Path == "/metrics" {
			return nil
		}
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		}
		if !h.Logger.Enabled(req.Context(), level) {
			return nil // (LogAttrs would check too, after building the line's values)
		}
		h.Logger.LogAttrs(req.Context(), level, "request",
			slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
			slog.String("method", req.Method),
			slog.String("uri", redactedURI(req.URL)),
			slog.String("route", path),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Float64("ms", float64(elapsed.Microseconds())/1000),
			slog.String("ip", c.RealIP()),
		)
		return nil
	}
}

// The Content-Security-Policy around its per-request nonce.
const (
	cspBefore = "default-src 'self'; script-src 'self' 'nonce-"
	cspAfter  = "'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	nonceBytes = 18 // 24 characters of base64
)

// securityHeaders sets a strict CSP with a per-request nonce (templ adds it
// to script tags through the context) and the usual hardening headers.
// It runs on every request, so the constant headers are shared, already
// canonical, values (never modified in place; Set and Add replace or copy
// them), and the nonce is a slice of the CSP's one string.
func (h *Handlers) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	static := http.Header{}
	static.Set("X-Content-Type-Options", "nosniff")
	static.Set("X-Frame-Options", "DENY")
	static.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	static.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	static.Set("Cross-Origin-Opener-Policy", "same-origin")
	if h.Config.Production() {
		static.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	return func(c echo.Context) error {
		var raw [nonceBytes]byte
		_, _ = rand.Read(raw[:])
		var csp [len(cspBefore) + nonceBytes/3*4 + len(cspAfter)]byte
		n := copy(csp[:], cspBefore)
		base64.RawStdEncoding.Encode(csp[n:], raw[:])
		copy(csp[n+nonceBytes/3*4:], cspAfter)
		policy := string(csp[:])
		nonce := policy[n : n+nonceBytes/3*4]
		c.SetRequest(c.Request().WithContext(templ.WithNonce(c.Request().Context(), nonce)))
		hdr := c.Response().Header()
		hdr["Content-Security-Policy"] = []string{policy}
		for k, v := range static {
			hdr[k] = v
		}
		return next(c)
	}
}

// requireHTTPS refuses plain HTTP in production. The scheme is taken from
// X-Forwarded-Proto only when the peer is a trusted proxy.
func (h *Handlers) requireHTTPS(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !h.Config.Production() || c.Request().TLS != nil {
			return next(c)
		}
		p := c.Request().URL.Path
		if p == "/healthz" || p == "/readyz" || p == "/metrics" {
			return next(c) // probes and scrapers on the private network
		}
		if h.fromTrustedProxy(c.Request()) && strings.EqualFold(c.Request().Header.Get("X-Forwarded-Proto"), "https") {
			return next(c)
		}
		if c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
			return c.Redirect(http.StatusPermanentRedirect, h.Config.BaseURL+c.Request().URL.RequestURI())
		}
		return echo.NewHTTPError(http.StatusForbidden, "Use HTTPS.")
	}
}

func (h *Handlers) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	for _, n := range h.Config.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// crossOrigin refuses cross-site unsafe requests (forms and htmx posts)
// with Go's CrossOriginProtection, which reads Sec-Fetch-Site and Origin.
func (h *Handlers) crossOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	cop := crossOriginProtection()
	return func(c echo.Context) error {
		if err := cop.Check(c.Request()); err != nil {
			return echo.NewHTTPError(http.StatusForbidden, "This request came from another site and was refused.")
		}
		return next(c)
	}
}

// prefetch asks the session store to open an organization page's request
// transaction together with the session lookup (see store.Prefetch), and
// makes sure that transaction ends with the request.
func (h *Handlers) prefetch(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rest, ok := strings.CutPrefix(c.Request().URL.Path, "/o/")
		if !ok {
			return next(c)
		}
		slug, _, _ := strings.Cut(rest, "/")
		if !tenant.ValidSlug(slug) {
			return next(c)
		}
		pf := &store.Prefetch{Slug: slug}
		ctx := c.Request().Context()
		c.SetRequest(c.Request().WithContext(store.WithPrefetch(ctx, pf)))
		defer func() { pf.Tx.Rollback(ctx) }() // a no-op unless nobody took it
		return next(c)
	}
}

// crossOriginProtection is built once: Echo applies e.Use middleware on
// every request, and building it parses the bypass patterns.
var crossOriginProtection = sync.OnceValue(func() *http.CrossOriginProtection {
	cop := http.NewCrossOriginProtection()
	// SAML's HTTP-POST binding is a form the identity provider's page posts
	// to us cross-site, by design. Those messages are authenticated by the
	// IdP's XML signature (and SP-initiated ones are bound to the browser by
	// the SAML tracking cookie, see handlers/sso.go), not by their origin,
	// so exactly these two endpoints are exempt; nothing else is.
	cop.AddInsecureBypassPattern("POST /sso/saml/{slug}/acs")
	cop.AddInsecureBypassPattern("POST /sso/saml/{slug}/slo")
	return cop
})

// sessions loads and saves the scs session, except on paths that never
// need one (saving a round trip on static files and probes).
func (h *Handlers) sessions(next echo.HandlerFunc) echo.HandlerFunc {
	withSession := echo.WrapMiddleware(h.Sessions.LoadAndSave)(next)
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		// The JSON API authenticates with bearer tokens only: no cookie
		// session (no CSRF surface, no session round trip).
		if strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" || p == "/metrics" {
			return next(c)
		}
		return withSession(c)
	}
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// byRoute caches each (method, route, status)'s counter and histogram:
	// looking them up by label values hashes and checks the labels and
	// formats the status on every request. Routes are the router's
	// patterns, so the set is small and bounded.
	byRoute sync.Map // routeKey -> routeMetrics
}

type routeKey struct {
	method, route string
	status        int
}

type routeMetrics struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// observe counts one request and its duration.
func (m *metrics) observe(method, route string, status int, elapsed time.Duration) {
	k := routeKey{method, route, status}
	v, ok := m.byRoute.Load(k)
	if !ok {
		v, _ = m.byRoute.LoadOrStore(k, routeMetrics{
			requests: m.requests.WithLabelValues(method, route, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(method, route),
		})
	}
	rm := v.(routeMetrics)
	rm.requests.Inc()
	rm.duration.Observe(elapsed.Seconds())
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accute_http_requests_total", Help: "HTTP requests by method, route and status."}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "accute_http_request_duration_seconds", Help: "HTTP request latency by method and route.", Buckets: prometheus.DefBuckets}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}
