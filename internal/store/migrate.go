package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for goose
	"github.com/pressly/goose/v3"

	"accute/migrations"
)

// Migrate applies every pending migration. It connects with url, which must
// be the owner of the schema (MIGRATION_DATABASE_URL), not the app role.
func Migrate(ctx context.Context, url string) error {
	sqlDB, err := sql.Open("pgx", url)
	if err != nil {
		return fmt.Errorf("migrate: open: %w", err)
	}
	defer sqlDB.Close()
	// Concurrent instances starting together must not migrate twice.
	if _, err := sqlDB.ExecContext(ctx, "SELECT pg_advisory_lock(72817001)"); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	// Out-of-order: migrations are numbered in ranges per area, so a database
	// may have a later range applied before an earlier one gains a file.
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// The job queue's schema comes from River's own migrator.
	return migrateRiver(ctx, url)
}

// embeddedLatest is the newest migration version embedded in the binary.
func embeddedLatest() (int64, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("migration %s: bad version", e.Name())
		}
		latest = max(latest, v)
	}
	return latest, nil
}

// MigrationsCurrent reports whether the database has every embedded
// migration applied (for /readyz).
func MigrationsCurrent(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	want, err := embeddedLatest()
	if err != nil {
		return false, err
	}
	var have int64
	if err := pool.QueryRow(ctx, "SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&have); err != nil {
		return false, fmt.Errorf("read migration version: %w", err)
	}
	return have >= want, nil
}
