package documents_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/testutil"
)

// recorder runs queries on a transaction and keeps the last one's text
// and arguments.
type recorder struct {
	pgx.Tx
	sql  string
	args []any
}

func (r *recorder) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.sql, r.args = sql, args
	return r.Tx.Query(ctx, sql, args...)
}

// TestSearchUsesItsIndex: the search query, planned as the application
// role plans it (row-level security, a generic plan from a prepared
// statement), takes its candidates from the GIN index on (tsv, facets)
// with both the words and the facets (client, type, months) as index
// conditions. Under row-level security that needs the leakproof mark of
// migration 00110; without it the planner can only read every chunk of the
// organization.
func TestSearchUsesItsIndex(t *testing.T) {
	st, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: st}
	org := f.Org(f.User(""), "")
	client := f.Client(org, "Acme")
	ctx := context.Background()
	leakproof, err := st.Q().SearchMatchIsLeakproof(ctx)
	if err != nil || !leakproof {
		t.Fatalf("ts_match_vq leakproof %v (%v): the tests' migrations run as a superuser", leakproof, err)
	}
	// A few thousand chunks.
	err = st.InOrgTx(ctx, org.ID, func(tx pgx.Tx, _ *db.Queries) error {
		_, err := tx.Exec(ctx, `
			WITH k AS (INSERT INTO org_data_keys (organization_id, wrapped_key) VALUES ($1, '\x00') RETURNING id),
			     b AS (INSERT INTO blobs (organization_id, sha256, size, content_type, storage_key, data_key_id)
			           SELECT $1, sha256('plan'), 1, 'application/pdf', 'plan', k.id FROM k RETURNING id),
			     d AS (INSERT INTO documents (organization_id, id, client_id, name, current_version_id, version, content_type, parse_status)
			           VALUES ($1, gen_random_uuid(), $2, 'Ledger.pdf', gen_random_uuid(), 1, 'application/pdf', 'parsed')
			           RETURNING id, current_version_id)
			INSERT INTO document_versions (organization_id, id, document_id, version, blob_id, filename, size, content_type)
			SELECT $1, d.current_version_id, d.id, 1, b.id, 'Ledger.pdf', 1, 'application/pdf' FROM d, b`, org.ID, client.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO document_chunks (organization_id, document_id, version_id, seq, page, ref, content)
			SELECT d.organization_id, d.id, d.current_version_id, g, g + 1, 'page ' || (g + 1),
			       'Page ' || g || ' of the general ledger: account ' || (g * 7919 % 10007) || ', amount ' || (g * 31 % 997)
			FROM documents d, generate_series(0, 2999) g WHERE d.organization_id = $1`, org.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	from := time.Now().AddDate(0, -2, 0)
	var plan []string
	err = st.InOrgTx(ctx, org.ID, func(tx pgx.Tx, _ *db.Queries) error {
		// The table is small for a planner: a sequential scan could look
		// cheaper than any index. Without it, only an index whose
		// conditions the policy lets go first can serve the search.
		if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		rec := &recorder{Tx: tx}
		if _, err := documents.SearchWith(ctx, db.New(rec), org.ID, documents.SearchFilter{
			Query: "account 4211", ClientID: &client.ID, Type: "pdf", From: &from,
		}); err != nil {
			return err
		}
		if !strings.Contains(rec.sql, "SearchDocumentChunks") {
			t.Fatalf("recorded %.80q", rec.sql)
		}
		if _, err := tx.Exec(ctx, "PREPARE search_plan AS "+rec.sql); err != nil {
			return err
		}
		params := make([]string, len(rec.args))
		for i := range params {
			params[i] = "$" + strconv.Itoa(i+1)
		}
		// EXPLAIN takes no bind parameters: the values go in as literals.
		args := append([]any{pgx.QueryExecModeSimpleProtocol}, rec.args...)
		rows, err := tx.Query(ctx, "EXPLAIN EXECUTE search_plan("+strings.Join(params, ", ")+")", args...)
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "$1") {
		t.Fatalf("not the generic plan the application gets:\n%s", text)
	}
	scan := strings.Index(text, "Bitmap Index Scan on document_chunks_search_idx")
	if scan < 0 {
		t.Fatalf("the search does not use its index:\n%s", text)
	}
	if cond := text[scan:]; !strings.Contains(cond, "Index Cond: ((tsv @@ websearch_to_tsquery(") || !strings.Contains(cond, "(facets @@ ") {
		t.Fatalf("words and facets are not both index conditions:\n%s", text)
	}
}
