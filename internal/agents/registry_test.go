package agents_test

import (
	"context"
	"testing"

	"accute/internal/agents"
	"accute/internal/db"
	"accute/internal/testutil"
)

func TestSyncVersioning(t *testing.T) {
	s, _ := testutil.NewStore(t) // runs Sync once
	ctx := context.Background()
	get := func(slug string) db.Agent {
		t.Helper()
		a, err := s.Q().GetAgent(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	all, err := s.Q().ListAgents(ctx)
	if err != nil || len(all) != len(agents.Catalogue) {
		t.Fatalf("registry has %d agents (%v), want %d", len(all), err, len(agents.Catalogue))
	}
	sync := func(defs []agents.Definition) int {
		t.Helper()
		var n int
		if err := s.AsPlatform(ctx, func(q *db.Queries) error {
			var err error
			n, err = agents.SyncWith(ctx, q, defs)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Unchanged catalogue: nothing written.
	if n := sync(agents.Catalogue); n != 0 {
		t.Fatalf("second sync wrote %d rows", n)
	}
	// The platform withdraws Luca.
	if err := s.AsPlatform(ctx, func(q *db.Queries) error {
		_, err := q.UpdateAgentListing(ctx, db.UpdateAgentListingParams{Slug: "luca", Description: "Edited", MinPlan: "free", Enabled: false})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	luca := agents.Catalogue[0]
	// Same version, changed text: ignored.
	same := luca
	same.Description = "Should not be written"
	if n := sync([]agents.Definition{same}); n != 0 || get("luca").Description != "Edited" {
		t.Fatalf("same version overwrote the row: %d %q", n, get("luca").Description)
	}
	// Higher version: replaced, the enabled flag kept.
	bumped := luca
	bumped.Version++
	bumped.Description = "Version two"
	bumped.Capabilities = []string{"New capability"}
	if n := sync([]agents.Definition{bumped}); n != 1 {
		t.Fatalf("bumped sync wrote %d rows", n)
	}
	a := get("luca")
	if a.Description != "Version two" || a.Version != luca.Version+1 || len(a.Capabilities) != 1 || a.Enabled {
		t.Fatalf("after bump: %+v", a)
	}
	// A lower version never downgrades.
	if n := sync([]agents.Definition{luca}); n != 0 || get("luca").Version != luca.Version+1 {
		t.Fatal("older catalogue downgraded the registry")
	}
	// A new agent is added.
	extra := agents.Definition{Slug: "extra", Name: "Extra", Description: "x", MinPlan: "free", SystemPrompt: "p", Version: 1}
	if n := sync([]agents.Definition{extra}); n != 1 || get("extra").Name != "Extra" {
		t.Fatal("new agent not added")
	}
}

func TestParseSettings(t *testing.T) {
	cases := []struct {
		in   agents.SettingsInput
		errs []string
	}{
		{agents.SettingsInput{Model: "gpt-4o", Temperature: "0"}, nil},
		{agents.SettingsInput{Model: "gpt-4o", Temperature: "2"}, nil},
		{agents.SettingsInput{Model: "gpt-4o", Temperature: "2.01"}, []string{"temperature"}},
		{agents.SettingsInput{Model: "gpt-4o", Temperature: "-0.1"}, []string{"temperature"}},
		{agents.SettingsInput{Model: "gpt-4o", Temperature: "NaN"}, []string{"temperature"}},
		{agents.SettingsInput{Model: "", Temperature: "1"}, []string{"model"}},
		{agents.SettingsInput{Model: "a b", Temperature: "1"}, []string{"model"}},
		{agents.SettingsInput{Model: "m", Temperature: "1", Instructions: string(make([]rune, 4001))}, []string{"instructions"}},
	}
	for _, c := range cases {
		_, errs := agents.ParseSettings(c.in)
		if len(errs) != len(c.errs) {
			t.Errorf("%+v: errors %v, want %v", c.in, errs, c.errs)
		}
		for _, f := range c.errs {
			if errs[f] == "" {
				t.Errorf("%+v: no error on %s", c.in, f)
			}
		}
	}
}
