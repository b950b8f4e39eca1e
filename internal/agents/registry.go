package agents

import (
	"context"
	"encoding/json"
	"fmt"

	"accute/internal/db"
	"accute/internal/store"
)

// Sync writes the catalogue into the registry: new agents are added, and an
// agent whose catalogue version is higher than the stored one is replaced
// (the console's enabled flag is kept). It returns how many rows changed.
// It runs at start-up (main.go) and is idempotent.
func Sync(ctx context.Context, s *store.Store) (int, error) {
	n := 0
	err := s.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		n, err = SyncWith(ctx, q, Catalogue)
		return err
	})
	return n, err
}

// SyncWith writes defs into the registry in the caller's transaction.
func SyncWith(ctx context.Context, q *db.Queries, defs []Definition) (int, error) {
	n := 0
	for _, d := range defs {
		settings, err := json.Marshal(d.Defaults)
		if err != nil {
			return n, err
		}
		if d.Capabilities == nil {
			d.Capabilities = []string{}
		}
		if d.Tools == nil {
			d.Tools = []string{}
		}
		rows, err := q.UpsertAgent(ctx, db.UpsertAgentParams{
			Slug: d.Slug, Name: d.Name, Tagline: d.Tagline, Description: d.Description,
			Capabilities: d.Capabilities, MinPlan: d.MinPlan, SystemPrompt: d.SystemPrompt,
			Tools: d.Tools, DefaultSettings: settings, Version: d.Version,
		})
		if err != nil {
			return n, fmt.Errorf("agents: sync %s: %w", d.Slug, err)
		}
		n += int(rows)
	}
	return n, nil
}
