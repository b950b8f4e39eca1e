// Command searchbench measures full-text search over a large organization:
// on a fresh, migrated database it seeds the demo firm, adds -docs parsed
// documents (each -pages pages of accounting prose, as the parse job
// stores them: one chunk per page, with its tsvector) spread over the
// firm's clients and the document types, then runs a fixed mix of queries
// (single words, phrases, exclusions, rare identifiers, and the same with
// client, type and date filters) through documents.Service.Search — the
// code path of the search page and the API, as the application role under
// row-level security — and reports latency percentiles. It fails when the
// p99 reaches -max-p99.
//
//	go run ./cmd/searchbench -docs 10000
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/benchutil"
	"accute/internal/documents"
	"accute/internal/seed"
	"accute/internal/store"
	"accute/internal/tenant"
)

func main() {
	docs := flag.Int("docs", 10_000, "parsed documents in the organization")
	pages := flag.Int("pages", 4, "pages (chunks) per document")
	queries := flag.Int("queries", 2000, "searches to time (after a warm-up)")
	conc := flag.Int("concurrency", 1, "searches in flight at once")
	maxP99 := flag.Duration("max-p99", 50*time.Millisecond, "largest acceptable p99")
	flag.Parse()
	if err := run(*docs, *pages, *queries, *conc, *maxP99); err != nil {
		fmt.Fprintln(os.Stderr, "searchbench:", err)
		os.Exit(1)
	}
}

func run(nDocs, pages, nQueries, conc int, maxP99 time.Duration) error {
	ctx := context.Background()
	dsn, err := benchutil.FreshDatabase(ctx, benchutil.AdminURL(), "accute_bench_search")
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx, dsn); err != nil {
		return err
	}
	st, err := store.Open(ctx, dsn, max(conc, 2)+2)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := seed.Demo(ctx, st, &tenant.Service{Store: st}, "bench-password-2026", 4); err != nil {
		return err
	}

	t0 := time.Now()
	orgID, clients, err := fill(ctx, dsn, nDocs, pages)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	fmt.Printf("seeded %d documents (%d chunks) in %s\n", nDocs, nDocs*pages, time.Since(t0).Round(time.Millisecond))

	svc := &documents.Service{Store: st}
	mix := queryMix(clients)
	// Warm-up: every query of the mix once (plans, caches).
	for _, f := range mix {
		if _, err := svc.Search(ctx, orgID, f); err != nil {
			return fmt.Errorf("search %q: %w", f.Query, err)
		}
	}

	durations := make([]time.Duration, nQueries)
	worst := make([]string, nQueries)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	next := make(chan int)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for i := range next {
				f := mix[i%len(mix)]
				t := time.Now()
				res, err := svc.Search(ctx, orgID, f)
				durations[i] = time.Since(t)
				worst[i] = fmt.Sprintf("%q (client filter %v, type %q, %d hits)", f.Query, f.ClientID != nil, f.Type, res.Total)
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
	if firstErr != nil {
		return firstErr
	}
	slowest := 0
	for i, d := range durations {
		if d > durations[slowest] {
			slowest = i
		}
	}
	slowDesc := worst[slowest]
	slices.Sort(durations)
	p := func(q float64) string { return ms(benchutil.Percentile(durations, q)) }
	fmt.Printf("searches: %d at concurrency %d in %s (%.0f/s), GOMAXPROCS %d\n", nQueries, conc,
		elapsed.Round(time.Millisecond), float64(nQueries)/elapsed.Seconds(), runtime.GOMAXPROCS(0))
	fmt.Printf("latency: p50 %s, p95 %s, p99 %s, max %s (slowest: %s)\n", p(50), p(95), p(99), ms(durations[len(durations)-1]), slowDesc)
	if p99 := benchutil.Percentile(durations, 99); p99 >= maxP99 {
		return fmt.Errorf("p99 %s is over the target %s", ms(p99), ms(maxP99))
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// queryMix is the searches timed: what people type into a firm's search
// box, with and without filters.
func queryMix(clients []uuid.UUID) []documents.SearchFilter {
	words := []string{
		"invoice", "depreciation schedule", `"bank statement"`, "payroll tax", "VAT return",
		"capital gains -crypto", "accounts receivable", "INV-2026-0042", "mileage allowance",
		"lease liability", "dividend", "audit adjustment", "quarterly estimate", "reconciliation march",
		"withholding", "goodwill impairment", "petty cash", "deferred revenue", "fixed asset register",
		"overdue", "loan covenant", "charitable donation receipt", "inventory count", "1099",
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

// vocabulary of the generated prose; the first words are the most
// frequent (a Zipf-like draw), as in real documents.
var vocabulary = strings.Fields(`the of and to in for on is total amount balance account period tax
	payment invoice statement bank date client year quarter month revenue expense income cost net gross
	due paid received credit debit ledger journal entry schedule depreciation asset liability equity
	payroll salary wages withholding pension contribution VAT sales purchase return refund estimate
	receivable payable reconciliation adjustment accrual deferred prepaid inventory count stock goodwill
	impairment lease loan interest covenant dividend capital gains crypto donation charitable receipt
	mileage allowance travel subsistence petty cash fixed register audit review opinion engagement letter
	trial fiscal budget forecast variance cash flow operating investing financing shareholder director
	board minutes resolution approved signed overdue reminder penalty filing deadline extension 1099 W-2
	partnership corporation trust estate property rental depreciation straight-line reducing-balance`)

// fill adds the documents as the owner (row-level security does not apply
// to the owner), with COPY: one blob they all share (content-addressed
// storage de-duplicates), a version each, and pages chunks each.
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
	rows, err := conn.Query(ctx, "SELECT id FROM clients WHERE organization_id = $1 ORDER BY id", orgID)
	if err != nil {
		return uuid.Nil, nil, err
	}
	clients, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
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

	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(vocabulary)-1))
	types := []string{"application/pdf", "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv", "text/plain"}
	now := time.Now()
	var docRows, verRows, chunkRows [][]any
	for i := range nDocs {
		docID, verID := uuid.New(), uuid.New()
		client := clients[i%len(clients)]
		ct := types[i%len(types)]
		created := now.Add(-time.Duration(rng.IntN(720)) * time.Hour)
		name := fmt.Sprintf("%s %d.pdf", []string{"Bank statement", "Invoice", "Payroll summary", "Trial balance", "Lease agreement", "Receipts"}[i%6], i)
		docRows = append(docRows, []any{orgID, docID, client, name, verID, 1, ct, int64(1), "parsed", created, created})
		verRows = append(verRows, []any{orgID, verID, docID, 1, blobID, name, int64(1), ct, created})
		for p := range pages {
			var b strings.Builder
			for w := range 250 {
				if w > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(vocabulary[zipf.Uint64()])
			}
			if rng.IntN(50) == 0 {
				fmt.Fprintf(&b, " INV-2026-%04d", rng.IntN(10000))
			}
			chunkRows = append(chunkRows, []any{orgID, docID, verID, p, p + 1, fmt.Sprintf("page %d", p+1), b.String()})
		}
	}
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
		{"documents", []string{"organization_id", "id", "client_id", "name", "current_version_id", "version", "content_type", "size", "parse_status", "created_at", "updated_at"}, docRows},
		{"document_versions", []string{"organization_id", "id", "document_id", "version", "blob_id", "filename", "size", "content_type", "created_at"}, verRows},
		{"document_chunks", []string{"organization_id", "document_id", "version_id", "seq", "page", "ref", "content"}, chunkRows},
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
