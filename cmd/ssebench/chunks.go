package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"accute/internal/agents/runs"
	"accute/internal/benchutil"
	"accute/internal/seed"
)

// fakeProvider is an OpenAI-compatible chat completions endpoint that
// streams a scripted answer: chunk i of run n is the word "r<n>c<i>", and
// its send time (just before it is written and flushed) is recorded. A
// request waits until the benchmark has opened the run's streams.
type fakeProvider struct {
	srv     *http.Server
	baseURL string

	mu     sync.Mutex
	sent   map[string]time.Time
	starts map[int]chan fakeRun
}

// fakeRun is how run n's answer is streamed.
type fakeRun struct {
	chunks   int
	interval time.Duration
}

func startFakeProvider() (*fakeProvider, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeProvider{baseURL: "http://" + ln.Addr().String() + "/v1", sent: map[string]time.Time{}, starts: map[int]chan fakeRun{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", f.complete)
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *fakeProvider) close() { _ = f.srv.Close() }

// expect registers run n; start (the returned channel) lets its answer go.
func (f *fakeProvider) expect(n int) chan<- fakeRun {
	ch := make(chan fakeRun, 1)
	f.mu.Lock()
	f.starts[n] = ch
	f.mu.Unlock()
	return ch
}

func (f *fakeProvider) sentAt(marker string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.sent[marker]
	return t, ok
}

var runMessage = regexp.MustCompile(`ssebench run (\d+)`)

func (f *fakeProvider) complete(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n := -1
	for _, m := range req.Messages {
		if sm := runMessage.FindStringSubmatch(m.Content); m.Role == "user" && sm != nil {
			n, _ = strconv.Atoi(sm[1])
		}
	}
	f.mu.Lock()
	start := f.starts[n]
	f.mu.Unlock()
	if start == nil {
		http.Error(w, `{"error":{"message":"ssebench: unexpected request"}}`, http.StatusInternalServerError)
		return
	}
	var script fakeRun
	select {
	case script = <-start:
	case <-r.Context().Done():
		return
	case <-time.After(60 * time.Second):
		http.Error(w, `{"error":{"message":"ssebench: the streams never opened"}}`, http.StatusInternalServerError)
		return
	}
	fl := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	send := func(delta, finish string) {
		fr := "null"
		if finish != "" {
			fr = `"` + finish + `"`
		}
		fmt.Fprintf(w, `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[{"index":0,"delta":%s,"finish_reason":%s}]}`+"\n\n", delta, fr)
		fl.Flush()
	}
	for i := range script.chunks {
		time.Sleep(script.interval)
		marker := fmt.Sprintf("r%dc%d", n, i)
		f.mu.Lock()
		f.sent[marker] = time.Now()
		f.mu.Unlock()
		send(`{"role":"assistant","content":" `+marker+`"}`, "")
	}
	send(`{}`, "stop")
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		fmt.Fprintf(w, `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":%d,"total_tokens":%d}}`+"\n\n", script.chunks, script.chunks+20)
	}
	_, _ = io.WriteString(w, "data: [DONE]\n\n")
	fl.Flush()
}

var markerPattern = regexp.MustCompile(`r(\d+)c(\d+)`)

// chunkReader times the chunks of run n as they appear in a stream's
// frames (the API's delta events, or the page's answer and done
// fragments, which carry the whole answer so far).
type chunkReader struct {
	n    int
	fake *fakeProvider
	seen map[string]bool
	lat  []time.Duration
	err  error
	// seqOf and recv: the event that brought each chunk and when.
	seqOf map[string]int64
	recv  map[string]time.Time
	// api: the stream is the API's (its done event is JSON with the
	// run's status).
	api bool
}

func (c *chunkReader) read(s *sseConn, dataEvents ...string) {
	c.seen, c.seqOf, c.recv = map[string]bool{}, map[string]int64{}, map[string]time.Time{}
	var f frame
	for {
		if err := s.next(&f, false); err != nil {
			c.err = fmt.Errorf("the stream ended before done: %w", err)
			return
		}
		if slices.Contains(dataEvents, f.event) {
			for _, m := range markerPattern.FindAllSubmatch(f.data, -1) {
				if n, _ := strconv.Atoi(string(m[1])); n != c.n || c.seen[string(m[0])] {
					continue
				}
				c.seen[string(m[0])] = true
				c.seqOf[string(m[0])], c.recv[string(m[0])] = f.id, f.at
				if t, ok := c.fake.sentAt(string(m[0])); ok {
					c.lat = append(c.lat, f.at.Sub(t))
				}
			}
		}
		if f.event == runs.EventDone {
			if c.api && !bytes.Contains(f.data, []byte(`"status": "succeeded"`)) && !bytes.Contains(f.data, []byte(`"status":"succeeded"`)) {
				c.err = fmt.Errorf("the run did not succeed: %.300s", f.data)
			}
			return
		}
	}
}

// chunkStats is one interval's latencies, per stream kind.
type chunkStats struct {
	interval time.Duration
	api, web []time.Duration
	// The API stream's latency split at the start of the worker's
	// transaction that wrote the chunk (agent_run_events.created_at):
	// before it (the provider client, the worker, coalescing) and after
	// (commit, NOTIFY, the hub, the write).
	worker, delivery []time.Duration
}

func benchChunks(ctx context.Context, s *server, o options) ([]string, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", s.port)
	bearer := http.Header{"Authorization": {"Bearer " + s.token}}
	cookie := http.Header{"Cookie": {s.cookie()}}
	client := &http.Client{Timeout: 30 * time.Second}
	n := 0
	var results []chunkStats
	// One run first, not timed: connections, plans and caches are warm
	// when the measured runs start.
	for i, interval := range append([]time.Duration{0}, o.chunkIntervals...) {
		res := chunkStats{interval: interval}
		count := o.chunkRuns
		if i == 0 {
			count = 1
		}
		for range count {
			n++
			start := s.fake.expect(n)
			runID, streamURL, err := startRun(client, s, n)
			if err != nil {
				return nil, err
			}
			api, err := openStream(ctx, addr, addr, streamURL, bearer, 4096)
			if err != nil {
				return nil, fmt.Errorf("run %d: API stream: %w", n, err)
			}
			web, err := openStream(ctx, addr, addr, "/o/"+seed.OrgSlug+"/agents/luca/runs/"+runID+"/stream", cookie, 4096)
			if err != nil {
				api.Close()
				return nil, fmt.Errorf("run %d: page stream: %w", n, err)
			}
			ar, wr := &chunkReader{n: n, fake: s.fake, api: true}, &chunkReader{n: n, fake: s.fake}
			var g sync.WaitGroup
			g.Go(func() { ar.read(api, runs.EventDelta) })
			g.Go(func() { wr.read(web, "answer", runs.EventDone) })
			// The streams join their topic just after their headers.
			time.Sleep(100 * time.Millisecond)
			start <- fakeRun{chunks: o.chunks, interval: interval}
			ended := make(chan struct{})
			go func() { g.Wait(); close(ended) }()
			select {
			case <-ended:
			case <-time.After(time.Duration(o.chunks)*interval + 60*time.Second):
				api.Close()
				web.Close()
				<-ended
			}
			api.Close()
			web.Close()
			if err := errors.Join(ar.err, wr.err); err != nil {
				return nil, fmt.Errorf("run %d: %w", n, err)
			}
			if len(ar.lat) != o.chunks || len(wr.lat) != o.chunks {
				return nil, fmt.Errorf("run %d: %d chunks sent; the API stream showed %d, the page %d", n, o.chunks, len(ar.lat), len(wr.lat))
			}
			res.api, res.web = append(res.api, ar.lat...), append(res.web, wr.lat...)
			if err := split(ctx, s, runID, ar, &res); err != nil {
				return nil, err
			}
		}
		if i > 0 {
			results = append(results, res)
		}
	}

	fmt.Printf("\n### Added latency between a provider chunk and the client\n\n")
	fmt.Printf("The server's platform provider is `AI_PROVIDER=compatible` pointed at an OpenAI-compatible endpoint in ssebench that streams "+
		"%d chunks per answer at a fixed pause and stamps each just before writing it. %d runs per pause are started through the API "+
		"(`POST /api/v1/orgs/demo/agents/luca/runs`), one at a time on an otherwise idle server: River job, run worker (chunks coalesced "+
		"for up to its 50 ms flush interval), `agent_run_events` row and NOTIFY, the hub. Each run's API stream (JSON deltas) and page stream "+
		"(the HTML fragments the browser swaps in, the answer re-rendered from Markdown each time) are read at once; a chunk is timed from "+
		"its send to the first frame that contains it.\n\n", o.chunks, o.chunkRuns)
	fmt.Println("| pause between chunks | stream | chunks | p50 | p95 | p99 | max |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|")
	var failures []string
	for i, r := range results {
		for _, k := range []struct {
			name string
			lat  []time.Duration
		}{{"API (JSON)", r.api}, {"page (HTML)", r.web}} {
			slices.Sort(k.lat)
			p := func(q float64) string { return ms(benchutil.Percentile(k.lat, q)) }
			fmt.Printf("| %s | %s | %d | %s | %s | %s | %s |\n", r.interval, k.name, len(k.lat), p(50), p(95), p(99), p(100))
			if i == 0 && benchutil.Percentile(k.lat, 50) >= o.maxChunkP50 {
				failures = append(failures, fmt.Sprintf("chunk latency p50 on the %s stream at %s between chunks is %s, over the target %s",
					k.name, r.interval, p(50), ms(o.maxChunkP50)))
			}
		}
	}
	fmt.Printf("\nThe API stream's latency split at the start of the worker's transaction that stored the chunk (`agent_run_events.created_at`): " +
		"before it, the provider client, the worker and its coalescing; after it, the commit (with its WAL flush), NOTIFY, the hub's read and the write.\n\n")
	fmt.Println("| pause between chunks | chunk → transaction start p50 | p95 | transaction start → client p50 | p95 | p99 |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		slices.Sort(r.worker)
		slices.Sort(r.delivery)
		p := benchutil.Percentile
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.interval, ms(p(r.worker, 50)), ms(p(r.worker, 95)),
			ms(p(r.delivery, 50)), ms(p(r.delivery, 95)), ms(p(r.delivery, 99)))
	}
	return failures, nil
}

// startRun sends "ssebench run n" to Luca in a new conversation through
// the API: the run's id and stream address.
func startRun(client *http.Client, s *server, n int) (string, string, error) {
	body := fmt.Sprintf(`{"message": "ssebench run %d"}`, n)
	req, _ := http.NewRequest(http.MethodPost, s.base+"/api/v1/orgs/"+seed.OrgSlug+"/agents/luca/runs", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			ID        string `json:"id"`
			StreamURL string `json:"stream_url"`
		} `json:"data"`
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); err != nil || res.StatusCode != http.StatusAccepted || out.Data.StreamURL == "" {
		return "", "", fmt.Errorf("starting run %d answered %d: %.300s", n, res.StatusCode, raw)
	}
	return out.Data.ID, out.Data.StreamURL, nil
}

// split reads when the worker's transactions that stored run's events
// started, and splits the API stream's latencies there.
func split(ctx context.Context, s *server, runID string, ar *chunkReader, res *chunkStats) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT seq, created_at FROM agent_run_events WHERE run_id = $1", runID)
	if err != nil {
		return err
	}
	started := map[int64]time.Time{}
	var seq int64
	var at time.Time
	if _, err := pgx.ForEachRow(rows, []any{&seq, &at}, func() error { started[seq] = at; return nil }); err != nil {
		return err
	}
	for m, seq := range ar.seqOf {
		sent, ok1 := s.fake.sentAt(m)
		tx, ok2 := started[seq]
		if ok1 && ok2 {
			res.worker = append(res.worker, tx.Sub(sent))
			res.delivery = append(res.delivery, ar.recv[m].Sub(tx))
		}
	}
	return nil
}
