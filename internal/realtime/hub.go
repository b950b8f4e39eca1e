package realtime

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r3labs/sse/v2"
)

// Event is one stored event of a topic; Seq is its SSE id, increasing
// from 1 without gaps.
type Event struct {
	Seq  int64
	Type string
	Data []byte
}

// LoadFunc reads up to limit events of a topic with Seq > after, in order.
type LoadFunc func(ctx context.Context, after int64, limit int) ([]Event, error)

// Formatter turns events, in order, into the SSE frames one subscriber
// receives. It is called for one subscriber at a time and may keep state
// (the web page's formatter accumulates the answer and sends it whole),
// but it may be given events again that it was given before (when the
// subscriber fell behind, the frames that did not fit are made again) and
// must not count them twice. Every frame with data carries as its ID the
// decimal seq of the last event it covers: an empty id line would reset
// the browser's Last-Event-ID.
type Formatter func(events []Event) []*sse.Event

// Subscription is what one SSE connection wants.
type Subscription struct {
	// Topic names the event sequence ("run:<uuid>"); Notify uses it.
	Topic string
	// After is the last event the client has (Last-Event-ID), 0 for all.
	After  int64
	Load   LoadFunc
	Format Formatter
	// Final reports whether an event ends the stream (after it is sent).
	Final func(Event) bool
}

// Config tunes a Hub; zero values take the defaults.
type Config struct {
	// Heartbeat is how long a stream may go without a frame before an SSE
	// comment is sent, so proxies keep it open (15 s). Streams that
	// receive events get none.
	Heartbeat time.Duration
	// MaxLifetime ends a stream (without a final event) after this long; the
	// browser reconnects with Last-Event-ID (30 min).
	MaxLifetime time.Duration
	// Buffer is how many frames may wait for one subscriber. A subscriber
	// whose buffer is full is never waited for: it falls behind and is fed
	// from the database when it has room again (256).
	Buffer int
	// StallTimeout drops a subscriber that is behind and has taken nothing
	// for this long (30 s); its write is aborted and the browser
	// reconnects with Last-Event-ID.
	StallTimeout time.Duration
	// BatchSize is how many events one read loads (500).
	BatchSize int
	// LoadTimeout bounds one read (10 s).
	LoadTimeout time.Duration
	Logger      *slog.Logger
}

// ErrClosed is returned by Serve once the hub is shutting down; the
// handler answers 503 so the browser retries elsewhere.
var ErrClosed = errors.New("realtime: the server is shutting down")

// Hub is the process's SSE hub: open streams grouped by topic, fed from
// stored events when a topic is notified.
//
// It is built on r3labs/sse v2 and sidesteps three of its traps:
//
//   - AutoReplay (on by default) keeps every event ever published in memory
//     and renumbers its ids. The hub turns it off; a reconnecting client is
//     replayed from the database, from its Last-Event-ID.
//   - An sse.Stream delivers to its subscribers one after the other with
//     blocking sends, so one stalled client stops delivery to every other
//     client of the stream. The hub gives every connection a stream of its
//     own and fans out itself with TryPublish: a client whose buffer is
//     full falls behind and is fed again from the database later; one
//     that takes nothing for StallTimeout is dropped (its write is
//     aborted) and reconnects with Last-Event-ID. Nobody waits for it.
//   - http.Server.Shutdown waits for open streams until its deadline. Close
//     ends every stream first (main.go calls it from RegisterOnShutdown).
//
// Streams also clear the server's read and write deadlines (an SSE
// response is as long as the run it follows) and send heartbeats.
type Hub struct {
	cfg Config
	log *slog.Logger
	srv *sse.Server

	mu     sync.Mutex
	closed bool
	topics map[string]*topic
	subs   map[string]*subscriber
	wg     sync.WaitGroup
	seq    atomic.Uint64

	ctx    context.Context // cancelled by Close: reads in flight stop
	cancel context.CancelFunc
	stop   chan struct{}

	// dropped counts subscribers dropped for being too slow (metrics).
	dropped atomic.Int64
}

// terminal makes r3labs' ServeHTTP return: it stops at an event with
// neither data nor comment.
var terminal = &sse.Event{}

var heartbeat = &sse.Event{Comment: []byte("keep-alive")}

// NewHub starts a hub; Close stops it.
func NewHub(cfg Config) *Hub {
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.MaxLifetime <= 0 {
		cfg.MaxLifetime = 30 * time.Minute
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 256
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = 30 * time.Second
	}
	if cfg.LoadTimeout <= 0 {
		cfg.LoadTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Hub{cfg: cfg, log: cfg.Logger, topics: map[string]*topic{}, subs: map[string]*subscriber{}, stop: make(chan struct{})}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	srv := sse.New()
	srv.AutoReplay = false // see the type's comment
	srv.AutoStream = false
	srv.BufferSize = cfg.Buffer
	// Multi-line data (HTML fragments) goes out as several data: lines,
	// which the browser joins with newlines; without SplitData a newline
	// in the data would end the field and corrupt the frame.
	srv.SplitData = true
	srv.Headers = map[string]string{
		"Cache-Control": "no-store",
		// Reverse proxies (nginx) would otherwise buffer the stream.
		"X-Accel-Buffering": "no",
	}
	srv.OnSubscribe = h.registered
	// A connection's stream is removed once r3labs has let its subscriber
	// go; removing it earlier would leave r3labs' own goroutine blocked on
	// the stream's deregistration channel forever.
	srv.OnUnsubscribe = func(streamID string, _ *sse.Subscriber) { srv.RemoveStream(streamID) }
	h.srv = srv
	go h.heartbeats()
	return h
}

// Serve streams sub's events to w until the final event is sent, the
// client goes away, the stream outlives MaxLifetime, the client is too slow,
// or the hub closes. The caller has authorized the request and must not
// hold a database transaction while it runs. It returns ErrClosed (before
// writing anything) when the hub is shutting down.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, sub Subscription) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	s := &subscriber{
		id: "s" + strconv.FormatUint(h.seq.Add(1), 10), topic: sub.Topic, after: max(sub.After, 0),
		load: sub.Load, format: sub.Format, final: sub.Final, started: time.Now(),
	}
	if s.final == nil {
		s.final = func(Event) bool { return false }
	}
	s.sent.Store(s.started.UnixNano())
	h.subs[s.id] = s
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	defer h.remove(s)

	// An SSE response lasts as long as what it follows: the server's read
	// and write timeouts (main.go) would cut it, and an expired read
	// deadline would even cancel the request's context.
	s.rc = http.NewResponseController(w)
	_ = s.rc.SetReadDeadline(time.Time{})
	_ = s.rc.SetWriteDeadline(time.Time{})

	h.srv.CreateStream(s.id)
	// r3labs finds the stream in the query string and would refuse a
	// Last-Event-ID that is not a number (ours always are, but the hub
	// replays from the subscription, not from r3labs).
	r2 := r.WithContext(r.Context())
	u := *r.URL
	u.RawQuery = "stream=" + s.id
	r2.URL = &u
	r2.Header = r.Header.Clone()
	r2.Header.Del("Last-Event-ID")
	h.srv.ServeHTTP(w, r2)
	return nil
}

// Notify tells the hub that topic has events up to seq (from NOTIFY). It
// never blocks.
func (h *Hub) Notify(topicName string, seq int64) {
	h.mu.Lock()
	t := h.topics[topicName]
	h.mu.Unlock()
	if t != nil && (seq <= 0 || seq > t.cursor.Load()) {
		t.poke()
	}
}

// Resync makes every topic read what it may have missed (after the
// listening connection was re-established).
func (h *Hub) Resync() {
	h.mu.Lock()
	ts := make([]*topic, 0, len(h.topics))
	for _, t := range h.topics {
		ts = append(ts, t)
	}
	h.mu.Unlock()
	for _, t := range ts {
		t.poke()
	}
}

// Stats reports the open streams and topics (for metrics and benchmarks).
func (h *Hub) Stats() (streams, topics int, dropped int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs), len(h.topics), h.dropped.Load()
}

// Close ends every open stream and waits, until ctx is done, for their
// handlers to return; new streams are refused with ErrClosed. Browsers
// reconnect (with Last-Event-ID) to another instance.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.stop)
	}
	subs := make([]*subscriber, 0, len(h.subs))
	for _, s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		h.finish(s)
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	defer h.cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// subscriber is one open SSE connection.
type subscriber struct {
	id      string
	topic   string
	after   int64
	load    LoadFunc
	format  Formatter
	final   func(Event) bool
	started time.Time
	rc      *http.ResponseController
	// sent is when a frame was last queued (UnixNano), for heartbeats.
	sent atomic.Int64

	// last is the newest seq whose frames are queued; lagSince is when it
	// last moved while the subscriber was behind (the topic's pump only).
	last     int64
	lagSince time.Time

	mu         sync.Mutex
	state      subState
	registered bool // r3labs has the subscriber: frames reach it
	joined     bool // in its topic
	left       bool // Serve returned
}

type subState int

const (
	live     subState = iota
	finished          // terminal frame queued: nothing more is sent
	dropped           // too slow: write aborted, terminal on its way
)

// registered runs (from r3labs, on its own goroutine) once the
// connection's subscriber is in its stream: frames published before that
// would be discarded, so the topic is joined only now.
func (h *Hub) registered(streamID string, _ *sse.Subscriber) {
	h.mu.Lock()
	s := h.subs[streamID]
	h.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	s.registered = true
	state := s.state
	s.mu.Unlock()
	if state == finished {
		// Close (or the lifetime) ended it before r3labs was ready.
		if !h.srv.TryPublish(s.id, terminal) {
			h.drop(s)
		}
		return
	}
	if state == live {
		h.join(s)
	}
}

// send queues frames for s until its buffer is full. It returns how many
// were queued and whether s is still live.
func (h *Hub) send(s *subscriber, frames []*sse.Event) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != live {
		return 0, false
	}
	for i, f := range frames {
		if !h.srv.TryPublish(s.id, clean(f)) {
			if i > 0 {
				s.sent.Store(time.Now().UnixNano())
			}
			return i, true
		}
	}
	if len(frames) > 0 {
		s.sent.Store(time.Now().UnixNano())
	}
	return len(frames), true
}

func (s *subscriber) isLive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == live
}

// finish queues the end of s's stream.
func (h *Hub) finish(s *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != live {
		return
	}
	s.state = finished
	if !s.registered {
		return // registered() sends it
	}
	if !h.srv.TryPublish(s.id, terminal) {
		h.dropLocked(s)
	}
}

func (h *Hub) drop(s *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h.dropLocked(s)
}

// dropLocked gives up on a subscriber that does not keep up: its pending
// write is aborted (the write deadline moves to now), so r3labs' writer
// loop drains its queue at once, and the terminal frame, queued behind
// the rest, ends it. The browser reconnects with Last-Event-ID.
func (h *Hub) dropLocked(s *subscriber) {
	if s.state == dropped {
		return
	}
	s.state = dropped
	h.dropped.Add(1)
	h.log.Info("realtime: dropping a slow stream", "stream", s.id, "topic", s.topic)
	if s.rc != nil {
		_ = s.rc.SetWriteDeadline(time.Now())
	}
	// Publish blocks until the frame is queued or the stream is removed.
	go h.srv.Publish(s.id, terminal)
}

// remove forgets s once Serve returns.
func (h *Hub) remove(s *subscriber) {
	s.mu.Lock()
	s.left = true
	if s.state == live {
		s.state = finished
	}
	joined := s.joined
	s.mu.Unlock()
	if joined {
		h.leave(s)
	}
	h.mu.Lock()
	delete(h.subs, s.id)
	h.mu.Unlock()
}

// heartbeatTicks is how many times per Heartbeat the hub looks for idle
// streams.
const heartbeatTicks = 4

// heartbeats sends a comment to every stream that has gone Heartbeat
// without a frame (none when its buffer is full: it has traffic enough),
// and ends streams older than MaxLifetime. Streams receiving events get no
// heartbeats; and at most twice the average number of heartbeats is sent
// per look, so idle streams that opened together are spread out instead of
// all written to at once: with 10,000 streams, one burst of heartbeats
// every 15 s used to hold up the events sent at that moment for hundreds
// of milliseconds (BENCHMARKS.md).
func (h *Hub) heartbeats() {
	tick := time.NewTicker(h.cfg.Heartbeat / heartbeatTicks)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
		h.mu.Lock()
		subs := make([]*subscriber, 0, len(h.subs))
		for _, s := range h.subs { // in random order: the budget is fair
			subs = append(subs, s)
		}
		h.mu.Unlock()
		budget := max(1, 2*len(subs)/heartbeatTicks)
		now := time.Now()
		idle := now.Add(-h.cfg.Heartbeat).UnixNano()
		for _, s := range subs {
			if now.Sub(s.started) > h.cfg.MaxLifetime {
				h.finish(s)
				continue
			}
			if budget == 0 || s.sent.Load() > idle {
				continue
			}
			s.mu.Lock()
			if s.state == live && s.registered && h.srv.TryPublish(s.id, heartbeat) {
				s.sent.Store(now.UnixNano())
				budget--
			}
			s.mu.Unlock()
		}
	}
}

// clean makes a frame safe for the wire: a carriage return would end an
// SSE line early, and a newline in the id or event name would break the
// frame.
func clean(f *sse.Event) *sse.Event {
	if bytes.IndexByte(f.Data, '\r') < 0 && !bytes.ContainsAny(f.ID, "\r\n") && !bytes.ContainsAny(f.Event, "\r\n") {
		return f
	}
	c := *f
	c.Data = bytes.ReplaceAll(bytes.ReplaceAll(f.Data, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
	c.ID = []byte(strings.NewReplacer("\r", "", "\n", "").Replace(string(f.ID)))
	c.Event = []byte(strings.NewReplacer("\r", "", "\n", "").Replace(string(f.Event)))
	return &c
}
