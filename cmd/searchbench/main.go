// Command searchbench measures full-text search over a large organization:
// on a fresh, migrated database it seeds the demo firm and adds -docs
// parsed documents, stored as the parse job stores them (one chunk per
// page, sheet range, paragraphs or lines, with its tsvector): bank
// statements, invoices, payroll registers, trial balances, leases,
// receipts, letters, bank exports and notes, each kind with its own layout
// and words over a Zipf-distributed general vocabulary, names, amounts and
// identifiers (corpus.go), spread unevenly over the firm's clients, with
// some archived and some replaced by a newer version. It then runs a fixed
// mix of searches (words on most pages, accounting phrases, names and
// identifiers, a rare word, one that matches nothing, exclusions and
// phrases; alone and with a client, type, date or page) through
// documents.Service.Search — the code path of the search page and the API,
// as the application role under row-level security — and reports latency
// percentiles, the CPU per search (PostgreSQL's backends and its own) and
// the load average. It fails when the p99 reaches -max-p99.
//
//	go run ./cmd/searchbench -docs 10000
//	go run ./cmd/searchbench -reuse -per-query   # again on the same data, per query
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"accute/internal/benchutil"
	"accute/internal/documents"
	"accute/internal/seed"
	"accute/internal/store"
	"accute/internal/tenant"
)

func main() {
	docs := flag.Int("docs", 10_000, "parsed documents in the organization")
	pages := flag.Int("pages", 4, "chunks (pages, sheet ranges...) per document, on average")
	queries := flag.Int("queries", 2000, "searches to time (after a warm-up)")
	conc := flag.Int("concurrency", 1, "searches in flight at once")
	maxP99 := flag.Duration("max-p99", 50*time.Millisecond, "largest acceptable p99")
	reuse := flag.Bool("reuse", false, "reuse the database an earlier run seeded (migrated to this tree) instead of seeding a fresh one")
	perQuery := flag.Bool("per-query", false, "also print each query's hits, median latency and PostgreSQL CPU (at -concurrency 1)")
	flag.Parse()
	if err := run(*docs, *pages, *queries, *conc, *maxP99, *reuse, *perQuery); err != nil {
		fmt.Fprintln(os.Stderr, "searchbench:", err)
		os.Exit(1)
	}
}

func run(nDocs, pages, nQueries, conc int, maxP99 time.Duration, reuse, perQuery bool) error {
	ctx := context.Background()
	const dbName = "accute_bench_search"
	var dsn string
	var orgID uuid.UUID
	var clients []uuid.UUID
	if reuse {
		var err error
		if dsn, orgID, clients, err = reused(ctx, dbName); err != nil {
			return fmt.Errorf("-reuse: %w", err)
		}
		if err := store.Migrate(ctx, dsn); err != nil {
			return err
		}
		fmt.Println("reusing the seeded database", dbName)
	} else {
		var err error
		if dsn, err = benchutil.FreshDatabase(ctx, benchutil.AdminURL(), dbName); err != nil {
			return err
		}
		if err := store.Migrate(ctx, dsn); err != nil {
			return err
		}
		st, err := store.Open(ctx, dsn, 2)
		if err != nil {
			return err
		}
		_, err = seed.Demo(ctx, st, &tenant.Service{Store: st}, "bench-password-2026", 4)
		st.Close()
		if err != nil {
			return err
		}
		t0 := time.Now()
		if orgID, clients, err = fill(ctx, dsn, nDocs, pages); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
		fmt.Printf("seeded %d documents (%d chunks, older versions included) in %s\n", nDocs, chunksStored, time.Since(t0).Round(time.Millisecond))
	}
	st, err := store.Open(ctx, dsn, max(conc, 2)+2)
	if err != nil {
		return err
	}
	defer st.Close()

	svc := &documents.Service{Store: st}
	mix := queryMix(clients)
	// Warm-up: every query of the mix once (plans, caches).
	hits := make([]string, len(mix))
	for i, f := range mix {
		res, err := svc.Search(ctx, orgID, f)
		if err != nil {
			return fmt.Errorf("search %q: %w", f.Query, err)
		}
		hits[i] = fmt.Sprint(res.Total)
		if res.Capped {
			hits[i] += "+"
		}
	}
	fmt.Println("load average before:", loadAverage())

	// The CPU the searches cost, PostgreSQL's (the backends of the bench
	// database, when the server runs on this machine) and this process's:
	// steadier than wall time on a shared machine.
	// Open the connections the searches will use first, so that their
	// backends are all counted.
	var held []*pgxpool.Conn
	for range conc {
		c, err := st.Pool.Acquire(ctx)
		if err != nil {
			return err
		}
		held = append(held, c)
	}
	for _, c := range held {
		c.Release()
	}
	var backends []int
	rows, err := st.Pool.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		return err
	}
	if backends, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil {
		return err
	}
	pg0, cpu0 := benchutil.ProcsCPU(backends), benchutil.ProcessCPU()
	durations, cpus := make([]time.Duration, nQueries), make([]time.Duration, nQueries)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	next := make(chan int)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for i := range next {
				f := mix[i%len(mix)]
				var c0 time.Duration
				if perQuery {
					c0 = benchutil.ProcsCPU(backends)
				}
				t := time.Now()
				_, err := svc.Search(ctx, orgID, f)
				durations[i] = time.Since(t)
				if perQuery {
					cpus[i] = benchutil.ProcsCPU(backends) - c0
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		})
	}
	for i := range nQueries {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	pgCPU, goCPU := benchutil.ProcsCPU(backends)-pg0, benchutil.ProcessCPU()-cpu0
	if firstErr != nil {
		return firstErr
	}
	slowest := 0
	byQuery := make([][]time.Duration, len(mix))
	cpuByQuery := make([]time.Duration, len(mix))
	for i, d := range durations {
		if d > durations[slowest] {
			slowest = i
		}
		byQuery[i%len(mix)] = append(byQuery[i%len(mix)], d)
		cpuByQuery[i%len(mix)] += cpus[i]
	}
	slowDesc := describe(mix[slowest%len(mix)], hits[slowest%len(mix)])
	if perQuery {
		for i, f := range mix {
			ds := byQuery[i]
			slices.Sort(ds)
			fmt.Printf("  %-55s median %9s  max %9s  PostgreSQL CPU %8s\n", describe(f, hits[i]), ms(benchutil.Percentile(ds, 50)), ms(ds[len(ds)-1]),
				ms(cpuByQuery[i]/time.Duration(len(ds))))
		}
	}
	slices.Sort(durations)
	p := func(q float64) string { return ms(benchutil.Percentile(durations, q)) }
	fmt.Printf("searches: %d at concurrency %d in %s (%.0f/s), GOMAXPROCS %d\n", nQueries, conc,
		elapsed.Round(time.Millisecond), float64(nQueries)/elapsed.Seconds(), runtime.GOMAXPROCS(0))
	fmt.Printf("latency: p50 %s, p95 %s, p99 %s, max %s (slowest: %s)\n", p(50), p(95), p(99), ms(durations[len(durations)-1]), slowDesc)
	fmt.Printf("CPU per search: PostgreSQL %s, searchbench %s\n", ms(pgCPU/time.Duration(nQueries)), ms(goCPU/time.Duration(nQueries)))
	fmt.Println("load average after:", loadAverage())
	if p99 := benchutil.Percentile(durations, 99); p99 >= maxP99 {
		return fmt.Errorf("p99 %s is over the target %s", ms(p99), ms(maxP99))
	}
	return nil
}

// describe names a search of the mix with its hits.
func describe(f documents.SearchFilter, hits string) string {
	var filters []string
	if f.ClientID != nil {
		filters = append(filters, "client")
	}
	if f.Type != "" {
		filters = append(filters, "type "+f.Type)
	}
	if f.From != nil {
		filters = append(filters, "from "+f.From.Format(time.DateOnly))
	}
	if f.Page > 1 {
		filters = append(filters, fmt.Sprint("page ", f.Page))
	}
	d := fmt.Sprintf("%q", f.Query)
	if len(filters) > 0 {
		d += " [" + strings.Join(filters, ", ") + "]"
	}
	return d + ": " + hits + " hits"
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

// queryMix is the searches timed: what people type into a firm's search
// box, with and without filters. Words on most pages ("total", "amount"),
// accounting phrases a few per cent of pages carry, names and identifiers
// on a handful, a made-up word from the rare end of the vocabulary, and
// one that matches nothing.
func queryMix(clients []uuid.UUID) []documents.SearchFilter {
	g := newGen(2026)
	words := []string{
		"total", "invoice", "depreciation schedule", `"bank statement"`, "payroll tax", "amount",
		"VAT return", "capital gains -crypto", "accounts receivable", "INV-2026-0042", "total amount",
		"mileage allowance", "lease liability", "dividend", "audit adjustment", "balance",
		"quarterly estimate", "reconciliation march", "withholding", "goodwill impairment", "petty cash",
		"deferred revenue", "fixed asset register", "overdue", "loan covenant", "charitable donation receipt",
		"inventory count", "1099", "Whitfield", "EMP-0421", g.words[len(g.words)-1], g.vendors[40],
		"cryptocurrency staking rewards", "total -overdue",
	}
	var mix []documents.SearchFilter
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, w := range words {
		mix = append(mix, documents.SearchFilter{Query: w})
		switch i % 4 {
		case 0:
			c := clients[i%len(clients)]
			mix = append(mix, documents.SearchFilter{Query: w, ClientID: &c})
		case 1:
			mix = append(mix, documents.SearchFilter{Query: w, Type: "pdf"})
		case 2:
			mix = append(mix, documents.SearchFilter{Query: w, From: &jan})
		case 3:
			mix = append(mix, documents.SearchFilter{Query: w, Page: 3})
		}
	}
	return mix
}

// fill adds the documents (corpus.go) as the owner (row-level security
// does not apply to the owner), with COPY: one blob they all share
// (content-addressed storage de-duplicates), a version each (two for the
// documents replaced by a corrected upload), and their chunks.
func fill(ctx context.Context, dsn string, nDocs, pages int) (uuid.UUID, []uuid.UUID, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return uuid.Nil, nil, err
	}
	defer conn.Close(ctx)
	var orgID uuid.UUID
	if err := conn.QueryRow(ctx, "SELECT id FROM organizations WHERE slug = $1", seed.OrgSlug).Scan(&orgID); err != nil {
		return uuid.Nil, nil, err
	}
	rows, err := conn.Query(ctx, "SELECT id, name FROM clients WHERE organization_id = $1 ORDER BY name", orgID)
	if err != nil {
		return uuid.Nil, nil, err
	}
	var clients []uuid.UUID
	var names []string
	var cid uuid.UUID
	var cname string
	if _, err := pgx.ForEachRow(rows, []any{&cid, &cname}, func() error {
		clients, names = append(clients, cid), append(names, cname)
		return nil
	}); err != nil {
		return uuid.Nil, nil, err
	}
	keyID, blobID := uuid.New(), uuid.New()
	if _, err := conn.Exec(ctx, "INSERT INTO org_data_keys (organization_id, id, wrapped_key) VALUES ($1, $2, '\\x00')", orgID, keyID); err != nil {
		return uuid.Nil, nil, err
	}
	if _, err := conn.Exec(ctx, `INSERT INTO blobs (organization_id, id, sha256, size, content_type, storage_key, data_key_id)
		VALUES ($1, $2, sha256('bench'), 1, 'application/pdf', 'bench', $3)`, orgID, blobID, keyID); err != nil {
		return uuid.Nil, nil, err
	}

	var docRows, verRows, chunkRows [][]any
	addChunks := func(d corpusDoc, version uuid.UUID, chunks []chunk) {
		for seq, c := range chunks {
			chunkRows = append(chunkRows, []any{orgID, d.id, version, seq, nilIfZero(c.page), nilIfEmpty(c.sheet), nilIfEmpty(c.cell),
				nilIfZero(c.lineStart), nilIfZero(c.lineEnd), c.ref, c.text, d.created})
		}
	}
	for _, d := range corpus(nDocs, names, pages) {
		version := 1
		if d.oldVersionID != uuid.Nil {
			version = 2
			verRows = append(verRows, []any{orgID, d.oldVersionID, d.id, 1, blobID, d.name, int64(1), d.kind.mime, d.created})
			addChunks(d, d.oldVersionID, d.oldChunks)
		}
		var archived *time.Time
		if d.archived {
			archived = &d.created
		}
		docRows = append(docRows, []any{orgID, d.id, clients[d.client], d.name, d.versionID, version, d.kind.mime, int64(1), "parsed", archived, d.created, d.created})
		verRows = append(verRows, []any{orgID, d.versionID, d.id, version, blobID, d.name, int64(1), d.kind.mime, d.created})
		addChunks(d, d.versionID, d.chunks)
	}
	chunksStored = len(chunkRows)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return uuid.Nil, nil, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET CONSTRAINTS ALL DEFERRED"); err != nil {
		return uuid.Nil, nil, err
	}
	copies := []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"documents", []string{"organization_id", "id", "client_id", "name", "current_version_id", "version", "content_type", "size", "parse_status", "archived_at", "created_at", "updated_at"}, docRows},
		{"document_versions", []string{"organization_id", "id", "document_id", "version", "blob_id", "filename", "size", "content_type", "created_at"}, verRows},
		{"document_chunks", []string{"organization_id", "document_id", "version_id", "seq", "page", "sheet", "cell", "line_start", "line_end", "ref", "content", "created_at"}, chunkRows},
	}
	for _, c := range copies {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			return uuid.Nil, nil, fmt.Errorf("copy %s: %w", c.table, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return uuid.Nil, nil, err
	}
	_, err = conn.Exec(ctx, "VACUUM ANALYZE documents, document_versions, document_chunks")
	return orgID, clients, err
}

// reused is the database of an earlier run: its URL, the demo firm and
// its clients.
func reused(ctx context.Context, name string) (string, uuid.UUID, []uuid.UUID, error) {
	u, err := url.Parse(benchutil.AdminURL())
	if err != nil {
		return "", uuid.Nil, nil, err
	}
	u.Path = "/" + name
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return "", uuid.Nil, nil, err
	}
	defer conn.Close(ctx)
	var org uuid.UUID
	if err := conn.QueryRow(ctx, "SELECT id FROM organizations WHERE slug = $1", seed.OrgSlug).Scan(&org); err != nil {
		return "", uuid.Nil, nil, fmt.Errorf("no demo firm: %w", err)
	}
	rows, err := conn.Query(ctx, "SELECT id FROM clients WHERE organization_id = $1 ORDER BY name", org)
	if err != nil {
		return "", uuid.Nil, nil, err
	}
	clients, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return u.String(), org, clients, err
}

// chunksStored is how many chunks fill stored (all versions).
var chunksStored int

func nilIfZero(n int) *int32 {
	if n == 0 {
		return nil
	}
	v := int32(n)
	return &v
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
