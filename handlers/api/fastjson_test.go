package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The fast encoder must write exactly what encoding/json writes.
func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	archived := time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)
	strs := []string{"", "plain", `quote " and \ backslash`, "tab\tnewline\ncr\rbell\x07nul\x00", "<b>&amp;</b>", "café ✓ 𝄞",
		"bad \xff utf8 \xc3", "line\u2028para\u2029", "\x1f\x7f", "\b\f"}
	cursor := "MQB4"
	page := Page[Client]{NextCursor: &cursor}
	for i, s := range strs {
		c := Client{ID: uuid.New(), Name: s, Kind: "business", Email: s, Phone: s, TaxID: s, Address: s, Notes: s, Status: "active",
			CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), UpdatedAt: time.Now()}
		if i%2 == 0 {
			c.ArchivedAt, c.Status = &archived, "archived"
		}
		page.Items = append(page.Items, c)
	}
	for _, p := range []Page[Client]{page, {Items: []Client{}}} {
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		got := clientPage(p).appendJSON(nil)
		if !bytes.Equal(got, want) {
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
