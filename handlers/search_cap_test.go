package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/handlers/api"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/tenant"
)

// TestSearchCapsCommonWords: a word on more places than a search ranks
// (documents.SearchPool) is ranked within the pool: the page says "1,000+"
// and how to narrow, the API sets total_capped, and pages end with the
// pool. A filter still finds every match of a small client behind the
// big one's, with an exact total, and follows a document moved to another
// client (its chunks' facets follow it).
func TestSearchCapsCommonWords(t *testing.T) {
	app := newTestApp(t)
	c, owner, org := app.owner()
	base := "/o/" + org.Slug + "/documents"
	big, small := app.F.Client(org, "Big Client"), app.F.Client(org, "Small Client")
	ledger := uploadedDocument(t, postFiles(c, base, map[string]string{"client_id": big.ID.String()}, "", true,
		upload{"ledger.txt", []byte("General ledger total for the year.\n")}))
	app.workJobs(nil, false)

	// The big client's ledger gets more matching places than the pool,
	// stored before the small client's note (so they come first in the
	// table, where the pool is taken from).
	extra := documents.SearchPool + 100
	ctx := context.Background()
	err := app.Store.InOrgTx(ctx, org.ID, func(tx pgx.Tx, _ *db.Queries) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO document_chunks (organization_id, document_id, version_id, seq, line_start, line_end, ref, content)
			SELECT d.organization_id, d.id, d.current_version_id, g, g + 1, g + 1, 'line ' || (g + 1),
			       'Ledger total carried forward from page ' || g
			FROM documents d, generate_series(1, $2::int) g
			WHERE d.organization_id = $1 AND d.id = $3`, org.ID, extra, uuid.MustParse(ledger.ID))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	note := uploadedDocument(t, postFiles(c, base, map[string]string{"client_id": small.ID.String()}, "", true,
		upload{"note.txt", []byte("Ledger total agreed with the quince orchard accounts.\n")}))
	app.workJobs(nil, false)

	// The page: the first 1,000 places, ranked; the pager ends with them.
	res := c.Get(base + "/search?q=ledger")
	if res.StatusCode != http.StatusOK || res.Count("[data-testid=search-hit]") != documents.SearchPerPage {
		t.Fatalf("search: %d, %d hits", res.StatusCode, res.Count("[data-testid=search-hit]"))
	}
	if got := res.Text("[data-testid=search-capped]"); !strings.Contains(got, "More than 1,000 places match") {
		t.Fatalf("capped note %q", got)
	}
	if got := res.Text(".pagination .muted"); got != "1–20 of 1,000+" {
		t.Fatalf("pager %q", got)
	}
	if !strings.Contains(res.Text(".pagination"), "Page 1 of 50") {
		t.Fatalf("pages %q", res.Text(".pagination"))
	}
	last := c.Get(base + "/search?q=ledger&page=50")
	if last.Count("[data-testid=search-hit]") != documents.SearchPerPage || last.Text(".pagination .muted") != "981–1000 of 1,000+" {
		t.Fatalf("last page: %d hits, %q", last.Count("[data-testid=search-hit]"), last.Text(".pagination .muted"))
	}

	// Only stop words: nothing to look for, and no error.
	if e := c.Get(base + "/search?q=the+and+of"); e.StatusCode != http.StatusOK || e.Count("[data-testid=search-hit]") != 0 {
		t.Fatalf("stop words: %d, %d hits", e.StatusCode, e.Count("[data-testid=search-hit]"))
	}

	// A filter narrows below the cap: every match, counted exactly.
	res = c.Get(base + "/search?" + url.Values{"q": {"ledger"}, "client": {small.ID.String()}}.Encode())
	if res.Count("[data-testid=search-hit]") != 1 || res.Attr("[data-testid=hit-document]", "href") != note.URL ||
		res.Count("[data-testid=search-capped]") != 0 || res.Text(".pagination .muted") != "1–1 of 1" {
		t.Fatalf("small client: %d hits, %q", res.Count("[data-testid=search-hit]"), res.Text(".pagination .muted"))
	}

	// The API: total_capped, pages of the pool, then empty pages.
	token, _ := app.pat(owner, org, tenant.RoleAdmin, nil)
	a := app.api(token)
	apiBase := "/api/v1/orgs/" + org.Slug + "/search?"
	var found api.SearchResults
	a.get(apiBase + url.Values{"q": {"ledger total"}, "limit": {"100"}}.Encode()).expect(http.StatusOK).into(&found)
	if found.Total != documents.SearchPool || !found.TotalCapped || len(found.Items) != 100 {
		t.Fatalf("api capped: total %d capped %v items %d", found.Total, found.TotalCapped, len(found.Items))
	}
	seen := map[string]bool{}
	for page := 1; page <= documents.SearchPool/100+1; page++ {
		var p api.SearchResults
		a.get(apiBase + url.Values{"q": {"ledger total"}, "limit": {"100"}, "page": {strconv.Itoa(page)}}.Encode()).expect(http.StatusOK).into(&p)
		if page > documents.SearchPool/100 {
			if len(p.Items) != 0 {
				t.Fatalf("page %d beyond the pool: %d items", page, len(p.Items))
			}
			break
		}
		for i, h := range p.Items {
			key := h.DocumentID.String() + " " + h.Ref
			if seen[key] {
				t.Fatalf("page %d item %d repeats %s", page, i, key)
			}
			seen[key] = true
			if i > 0 && h.Rank > p.Items[i-1].Rank {
				t.Fatalf("page %d not in rank order at %d", page, i)
			}
		}
	}
	if len(seen) != documents.SearchPool {
		t.Fatalf("pages hold %d distinct places, want %d", len(seen), documents.SearchPool)
	}
	a.get(apiBase + url.Values{"q": {"quince"}}.Encode()).expect(http.StatusOK).into(&found)
	if found.Total != 1 || found.TotalCapped || len(found.Items) != 1 {
		t.Fatalf("api exact: %+v", found)
	}

	// Moving the note to the big client moves its facets: the client filter
	// finds it under the new client and no longer under the old.
	err = app.Store.InOrgTx(ctx, org.ID, func(tx pgx.Tx, _ *db.Queries) error {
		_, err := tx.Exec(ctx, `UPDATE documents SET client_id = $1 WHERE organization_id = $2 AND id = $3`, big.ID, org.ID, uuid.MustParse(note.ID))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	a.get(apiBase + url.Values{"q": {"quince"}, "client_id": {big.ID.String()}}.Encode()).expect(http.StatusOK).into(&found)
	if found.Total != 1 || len(found.Items) != 1 || found.Items[0].DocumentID.String() != note.ID {
		t.Fatalf("moved note under its new client: %+v", found)
	}
	a.get(apiBase + url.Values{"q": {"quince"}, "client_id": {small.ID.String()}}.Encode()).expect(http.StatusOK).into(&found)
	if found.Total != 0 || len(found.Items) != 0 {
		t.Fatalf("moved note still under its old client: %+v", found)
	}
}
