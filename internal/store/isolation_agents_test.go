package store_test

import (
	"context"

	"accute/internal/db"
)

// populateAgents installs an agent besides Luca (which every new
// organization has) in agent_installations.
func populateAgents(ctx context.Context, q *db.Queries, org db.Organization, owner db.User) error {
	_, err := q.InstallAgent(ctx, db.InstallAgentParams{OrganizationID: org.ID, AgentSlug: "echo", Settings: []byte(`{"model":"gpt-4o-mini"}`), InstalledBy: &owner.ID})
	return err
}
