package store_test

import (
	"context"

	"accute/internal/auth"
	"accute/internal/db"
)

// populateAPITokens gives org a personal access token (api_tokens).
func populateAPITokens(ctx context.Context, q *db.Queries, org db.Organization, owner db.User) error {
	_, hash, hint := auth.NewPAT(org.ID)
	_, err := q.CreateAPIToken(ctx, db.CreateAPITokenParams{OrganizationID: org.ID, UserID: owner.ID, Name: "Fixture", TokenHash: hash, TokenHint: hint, Role: "staff"})
	return err
}
