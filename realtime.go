package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"accute/internal/agents"
	"accute/internal/agents/runs"
	"accute/internal/agents/tools"
	"accute/internal/agents/usage"
	"accute/internal/config"
	"accute/internal/crypto"
	"accute/internal/realtime"
	"accute/internal/requests"
	"accute/internal/store"
)

// addRunWorker registers the worker that executes agent runs: the
// organization's provider (agents.Providers), the tools (with document
// requests for the action that creates them), the usage ledger, and the
// process's registry of running runs, which cancel notifications reach.
func addRunWorker(workers *river.Workers, cfg *config.Config, st *store.Store, keys *crypto.KeyRing, reqs *requests.Service, cancels *runs.Cancels, log *slog.Logger) {
	river.AddWorker(workers, &runs.Worker{
		Store: st, Providers: agents.NewProviders(st, keys, cfg.AI), Tools: &tools.Registry{Requests: reqs},
		Ledger: &usage.Ledger{BaseURL: cfg.BaseURL}, Cancels: cancels, Logger: log,
	})
}

// startListener starts the process's one LISTEN connection: run events
// feed the SSE hub (nil in `accute worker`, which serves no streams), and
// cancels reach the runs this process works. It stops with ctx.
func startListener(ctx context.Context, st *store.Store, hub *realtime.Hub, cancels *runs.Cancels, log *slog.Logger) {
	l := realtime.NewListener(st.Pool.Config().ConnConfig, log)
	if hub != nil {
		l.Handle(runs.EventsChannel, runs.HubNotifier(hub))
		l.OnReconnect(hub.Resync)
	}
	l.Handle(runs.CancelChannel, cancels.Handle)
	go func() {
		if err := l.Run(ctx); err != nil {
			log.Error("realtime: listener stopped", "error", err)
		}
	}()
}

// closeHub ends the open SSE streams when the HTTP server shuts down, so
// Shutdown does not wait for them until its deadline; browsers reconnect
// (with Last-Event-ID) to another instance.
func closeHub(hub *realtime.Hub, log *slog.Logger) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hub.Close(ctx); err != nil {
			log.Warn("realtime: streams still open at shutdown", "error", err)
		}
	}
}

// registerHubMetrics exposes the hub's open streams and dropped slow
// clients on /metrics.
func registerHubMetrics(reg prometheus.Registerer, hub *realtime.Hub) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "accute_sse_streams", Help: "Open SSE streams on this instance."},
			func() float64 { n, _, _ := hub.Stats(); return float64(n) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "accute_sse_dropped_total", Help: "SSE streams dropped for not reading."},
			func() float64 { _, _, d := hub.Stats(); return float64(d) }),
	)
}
