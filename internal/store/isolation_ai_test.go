package store_test

import (
	"context"

	"accute/internal/db"
)

// populateAI gives the organization its own AI provider settings
// (org_ai_settings), with a (fake) sealed key.
func populateAI(ctx context.Context, q *db.Queries, org db.Organization, owner db.User) error {
	s, err := q.UpsertOrgAISettings(ctx, db.UpsertOrgAISettingsParams{OrganizationID: org.ID, Provider: "compatible",
		BaseUrl: "https://llm.example/v1", Model: "llama3.1", UpdatedBy: &owner.ID})
	if err != nil {
		return err
	}
	_, err = q.SetOrgAIKey(ctx, db.SetOrgAIKeyParams{OrganizationID: org.ID, ID: s.ID, ApiKey: []byte("sealed"), UpdatedBy: &owner.ID})
	return err
}
