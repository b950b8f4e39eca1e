package ratelimit_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"accute/internal/ratelimit"
	"accute/internal/testutil"
)

func TestAllowCountsWithinAWindow(t *testing.T) {
	st, _ := testutil.NewStore(t)
	l := ratelimit.New(st.Pool)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		d, err := l.Allow(ctx, "k", 3, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed || d.Remaining != 3-i || d.Limit != 3 || d.RetryAfter != 0 {
			t.Fatalf("hit %d: %+v", i, d)
		}
		if until := time.Until(d.Reset); until < 50*time.Second || until > 61*time.Second {
			t.Fatalf("reset in %s", until)
		}
	}
	d, err := l.Allow(ctx, "k", 3, time.Minute)
	if err != nil || d.Allowed || d.Remaining != 0 || d.RetryAfter <= 50*time.Second || d.RetryAfterSeconds() > 60 {
		t.Fatalf("over the limit: %+v %v", d, err)
	}
	// Another key has its own window.
	if d, _ := l.Allow(ctx, "other", 3, time.Minute); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("other key: %+v", d)
	}
	// Peek does not count.
	for range 3 {
		if p, err := l.Peek(ctx, "other", 3); err != nil || !p.Allowed || p.Remaining != 2 {
			t.Fatalf("peek: %+v %v", p, err)
		}
	}
	if p, _ := l.Peek(ctx, "k", 3); p.Allowed {
		t.Fatalf("peek of a spent key: %+v", p)
	}
	if p, _ := l.Peek(ctx, "never", 3); !p.Allowed || p.Remaining != 3 {
		t.Fatalf("peek of an unknown key: %+v", p)
	}
	// Reset forgets the window.
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if d, _ := l.Allow(ctx, "k", 3, time.Minute); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("after reset: %+v", d)
	}
}

func TestWindowExpires(t *testing.T) {
	st, _ := testutil.NewStore(t)
	l := ratelimit.New(st.Pool)
	ctx := context.Background()
	for range 2 {
		_, _ = l.Allow(ctx, "short", 1, 300*time.Millisecond)
	}
	if d, _ := l.Allow(ctx, "short", 1, 300*time.Millisecond); d.Allowed {
		t.Fatal("allowed over the limit")
	}
	time.Sleep(350 * time.Millisecond)
	d, err := l.Allow(ctx, "short", 1, 300*time.Millisecond)
	if err != nil || !d.Allowed || d.Remaining != 0 {
		t.Fatalf("new window: %+v %v", d, err)
	}
	time.Sleep(350 * time.Millisecond)
	n, err := l.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
}

func TestRefundGivesBackOneHit(t *testing.T) {
	st, _ := testutil.NewStore(t)
	l := ratelimit.New(st.Pool)
	ctx := context.Background()
	for range 5 {
		_, _ = l.Allow(ctx, "r", 2, time.Minute)
		_ = l.Refund(ctx, "r")
	}
	if d, _ := l.Allow(ctx, "r", 2, time.Minute); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("refunded hits still counted: %+v", d)
	}
	_ = l.Refund(ctx, "r")
	_ = l.Refund(ctx, "r") // never below zero
	if d, _ := l.Allow(ctx, "r", 2, time.Minute); d.Remaining != 1 {
		t.Fatalf("count went negative: %+v", d)
	}
}

// Parallel hits from many connections (as from several instances) are
// counted exactly: no more than limit are allowed.
func TestAllowIsAtomicUnderConcurrency(t *testing.T) {
	st, _ := testutil.NewStore(t)
	l := ratelimit.New(st.Pool)
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := l.Allow(context.Background(), "race", 7, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 7 {
		t.Fatalf("%d hits allowed, want 7", got)
	}
}

func TestHeaders(t *testing.T) {
	h := http.Header{}
	ratelimit.Decision{Allowed: true, Limit: 100, Remaining: 42, Reset: time.Now().Add(30 * time.Second)}.SetHeaders(h)
	if h.Get("RateLimit-Limit") != "100" || h.Get("RateLimit-Remaining") != "42" || h.Get("Retry-After") != "" {
		t.Fatalf("allowed headers: %v", h)
	}
	if r := h.Get("RateLimit-Reset"); r != "30" && r != "29" {
		t.Fatalf("reset %q", r)
	}
	h = http.Header{}
	ratelimit.Decision{Allowed: false, Limit: 100, Remaining: 0, RetryAfter: 1500 * time.Millisecond, Reset: time.Now().Add(1500 * time.Millisecond)}.SetHeaders(h)
	if h.Get("Retry-After") != "2" || h.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("refused headers: %v", h)
	}
}
