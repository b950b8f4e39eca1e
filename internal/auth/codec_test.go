package auth

import (
	"reflect"
	"testing"
	"time"
)

// Decoding the same data twice gives equal values in maps of their own
// (scs changes the map of the request's session).
func TestJSONCodecDecodeCopies(t *testing.T) {
	c := newJSONCodec()
	deadline := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	b, err := c.Encode(deadline, map[string]any{keyUserID: "11111111-1111-1111-1111-111111111111", keyVersion: "2", keyFlash: `info|"quoted" \ text`})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		d, values, err := c.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{keyUserID: "11111111-1111-1111-1111-111111111111", keyVersion: "2", keyFlash: `info|"quoted" \ text`}
		if !d.Equal(deadline) || !reflect.DeepEqual(values, want) {
			t.Fatalf("decode %d: %v %v", i, d, values)
		}
		values[keyVersion] = "99" // as a request's Put would
		delete(values, keyFlash)
	}
	if _, _, err := c.Decode([]byte("{not json")); err == nil {
		t.Fatal("invalid JSON decoded")
	}
	if _, values, err := c.Decode([]byte("\x0e\xff gob data")); err != nil || len(values) != 0 {
		t.Fatalf("older data: %v %v", values, err)
	}
	if _, err := c.Encode(deadline, map[string]any{"n": 1}); err == nil {
		t.Fatal("non-string value encoded")
	}
}
