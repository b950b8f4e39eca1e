package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"accute/internal/testutil"
)

// Ids go to and come from PostgreSQL in binary, NULLs and arrays included.
func TestUUIDCodecRoundTrips(t *testing.T) {
	s, _ := testutil.NewStore(t)
	ctx := context.Background()
	id := uuid.New()
	var back uuid.UUID
	var text string
	var null *uuid.UUID
	var list []uuid.UUID
	if err := s.Pool.QueryRow(ctx, `SELECT $1::uuid, $1::uuid::text, NULL::uuid, ARRAY[$1::uuid, $2::uuid]`, id, uuid.Nil).Scan(&back, &text, &null, &list); err != nil {
		t.Fatal(err)
	}
	if back != id || text != id.String() || null != nil || len(list) != 2 || list[0] != id || list[1] != uuid.Nil {
		t.Fatalf("got %v %q %v %v", back, text, null, list)
	}
	var some *uuid.UUID
	if err := s.Pool.QueryRow(ctx, `SELECT $1::uuid`, &id).Scan(&some); err != nil || some == nil || *some != id {
		t.Fatalf("pointer: %v %v", some, err)
	}
	if err := s.Pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&back); err == nil {
		t.Fatal("NULL scanned into uuid.UUID")
	}
}
