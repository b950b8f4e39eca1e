package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/r3labs/sse/v2"

	"accute/internal/realtime"
	"accute/internal/testutil"
)

// memTopic is an event sequence in memory, standing in for agent_run_events.
type memTopic struct {
	mu     sync.Mutex
	events []realtime.Event
	loads  atomic.Int64
}

func (m *memTopic) add(typ, data string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	seq := int64(len(m.events) + 1)
	m.events = append(m.events, realtime.Event{Seq: seq, Type: typ, Data: []byte(data)})
	return seq
}

func (m *memTopic) load(_ context.Context, after int64, limit int) ([]realtime.Event, error) {
	m.loads.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []realtime.Event
	for _, e := range m.events {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// plain formats one frame per event: id seq, the event's type and data.
func plain(evs []realtime.Event) []*sse.Event {
	out := make([]*sse.Event, 0, len(evs))
	for _, e := range evs {
		out = append(out, &sse.Event{ID: []byte(strconv.FormatInt(e.Seq, 10)), Event: []byte(e.Type), Data: e.Data})
	}
	return out
}

func isDone(e realtime.Event) bool { return e.Type == "done" }

type fixture struct {
	hub    *realtime.Hub
	srv    *httptest.Server
	topics sync.Map // name -> *memTopic
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFixture(t *testing.T, cfg realtime.Config, serverTimeouts time.Duration) *fixture {
	t.Helper()
	cfg.Logger = quiet()
	f := &fixture{hub: realtime.NewHub(cfg)}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/stream/")
		after, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
		topic := f.topic(name)
		err := f.hub.Serve(w, r, realtime.Subscription{Topic: name, After: after, Load: topic.load, Format: plain, Final: isDone})
		if errors.Is(err, realtime.ErrClosed) {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		}
	}))
	if serverTimeouts > 0 {
		f.srv.Config.ReadTimeout = serverTimeouts
		f.srv.Config.WriteTimeout = serverTimeouts
	}
	f.srv.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.hub.Close(ctx)
		f.srv.Close()
	})
	return f
}

func (f *fixture) topic(name string) *memTopic {
	v, _ := f.topics.LoadOrStore(name, &memTopic{})
	return v.(*memTopic)
}

// publish appends an event and notifies the hub, as NOTIFY would.
func (f *fixture) publish(name, typ, data string) int64 {
	seq := f.topic(name).add(typ, data)
	f.hub.Notify(name, seq)
	return seq
}

func (f *fixture) open(t *testing.T, name string, lastID string) *testutil.SSE {
	t.Helper()
	h := http.Header{}
	if lastID != "" {
		h.Set("Last-Event-ID", lastID)
	}
	return testutil.OpenSSE(t, f.srv.Client(), f.srv.URL+"/stream/"+name, h)
}

// waitStreams waits until the hub has n open streams.
func waitStreams(t *testing.T, h *realtime.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _, _ := h.Stats()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d streams, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEventsArriveInOrderWithIDsAndTheFinalEventEndsTheStream(t *testing.T) {
	f := newFixture(t, realtime.Config{}, 0)
	f.publish("a", "delta", "one")
	f.publish("a", "delta", "two")
	s := f.open(t, "a", "")
	for i, want := range []string{"one", "two"} {
		fr := s.MustNext(5 * time.Second)
		if fr.ID != strconv.Itoa(i+1) || fr.Event != "delta" || fr.Data != want {
			t.Fatalf("frame %d: %+v", i+1, fr)
		}
	}
	// Live events after the replay, multi-line data intact, carriage
	// returns normalised (a raw \r would end the line early).
	f.publish("a", "delta", "three\nlines\r\nhere")
	if fr := s.MustNext(5 * time.Second); fr.ID != "3" || fr.Data != "three\nlines\nhere" {
		t.Fatalf("frame 3: %+v", fr)
	}
	f.publish("a", "done", `{"status":"succeeded"}`)
	if fr := s.MustNext(5 * time.Second); fr.ID != "4" || fr.Event != "done" {
		t.Fatalf("frame 4: %+v", fr)
	}
	s.WaitEnd(5 * time.Second)
	waitStreams(t, f.hub, 0)

	// A stream opened after the end gets the whole sequence and ends.
	late := f.open(t, "a", "")
	for i := 1; i <= 4; i++ {
		if fr := late.MustNext(5 * time.Second); fr.ID != strconv.Itoa(i) {
			t.Fatalf("late frame %d: %+v", i, fr)
		}
	}
	late.WaitEnd(5 * time.Second)
}

func TestResumeFromLastEventIDLosesAndRepeatsNothing(t *testing.T) {
	f := newFixture(t, realtime.Config{BatchSize: 3}, 0)
	for i := 1; i <= 5; i++ {
		f.publish("r", "delta", fmt.Sprint("e", i))
	}
	first := f.open(t, "r", "")
	var got []string
	for i := 0; i < 5; i++ {
		fr := first.MustNext(5 * time.Second)
		got = append(got, fr.ID)
	}
	first.Close() // the connection drops after event 5
	for i := 6; i <= 12; i++ {
		f.publish("r", "delta", fmt.Sprint("e", i))
	}
	// The browser reconnects with the last id it saw.
	second := f.open(t, "r", got[len(got)-1])
	for i := 6; i <= 12; i++ {
		fr := second.MustNext(5 * time.Second)
		if fr.ID != strconv.Itoa(i) || fr.Data != fmt.Sprint("e", i) {
			t.Fatalf("after reconnect: want event %d, got %+v", i, fr)
		}
		got = append(got, fr.ID)
	}
	f.publish("r", "done", "{}")
	if fr := second.MustNext(5 * time.Second); fr.ID != "13" {
		t.Fatalf("done: %+v", fr)
	}
	second.WaitEnd(5 * time.Second)
	if strings.Join(got, ",") != "1,2,3,4,5,6,7,8,9,10,11,12" {
		t.Fatalf("ids seen: %v", got)
	}
}

func TestSubscribersOfOneTopicShareReadsAndJoinAtTheirOwnPlace(t *testing.T) {
	f := newFixture(t, realtime.Config{}, 0)
	f.publish("s", "delta", "1")
	a := f.open(t, "s", "")
	a.MustNext(5 * time.Second)
	b := f.open(t, "s", "1") // resumes after 1
	waitStreams(t, f.hub, 2)
	if _, topics, _ := f.hub.Stats(); topics != 1 {
		t.Fatalf("topics = %d, want 1", topics)
	}
	f.publish("s", "delta", "2")
	for _, s := range []*testutil.SSE{a, b} {
		if fr := s.MustNext(5 * time.Second); fr.ID != "2" {
			t.Fatalf("got %+v, want event 2", fr)
		}
	}
	before := f.topic("s").loads.Load()
	for i := 3; i <= 20; i++ {
		f.publish("s", "delta", strconv.Itoa(i))
	}
	for _, s := range []*testutil.SSE{a, b} {
		for i := 3; i <= 20; i++ {
			if fr := s.MustNext(5 * time.Second); fr.ID != strconv.Itoa(i) {
				t.Fatalf("got %+v, want event %d", fr, i)
			}
		}
	}
	// Eighteen notifications for two subscribers: at most one read each
	// (coalesced), never one per subscriber.
	if n := f.topic("s").loads.Load() - before; n > 18 {
		t.Fatalf("%d reads for 18 notifications and 2 subscribers", n)
	}
}

func TestReplayLogStaysEmpty(t *testing.T) {
	f := newFixture(t, realtime.Config{}, 0)
	s := f.open(t, "log", "")
	waitStreams(t, f.hub, 1)
	for i := 0; i < 200; i++ {
		f.publish("log", "delta", strings.Repeat("x", 100))
	}
	for i := 0; i < 200; i++ {
		s.MustNext(5 * time.Second)
	}
	for _, n := range f.hub.ReplayLogLens() {
		if n != 0 {
			t.Fatalf("r3labs' replay log holds %d events; AutoReplay must be off", n)
		}
	}
}

func TestHeartbeatsAndNoServerTimeouts(t *testing.T) {
	// The server's read and write timeouts are shorter than the stream:
	// the hub must clear them, or the stream is cut.
	f := newFixture(t, realtime.Config{Heartbeat: 50 * time.Millisecond}, 300*time.Millisecond)
	s := f.open(t, "hb", "")
	beats := 0
	deadline := time.Now().Add(1200 * time.Millisecond)
	for time.Now().Before(deadline) {
		fr, err := s.Next(time.Second)
		if err != nil {
			t.Fatalf("after %d heartbeats: %v", beats, err)
		}
		if fr.Comment != "keep-alive" || fr.HasID || fr.Data != "" {
			t.Fatalf("heartbeat frame: %+v", fr)
		}
		beats++
	}
	if beats < 10 {
		t.Fatalf("%d heartbeats in 1.2 s at 50 ms", beats)
	}
	// Still alive past both timeouts: an event goes through.
	f.publish("hb", "delta", "late")
	if fr := s.MustNext(2 * time.Second); fr.Data != "late" {
		t.Fatalf("after the timeouts: %+v", fr)
	}
}

// A stream that receives events needs no heartbeats (with thousands of
// streams, they were a burst of writes every period); one that goes idle
// gets them again.
func TestStreamsReceivingEventsGetNoHeartbeats(t *testing.T) {
	f := newFixture(t, realtime.Config{Heartbeat: 300 * time.Millisecond}, 0)
	s := f.open(t, "busy", "")
	waitStreams(t, f.hub, 1)
	stop := make(chan struct{})
	published := make(chan int)
	go func() {
		n := 0
		defer func() { published <- n }()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				n++
				f.publish("busy", "delta", strconv.Itoa(n))
			}
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	n := <-published
	for i := 1; i <= n; i++ {
		fr, err := s.Next(5 * time.Second)
		if err != nil {
			t.Fatalf("event %d of %d: %v", i, n, err)
		}
		if fr.Comment != "" {
			t.Fatalf("a heartbeat before event %d of %d, while events arrived every 20 ms (heartbeat 300 ms)", i, n)
		}
		if fr.Data != strconv.Itoa(i) {
			t.Fatalf("event %d: %+v", i, fr)
		}
	}
	if fr, err := s.Next(2 * time.Second); err != nil || fr.Comment != "keep-alive" {
		t.Fatalf("once idle, a heartbeat; got %+v (%v)", fr, err)
	}
}

// Idle streams that opened together are not all sent their heartbeat at
// the same moment: at most twice the average number per look (a quarter
// of the period), the rest at the next look.
func TestHeartbeatsOfStreamsOpenedTogetherAreSpread(t *testing.T) {
	const n = 12
	f := newFixture(t, realtime.Config{Heartbeat: 400 * time.Millisecond}, 0)
	streams := make([]*testutil.SSE, n)
	for i := range streams {
		streams[i] = f.open(t, "idle"+strconv.Itoa(i), "")
	}
	waitStreams(t, f.hub, n)
	first := make([]time.Time, n)
	errs := make([]error, n)
	var g sync.WaitGroup
	for i, s := range streams {
		g.Go(func() {
			fr, err := s.Next(5 * time.Second)
			first[i] = time.Now()
			if err == nil && fr.Comment != "keep-alive" {
				err = fmt.Errorf("the first frame is not a heartbeat: %+v", fr)
			}
			errs[i] = err
		})
	}
	g.Wait()
	earliest, latest := first[0], first[0]
	for i, at := range first {
		if errs[i] != nil {
			t.Fatalf("stream %d: %v", i, errs[i])
		}
		if at.Before(earliest) {
			earliest = at
		}
		if at.After(latest) {
			latest = at
		}
	}
	// The looks are 100 ms apart; one look may send 6 of the 12.
	if spread := latest.Sub(earliest); spread < 50*time.Millisecond {
		t.Fatalf("the %d streams' first heartbeats arrived within %s: sent at once", n, spread)
	}
}

func TestMaxLifetimeEndsTheStream(t *testing.T) {
	f := newFixture(t, realtime.Config{Heartbeat: 20 * time.Millisecond, MaxLifetime: 100 * time.Millisecond}, 0)
	s := f.open(t, "life", "")
	s.WaitEnd(3 * time.Second)
}

// A client that stops reading must not hold up the others on the same
// topic: it falls behind, then is dropped, and the others receive every
// event on time (in order, none twice, though their small buffers fill
// too and they are fed from the store now and then).
func TestStalledSubscriberDoesNotBlockOthers(t *testing.T) {
	f := newFixture(t, realtime.Config{Buffer: 8, StallTimeout: 500 * time.Millisecond}, 0)
	// The stalled client: sends the request, never reads a byte.
	conn, err := net.Dial("tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	fmt.Fprintf(conn, "GET /stream/busy HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
	good := f.open(t, "busy", "")
	waitStreams(t, f.hub, 2)

	big := strings.Repeat("y", 64<<10)
	const n = 200 // 12.8 MB: far more than socket buffers hold
	received := make(chan int, 1)
	go func() {
		got := 0
		for got < n {
			fr, err := good.NextEvent(10 * time.Second)
			if err != nil || fr.ID != strconv.Itoa(got+1) {
				break
			}
			got++
		}
		received <- got
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		f.publish("busy", "delta", big)
		if i%20 == 0 {
			time.Sleep(5 * time.Millisecond) // let the good reader keep up
		}
	}
	select {
	case got := <-received:
		if got != n {
			t.Fatalf("the reading client got %d of %d events", got, n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the reading client was held up by the stalled one")
	}
	t.Logf("%d events of 64 KiB to the reading client in %s", n, time.Since(start))
	// The stalled one was dropped and its handler returned.
	waitStreams(t, f.hub, 1)
	if _, _, dropped := f.hub.Stats(); dropped != 1 {
		t.Fatalf("dropped = %d, want 1", dropped)
	}
}

// Shutdown: http.Server.Shutdown waits for handlers; the hub's Close,
// registered with RegisterOnShutdown, ends the streams so it returns at
// once instead of at its deadline. New streams are refused meanwhile.
func TestShutdownEndsStreamsPromptly(t *testing.T) {
	f := newFixture(t, realtime.Config{}, 0)
	f.srv.Config.RegisterOnShutdown(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.hub.Close(ctx)
	})
	var streams []*testutil.SSE
	for i := 0; i < 5; i++ {
		streams = append(streams, f.open(t, "down"+strconv.Itoa(i%2), ""))
	}
	waitStreams(t, f.hub, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := f.srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown took %s with open streams", d)
	}
	for _, s := range streams {
		s.WaitEnd(2 * time.Second)
	}
	// A stream asked for now is refused.
	rec := httptest.NewRecorder()
	if err := f.hub.Serve(rec, httptest.NewRequest("GET", "/stream/x", nil), realtime.Subscription{Topic: "x"}); !errors.Is(err, realtime.ErrClosed) {
		t.Fatalf("Serve after Close: %v", err)
	}
}

// Without the hub's care r3labs leaks two goroutines per closed stream
// (a stream removed before its subscriber left blocks the subscriber's
// deregistration forever). Open and close many streams; the goroutines
// come back down.
func TestClosedStreamsLeaveNoGoroutines(t *testing.T) {
	f := newFixture(t, realtime.Config{}, 0)
	f.publish("g", "delta", "x")
	warm := f.open(t, "g", "")
	warm.MustNext(5 * time.Second)
	warm.Close()
	waitStreams(t, f.hub, 0)
	f.srv.Client().CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	base := runtime.NumGoroutine()
	for round := 0; round < 3; round++ {
		var ss []*testutil.SSE
		for i := 0; i < 20; i++ {
			ss = append(ss, f.open(t, fmt.Sprintf("g%d-%d", round, i%3), ""))
		}
		waitStreams(t, f.hub, 20)
		for i, s := range ss {
			if i%2 == 0 {
				s.Close() // the client goes away
			}
		}
		for i := 0; i < 3; i++ {
			f.publish(fmt.Sprintf("g%d-%d", round, i), "done", "{}") // the rest end with done
		}
		waitStreams(t, f.hub, 0)
	}
	f.srv.Client().CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base+3 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines after closing 60 streams, %d before\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestResyncReadsWhatNotificationsMissed(t *testing.T) {
	f := newFixture(t, realtime.Config{}, 0)
	s := f.open(t, "m", "")
	waitStreams(t, f.hub, 1)
	time.Sleep(50 * time.Millisecond)   // the topic has read (nothing) already
	f.topic("m").add("delta", "missed") // stored, but its notification is lost
	if _, err := s.NextEvent(200 * time.Millisecond); err == nil {
		t.Fatal("an event arrived without a notification")
	}
	f.hub.Resync()
	if fr := s.MustNext(5 * time.Second); fr.Data != "missed" {
		t.Fatalf("after resync: %+v", fr)
	}
}
