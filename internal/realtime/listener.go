// Package realtime carries events to browsers as they happen: one SSE hub
// per process (hub.go, on github.com/r3labs/sse/v2) fed by PostgreSQL
// LISTEN/NOTIFY (this file), so a browser connected to any instance sees
// events produced on any other.
//
// Notifications are small (ids and a sequence number); the events
// themselves are rows (agent_run_events, numbered by seq) that the hub
// reads in order. A lost notification therefore loses nothing: the next
// one, or the resynchronisation after the listening connection comes back,
// reads every row after the last one delivered.
package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listener holds one dedicated PostgreSQL connection per process that
// LISTENs on the registered channels and hands every notification to its
// channel's handler. When the connection breaks it reconnects with backoff
// and then calls the OnReconnect functions, since notifications sent while
// it was away are gone (it calls them after the first connection too: a
// stream opened before the first LISTEN may have missed one).
type Listener struct {
	connConfig *pgx.ConnConfig
	log        *slog.Logger

	mu          sync.Mutex
	handlers    map[string]func(payload string)
	onReconnect []func()
	conn        *pgx.Conn // current connection, for Kill (tests)
	ready       chan struct{}
	readyOnce   sync.Once

	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts (100 ms and 5 s when zero).
	MinBackoff, MaxBackoff time.Duration
}

// NewListener builds a listener that connects with cfg (a copy is taken).
func NewListener(cfg *pgx.ConnConfig, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.Default()
	}
	return &Listener{connConfig: cfg.Copy(), log: log, handlers: map[string]func(string){}, ready: make(chan struct{})}
}

// Handle registers fn for channel; call it before Run. fn runs on the
// listener's goroutine, so it must not block (hand work to a goroutine or a
// buffered channel).
func (l *Listener) Handle(channel string, fn func(payload string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlers[channel] = fn
}

// OnReconnect registers fn, called every time the LISTEN is in place
// (after a reconnection above all).
func (l *Listener) OnReconnect(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onReconnect = append(l.onReconnect, fn)
}

// Ready is closed once the first LISTEN is in place.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// Run listens until ctx is cancelled.
func (l *Listener) Run(ctx context.Context) error {
	minB, maxB := l.MinBackoff, l.MaxBackoff
	if minB <= 0 {
		minB = 100 * time.Millisecond
	}
	if maxB <= 0 {
		maxB = 5 * time.Second
	}
	backoff := minB
	connected := false
	for {
		err := l.session(ctx, connected, func() { connected, backoff = true, minB })
		if ctx.Err() != nil {
			return nil
		}
		l.log.Warn("realtime: listening connection lost; reconnecting", "error", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxB)
	}
}

// session connects, LISTENs and dispatches until the connection fails.
func (l *Listener) session(ctx context.Context, reconnect bool, up func()) error {
	conn, err := pgx.ConnectConfig(ctx, l.connConfig)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		l.mu.Lock()
		l.conn = nil
		l.mu.Unlock()
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	l.mu.Lock()
	channels := make([]string, 0, len(l.handlers))
	for ch := range l.handlers {
		channels = append(channels, ch)
	}
	l.mu.Unlock()
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	l.mu.Lock()
	l.conn = conn
	resync := append([]func(){}, l.onReconnect...)
	l.mu.Unlock()
	up()
	l.readyOnce.Do(func() { close(l.ready) })
	if reconnect {
		l.log.Info("realtime: listening again; resynchronising streams")
	}
	for _, fn := range resync {
		fn()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		l.mu.Lock()
		fn := l.handlers[n.Channel]
		l.mu.Unlock()
		if fn != nil {
			fn(n.Payload)
		}
	}
}

// Kill closes the current listening connection, as a network failure
// would (tests use it to prove reconnection and resynchronisation).
func (l *Listener) Kill() {
	l.mu.Lock()
	c := l.conn
	l.mu.Unlock()
	if c != nil {
		_ = c.PgConn().Conn().Close()
	}
}
