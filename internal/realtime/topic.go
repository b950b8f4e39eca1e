package realtime

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// topic is the open streams of one event sequence on this instance, fed by
// one goroutine (its pump): a notification makes the pump read the new
// events once and hand them to every subscriber that is up to date, so a
// hundred browsers on one run cost one query per notification, not a
// hundred.
//
// A subscriber whose buffer is full is not waited for: it falls behind and
// is fed again from the database, from the last event it was given, when
// its buffer has room (the pump retries every lagRetry). Stored events are
// the backlog, so a slow reader costs no memory beyond its buffer. One
// that makes no progress for StallTimeout is dropped.
type topic struct {
	name  string
	load  LoadFunc
	kick  chan struct{}
	quit  chan struct{}
	refs  int  // subscribers joined (under Hub.mu)
	fresh bool // nothing read yet (pump only)
	lags  bool // some subscriber is behind (pump only)

	// cursor is the newest seq read (written by the pump only).
	cursor atomic.Int64

	mu    sync.Mutex
	subs  map[*subscriber]struct{}
	joins []*subscriber
}

// lagRetry is how often the pump offers events again to subscribers that
// fell behind.
const lagRetry = 50 * time.Millisecond

func (t *topic) poke() {
	select {
	case t.kick <- struct{}{}:
	default: // a read is already due; it will see everything
	}
}

// join adds s to its topic, starting the topic's pump if needed. The pump
// first replays what s missed (from its Last-Event-ID), then s receives
// what the pump reads next: nothing is lost or sent twice, because both
// happen on the pump's goroutine, in seq order.
func (h *Hub) join(s *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left || s.joined {
		return
	}
	s.joined = true
	h.mu.Lock()
	t := h.topics[s.topic]
	if t == nil {
		t = &topic{name: s.topic, load: s.load, kick: make(chan struct{}, 1), quit: make(chan struct{}), fresh: true, subs: map[*subscriber]struct{}{}}
		h.topics[s.topic] = t
		go h.pump(t)
	}
	t.refs++
	h.mu.Unlock()
	t.mu.Lock()
	t.joins = append(t.joins, s)
	t.mu.Unlock()
	t.poke()
}

// leave takes s out of its topic; the last one out stops the pump.
func (h *Hub) leave(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[s.topic]
	if t == nil {
		return
	}
	t.mu.Lock()
	delete(t.subs, s)
	for i, j := range t.joins {
		if j == s {
			t.joins = append(t.joins[:i], t.joins[i+1:]...)
			break
		}
	}
	t.mu.Unlock()
	t.refs--
	if t.refs == 0 {
		delete(h.topics, s.topic)
		close(t.quit)
	}
}

// pump reads and delivers until the topic has no subscribers.
func (h *Hub) pump(t *topic) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-t.quit:
			return
		case <-t.kick:
		case <-retry.C:
		}
		err := h.step(t)
		wait := time.Duration(0)
		switch {
		case err != nil:
			select {
			case <-t.quit:
				return
			default:
			}
			h.log.Warn("realtime: reading events failed; retrying", "topic", t.name, "error", err)
			wait = time.Second
		case t.lags:
			wait = lagRetry
		}
		if wait > 0 {
			retry.Reset(wait)
		}
	}
}

// step admits new subscribers, reads the events after the cursor and
// offers them to every subscriber that is up to date, then feeds the ones
// behind from the database.
func (h *Hub) step(t *topic) error {
	t.mu.Lock()
	joins := t.joins
	t.joins = nil
	for _, s := range joins {
		s.last = s.after
		t.subs[s] = struct{}{}
	}
	subs := make([]*subscriber, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	t.mu.Unlock()
	if t.fresh && len(joins) > 0 {
		// Start reading where the earliest newcomer is; later ones catch
		// up from the database.
		c := joins[0].after
		for _, s := range joins[1:] {
			c = min(c, s.after)
		}
		t.cursor.Store(c)
		t.fresh = false
	}
	for {
		prev := t.cursor.Load()
		evs, err := h.read(t, prev)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		t.cursor.Store(evs[len(evs)-1].Seq)
		for _, s := range subs {
			if s.last == prev {
				h.offer(s, evs)
			}
		}
		if len(evs) < h.cfg.BatchSize {
			break
		}
	}
	t.lags = false
	for _, s := range subs {
		if err := h.feed(t, s); err != nil {
			t.lags = true
			return err
		}
		if s.last < t.cursor.Load() && s.isLive() {
			t.lags = true
		}
	}
	return nil
}

// feed brings s up to the cursor from the database, as far as its buffer
// allows, and drops it when it has made no progress for StallTimeout.
func (h *Hub) feed(t *topic, s *subscriber) error {
	cursor := t.cursor.Load()
	for s.last < cursor && s.isLive() {
		before := s.last
		evs, err := h.read(t, s.last)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		all := h.offer(s, evs)
		if s.last > before {
			s.lagSince = time.Now()
		}
		if !all {
			break
		}
	}
	switch {
	case s.last >= cursor || !s.isLive():
		s.lagSince = time.Time{}
	case s.lagSince.IsZero():
		s.lagSince = time.Now()
	case time.Since(s.lagSince) > h.cfg.StallTimeout:
		h.drop(s)
	}
	return nil
}

func (h *Hub) read(t *topic, after int64) ([]Event, error) {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.LoadTimeout)
	defer cancel()
	return t.load(ctx, after, h.cfg.BatchSize)
}

// offer formats the events s has not had yet and queues as many frames as
// its buffer takes; s.last moves to the last event queued. After a final
// event the stream ends. It reports whether everything was queued.
func (h *Hub) offer(s *subscriber, evs []Event) bool {
	i := 0
	for i < len(evs) && evs[i].Seq <= s.last {
		i++
	}
	evs = evs[i:]
	if len(evs) == 0 {
		return true
	}
	frames := s.format(evs)
	n, live := h.send(s, frames)
	if !live {
		return true // gone: nothing to catch up
	}
	if n < len(frames) {
		if n > 0 {
			if id, err := strconv.ParseInt(string(frames[n-1].ID), 10, 64); err == nil && id > s.last {
				s.last = id
			}
		}
		return false
	}
	s.last = evs[len(evs)-1].Seq
	for _, e := range evs {
		if s.final(e) {
			h.finish(s)
			break
		}
	}
	return true
}
