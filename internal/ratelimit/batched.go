package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"accute/internal/db"
)

// Batched is a limiter for high request rates, such as the JSON API's
// per-token limit: each instance decides locally, from the window's count as
// PostgreSQL last reported it plus its own hits since, and adds its hits to
// the shared rate_limits rows in one statement per flush interval, for all
// keys at once. A request therefore costs no database write and no lock on a
// hot row, while the limit still holds across instances.
//
// The trade-off: another instance's hits are seen one flush interval late,
// so with n instances a key can exceed its limit by at most what n-1
// instances admit in one interval (about rate × interval × (n-1)); with one
// instance the limit is exact. If PostgreSQL is unreachable, counts are kept
// and flushed later, and decisions go on locally.
type Batched struct {
	db       db.DBTX
	limit    int
	window   time.Duration
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	count    int       // the window's count when PostgreSQL last answered
	inflight int       // hits being flushed right now
	pending  int       // hits admitted here since
	reset    time.Time // when the window ends (local clock); zero until known
	seen     time.Time // last hit, for eviction
}

// NewBatched returns a limiter of limit hits per window per key, flushing
// every interval once Run is started.
func NewBatched(conn db.DBTX, limit int, window, interval time.Duration, log *slog.Logger) *Batched {
	return &Batched{db: conn, limit: limit, window: window, interval: interval, log: log, buckets: map[string]*bucket{}}
}

// Limit is the number of hits allowed per window.
func (b *Batched) Limit() int { return b.limit }

// Allow counts one hit for key, without I/O. A refused hit is not counted.
func (b *Batched) Allow(key string) Decision {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.buckets[key]
	if k == nil {
		k = &bucket{}
		b.buckets[key] = k
	}
	k.seen = now
	if !k.reset.IsZero() && !now.Before(k.reset) {
		// The window PostgreSQL reported is over; the next flush opens a
		// new one and reports its end.
		k.count, k.reset = 0, time.Time{}
	}
	reset := k.reset
	if reset.IsZero() {
		reset = now.Add(b.window)
	}
	used := k.count + k.inflight + k.pending
	if used >= b.limit {
		return Decision{Allowed: false, Limit: b.limit, Remaining: 0, Reset: reset, RetryAfter: max(reset.Sub(now), time.Second)}
	}
	k.pending++
	return Decision{Allowed: true, Limit: b.limit, Remaining: b.limit - used - 1, Reset: reset}
}

// Run flushes every interval until ctx ends, then flushes once more.
func (b *Batched) Run(ctx context.Context) {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = b.Flush(fctx)
			cancel()
			return
		case <-t.C:
			if err := b.Flush(ctx); err != nil && ctx.Err() == nil && b.log != nil {
				b.log.Warn("API rate limit flush", "error", err)
			}
		}
	}
}

// Flush adds the hits counted here since the last flush to PostgreSQL and
// takes back every flushed key's window count and end. Keys idle for a
// whole window are forgotten.
func (b *Batched) Flush(ctx context.Context) error {
	now := time.Now()
	var params db.HitRateLimitBatchParams
	b.mu.Lock()
	for key, k := range b.buckets {
		switch {
		case k.pending > 0 && k.inflight == 0:
			k.inflight, k.pending = k.pending, 0
			params.Keys = append(params.Keys, key)
			params.Costs = append(params.Costs, int32(k.inflight))
		case k.pending == 0 && k.inflight == 0 && now.Sub(k.seen) > b.window:
			delete(b.buckets, key)
		}
	}
	b.mu.Unlock()
	if len(params.Keys) == 0 {
		return nil
	}
	params.WindowSeconds = b.window.Seconds()
	rows, err := db.New(b.db).HitRateLimitBatch(ctx, params)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		// Keep the hits for the next flush.
		for _, key := range params.Keys {
			if k := b.buckets[key]; k != nil {
				k.pending += k.inflight
				k.inflight = 0
			}
		}
		return err
	}
	for _, r := range rows {
		k := b.buckets[r.Key]
		if k == nil {
			continue
		}
		k.count, k.inflight = int(r.Count), 0
		k.reset = now.Add(r.ExpiresAt.Sub(r.DbNow))
	}
	for _, key := range params.Keys {
		if k := b.buckets[key]; k != nil && k.inflight > 0 { // not answered: count again
			k.pending += k.inflight
			k.inflight = 0
		}
	}
	return nil
}
