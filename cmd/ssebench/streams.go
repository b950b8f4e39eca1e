package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/agents/runs"
	"accute/internal/benchutil"
	"accute/internal/db"
	"accute/internal/seed"
	"accute/internal/store"
)

// publishers is how many connections publish events at once (each owns
// a share of the runs, so a run's events are written in order).
const publishers = 16

// stream is one open SSE connection of the streams benchmark.
type stream struct {
	run  int
	conn *sseConn

	lat       []int32 // delivery latency (µs) of the events sent in the window
	seqs      []int64 // their seqs
	recv      []int64 // and when they arrived (UnixNano)
	delivered int     // delta events received
	last      int64   // last id received
	gaps      int     // ids skipped
	done      bool    // the done event arrived
	err       error   // how the stream ended, when not with done
}

// window is the measurement's interval, in UnixNano of the send time;
// to is 0 while it lasts.
type window struct{ from, to atomic.Int64 }

func (w *window) has(ts int64) bool {
	from, to := w.from.Load(), w.to.Load()
	return from != 0 && ts >= from && (to == 0 || ts < to)
}

func benchStreams(ctx context.Context, s *server, o options) ([]string, error) {
	st, err := store.Open(ctx, s.dsn, publishers+1)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	orgID, runIDs, err := createRuns(ctx, s.dsn, o.runs)
	if err != nil {
		return nil, fmt.Errorf("create runs: %w", err)
	}
	time.Sleep(time.Second)
	rssBefore, _ := benchutil.ProcStatus(s.pid, "VmRSS:")
	peak := startSampling(s.pid, 100*time.Millisecond)

	// Open the streams, a few at a time, spread over the runs and over
	// loopback addresses of the server (which listens on all): a client's
	// ephemeral port (32768-60999 on Linux) is unique per destination, so
	// each address holds another 28,000 connections.
	var win window
	streams := make([]*stream, o.streams)
	subs := make([]int, o.runs)
	header := http.Header{"Authorization": {"Bearer " + s.token}}
	host := fmt.Sprintf("127.0.0.1:%d", s.port)
	var readers sync.WaitGroup
	var openErr error
	var openMu sync.Mutex
	next := make(chan int)
	var openers sync.WaitGroup
	t0 := time.Now()
	for range o.openConc {
		openers.Go(func() {
			for i := range next {
				r := i % o.runs
				addr := fmt.Sprintf("127.0.0.%d:%d", 1+i%o.addresses, s.port)
				c, err := openStream(ctx, addr, host, "/api/v1/orgs/"+seed.OrgSlug+"/runs/"+runIDs[r].String()+"/stream", header, 1024)
				if err != nil {
					openMu.Lock()
					if openErr == nil {
						openErr = fmt.Errorf("stream %d: %w", i, err)
					}
					openMu.Unlock()
					continue
				}
				sm := &stream{run: r, conn: c}
				streams[i] = sm
				readers.Go(func() { sm.read(&win) })
			}
		})
	}
	for i := range o.streams {
		openMu.Lock()
		failed := openErr != nil
		openMu.Unlock()
		if failed {
			break
		}
		next <- i
	}
	close(next)
	openers.Wait()
	openTime := time.Since(t0)
	closeAll := func() {
		for _, sm := range streams {
			if sm != nil {
				sm.conn.Close()
			}
		}
	}
	if openErr != nil {
		closeAll()
		readers.Wait()
		return nil, fmt.Errorf("opening streams: %w", openErr)
	}
	for _, sm := range streams {
		subs[sm.run]++
	}
	fmt.Fprintf(os.Stderr, "ssebench: %d streams open in %s\n", o.streams, openTime.Round(time.Millisecond))
	time.Sleep(time.Second)
	rssOpen, _ := benchutil.ProcStatus(s.pid, "VmRSS:")

	// Publish, warm up, then measure.
	backends, err := backendPIDs(ctx, st)
	if err != nil {
		closeAll()
		readers.Wait()
		return nil, err
	}
	pub := newPublisher(st, orgID, runIDs)
	pubCtx, stopPub := context.WithCancel(ctx)
	pubDone := make(chan error, 1)
	go func() { pubDone <- pub.run(pubCtx, o.rate, &win) }()
	time.Sleep(o.warmup)
	srvCPU0, pgCPU0, ownCPU0 := benchutil.ProcsCPU([]int{s.pid}), benchutil.ProcsCPU(backends), benchutil.ProcessCPU()
	win.from.Store(time.Now().UnixNano())
	time.Sleep(o.duration)
	win.to.Store(time.Now().UnixNano())
	srvCPU, pgCPU, ownCPU := benchutil.ProcsCPU([]int{s.pid})-srvCPU0, benchutil.ProcsCPU(backends)-pgCPU0, benchutil.ProcessCPU()-ownCPU0
	stopPub()
	if err := <-pubDone; err != nil {
		closeAll()
		readers.Wait()
		return nil, fmt.Errorf("publishing: %w", err)
	}
	load := loadAverage()
	rssPeak := peak.stop()

	// The end: every run's done event must reach every stream, in order.
	if err := pub.finish(ctx); err != nil {
		closeAll()
		readers.Wait()
		return nil, fmt.Errorf("publishing done: %w", err)
	}
	ended := make(chan struct{})
	go func() { readers.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(60 * time.Second):
		closeAll()
		<-ended
	}
	closeAll()
	hwm, _ := benchutil.ProcStatus(s.pid, "VmHWM:")

	var all, hub []time.Duration
	delivered, gaps, early, quiet := 0, 0, 0, 0
	var firstEnd error
	for _, sm := range streams {
		for i, us := range sm.lat {
			all = append(all, time.Duration(us)*time.Microsecond)
			if c := pub.commits[sm.run]; sm.seqs[i] >= 1 && sm.seqs[i] <= int64(len(c)) {
				hub = append(hub, time.Duration(sm.recv[i]-c[sm.seqs[i]-1]))
			}
		}
		delivered += sm.delivered
		gaps += sm.gaps
		if !sm.done {
			early++
			if firstEnd == nil {
				firstEnd = sm.err
			}
		}
		if len(sm.lat) == 0 {
			quiet++
		}
	}
	if o.timeline {
		// Slow deliveries per second of the window (by send time): bursts
		// show up as seconds with many.
		slow, total := map[int64]int{}, map[int64]int{}
		for _, sm := range streams {
			for i, us := range sm.lat {
				sec := (sm.recv[i] - int64(us)*1000 - win.from.Load()) / 1e9
				total[sec]++
				if us > 100_000 {
					slow[sec]++
				}
			}
		}
		for sec := int64(0); sec <= int64(o.duration/time.Second); sec++ {
			at := time.Unix(0, win.from.Load()).Add(time.Duration(sec) * time.Second)
			fmt.Printf("second %2d: %6d deliveries, %5d over 100 ms\n", sec, total[sec], slow[sec])
			for _, l := range s.gcs.in(at, at.Add(time.Second)) {
				fmt.Println("  server", l)
			}
		}
	}
	expected := 0
	for r, n := range pub.inWindow {
		expected += n * subs[r]
	}
	slices.Sort(all)
	p := func(q float64) time.Duration { return benchutil.Percentile(all, q) }
	sent := 0
	for _, n := range pub.inWindow {
		sent += n
	}
	window := time.Duration(win.to.Load() - win.from.Load())
	cpu := func(d time.Duration) string { return fmt.Sprintf("%.0f%%", 100*d.Seconds()/window.Seconds()) }

	fmt.Printf("\n### Concurrent SSE streams on one instance\n\n")
	fmt.Printf("%d API run streams (`GET /api/v1/orgs/demo/runs/{id}/stream`, a personal access token) held open on one server, %d per run over %d running runs, "+
		"to %d loopback addresses of the server; opened %d at a time in %s (%.0f/s). Events published like the run worker does "+
		"(`AppendAgentRunEvents` in an organization transaction: the row and `pg_notify`, delivered at commit) from %d connections, round robin over the runs at an even pace, "+
		"each a delta whose text is its send time; latency is publish (before the transaction) to the frame read by the client. "+
		"%s of warm-up, then %s measured.\n\n",
		o.streams, o.streams/o.runs, o.runs, o.addresses, o.openConc, openTime.Round(time.Millisecond), float64(o.streams)/openTime.Seconds(),
		min(publishers, o.runs), o.warmup, o.duration)
	fmt.Println("| streams | events published | deliveries (expected) | p50 | p95 | p99 | max | server RSS: before, streams open, peak | dropped or gaps |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	fmt.Printf("| %d | %d (%.0f/s) | %d (%d) | %s | %s | %s | %s | %s, %s, %s | %d, %d |\n",
		o.streams, sent, float64(sent)/window.Seconds(), len(all), expected, ms(p(50)), ms(p(95)), ms(p(99)), ms(p(100)),
		mb(rssBefore), mb(rssOpen), mb(rssPeak), early, gaps)
	slices.Sort(pub.txs)
	slices.Sort(hub)
	fmt.Printf("\nThe publishing transaction itself (begin, tenant context, insert and notify, commit with its WAL flush) took p50 %s, p99 %s; "+
		"from its commit to the client (NOTIFY, the hub's read, fan-out, write): p50 %s, p95 %s, p99 %s. ",
		ms(benchutil.Percentile(pub.txs, 50)), ms(benchutil.Percentile(pub.txs, 99)),
		ms(benchutil.Percentile(hub, 50)), ms(benchutil.Percentile(hub, 95)), ms(benchutil.Percentile(hub, 99)))
	fmt.Printf("Server memory per open stream: %.1f KB; peak RSS over the server's life (VmHWM) %s. CPU during the measurement (of one core): server %s, "+
		"PostgreSQL backends %s, ssebench %s; load average at the end of it: %s. Delta events received over the whole run: %d. "+
		"Streams without an event in the window: %d. Every stream then received its run's done event: %d of %d.\n",
		float64(rssOpen-rssBefore)/1e3/float64(o.streams), mb(hwm), cpu(srvCPU), cpu(pgCPU), cpu(ownCPU), load, delivered, quiet, o.streams-early, o.streams)

	var failures []string
	if early > 0 {
		failures = append(failures, fmt.Sprintf("%d streams ended without their done event (first: %v)", early, firstEnd))
	}
	if gaps > 0 {
		failures = append(failures, fmt.Sprintf("%d events skipped in streams", gaps))
	}
	if len(all) != expected {
		failures = append(failures, fmt.Sprintf("%d deliveries of events sent in the window, expected %d", len(all), expected))
	}
	if p(99) >= o.maxP99 {
		failures = append(failures, fmt.Sprintf("delivery p99 %s is over the target %s", ms(p(99)), ms(o.maxP99)))
	}
	if rssPeak >= o.maxRSS {
		failures = append(failures, fmt.Sprintf("server RSS %s is over the limit %s", mb(rssPeak), mb(o.maxRSS)))
	}
	return failures, nil
}

// read records the stream's events until done, an error or Close.
func (sm *stream) read(win *window) {
	var f frame
	for {
		if err := sm.conn.next(&f, false); err != nil {
			sm.err = err
			return
		}
		if sm.last != 0 && f.id != sm.last+1 {
			sm.gaps++
		}
		sm.last = f.id
		switch f.event {
		case runs.EventDelta:
			sm.delivered++
			if ts := stamp(f.data); win.has(ts) {
				at := f.at.UnixNano()
				sm.lat = append(sm.lat, int32((at-ts)/1000))
				sm.seqs, sm.recv = append(sm.seqs, f.id), append(sm.recv, at)
			}
		case runs.EventDone:
			sm.done = true
			return
		}
	}
}

// stamp reads the send time out of a delta's data, {"text": "~<ns>"}.
func stamp(data []byte) int64 {
	i := bytes.IndexByte(data, '~')
	if i < 0 {
		return 0
	}
	n := int64(0)
	for _, c := range data[i+1:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// createRuns adds n conversations of the demo owner with Luca, each with a
// running run (as a worker that has started it leaves it), directly in the
// database.
func createRuns(ctx context.Context, dsn string, n int) (uuid.UUID, []uuid.UUID, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return uuid.Nil, nil, err
	}
	defer conn.Close(ctx)
	var orgID uuid.UUID
	if err := conn.QueryRow(ctx, "SELECT id FROM organizations WHERE slug = $1", seed.OrgSlug).Scan(&orgID); err != nil {
		return uuid.Nil, nil, err
	}
	rows, err := conn.Query(ctx, `
WITH conv AS (
    INSERT INTO agent_conversations (organization_id, user_id, agent_slug, title)
    SELECT $1, u.id, 'luca', 'ssebench ' || g FROM users u, generate_series(1, $2::int) g WHERE u.email = $3
    RETURNING organization_id, id, user_id
)
INSERT INTO agent_runs (organization_id, conversation_id, user_id, agent_slug, status, started_at, provider, model)
SELECT organization_id, id, user_id, 'luca', 'running', now(), 'compatible', 'bench-model' FROM conv
RETURNING id`, orgID, n, seed.OwnerEmail)
	if err != nil {
		return uuid.Nil, nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err == nil && len(ids) != n {
		err = fmt.Errorf("created %d runs, wanted %d", len(ids), n)
	}
	return orgID, ids, err
}

// backendPIDs are the PostgreSQL backends of the bench database.
func backendPIDs(ctx context.Context, st *store.Store) ([]int, error) {
	rows, err := st.Pool.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// publisher appends the runs' events as the run worker does.
type publisher struct {
	st       *store.Store
	org      uuid.UUID
	runs     []uuid.UUID
	seq      []int64   // the last seq of each run
	commits  [][]int64 // when each event's transaction had committed (UnixNano), by run and seq-1
	inWindow []int     // events of each run sent in the window

	mu  sync.Mutex
	txs []time.Duration // the transactions' durations, in the window
}

func newPublisher(st *store.Store, org uuid.UUID, ids []uuid.UUID) *publisher {
	return &publisher{st: st, org: org, runs: ids, seq: make([]int64, len(ids)), commits: make([][]int64, len(ids)), inWindow: make([]int, len(ids))}
}

func (p *publisher) append(ctx context.Context, r int, typ string, data []byte) error {
	seq := p.seq[r] + 1
	err := p.st.InOrg(ctx, p.org, func(q *db.Queries) error {
		_, err := q.AppendAgentRunEvents(ctx, db.AppendAgentRunEventsParams{
			Channel: runs.EventsChannel, Payload: p.runs[r].String() + ":" + strconv.FormatInt(seq, 10),
			OrganizationID: p.org, RunID: p.runs[r], Seqs: []int64{seq}, Types: []string{typ}, Datas: [][]byte{data}})
		return err
	})
	if err == nil {
		p.seq[r] = seq
		p.commits[r] = append(p.commits[r], time.Now().UnixNano())
	}
	return err
}

// run publishes rate deltas a second until ctx ends: publisher w of n
// takes the runs w, w+n, ... in turn, its ticks offset from the others' so
// that events are spread evenly over time, not published n at once.
func (p *publisher) run(ctx context.Context, rate int, win *window) error {
	var g sync.WaitGroup
	n := min(publishers, len(p.runs))
	errs := make(chan error, n)
	every := time.Duration(n) * time.Second / time.Duration(rate)
	for w := range n {
		g.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(every * time.Duration(w) / time.Duration(n)):
			}
			tick := time.NewTicker(every)
			defer tick.Stop()
			r := w
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				if r >= len(p.runs) {
					r = w
				}
				ts := time.Now().UnixNano()
				// Not cancelled with ctx: a transaction cut short could
				// commit without this side knowing, and seqs would clash.
				err := p.append(context.WithoutCancel(ctx), r, runs.EventDelta, []byte(`{"text": "~`+strconv.FormatInt(ts, 10)+`"}`))
				if err != nil {
					errs <- err
					return
				}
				if win.has(ts) {
					p.inWindow[r]++
					d := time.Duration(time.Now().UnixNano() - ts)
					p.mu.Lock()
					p.txs = append(p.txs, d)
					p.mu.Unlock()
				}
				r += n
			}
		})
	}
	g.Wait()
	close(errs)
	return <-errs
}

// finish appends every run's done event.
func (p *publisher) finish(ctx context.Context) error {
	var g sync.WaitGroup
	errs := make(chan error, publishers)
	done := []byte(`{"status": "succeeded", "error": "", "message_id": null, "citations": [], "usage": {"input_tokens": 0, "output_tokens": 0}}`)
	for w := range publishers {
		g.Go(func() {
			for r := w; r < len(p.runs); r += publishers {
				if err := p.append(ctx, r, runs.EventDone, done); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	g.Wait()
	close(errs)
	return <-errs
}

// sampler records the peak RSS of a process until stopped.
type sampler struct {
	peak atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
}

func startSampling(pid int, every time.Duration) *sampler {
	s := &sampler{done: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if v, err := benchutil.ProcStatus(pid, "VmRSS:"); err == nil && v > s.peak.Load() {
				s.peak.Store(v)
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	})
	return s
}

func (s *sampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.peak.Load()
}
