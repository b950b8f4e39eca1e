package handlers

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"accute/internal/db"
)

// clientRows builds the same addresses and dates as id.String() and
// Format would, row by row.
func TestClientRows(t *testing.T) {
	archived := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rows := []db.ListClientsRow{
		{ID: uuid.New(), Name: "Acme", Email: "a@acme.test", Kind: "business", Phone: "1", Contacts: 2, UpdatedAt: time.Date(2026, 1, 9, 10, 0, 0, 0, time.UTC)},
		{ID: uuid.MustParse("00000000-0000-0000-0000-000000000000"), Name: "Zed", Kind: "individual", UpdatedAt: time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC), ArchivedAt: &archived},
		{ID: uuid.MustParse("ffffffff-ffff-4fff-bfff-ffffffffffff"), Name: "Émile", Kind: "business", UpdatedAt: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	got := clientRows("/o/demo/clients", rows)
	if len(got) != len(rows) {
		t.Fatalf("%d rows", len(got))
	}
	for i, r := range rows {
		g := got[i]
		if g.URL != "/o/demo/clients/"+r.ID.String() || g.Updated != r.UpdatedAt.Format(clientDateLayout) ||
			g.Name != r.Name || g.Email != r.Email || g.Kind != r.Kind || g.KindLabel != kindLabel(r.Kind) || g.Phone != r.Phone ||
			g.Contacts != int(r.Contacts) || g.Archived != (r.ArchivedAt != nil) {
			t.Errorf("row %d = %+v", i, g)
		}
	}
	if len(clientRows("/x", nil)) != 0 {
		t.Error("rows from nothing")
	}
}
