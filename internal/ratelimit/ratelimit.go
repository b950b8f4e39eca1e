// Package ratelimit counts requests per key in PostgreSQL, so that a limit
// holds across every application instance: login attempts per account and
// per address, MFA codes per user, API calls per token.
//
// Windows are fixed: a key's window starts at its first hit and lasts the
// given duration; within it at most limit hits are allowed. Each hit is one
// atomic upsert (no read-modify-write race between instances), and times
// come from the database's clock, which all instances share.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"accute/internal/db"
)

// Decision is the answer for one hit.
type Decision struct {
	Allowed    bool
	Limit      int
	Remaining  int           // hits left in the window after this one
	RetryAfter time.Duration // when refused: until the window ends; zero when allowed
	Reset      time.Time     // when the window ends (zero when no window is open)
}

// Limiter counts hits in the rate_limits table.
type Limiter struct {
	db db.DBTX
}

// New returns a limiter on a connection pool (any db.DBTX).
func New(conn db.DBTX) *Limiter { return &Limiter{db: conn} }

// Allow counts one hit for key and reports whether it is within limit hits
// per window. Refused hits are counted too, which changes nothing for a
// fixed window but the Remaining figure.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (Decision, error) {
	row, err := db.New(l.db).HitRateLimit(ctx, db.HitRateLimitParams{Key: key, Cost: 1, WindowSeconds: window.Seconds()})
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	return decide(int(row.Count), limit, row.ExpiresAt.Sub(row.DbNow)), nil
}

// Peek reports where key stands without counting a hit: Allowed says
// whether another hit would be allowed.
func (l *Limiter) Peek(ctx context.Context, key string, limit int) (Decision, error) {
	row, err := db.New(l.db).PeekRateLimit(ctx, key)
	if errors.Is(err, pgx.ErrNoRows) {
		return Decision{Allowed: true, Limit: limit, Remaining: limit}, nil
	}
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	d := decide(int(row.Count)+1, limit, row.ExpiresAt.Sub(row.DbNow))
	d.Remaining = max(limit-int(row.Count), 0)
	return d, nil
}

// Refund takes back one hit of the current window: for limits that count
// failures, the caller counts every attempt first (so parallel attempts
// cannot slip past the limit) and refunds the ones that succeeded.
func (l *Limiter) Refund(ctx context.Context, key string) error {
	if err := db.New(l.db).RefundRateLimit(ctx, key); err != nil {
		return fmt.Errorf("rate limit refund %s: %w", key, err)
	}
	return nil
}

// Reset forgets key's window.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := db.New(l.db).ResetRateLimit(ctx, key); err != nil {
		return fmt.Errorf("rate limit reset %s: %w", key, err)
	}
	return nil
}

// Sweep deletes expired windows and returns how many.
func (l *Limiter) Sweep(ctx context.Context) (int64, error) {
	return db.New(l.db).DeleteExpiredRateLimits(ctx)
}

// RunSweeper sweeps every interval until ctx ends. Expired rows are
// harmless (the next hit restarts the window) but would pile up under
// spraying with many keys.
func (l *Limiter) RunSweeper(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := l.Sweep(ctx); err != nil && ctx.Err() == nil && log != nil {
				log.Warn("rate limit sweep", "error", err)
			}
		}
	}
}

func decide(count, limit int, left time.Duration) Decision {
	if left < 0 {
		left = 0
	}
	d := Decision{
		Allowed:   count <= limit,
		Limit:     limit,
		Remaining: max(limit-count, 0),
		Reset:     time.Now().Add(left),
	}
	if !d.Allowed {
		d.RetryAfter = left
	}
	return d
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds (at least 1),
// as the Retry-After header wants it.
func (d Decision) RetryAfterSeconds() int {
	return max(int(math.Ceil(d.RetryAfter.Seconds())), 1)
}

// SetHeaders writes the RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset headers (IETF draft "RateLimit header fields for HTTP",
// Reset in seconds from now) and, when refused, Retry-After.
func (d Decision) SetHeaders(h http.Header) {
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	reset := 0
	if !d.Reset.IsZero() {
		reset = max(int(math.Ceil(time.Until(d.Reset).Seconds())), 0)
	}
	h.Set("RateLimit-Reset", strconv.Itoa(reset))
	if !d.Allowed {
		h.Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
	}
}
