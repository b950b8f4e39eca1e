package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// migrateRiver applies the job queue's own schema (River's tables, which
// are global: jobs carry their organization in their arguments) with
// River's migrator, then grants the application role what River's client
// needs at run time: rows of its tables and its sequences. River's
// migration table stays read-only for the application.
//
// It runs as the schema owner, after goose (which creates the app role).
func migrateRiver(ctx context.Context, url string) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	defer pool.Close()
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	_, err = pool.Exec(ctx, `
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relname LIKE 'river\_%' AND c.relkind IN ('r', 'S', 'p')
    LOOP
        IF r.relkind = 'S' THEN
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %I TO `+AppRole+`', r.relname);
        ELSIF r.relname = 'river_migration' THEN
            EXECUTE format('GRANT SELECT ON %I TO `+AppRole+`', r.relname);
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO `+AppRole+`', r.relname);
        END IF;
    END LOOP;
END
$$`)
	if err != nil {
		return fmt.Errorf("migrate river: grant: %w", err)
	}
	return nil
}

// SchemaExtras names the schema applied outside the embedded migration
// files (River's, by its migrator), so that anything that caches a migrated
// database (the test harness's template) notices when it changes.
const SchemaExtras = "river v0.51.2 (riverpgxv5 main line)"
