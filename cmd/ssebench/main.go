// Command ssebench measures the real-time path of agent runs (issue 5)
// against the real server binary on a fresh database:
//
//   - streams: many concurrent SSE streams held by one instance (10,000 by
//     default), each receiving events. The benchmark creates running runs
//     in the database and opens the API's run streams (a personal access
//     token of the demo owner) spread over the runs, then publishes delta
//     events the way the run worker does (AppendAgentRunEvents: the rows
//     and pg_notify in one transaction), each carrying its send time. It
//     reports the delivery latency from publish to receipt (p50, p95,
//     p99), the streams held, the events delivered, the server's peak RSS,
//     and the streams that were dropped or lost an event; at the end every
//     run gets its done event and every stream must end with it.
//   - chunks: the latency the app adds between an AI provider's chunk and
//     the client. The server's platform provider is an OpenAI-compatible
//     endpoint served by this program, which stamps each chunk's send time;
//     real runs go through the job queue, the worker, the events table,
//     NOTIFY and the hub, and the benchmark reads each run's API stream and
//     page stream (the browser's HTML fragments) at once, timing every
//     chunk from sent to received.
//
// Targets: streams p99 under 250 ms with RSS under 1 GB; chunks p50 under
// 5 ms. The run fails when a target is missed or a stream misbehaves.
//
//	go run ./cmd/ssebench                          # both
//	go run ./cmd/ssebench -phase streams -streams 10000 -runs 1000 -rate 1000
//	go run ./cmd/ssebench -phase chunks -chunk-intervals 100ms,20ms
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"accute/internal/benchutil"
)

const demoPassword = "bench-password-2026"

type options struct {
	phase string

	// streams
	streams   int
	runs      int
	rate      int
	warmup    time.Duration
	duration  time.Duration
	openConc  int
	addresses int
	maxP99    time.Duration
	maxRSS    int64
	timeline  bool

	// chunks
	chunkRuns      int
	chunks         int
	chunkIntervals []time.Duration
	maxChunkP50    time.Duration

	pprof     string
	dbSet     string
	serverEnv string
}

func main() {
	var o options
	var intervals string
	flag.StringVar(&o.phase, "phase", "all", "what to measure: all, streams or chunks")
	flag.IntVar(&o.streams, "streams", 10_000, "streams: concurrent SSE streams to hold")
	flag.IntVar(&o.runs, "runs", 1000, "streams: running runs the streams follow (streams are spread evenly over them)")
	flag.IntVar(&o.rate, "rate", 1000, "streams: events published per second, over all runs (round robin)")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "streams: publishing before the measurement starts")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "streams: measurement time")
	flag.IntVar(&o.openConc, "open-concurrency", 64, "streams: connections being opened at once")
	flag.IntVar(&o.addresses, "addresses", 4, "streams: loopback addresses of the server to spread connections over (127.0.0.1 ...)")
	flag.DurationVar(&o.maxP99, "max-p99", 250*time.Millisecond, "streams: largest acceptable delivery p99")
	flag.Int64Var(&o.maxRSS, "max-rss", 1<<30, "streams: largest acceptable server RSS, in bytes")
	flag.BoolVar(&o.timeline, "timeline", false, "streams: also print the deliveries over 100 ms per second of the measurement")
	flag.IntVar(&o.chunkRuns, "chunk-runs", 10, "chunks: runs per chunk interval")
	flag.IntVar(&o.chunks, "chunks", 40, "chunks: provider chunks per run")
	flag.StringVar(&intervals, "chunk-intervals", "100ms,20ms", "chunks: pauses between the provider's chunks (comma-separated); the first is held to -max-chunk-p50")
	flag.DurationVar(&o.maxChunkP50, "max-chunk-p50", 5*time.Millisecond, "chunks: largest acceptable p50 of the first interval")
	flag.StringVar(&o.pprof, "pprof", "", "ACCUTE_PPROF_ADDR for the server (e.g. 127.0.0.1:6061)")
	flag.StringVar(&o.serverEnv, "server-env", "", "experiments: extra environment for the server, comma-separated (e.g. GOGC=100,GOMEMLIMIT=1GiB)")
	flag.StringVar(&o.dbSet, "db-set", "", "experiments: a PostgreSQL setting for the bench database, name=value (e.g. synchronous_commit=off)")
	flag.Parse()
	for _, s := range strings.Split(intervals, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < 0 {
			fmt.Fprintf(os.Stderr, "ssebench: -chunk-intervals: %q is not a duration\n", s)
			os.Exit(2)
		}
		o.chunkIntervals = append(o.chunkIntervals, d)
	}
	if o.phase != "all" && o.phase != "streams" && o.phase != "chunks" {
		fmt.Fprintln(os.Stderr, "ssebench: -phase must be all, streams or chunks")
		os.Exit(2)
	}
	if o.runs < 1 || o.streams < 1 || o.rate < 1 || o.addresses < 1 || o.addresses > 250 || o.chunks < 1 || len(o.chunkIntervals) == 0 {
		fmt.Fprintln(os.Stderr, "ssebench: -runs, -streams, -rate, -chunks and -addresses (up to 250) must be positive")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "ssebench:", err)
		os.Exit(1)
	}
}

// server is the server process under test.
type server struct {
	cmd   *exec.Cmd
	pid   int
	port  int
	base  string
	dsn   string
	token string // the demo owner's personal access token
	jar   http.CookieJar
	fake  *fakeProvider
	gcs   gcLog
}

// gcLog records when the server's garbage collections ended (gctrace
// lines), passing the rest of its standard error through.
type gcLog struct {
	mu    sync.Mutex
	ats   []time.Time
	lines []string
}

func (g *gcLog) watch(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "gc ") {
			g.mu.Lock()
			g.ats, g.lines = append(g.ats, time.Now()), append(g.lines, sc.Text())
			g.mu.Unlock()
			continue
		}
		fmt.Fprintln(os.Stderr, sc.Text())
	}
}

// in returns the gctrace lines of the collections that ended in
// [from, to).
func (g *gcLog) in(from, to time.Time) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for i, at := range g.ats {
		if !at.Before(from) && at.Before(to) {
			out = append(out, g.lines[i])
		}
	}
	return out
}

func run(o options) error {
	ctx := context.Background()
	// The benchmark's own collections (10,000 goroutines to scan) would
	// delay its reads and count as latency: collect less often.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// Each stream is a socket here and one in the server: raise the soft
	// limit on open files to the hard one (the server, a Go program, does
	// the same for itself at start).
	nofile, err := raiseNoFile()
	if err != nil {
		return err
	}
	if o.phase != "chunks" && nofile < uint64(o.streams)+256 {
		return fmt.Errorf("the open-file limit is %d, too low for %d streams (raise the hard limit: ulimit -Hn)", nofile, o.streams)
	}
	dsn, err := benchutil.FreshDatabase(ctx, benchutil.AdminURL(), "accute_bench_sse")
	if err != nil {
		return err
	}
	if o.dbSet != "" {
		if err := alterDatabase(ctx, dsn, o.dbSet); err != nil {
			return fmt.Errorf("-db-set: %w", err)
		}
	}
	tmp, err := os.MkdirTemp("", "accute-ssebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := benchutil.BuildServer(tmp)
	if err != nil {
		return err
	}
	fake, err := startFakeProvider()
	if err != nil {
		return err
	}
	defer fake.close()
	port, err := benchutil.FreePort()
	if err != nil {
		return err
	}
	s := &server{port: port, base: fmt.Sprintf("http://127.0.0.1:%d", port), dsn: dsn, fake: fake}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dsn, "PORT="+strconv.Itoa(port), "BASE_URL="+s.base, "ACCUTE_ENV=development",
		"ACCUTE_DATA_DIR="+filepath.Join(tmp, "data"), "ACCUTE_DEMO_PASSWORD="+demoPassword, "LOG_LEVEL=warn",
		// Every stream is an API request of one token: the per-token
		// limit (600 a minute) would refuse most of them.
		"API_RATE_LIMIT=100000000",
		// The platform's provider: the OpenAI-compatible endpoint of
		// this program (chunks).
		"AI_PROVIDER=compatible", "AI_BASE_URL="+fake.baseURL, "AI_API_KEY=ssebench", "AI_MODEL=bench-model")
	if o.pprof != "" {
		s.cmd.Env = append(s.cmd.Env, "ACCUTE_PPROF_ADDR="+o.pprof)
	}
	if o.serverEnv != "" {
		s.cmd.Env = append(s.cmd.Env, strings.Split(o.serverEnv, ",")...)
	}
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, os.Stderr
	if o.timeline {
		// The server's garbage collections, timed, for the timeline.
		s.cmd.Env = append(s.cmd.Env, "GODEBUG=gctrace=1")
		pr, pw := io.Pipe()
		s.cmd.Stderr = pw
		go s.gcs.watch(pr)
	}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.pid = s.cmd.Process.Pid
	defer func() { _ = s.cmd.Process.Signal(os.Interrupt); _ = s.cmd.Wait() }()
	if err := benchutil.WaitReady(s.base); err != nil {
		return err
	}
	if err := s.login(); err != nil {
		return err
	}
	if s.token, err = s.createPAT(); err != nil {
		return err
	}
	fmt.Printf("\n## Real time: SSE streams and agent answers (%s)\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Printf("Machine: %d cores, %s, GOMAXPROCS %d; the server built from this tree on a fresh database, PostgreSQL on the same machine; "+
		"open-file limit %d; load average before: %s.\n", runtime.NumCPU(), runtime.Version(), runtime.GOMAXPROCS(0), nofile, loadAverage())

	var failures []string
	if o.phase == "all" || o.phase == "chunks" {
		f, err := benchChunks(ctx, s, o)
		if err != nil {
			return fmt.Errorf("chunks: %w", err)
		}
		failures = append(failures, f...)
	}
	if o.phase == "all" || o.phase == "streams" {
		f, err := benchStreams(ctx, s, o)
		if err != nil {
			return fmt.Errorf("streams: %w", err)
		}
		failures = append(failures, f...)
	}
	fmt.Println("\nLoad average after:", loadAverage())
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	return nil
}

// alterDatabase sets name=value for new sessions of dsn's database.
func alterDatabase(ctx context.Context, dsn, set string) error {
	name, value, ok := strings.Cut(set, "=")
	if !ok {
		return errors.New("want name=value")
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" SET "+pgx.Identifier{strings.TrimSpace(name)}.Sanitize()+
		" = "+pgx.Identifier{strings.TrimSpace(value)}.Sanitize())
	return err
}

func raiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("raise the open-file limit: %w", err)
		}
	}
	return lim.Cur, nil
}

func (s *server) login() error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(s.base+"/login", url.Values{"email": {"owner@demo.accute.test"}, "password": {demoPassword}})
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("login answered %d", res.StatusCode)
	}
	s.jar = jar
	return nil
}

// cookie is the demo owner's session, as a Cookie header.
func (s *server) cookie() string {
	u, _ := url.Parse(s.base)
	var parts []string
	for _, c := range s.jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

var newTokenPattern = regexp.MustCompile(`data-testid="new-token">(acc_pat_[A-Za-z0-9_-]+)<`)

// createPAT creates a personal access token for the demo owner through the
// account's token page, as a person would.
func (s *server) createPAT() (string, error) {
	form := url.Values{"name": {"ssebench"}, "organization": {"demo"}, "role": {"staff"}, "expires": {"30"}}
	req, _ := http.NewRequest(http.MethodPost, s.base+"/account/tokens", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", s.cookie())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := newTokenPattern.FindSubmatch(body)
	if res.StatusCode != http.StatusCreated || m == nil {
		return "", fmt.Errorf("creating a token answered %d", res.StatusCode)
	}
	return string(m[1]), nil
}

// loadAverage is /proc/loadavg's first three fields ("?" elsewhere).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }
