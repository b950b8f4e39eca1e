package testutil

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestNewDBIsolatedAndMigrated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := NewDB(t), NewDB(t)
	if a == b {
		t.Fatalf("two NewDB calls returned the same URL %s", a)
	}

	connect := func(dsn string) *pgx.Conn {
		t.Helper()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect %s: %v", dsn, err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	ca, cb := connect(a), connect(b)

	var dbA, dbB string
	if err := ca.QueryRow(ctx, "SELECT current_database()").Scan(&dbA); err != nil {
		t.Fatal(err)
	}
	if err := cb.QueryRow(ctx, "SELECT current_database()").Scan(&dbB); err != nil {
		t.Fatal(err)
	}
	if dbA == dbB || !strings.HasPrefix(dbA, testDBPrefix) || !strings.HasPrefix(dbB, testDBPrefix) {
		t.Fatalf("databases %q and %q: want two distinct %s* databases", dbA, dbB, testDBPrefix)
	}

	// Migrations are applied and the tables start empty.
	for _, c := range []*pgx.Conn{ca, cb} {
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
			t.Fatalf("users table: %v", err)
		}
		if n != 0 {
			t.Fatalf("users has %d rows in a fresh database, want 0", n)
		}
		var applied int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied").Scan(&applied); err != nil {
			t.Fatalf("goose_db_version: %v", err)
		}
		if applied == 0 {
			t.Fatal("no migration recorded as applied")
		}
	}

	// A write in one database is invisible in the other.
	if _, err := ca.Exec(ctx, "INSERT INTO users (email, name, password_hash) VALUES ('a@example.test', 'A', 'x')"); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var na, nb int
	_ = ca.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&na)
	_ = cb.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&nb)
	if na != 1 || nb != 0 {
		t.Fatalf("users: %d in a, %d in b; want 1 and 0", na, nb)
	}
}

func TestNewDBDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	var dsn string
	t.Run("inner", func(t *testing.T) { dsn = NewDB(t) })
	name := dsn[strings.LastIndex(dsn, "/")+1:]
	name, _, _ = strings.Cut(name, "?")

	ctx := context.Background()
	c, err := pgx.Connect(ctx, DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

func TestNewStoreRunsAsAppRole(t *testing.T) {
	t.Parallel()
	s, _ := NewStore(t)
	var role string
	if err := s.Pool.QueryRow(context.Background(), "SELECT current_user").Scan(&role); err != nil {
		t.Fatal(err)
	}
	if role != "accute_app" {
		t.Fatalf("store connects as %q, want accute_app", role)
	}
}

func TestWithDatabase(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres://postgres@127.0.0.1:5432/x1?sslmode=disable"},
		{"postgresql://u:p%40ss@db:5432?sslmode=require", "postgresql://u:p%40ss@db:5432/x1?sslmode=require"},
		{"postgres:///accute?host=/tmp/sock&port=5432&user=postgres", "postgres:///x1?host=/tmp/sock&port=5432&user=postgres"},
		{"postgres://h/a?dbname=other&sslmode=disable", "postgres://h/x1?sslmode=disable"},
		{"host=/tmp user=postgres dbname=a", "host=/tmp user=postgres dbname=a dbname='x1'"},
	}
	for _, c := range cases {
		got, err := WithDatabase(c.in, "x1")
		if err != nil || got != c.want {
			t.Errorf("WithDatabase(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
