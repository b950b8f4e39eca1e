// Command accute is the Accute server and its maintenance commands.
//
//	accute [serve]             run the web server (default)
//	accute migrate             apply database migrations
//	accute seed                create the demo firm if it does not exist
//	accute admin grant EMAIL   make a user a platform administrator
//	accute keys rotate         re-encrypt stored secrets with the current ENCRYPTION_KEY
//	accute worker              work background jobs only (no web server)
//	accute devdb start DIR     start a private PostgreSQL under DIR, print its URL
//	accute devdb stop DIR      stop it
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"accute/handlers"
	"accute/internal/agents"
	"accute/internal/agents/runs"
	"accute/internal/audit"
	"accute/internal/auth"
	"accute/internal/auth/oauth"
	"accute/internal/clients"
	"accute/internal/config"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/devdb"
	"accute/internal/documents"
	"accute/internal/portal"
	"accute/internal/ratelimit"
	"accute/internal/realtime"
	"accute/internal/scim"
	"accute/internal/seed"
	"accute/internal/sso"
	"accute/internal/store"
	"accute/internal/tenant"
)

func main() {
	cmd := "serve"
	args := os.Args[1:]
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve()
	case "migrate":
		err = withDatabase(func(ctx context.Context, cfg *config.Config, _ *slog.Logger) error {
			return store.Migrate(ctx, cfg.MigrationDatabaseURL)
		})
	case "seed":
		err = seedCommand()
	case "admin":
		err = adminCommand(args)
	case "devdb":
		err = devdbCommand(args)
	case "keys":
		err = keysCommand(args)
	case "worker":
		err = workerCommand()
	case "help", "-h", "--help":
		fmt.Println("usage: accute [serve | worker | migrate | seed | admin grant EMAIL | keys rotate | devdb start|stop DIR]")
	default:
		err = fmt.Errorf("unknown command %q (try: accute help)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "accute:", err)
		os.Exit(1)
	}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: l}))
}

// withDatabase loads the config, starts the embedded database when no
// DATABASE_URL is set, and runs fn.
func withDatabase(fn func(ctx context.Context, cfg *config.Config, log *slog.Logger) error) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	ctx := context.Background()
	if cfg.DatabaseURL == "" {
		cluster, err := devdb.Start(ctx, cfg.DataDir, devdb.Options{Logger: log})
		if err != nil {
			return err
		}
		defer func() { _ = cluster.Stop() }()
		cfg.DatabaseURL, cfg.MigrationDatabaseURL = cluster.DSN(), cluster.DSN()
	}
	return fn(ctx, cfg, log)
}

func serve() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	slog.SetDefault(log)
	tuneGC()

	// The listener starts first, so health checks answer while the database
	// starts and migrates; everything else answers 503 until ready.
	var current atomic.Pointer[http.Handler]
	var booting http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"ok"}`))
			return
		}
		w.Header().Set("Retry-After", "2")
		http.Error(w, "Accute is starting; try again in a moment.", http.StatusServiceUnavailable)
	})
	current.Store(&booting)
	srv := &http.Server{
		Addr:              ":" + strconv.Itoa(cfg.Port),
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*current.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", srv.Addr, err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", srv.Addr, "env", cfg.Env)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	var cluster *devdb.Cluster
	if cfg.DatabaseURL == "" {
		cluster, err = devdb.Start(ctx, cfg.DataDir, devdb.Options{Logger: log})
		if err != nil {
			return err
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				log.Error("stopping embedded PostgreSQL", "error", err)
			} else {
				log.Info("embedded PostgreSQL stopped")
			}
		}()
		cfg.DatabaseURL, cfg.MigrationDatabaseURL = cluster.DSN(), cluster.DSN()
		log.Info("embedded PostgreSQL running", "dir", cluster.DataDir)
	}
	if err := store.Migrate(ctx, cfg.MigrationDatabaseURL); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns)
	if err != nil {
		return err
	}
	defer st.Close()
	// The agent registry from the catalogue in internal/agents (newer
	// catalogue versions replace the stored entries).
	if _, err := agents.Sync(ctx, st); err != nil {
		return err
	}
	// Document search needs migration 00110's mark, which only a superuser
	// can set (and a dump and restore into a new cluster drops).
	if ok, err := st.Q().SearchMatchIsLeakproof(ctx); err == nil && !ok {
		log.Warn("document search cannot use its full-text index under row-level security, so every search reads the stored text of every organization (a sequential scan of document_chunks); as a PostgreSQL superuser run: ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;")
	}

	orgs := &tenant.Service{Store: st, BaseURL: cfg.BaseURL}
	var demo seed.Result
	if cfg.SeedDemo {
		pw, err := seed.DemoPassword(cfg.DemoPassword, cfg.DataDir)
		if err != nil {
			return fmt.Errorf("demo password: %w", err)
		}
		if demo, err = seed.IfEmpty(ctx, st, orgs, pw, cfg.BcryptCost); err != nil {
			return err
		}
		demo.Password = pw
	}
	authSvc, err := auth.NewService(st, orgs, cfg.BaseURL, cfg.BcryptCost)
	if err != nil {
		return err
	}
	authSvc.IPLimit = cfg.LoginIPLimit
	keys, err := crypto.NewKeyRing(cfg.EncryptionKey, cfg.EncryptionKeysOld...)
	if err != nil {
		return err
	}
	limiter := ratelimit.New(st.Pool)
	go limiter.RunSweeper(ctx, 10*time.Minute, log)
	// The JSON API's per-token limit: decided in memory, shared through
	// PostgreSQL in batches (see ratelimit.Batched).
	apiLimiter := ratelimit.NewBatched(st.Pool, cfg.APIRateLimit, time.Minute, 200*time.Millisecond, log)
	go apiLimiter.Run(ctx)
	apiTokens := auth.NewAPITokens(st, cfg.JWTSecret)
	go apiTokens.RunSweeper(ctx, time.Hour, log)
	// Metadata URLs may point at private addresses outside production only.
	ssoSvc := sso.New(st, keys, cfg.BaseURL, cfg.BcryptCost, !cfg.Production(), log)
	// OAuth/OIDC sign-in, refused for domains that require SAML SSO; SCIM
	// provisioning.
	oauthSvc := oauth.New(st, cfg.BaseURL, cfg.BcryptCost, oauth.SpecsFromConfig(cfg.OAuth)...)
	oauthSvc.SSO = ssoSvc
	scimSvc := &scim.Service{Store: st, BaseURL: cfg.BaseURL, Cost: cfg.BcryptCost}
	// The job queue and documents; this process works jobs unless
	// JOB_WORKERS=0 (then `accute worker` processes do).
	// Real time (realtime.go): the SSE hub, whose streams end before
	// Shutdown waits for requests, and the process's LISTEN connection for
	// run events and cancels, kept until the job queue has stopped.
	hub := realtime.NewHub(realtime.Config{Logger: log})
	srv.RegisterOnShutdown(closeHub(hub, log))
	cancels := runs.NewCancels()
	listenCtx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	defer stopListening()
	startListener(listenCtx, st, hub, cancels, log)
	jobs, docs, reqs, err := newJobs(cfg, st, keys, log, cfg.Documents.JobWorkers, cancels)
	if err != nil {
		return err
	}
	if err := jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	defer func() {
		if err := jobs.Stop(jobStopGrace); err != nil {
			log.Error("stopping the job queue", "error", err)
		}
	}()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerHubMetrics(reg, hub)
	e := handlers.New(handlers.Deps{
		Config:   cfg,
		Store:    st,
		Sessions: auth.NewSessions(st.Pool, cfg.Production()),
		Auth:     authSvc,
		Orgs:     orgs,
		Clients:  &clients.Service{Store: st},
		Logger:   log,
		Registry: reg,
		Keys:     keys,
		MFA:      auth.NewMFA(st, keys, cfg.SessionSecret),
		Limiter:  limiter,
		// SAML single sign-on (built above, shared with OAuth).
		SSO:        ssoSvc,
		APITokens:  apiTokens,
		APILimiter: apiLimiter,
		OAuth:      oauthSvc,
		SCIM:       scimSvc,
		Documents:  docs,
		Jobs:       jobs,
		Requests:   reqs,
		// The client portal (internal/portal).
		Portal: &portal.Service{Store: st, Docs: docs, Orgs: orgs, BaseURL: cfg.BaseURL},
		// Each organization's AI provider, over the platform default.
		AI: agents.NewProviders(st, keys, cfg.AI),
		// Agent runs' answers streamed over SSE.
		Hub: hub,
	})
	var app http.Handler = e
	current.Store(&app)
	if addr := os.Getenv("ACCUTE_PPROF_ADDR"); addr != "" && !cfg.Production() {
		go servePprof(addr, log)
	}
	log.Info("ready", "url", cfg.BaseURL)
	printBanner(cfg, demo)

	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "error", err)
	}
	return nil
}

// tuneGC trades a little memory for less garbage-collection work: the
// server's live heap is small (tens of MB), so collecting at 4x instead of
// 2x keeps RSS well under 128 MB while saving CPU on every request. A soft
// memory limit makes the collector work harder before memory grows past
// it. It is sized for open SSE streams, which cost about 55 KB each
// (goroutine stacks, connection buffers): 10,000 of them hold about
// 550 MB, and a limit below what is live makes the collector run without
// pause (with 256 MiB it took most of a core at 10,000 streams, see
// BENCHMARKS.md). GOGC and GOMEMLIMIT in the environment take precedence.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(768 << 20)
	}
}

// servePprof exposes Go's profiler on a separate (loopback) address for
// load tests; never in production.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("profiler listening", "addr", addr)
	if err := http.ListenAndServe(addr, mux); err != nil {
		log.Error("profiler", "error", err)
	}
}

func printBanner(cfg *config.Config, demo seed.Result) {
	if cfg.Production() {
		return
	}
	fmt.Fprintf(os.Stderr, "\n  Accute is running at %s\n", cfg.BaseURL)
	if cfg.SeedDemo && demo.Password != "" {
		fmt.Fprintf(os.Stderr, "  Demo firm: %s (/o/%s)\n", seed.OrgName, seed.OrgSlug)
		fmt.Fprintf(os.Stderr, "    %s / %s\n", seed.OwnerEmail, demo.Password)
		fmt.Fprintf(os.Stderr, "    %s / %s\n", seed.StaffEmail, demo.Password)
		fmt.Fprintf(os.Stderr, "    %s / %s (client portal)\n", seed.ClientEmail, demo.Password)
		fmt.Fprintf(os.Stderr, "  Make yourself a platform admin: ./bin/accute admin grant %s\n\n", seed.OwnerEmail)
	}
}

func seedCommand() error {
	return withDatabase(func(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
		if cfg.Production() {
			return errors.New("the demo firm is never seeded in production")
		}
		if err := store.Migrate(ctx, cfg.MigrationDatabaseURL); err != nil {
			return err
		}
		st, err := store.Open(ctx, cfg.DatabaseURL, 4)
		if err != nil {
			return err
		}
		defer st.Close()
		if _, err := agents.Sync(ctx, st); err != nil {
			return err
		}
		if _, err := st.Q().GetOrganizationBySlug(ctx, seed.OrgSlug); err == nil {
			fmt.Println("the demo firm already exists")
			return nil
		}
		pw, err := seed.DemoPassword(cfg.DemoPassword, cfg.DataDir)
		if err != nil {
			return err
		}
		if _, err := seed.Demo(ctx, st, &tenant.Service{Store: st}, pw, cfg.BcryptCost); err != nil {
			return err
		}
		fmt.Printf("seeded %s: %s, %s and %s (client portal), password %s\n", seed.OrgName, seed.OwnerEmail, seed.StaffEmail, seed.ClientEmail, pw)
		return nil
	})
}

func adminCommand(args []string) error {
	if len(args) != 2 || args[0] != "grant" {
		return errors.New("usage: accute admin grant EMAIL")
	}
	email := auth.NormalizeEmail(args[1])
	return withDatabase(func(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
		st, err := store.Open(ctx, cfg.DatabaseURL, 2)
		if err != nil {
			return err
		}
		defer st.Close()
		return st.InTx(ctx, func(q *db.Queries) error {
			u, err := q.GetUserByEmail(ctx, email)
			if err != nil {
				return fmt.Errorf("no user with e-mail %s", email)
			}
			if _, err := q.SetPlatformAdmin(ctx, db.SetPlatformAdminParams{ID: u.ID, IsPlatformAdmin: true}); err != nil {
				return err
			}
			fmt.Printf("%s is now a platform administrator (they sign in again to use /admin)\n", email)
			return audit.Record(ctx, q, audit.Event{ActorEmail: "cli", Action: audit.AdminGranted, TargetType: "user", TargetID: u.ID.String(), Summary: email})
		})
	})
}

func devdbCommand(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: accute devdb start|stop DIR [--fast]")
	}
	fast := len(args) > 2 && args[2] == "--fast"
	cluster, err := devdb.Start(context.Background(), args[1], devdb.Options{Fast: fast, Database: "postgres"})
	if err != nil {
		return err
	}
	switch args[0] {
	case "start":
		fmt.Println(cluster.DSN())
		return nil
	case "stop":
		return cluster.Stop()
	}
	return fmt.Errorf("unknown devdb action %q", args[0])
}

// encryptedColumns lists every column sealed with the key ring, for `accute
// keys rotate`. A package that stores secrets exports its crypto.Column
// values (see auth.EncryptedColumns and crypto.Column) and adds them here.
func encryptedColumns() []crypto.Column {
	var cols []crypto.Column
	cols = append(cols, auth.EncryptedColumns...)
	cols = append(cols, documents.EncryptedColumns...)
	cols = append(cols, sso.EncryptedColumns...)
	cols = append(cols, agents.EncryptedColumns...)
	return cols
}

// keysCommand re-encrypts every registered secret with the current
// ENCRYPTION_KEY; values under an older key are opened with
// ENCRYPTION_KEYS_OLD. Safe to run while the application serves.
func keysCommand(args []string) error {
	if len(args) != 1 || args[0] != "rotate" {
		return errors.New("usage: accute keys rotate")
	}
	return withDatabase(func(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
		ring, err := crypto.NewKeyRing(cfg.EncryptionKey, cfg.EncryptionKeysOld...)
		if err != nil {
			return err
		}
		if err := store.Migrate(ctx, cfg.MigrationDatabaseURL); err != nil {
			return err
		}
		st, err := store.Open(ctx, cfg.DatabaseURL, 2)
		if err != nil {
			return err
		}
		defer st.Close()
		results, err := crypto.Rotate(ctx, st.Pool, ring, encryptedColumns(), 500)
		for _, r := range results {
			fmt.Printf("%-40s %d re-encrypted, %d already current, %d failed\n", r.Column, r.Rotated, r.Current, r.Failed)
			for _, k := range r.FailedKey {
				fmt.Printf("    cannot open row %s\n", k)
			}
		}
		if err != nil {
			return err
		}
		fmt.Printf("every value is sealed with key %08x\n", ring.CurrentKeyID())
		return nil
	})
}
