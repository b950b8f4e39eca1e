package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"accute/internal/db"
)

// The fast encoder must write exactly what encoding/json writes.
func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	archived := time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)
	strs := []string{"", "plain", `quote " and \ backslash`, "tab\tnewline\ncr\rbell\x07nul\x00", "<b>&amp;</b>", "café ✓ 𝄞",
		"bad \xff utf8 \xc3", "line\u2028para\u2029", "\x1f\x7f", "\b\f"}
	cursor := "MQB4"
	var rows []db.ListClientsPageRow
	for i, s := range strs {
		r := db.ListClientsPageRow{ID: uuid.New(), Name: s, Kind: "business", Email: s, Phone: s, TaxID: s, Address: s, Notes: s,
			CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), UpdatedAt: time.Now()}
		if i%2 == 0 {
			r.ArchivedAt = &archived
		}
		rows = append(rows, r)
	}
	for _, p := range []clientPage{{rows: rows, next: &cursor}, {rows: []db.ListClientsPageRow{}}} {
		ref := Page[Client]{Items: []Client{}, NextCursor: p.next}
		for _, r := range p.rows {
			ref.Items = append(ref.Items, Client{ID: r.ID, Name: r.Name, Kind: r.Kind, Email: r.Email, Phone: r.Phone, TaxID: r.TaxID,
				Address: r.Address, Notes: r.Notes, Status: status(r.ArchivedAt), ArchivedAt: r.ArchivedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt})
		}
		want, err := json.Marshal(ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.appendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("fast JSON differs:\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\xff", "\u2028", "<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}
