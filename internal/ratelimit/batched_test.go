package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"accute/internal/ratelimit"
	"accute/internal/testutil"
)

// Two instances (two Batched limiters on one database) share a key's
// budget through their flushes; each decides locally in between.
func TestBatchedSharesCountsAcrossInstances(t *testing.T) {
	st, _ := testutil.NewStore(t)
	ctx := context.Background()
	a := ratelimit.NewBatched(st.Pool, 10, time.Minute, time.Hour, nil)
	b := ratelimit.NewBatched(st.Pool, 10, time.Minute, time.Hour, nil)
	for i := range 6 {
		d := a.Allow("api:k")
		if !d.Allowed || d.Remaining != 10-i-1 || d.Limit != 10 {
			t.Fatalf("a, hit %d: %+v", i, d)
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// b has not heard of a's hits yet: it admits on its own count...
	if d := b.Allow("api:k"); !d.Allowed || d.Remaining != 9 {
		t.Fatalf("b before its flush: %+v", d)
	}
	// ...and its flush brings back the shared count (6 + 1).
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if d := b.Allow("api:k"); !d.Allowed || d.Remaining != 10-7-i-1 {
			t.Fatalf("b after its flush, hit %d: %+v", i, d)
		}
	}
	d := b.Allow("api:k")
	if d.Allowed || d.RetryAfter < time.Second || d.RetryAfter > time.Minute || d.Remaining != 0 {
		t.Fatalf("over the shared limit: %+v", d)
	}
	// Another key has its own budget.
	if d := b.Allow("api:other"); !d.Allowed || d.Remaining != 9 {
		t.Fatalf("other key: %+v", d)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.Pool.QueryRow(ctx, `SELECT count FROM rate_limits WHERE key = 'api:k'`).Scan(&n); err != nil || n != 10 {
		t.Fatalf("stored count %d (%v), want 10", n, err)
	}
}

// A failed flush keeps the hits for the next one.
func TestBatchedKeepsHitsWhenTheDatabaseFails(t *testing.T) {
	st, _ := testutil.NewStore(t)
	l := ratelimit.NewBatched(st.Pool, 5, time.Minute, time.Hour, nil)
	l.Allow("api:k")
	l.Allow("api:k")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Flush(ctx); err == nil {
		t.Fatal("flush with a cancelled context succeeded")
	}
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.Pool.QueryRow(context.Background(), `SELECT count FROM rate_limits WHERE key = 'api:k'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("stored count %d (%v), want 2", n, err)
	}
}
