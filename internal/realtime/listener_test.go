package realtime_test

import (
	"context"
	"testing"
	"time"

	"accute/internal/realtime"
	"accute/internal/testutil"
)

func TestListenerDeliversNotificationsAndReconnects(t *testing.T) {
	st, _ := testutil.NewStore(t)
	l := realtime.NewListener(st.Pool.Config().ConnConfig, quiet())
	l.MinBackoff, l.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	got := make(chan string, 10)
	l.Handle("accute_test_events", func(p string) { got <- p })
	resynced := make(chan struct{}, 10)
	l.OnReconnect(func() { resynced <- struct{}{} })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-l.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the listener never listened")
	}
	select { // the first LISTEN resynchronises too
	case <-resynced:
	case <-time.After(10 * time.Second):
		t.Fatal("no resynchronisation after the first LISTEN")
	}
	notify := func(payload string) {
		t.Helper()
		// As the application role, like the run worker.
		if _, err := st.Pool.Exec(context.Background(), "SELECT pg_notify('accute_test_events', $1)", payload); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(want string) {
		t.Helper()
		select {
		case p := <-got:
			if p != want {
				t.Fatalf("payload %q, want %q", p, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no notification %q", want)
		}
	}
	notify("run:1")
	expect("run:1")

	// The connection breaks: the listener comes back, tells the hub to
	// resynchronise, and notifications flow again.
	l.Kill()
	select {
	case <-resynced:
	case <-time.After(10 * time.Second):
		t.Fatal("no resynchronisation after the connection was lost")
	}
	notify("run:2")
	expect("run:2")
}
