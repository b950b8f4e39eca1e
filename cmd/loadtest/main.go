// Command loadtest measures the authenticated clients list (50 rows), the
// JSON API's clients list with a personal access token, API sign-in, and
// /healthz against a real server process: requests per second, p50 and p99
// latency, SQL round trips per page and the server's peak RSS.
//
// It builds the server, starts it on a fresh database on the server named
// by TEST_DATABASE_URL (make bench finds or starts one), seeds the demo
// firm plus clients up to 50, logs in, and drives load with wrk (Debian's
// package) when installed, else with its own Go load generator.
//
//	go run ./cmd/loadtest -connections 32 -duration 15s
package main

import (
	"accute/internal/benchutil"
	"bytes"
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

const demoPassword = "bench-password-2026"

func main() {
	conns := flag.Int("connections", 32, "concurrent connections")
	duration := flag.Duration("duration", 15*time.Second, "duration of each measurement")
	generator := flag.String("generator", "auto", "load generator: auto (wrk when installed), wrk or go")
	flag.Parse()
	if err := run(*conns, *duration, *generator); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(conns int, duration time.Duration, generator string) error {
	ctx := context.Background()
	admin := benchutil.AdminURL()
	dsn, err := benchutil.FreshDatabase(ctx, admin, "accute_bench")
	if err != nil {
		return err
	}
	transport := "TCP"
	if local := viaLocalSocket(dsn); local != "" {
		dsn, transport = local, "a unix socket"
	}
	tmp, err := os.MkdirTemp("", "accute-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := benchutil.BuildServer(tmp)
	if err != nil {
		return err
	}
	port, err := benchutil.FreePort()
	if err != nil {
		return err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	srv := exec.Command(bin, "serve")
	srv.Env = append(os.Environ(),
		"DATABASE_URL="+dsn, "PORT="+strconv.Itoa(port), "BASE_URL="+base, "ACCUTE_ENV=development",
		"ACCUTE_DATA_DIR="+filepath.Join(tmp, "data"), "ACCUTE_DEMO_PASSWORD="+demoPassword, "LOG_LEVEL=warn",
		"DATABASE_MAX_CONNS=40", "API_RATE_LIMIT=100000000")
	srv.Stdout, srv.Stderr = io.Discard, os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() }()
	if err := benchutil.WaitReady(base); err != nil {
		return err
	}
	if err := topUpClients(ctx, dsn, 50); err != nil {
		return err
	}
	cookie, err := login(base)
	if err != nil {
		return err
	}
	page := base + "/o/demo/clients"
	rows, trips, err := inspect(page, cookie)
	if err != nil {
		return err
	}

	useWrk := generator == "wrk"
	if generator == "auto" {
		_, err := exec.LookPath("wrk")
		useWrk = err == nil
	}
	measure := func(u string, header string) (result, error) {
		c := header
		// Warm up connections, caches and the pool first.
		_, _ = goLoad(u, c, conns, 2*time.Second)
		// CPU time per request of the server and of PostgreSQL (their
		// processes' CPU over the run divided by the requests served):
		// unlike requests/s, it barely moves when other work shares the
		// machine.
		backends, err := pgBackends(ctx, dsn)
		if err != nil {
			return result{}, err
		}
		srv0, pg0 := procCPU(srv.Process.Pid), procsCPU(backends)
		var r result
		if useWrk {
			r, err = wrkLoad(u, c, conns, duration)
		} else {
			r, err = goLoad(u, c, conns, duration)
		}
		if n := r.rps * duration.Seconds(); err == nil && n > 0 {
			r.serverCPU = time.Duration(float64(procCPU(srv.Process.Pid)-srv0) / n)
			r.pgCPU = time.Duration(float64(procsCPU(backends)-pg0) / n)
		}
		return r, err
	}
	clientsRes, err := measure(page, "Cookie: "+cookie)
	if err != nil {
		return err
	}
	healthRes, err := measure(base+"/healthz", "")
	if err != nil {
		return err
	}
	// The JSON API: the clients list with a personal access token, and
	// sign-in (bcrypt-bound, so with few connections).
	pat, err := createPAT(base, cookie)
	if err != nil {
		return err
	}
	apiURL := base + "/api/v1/orgs/demo/clients"
	// The first request checks the token in full; later ones reuse its
	// principal once the database confirms it (auth.EnterKnownPAT).
	_, apiFirstTrips, err := inspectAPI(apiURL, pat)
	if err != nil {
		return err
	}
	apiItems, apiTrips, err := inspectAPI(apiURL, pat)
	if err != nil {
		return err
	}
	apiRes, err := measure(apiURL, "Authorization: Bearer "+pat)
	if err != nil {
		return err
	}
	cost, err := bcryptCost(ctx, dsn)
	if err != nil {
		return err
	}
	loginRes, err := loginLoad(base, min(conns, 4), min(duration, 10*time.Second))
	if err != nil {
		return err
	}
	hwm, err := benchutil.ProcStatus(srv.Process.Pid, "VmHWM:")
	if err != nil {
		return err
	}
	rss := int(hwm / 1024) // kB
	gen := "Go load generator (cmd/loadtest)"
	if useWrk {
		gen = "wrk"
	}
	cpu := cpuModel()
	fmt.Printf("\n## %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("Machine: %d cores (%s), %s; PostgreSQL on the same machine, reached over %s; load from %s on the same machine, %d connections, %s per endpoint.\n\n",
		runtime.NumCPU(), cpu, runtime.Version(), transport, gen, conns, duration)
	fmt.Println("| endpoint | requests/s | p50 | p99 | errors |")
	fmt.Println("|---|---:|---:|---:|---:|")
	fmt.Printf("| GET /o/demo/clients (%d rows, signed in) | %.0f | %s | %s | %d |\n", rows, clientsRes.rps, ms(clientsRes.p50), ms(clientsRes.p99), clientsRes.errors)
	fmt.Printf("| GET /healthz | %.0f | %s | %s | %d |\n", healthRes.rps, ms(healthRes.p50), ms(healthRes.p99), healthRes.errors)
	fmt.Printf("| GET /api/v1/orgs/demo/clients (%d items, personal access token) | %.0f | %s | %s | %d |\n", apiItems, apiRes.rps, ms(apiRes.p50), ms(apiRes.p99), apiRes.errors)
	fmt.Printf("| POST /api/v1/auth/token (%d connections, bcrypt cost %d) | %.1f logins/s | %s | %s | %d |\n", min(conns, 4), cost, loginRes.rps, ms(loginRes.p50), ms(loginRes.p99), loginRes.errors)
	fmt.Printf("\nSQL round trips per clients page: %d, per API clients list: %d (%d on a token's first request). Server peak RSS (VmHWM): %.1f MB.\n",
		trips, apiTrips, apiFirstTrips, float64(rss)/1024)
	fmt.Printf("CPU time per request (server + PostgreSQL): clients page %s + %s ms, API clients list %s + %s ms, /healthz %s ms.\n",
		cpuMS(clientsRes.serverCPU), cpuMS(clientsRes.pgCPU), cpuMS(apiRes.serverCPU), cpuMS(apiRes.pgCPU), cpuMS(healthRes.serverCPU))
	if clientsRes.errors > 0 || rows < 50 {
		return fmt.Errorf("clients page: %d errors, %d rows", clientsRes.errors, rows)
	}
	if apiRes.errors > 0 || apiItems < 50 || loginRes.errors > 0 {
		return fmt.Errorf("API: %d errors, %d items; logins: %d errors", apiRes.errors, apiItems, loginRes.errors)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func cpuMS(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000) }

// viaLocalSocket rewrites a URL for a PostgreSQL on this machine's
// loopback to its unix socket, when Debian's socket directory has one: the
// same server, without TCP's overhead (how the embedded default connects).
func viaLocalSocket(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	const dir = "/var/run/postgresql"
	if _, err := os.Stat(filepath.Join(dir, ".s.PGSQL."+port)); err != nil {
		return ""
	}
	q := u.Query()
	q.Set("host", dir)
	q.Set("port", port)
	q.Del("sslmode")
	user := "postgres"
	if u.User != nil {
		user = u.User.Username()
	}
	q.Set("user", user)
	return "postgres://" + u.Path + "?" + q.Encode()
}

// topUpClients adds clients to the demo firm until it has n.
func topUpClients(ctx context.Context, dsn string, n int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		INSERT INTO clients (organization_id, name, email, kind)
		SELECT o.id, 'Bench Client ' || lpad(g::text, 3, '0'), 'bench' || g || '@example.test', 'business'
		FROM organizations o, generate_series(1, greatest(0, $1 - (SELECT count(*) FROM clients c WHERE c.organization_id = o.id))) g
		WHERE o.slug = 'demo'`, n)
	if err != nil {
		return err
	}
	// Statistics and visibility maps as autovacuum leaves them on a
	// database in use (PostgreSQL servers set up for tests often run
	// without it), so plans and index-only scans are those of production.
	_, err = conn.Exec(ctx, "VACUUM ANALYZE")
	return err
}

func login(base string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(base+"/login", url.Values{"email": {"owner@demo.accute.test"}, "password": {demoPassword}})
	if err != nil {
		return "", err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("login answered %d", res.StatusCode)
	}
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "accute_session" {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", errors.New("no session cookie after login")
}

var rowPattern = regexp.MustCompile(`<tr[ >]`)

// inspect fetches the page once: rows shown and SQL round trips used.
func inspect(page, cookie string) (rows, trips int, err error) {
	req, _ := http.NewRequest(http.MethodGet, page, nil)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("clients page answered %d", res.StatusCode)
	}
	trips, _ = strconv.Atoi(res.Header.Get("X-Debug-SQL-Roundtrips"))
	return len(rowPattern.FindAll(body, -1)) - 1, trips, nil // minus the header row
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
	// CPU time per request of the server and of the PostgreSQL backends.
	serverCPU, pgCPU time.Duration
}

// pgBackends are the PostgreSQL processes serving the database at dsn
// (the server's pool, open after the warm-up).
func pgBackends(ctx context.Context, dsn string) ([]int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// procCPU is a process's user and system CPU time so far (0 when it cannot
// be read, such as for a PostgreSQL on another machine).
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (in parentheses, which may hold
	// spaces): utime and stime are the 12th and 13th, in clock ticks.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

func procsCPU(pids []int) time.Duration {
	var t time.Duration
	for _, pid := range pids {
		t += procCPU(pid)
	}
	return t
}

// goLoad runs conns workers in a closed loop for d.
func goLoad(u, header string, conns int, d time.Duration) (result, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			bad := 0
			for time.Now().Before(stop) {
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				if name, value, ok := strings.Cut(header, ": "); ok {
					req.Header.Set(name, value)
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					bad++
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			all = append(all, local...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(all) == 0 {
		return result{}, errors.New("no request completed")
	}
	slices.Sort(all)
	return result{
		rps: float64(len(all)) / elapsed.Seconds(),
		p50: all[len(all)*50/100], p99: all[len(all)*99/100], errors: errs,
	}, nil
}

var (
	wrkRPS    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkPct    = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSock   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func wrkLoad(u, header string, conns int, d time.Duration) (result, error) {
	args := []string{"-t", "2", "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", int(d.Seconds())), "--latency"}
	if header != "" {
		args = append(args, "-H", header)
	}
	out, err := exec.Command("wrk", append(args, u)...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	var r result
	m := wrkRPS.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk output not understood:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, p := range wrkPct.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(p[2]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(p[3])]
		if string(p[1]) == "50" {
			r.p50 = time.Duration(v * float64(unit))
		} else {
			r.p99 = time.Duration(v * float64(unit))
		}
	}
	if m := wrkNon2xx.FindSubmatch(out); m != nil {
		r.errors, _ = strconv.Atoi(string(m[1]))
	}
	if m := wrkSock.FindSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(string(s))
			r.errors += n
		}
	}
	return r, nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
