package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"accute/internal/ratelimit"
	"accute/internal/store"
)

// Login throttling defaults: the limits hold across every instance, since
// they are counted in PostgreSQL (internal/ratelimit).
const (
	// DefaultAccountLimit failed logins per account per window, after which
	// the account answers 429 even to the right password.
	DefaultAccountLimit = 5
	// DefaultIPLimit failed logins per client address per window: high
	// enough for an office behind one address, low enough to stop spraying.
	DefaultIPLimit = 50
	// DefaultLoginWindow is the throttling window.
	DefaultLoginWindow = 15 * time.Minute
	// DefaultCodeLimit wrong second-factor codes per user per window.
	DefaultCodeLimit = 5
)

// ErrThrottled is matched (errors.Is) by every *ThrottledError.
var ErrThrottled = errors.New("too many attempts")

// ThrottledError says that an attempt was refused, unseen, because of too
// many recent failures; RetryAfter is when the window ends.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many attempts: retry after %s", e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfterSeconds rounds RetryAfter up to whole seconds, at least 1.
func (e *ThrottledError) RetryAfterSeconds() int {
	return ratelimit.Decision{RetryAfter: e.RetryAfter}.RetryAfterSeconds()
}

// Throttle limits failed attempts per key (an account, an address, a
// user's codes). Every attempt is counted before it is checked, so that
// parallel attempts cannot slip past the limit; the caller refunds the
// ones that succeeded, so only failures use up the limit.
type Throttle struct {
	Limiter *ratelimit.Limiter
	Window  time.Duration
}

// attempt is one counted attempt; Succeeded gives it back.
type attempt struct {
	t    *Throttle
	keys []string
}

// limitKey is a key and its limit; a limit <= 0 means no limit.
type limitKey struct {
	key   string
	limit int
}

// begin counts an attempt against every key. When any limit is exceeded
// the attempt is refused with *ThrottledError and nothing stays counted
// (the attempt never happened).
func (t *Throttle) begin(ctx context.Context, keys ...limitKey) (*attempt, error) {
	a := &attempt{t: t}
	var wait time.Duration
	refused := false
	for _, k := range keys {
		if k.limit <= 0 || k.key == "" {
			continue
		}
		d, err := t.Limiter.Allow(ctx, k.key, k.limit, t.Window)
		if err != nil {
			a.succeeded(ctx)
			return nil, err
		}
		a.keys = append(a.keys, k.key)
		if !d.Allowed {
			refused = true
			wait = max(wait, d.RetryAfter)
		}
	}
	if refused {
		a.succeeded(ctx)
		return nil, &ThrottledError{RetryAfter: max(wait, time.Second)}
	}
	return a, nil
}

// succeeded refunds the attempt.
func (a *attempt) succeeded(ctx context.Context) {
	for _, k := range a.keys {
		_ = a.t.Limiter.Refund(context.WithoutCancel(ctx), k)
	}
	a.keys = nil
}

// AccountThrottleKey is the rate-limit key of an account's login attempts:
// a hash of the normalized address, so that the table holds no addresses
// and any input fits.
func AccountThrottleKey(email string) string {
	sum := sha256.Sum256([]byte(NormalizeEmail(email)))
	return "login:account:" + hex.EncodeToString(sum[:16])
}

// IPThrottleKey is the rate-limit key of a client address's login
// attempts; "" (no limit) when the address is unknown.
func IPThrottleKey(ip string) string {
	if ip == "" {
		return ""
	}
	return "login:ip:" + ip
}

func ratelimitFor(st *store.Store) *ratelimit.Limiter { return ratelimit.New(st.Pool) }
