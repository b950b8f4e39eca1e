package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"accute/internal/agents"
	"accute/internal/auth"
	"accute/internal/auth/oauth"
	"accute/internal/clients"
	"accute/internal/config"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/portal"
	"accute/internal/queue"
	"accute/internal/ratelimit"
	"accute/internal/realtime"
	"accute/internal/requests"
	"accute/internal/scim"
	"accute/internal/sso"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// testApp is the real application, with its real router and middleware,
// on a fresh database, behind an httptest server.
type testApp struct {
	t      testing.TB
	Store  *store.Store
	Srv    *httptest.Server
	Echo   *echo.Echo
	Config *config.Config
	F      testutil.Factory
	MFA    *auth.MFA // its Now can be moved by tests
	SSO    *sso.Service
	OAuth  *oauth.Service
	// Docs is the document library; Jobs the job queue, insert-only (tests
	// work jobs with workJobs, see documents_test.go).
	Docs *documents.Service
	Jobs *queue.Queue
	// Reqs is document requests (its Clock can be moved by tests).
	Reqs *requests.Service
	// AI resolves AI providers; tests may shorten its TestTimeout.
	AI *agents.Providers
	// Hub is the SSE hub; Listener its LISTEN connection (wait for
	// Listener.Ready() before relying on notifications).
	Hub      *realtime.Hub
	Listener *realtime.Listener
}

func testConfig(t testing.TB, baseURL string, overrides map[string]string) *config.Config {
	env := map[string]string{
		"ACCUTE_ENV":      "test",
		"BASE_URL":        baseURL,
		"SESSION_SECRET":  "test-session-secret-0123456789abcdef",
		"JWT_SECRET":      "test-jwt-secret-0123456789abcdef0123",
		"ENCRYPTION_KEY":  "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"BCRYPT_COST":     "4",
		"ACCUTE_DATA_DIR": t.TempDir(),
	}
	for k, v := range overrides {
		env[k] = v
	}
	cfg, err := config.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newTestApp(t testing.TB) *testApp { t.Helper(); return newTestAppWith(t, nil) }

// newTestAppWith is newTestApp with configuration overrides.
func newTestAppWith(t testing.TB, overrides map[string]string) *testApp {
	t.Helper()
	st, _ := testutil.NewStore(t)
	return newTestAppOn(t, st, overrides)
}

// newTestAppOn is the application on an existing store: a second instance
// over the same database, for the cross-instance tests.
func newTestAppOn(t testing.TB, st *store.Store, overrides map[string]string) *testApp {
	t.Helper()
	var handler http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := testConfig(t, srv.URL, overrides)
	orgs := &tenant.Service{Store: st, BaseURL: cfg.BaseURL}
	authSvc, err := auth.NewService(st, orgs, cfg.BaseURL, cfg.BcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	authSvc.IPLimit = cfg.LoginIPLimit
	keys, err := crypto.NewKeyRing(cfg.EncryptionKey, cfg.EncryptionKeysOld...)
	if err != nil {
		t.Fatal(err)
	}
	mfa := auth.NewMFA(st, keys, cfg.SessionSecret)
	apiLimiter := ratelimit.NewBatched(st.Pool, cfg.APIRateLimit, time.Minute, 50*time.Millisecond, nil)
	limiterCtx, stopLimiter := context.WithCancel(context.Background())
	go apiLimiter.Run(limiterCtx)
	t.Cleanup(stopLimiter)
	ssoSvc := sso.New(st, keys, cfg.BaseURL, cfg.BcryptCost, true, slog.New(slog.NewTextHandler(testLogOutput(), nil)))
	oauthSvc := oauth.New(st, cfg.BaseURL, cfg.BcryptCost, oauth.SpecsFromConfig(cfg.OAuth)...)
	oauthSvc.SSO = ssoSvc
	jobs, docs := testJobs(t, cfg, st, keys)
	reqs := &requests.Service{Store: st, Docs: docs, Jobs: jobs, BaseURL: cfg.BaseURL, Logger: slog.New(slog.NewTextHandler(testLogOutput(), nil))}
	ai := agents.NewProviders(st, keys, cfg.AI)
	// Agent runs' events, streamed over SSE (agent_helpers_test.go).
	hub, listener := testRealtime(t, st, ai)
	e := New(Deps{
		Config:   cfg,
		Store:    st,
		Sessions: auth.NewSessions(st.Pool, cfg.Production()),
		Auth:     authSvc,
		Orgs:     orgs,
		Clients:  &clients.Service{Store: st},
		Logger:   slog.New(slog.NewTextHandler(testLogOutput(), &slog.HandlerOptions{Level: testLogLevel(cfg)})),
		Registry: prometheus.NewRegistry(),
		Keys:     keys,
		MFA:      mfa,
		Limiter:  ratelimit.New(st.Pool),
		SSO:      ssoSvc,
		// The JSON API (handlers/api).
		APITokens:  auth.NewAPITokens(st, cfg.JWTSecret),
		APILimiter: apiLimiter,
		// OAuth/OIDC sign-in and SCIM provisioning.
		OAuth: oauthSvc,
		SCIM:  &scim.Service{Store: st, BaseURL: cfg.BaseURL, Cost: cfg.BcryptCost},
		// Documents and the job queue.
		Documents: docs,
		Jobs:      jobs,
		Requests:  reqs,
		// The client portal.
		Portal: &portal.Service{Store: st, Docs: docs, Orgs: orgs, BaseURL: cfg.BaseURL},
		// Each organization's AI provider (platform default: offline).
		AI: ai,
		// The SSE hub.
		Hub: hub,
	})
	handler = e
	return &testApp{t: t, Store: st, Srv: srv, Echo: e, Config: cfg, F: testutil.Factory{T: t, Store: st}, MFA: mfa, SSO: ssoSvc, OAuth: oauthSvc, Docs: docs, Jobs: jobs, AI: ai, Reqs: reqs,
		Hub: hub, Listener: listener}
}

// client returns a browser-like client with its own cookie jar.
func (a *testApp) client() *testutil.Client { return testutil.NewClient(a.t, a.Srv.URL) }

// login signs c in as email (with testutil.Password) and checks it worked.
func (a *testApp) login(c *testutil.Client, email string) {
	a.t.Helper()
	res := c.PostForm("/login", url.Values{"email": {email}, "password": {testutil.Password}})
	if res.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("login %s: status %d, want 303\n%s", email, res.StatusCode, res.Body)
	}
}

// member creates a user with role in org and returns a signed-in client.
func (a *testApp) member(org db.Organization, role string) (*testutil.Client, db.User) {
	a.t.Helper()
	u := a.F.User("")
	a.F.Member(org, u, role)
	c := a.client()
	a.login(c, u.Email)
	return c, u
}

// owner creates a user, their organization, and a signed-in client.
func (a *testApp) owner() (*testutil.Client, db.User, db.Organization) {
	a.t.Helper()
	u := a.F.User("")
	org := a.F.Org(u, "")
	c := a.client()
	a.login(c, u.Email)
	return c, u, org
}

// outbox returns the newest e-mail sent to addr.
func (a *testApp) lastEmail(addr string) db.OutboxEmail {
	a.t.Helper()
	mails, err := a.Store.Q().ListOutboxEmails(context.Background(), db.ListOutboxEmailsParams{ToEmail: addr, MaxRows: 1})
	if err != nil || len(mails) == 0 {
		a.t.Fatalf("no e-mail to %s (err %v)", addr, err)
	}
	return mails[0]
}

// testLogOutput is where the app logs in tests: nowhere, unless
// ACCUTE_TEST_LOGS=1.
func testLogOutput() io.Writer {
	if os.Getenv("ACCUTE_TEST_LOGS") == "1" {
		return os.Stderr
	}
	return io.Discard
}

// testLogLevel is the configured LOG_LEVEL (info unless a test overrides
// it; the benchmarks log at warn, as cmd/loadtest's server does).
func testLogLevel(cfg *config.Config) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(cfg.LogLevel))
	return l
}
