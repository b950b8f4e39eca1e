package handlers

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"accute/internal/db"
	"accute/internal/tenant"
)

// The two hot paths of cmd/loadtest (BENCHMARKS.md), driven in process
// through the real router and middleware against a real database: the
// clients page with a session cookie and the API's clients list with a
// personal access token, 50 clients each. Wall time per request depends on
// whatever else the machine is doing; the CPU figures are steadier:
//
//	cpu-ns/op  this process's CPU (user+system) per request: the Go side
//	pg-ns/op   the PostgreSQL backends' CPU per request
//
//	go test ./handlers -run '^$' -bench 'ClientsPage|APIClientsList' -benchmem -count 5
func BenchmarkClientsPage(b *testing.B) {
	app := newBenchApp(b)
	c, _, org := app.owner()
	benchClients(b, app, org, 50)
	req, err := http.NewRequest(http.MethodGet, "/o/"+org.Slug+"/clients", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("User-Agent", "accute-bench")
	req.Header.Set("Cookie", "accute_session="+c.Cookie("accute_session"))
	runBench(b, app, req, `data-testid="client-row"`, 2)
}

func BenchmarkAPIClientsList(b *testing.B) {
	app := newBenchApp(b)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	benchClients(b, app, org, 50)
	token, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	req, err := http.NewRequest(http.MethodGet, "/api/v1/orgs/"+org.Slug+"/clients", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("User-Agent", "accute-bench")
	req.Header.Set("Authorization", "Bearer "+token)
	runBench(b, app, req, `"kind":"business"`, 2)
}

// newBenchApp is the test application configured as cmd/loadtest runs the
// server: access logs filtered at warn, no practical API rate limit.
func newBenchApp(b *testing.B) *testApp {
	return newTestAppWith(b, map[string]string{"LOG_LEVEL": "warn", "API_RATE_LIMIT": "100000000"})
}

// benchClients adds n clients with one contact each, as the load test's
// demo firm has.
func benchClients(b *testing.B, app *testApp, org db.Organization, n int) {
	ctx := context.Background()
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		for i := 1; i <= n; i++ {
			cl, err := q.CreateClient(ctx, db.CreateClientParams{OrganizationID: org.ID, Name: fmt.Sprintf("Bench client %03d", i), Kind: "business",
				Email: fmt.Sprintf("bench%03d@example.test", i), Phone: "+1 555 0100"})
			if err != nil {
				return err
			}
			if _, err := q.CreateClientContact(ctx, db.CreateClientContactParams{OrganizationID: org.ID, ClientID: cl.ID, Name: "Contact " + cl.Name}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// runBench checks one answer (200, n rows, at most maxTrips SQL round
// trips), then serves req b.N times and reports CPU per request.
func runBench(b *testing.B, app *testApp, req *http.Request, rowMarker string, maxTrips int) {
	w := &benchWriter{header: http.Header{}}
	app.Echo.ServeHTTP(w, req)
	if w.status != http.StatusOK || strings.Count(w.body.String(), rowMarker) != 50 {
		b.Fatalf("status %d, %d rows\n%s", w.status, strings.Count(w.body.String(), rowMarker), w.body.String())
	}
	if n, err := strconv.Atoi(w.header.Get("X-Debug-SQL-Roundtrips")); err != nil || n > maxTrips {
		b.Fatalf("round trips %q, want at most %d", w.header.Get("X-Debug-SQL-Roundtrips"), maxTrips)
	}
	for range 200 { // warm the pool, statement caches and buffers
		w.reset()
		app.Echo.ServeHTTP(w, req)
	}
	backends := pgBackends(b, app)
	pg0, cpu0 := pgCPU(backends), processCPU()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		app.Echo.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.StopTimer()
	cpu, pg := processCPU()-cpu0, pgCPU(backends)-pg0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(pg.Nanoseconds())/float64(b.N), "pg-ns/op")
}

// benchWriter is a reusable http.ResponseWriter that keeps the body of
// the last answer only.
type benchWriter struct {
	header http.Header
	status int
	body   strings.Builder
}

func (w *benchWriter) Header() http.Header { return w.header }
func (w *benchWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}
func (w *benchWriter) reset() {
	clear(w.header)
	w.status = 0
	w.body.Reset()
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pgBackends are the PostgreSQL server processes connected to the app's
// database (readable in /proc when the server runs on this machine).
func pgBackends(b *testing.B, app *testApp) []int {
	rows, err := app.Store.Pool.Query(context.Background(), "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var pids []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// pgCPU sums the CPU time of processes (0 for those not readable).
func pgCPU(pids []int) time.Duration {
	var ticks int64
	for _, pid := range pids {
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses: utime and
		// stime are fields 14 and 15 of the whole line.
		rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
		f := strings.Fields(rest)
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}
