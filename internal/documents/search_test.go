package documents

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestSearchFacets: the facet query a search gives the index (migration
// 00111 writes the same lexemes): the organization, or the client (which
// belongs to one); the type; upload months, whole years as a year; an open
// range ends a month after now; a range too long to list is left to the
// check on the document.
func TestSearchFacets(t *testing.T) {
	org := uuid.MustParse("5b0c6a3e-0000-4000-8000-000000000001")
	client := uuid.MustParse("9e1f0000-0000-4000-8000-000000000002")
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int) *time.Time {
		v := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return &v
	}
	cases := []struct {
		name         string
		client       *uuid.UUID
		mime         string
		from, before *time.Time
		want         string
	}{
		{"org", nil, "", nil, nil, "'org 5b0c6a3e-0000-4000-8000-000000000001'"},
		{"client and type", &client, "application/pdf", nil, nil,
			"'client 9e1f0000-0000-4000-8000-000000000002' & 'type application/pdf'"},
		{"before only: no date facet", nil, "", nil, day(2026, 3, 1), "'org 5b0c6a3e-0000-4000-8000-000000000001'"},
		{"from, open: to a month after now", nil, "", day(2026, 10, 15), nil,
			"'org 5b0c6a3e-0000-4000-8000-000000000001' & ('month 2026-10' | 'month 2026-11' | 'month 2026-12')"},
		{"years in the middle", nil, "", day(2024, 11, 2), day(2026, 2, 1),
			"'org 5b0c6a3e-0000-4000-8000-000000000001' & ('month 2024-11' | 'month 2024-12' | 'year 2025' | 'month 2026-01')"},
		{"a whole year", nil, "", day(2025, 1, 1), day(2026, 1, 1),
			"'org 5b0c6a3e-0000-4000-8000-000000000001' & ('year 2025')"},
		{"one day", nil, "", day(2026, 3, 4), day(2026, 3, 5),
			"'org 5b0c6a3e-0000-4000-8000-000000000001' & ('month 2026-03')"},
		{"empty range", nil, "", day(2030, 5, 1), nil,
			"'org 5b0c6a3e-0000-4000-8000-000000000001' & ('month 2030-05')"},
		{"too long a range", nil, "", day(1900, 6, 1), nil, "'org 5b0c6a3e-0000-4000-8000-000000000001'"},
	}
	for _, c := range cases {
		if got := searchFacets(org, c.client, c.mime, c.from, c.before, now); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	if got := facetLexeme(`it's a \ test`); got != `'it''s a \\ test'` {
		t.Errorf("quoting %s", got)
	}
	// Every range up to the limit lists each month once, in order.
	for months := 1; months < 40; months++ {
		from := time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)
		got := dateFacets(from, from.AddDate(0, months, 0).Add(-time.Nanosecond))
		n := 0
		for _, f := range got {
			if strings.HasPrefix(f, "'year") {
				n += 12
			} else {
				n++
			}
		}
		if n != months {
			t.Fatalf("%d months: %v", months, got)
		}
	}
}
