// Package testutil is the test harness: a real PostgreSQL database per test,
// cloned from a migrated template, and an HTTP client that asserts on HTML.
//
// Tests need a PostgreSQL server they may create databases on. `make test`
// provides one (an existing server from TEST_DATABASE_URL, the local one on
// 127.0.0.1:5432, or a private cluster it starts); `go test` alone uses
// TEST_DATABASE_URL or the local server.
package testutil

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"accute/internal/agents"
	"accute/internal/store"
	"accute/migrations"
)

// DefaultDatabaseURL is the server tests use when TEST_DATABASE_URL is unset.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// templateLockKey serialises building and pruning templates across test
// processes (go test runs packages in parallel). Cloning takes it shared.
const templateLockKey int64 = 7281700200

const (
	templatePrefix = "accute_tmpl_"
	testDBPrefix   = "accute_test_"
)

// DatabaseURL is the server tests create their databases on: a role that may
// create databases (a superuser in practice, since migrations create roles).
func DatabaseURL() string {
	if v := strings.TrimSpace(os.Getenv("TEST_DATABASE_URL")); v != "" {
		return v
	}
	return DefaultDatabaseURL
}

// NewDB returns the URL of a fresh database with every migration applied,
// dropped when the test ends. Each call gives a separate database, so tests
// may run in parallel.
func NewDB(t testing.TB) string {
	t.Helper()
	base := DatabaseURL()
	tmpl, err := ensureTemplate(base)
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	name := testDBPrefix + randomHex(8)
	if err := cloneTemplate(base, tmpl, name); err != nil {
		t.Fatalf("testutil: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(base, name); err != nil {
			t.Errorf("testutil: drop test database %s: %v", name, err)
		}
	})
	dsn, err := WithDatabase(base, name)
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	return dsn
}

// NewStore opens a store (as the application role, like the running app) on
// a fresh database; both are closed and dropped when the test ends. It also
// returns the database URL, which connects as the owner (for fixtures that
// must bypass row-level security, and for assertions on raw tables).
func NewStore(t testing.TB) (*store.Store, string) {
	t.Helper()
	dsn := NewDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, dsn, 10)
	if err != nil {
		t.Fatalf("testutil: open store: %v", err)
	}
	t.Cleanup(s.Close) // registered after the drop, so it runs before it
	// The agent registry is written at start-up, as main.go does.
	if _, err := agents.Sync(ctx, s); err != nil {
		t.Fatalf("testutil: agent registry: %v", err)
	}
	return s, dsn
}

// WithDatabase returns dsn pointing at database name instead. It accepts URLs
// (postgres://user@host:port/db?..., postgres:///db?host=/socket/dir&user=...)
// and keyword/value strings (host=... dbname=...).
func WithDatabase(dsn, name string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		if strings.Contains(dsn, "=") {
			// keyword/value: the last dbname wins.
			return dsn + " dbname='" + name + "'", nil
		}
		return "", fmt.Errorf("database URL %q is neither a postgres:// URL nor keyword/value settings", dsn)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %w", err)
	}
	u.Path = "/" + name
	u.RawPath = ""
	q := u.Query()
	if q.Has("dbname") || q.Has("database") {
		q.Del("dbname")
		q.Del("database")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// redact hides a password in a URL for messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return "(keyword/value DSN)"
}

// The template is built at most once per process for a given set of
// migrations; a failed build fails every later test fast.
var (
	tmplMu    sync.Mutex
	tmplReady = map[string]bool{}  // base URL -> template exists
	tmplErr   = map[string]error{} // base URL -> build failure
)

// TemplateName is the template database for the embedded migrations: a hash
// of their names and contents, so changing a migration builds a new one.
func TemplateName() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	h.Write([]byte(store.SchemaExtras))
	return templatePrefix + hex.EncodeToString(h.Sum(nil))[:16], nil
}

func connectAdmin(ctx context.Context, base string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, base)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the test PostgreSQL server at %s (run the tests with `make test`, "+
			"which finds or starts a database server, or set TEST_DATABASE_URL to a PostgreSQL URL "+
			"whose user may create databases and roles): %v", redact(base), err)
	}
	return conn, nil
}

// ensureTemplate makes sure the migrated template exists and returns its name.
func ensureTemplate(base string) (string, error) {
	name, err := TemplateName()
	if err != nil {
		return "", err
	}
	tmplMu.Lock()
	defer tmplMu.Unlock()
	if err := tmplErr[base]; err != nil {
		return "", err
	}
	if tmplReady[base] {
		return name, nil
	}
	if err := buildTemplate(base, name); err != nil {
		tmplErr[base] = err
		return "", err
	}
	tmplReady[base] = true
	return name, nil
}

// buildTemplate creates and migrates the template under an exclusive
// advisory lock, unless another process already has. It builds under a
// temporary name and renames at the end, so a build that died half-way is
// never cloned. Templates of other migration sets are pruned.
func buildTemplate(base, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := connectAdmin(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLockKey) }()

	exists, err := databaseExists(ctx, conn, name)
	if err != nil {
		return err
	}
	if !exists {
		building := name + "_build"
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(building)+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop stale %s: %w", building, err)
		}
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(building)); err != nil {
			return fmt.Errorf("create template database: %w", err)
		}
		dsn, err := WithDatabase(base, building)
		if err != nil {
			return err
		}
		if err := store.Migrate(ctx, dsn); err != nil {
			return fmt.Errorf("migrate template database: %w", err)
		}
		// The server waits a few seconds for the migration's backends to exit.
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(building)+" RENAME TO "+ident(name)); err != nil {
			return fmt.Errorf("rename template database: %w", err)
		}
	}

	// Prune templates of older migration sets and stale half-built ones.
	// A plain DROP fails while someone is connected; that is fine.
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2", templatePrefix, name)
	if err != nil {
		return fmt.Errorf("list templates: %w", err)
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list templates: %w", err)
	}
	for _, o := range old {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(o))
	}
	return nil
}

// cloneTemplate creates database name from the template. A shared advisory
// lock keeps another process from pruning the template meanwhile; if it was
// pruned before (another checkout with other migrations), it is rebuilt.
func cloneTemplate(base, tmpl, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for attempt := 0; ; attempt++ {
		err := func() error {
			conn, err := connectAdmin(ctx, base)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock_shared($1)", templateLockKey); err != nil {
				return fmt.Errorf("lock template: %w", err)
			}
			defer func() {
				_, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock_shared($1)", templateLockKey)
			}()
			_, err = conn.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(tmpl))
			return err
		}()
		var pgErr *pgconn.PgError
		if err != nil && attempt == 0 && errors.As(err, &pgErr) && pgErr.Code == "3D000" { // template missing
			tmplMu.Lock()
			delete(tmplReady, base)
			tmplMu.Unlock()
			if _, err := ensureTemplate(base); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("create test database from %s: %w", tmpl, err)
		}
		return nil
	}
}

func dropDatabase(base, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := connectAdmin(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)")
	return err
}

func databaseExists(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("look up database %s: %w", name, err)
	}
	return ok, nil
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
