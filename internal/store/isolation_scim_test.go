package store_test

import (
	"context"

	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/testutil"
)

// populateSCIM gives org one row in each SCIM table.
func populateSCIM(ctx context.Context, q *db.Queries, org db.Organization, owner db.User) error {
	_, hash := crypto.NewToken()
	if _, err := q.CreateScimToken(ctx, db.CreateScimTokenParams{OrganizationID: org.ID, Name: "Fixture", TokenHash: hash, Hint: "abcd", CreatedBy: &owner.ID}); err != nil {
		return err
	}
	if _, err := q.CreateScimRoleMapping(ctx, db.CreateScimRoleMappingParams{OrganizationID: org.ID, GroupName: "Fixture", Role: "staff"}); err != nil {
		return err
	}
	su, err := q.CreateScimUser(ctx, db.CreateScimUserParams{OrganizationID: org.ID, UserID: owner.ID, UserName: owner.Email, Email: owner.Email, Active: true})
	if err != nil {
		return err
	}
	g, err := q.CreateScimGroup(ctx, db.CreateScimGroupParams{OrganizationID: org.ID, DisplayName: testutil.Unique("Fixture group ")})
	if err != nil {
		return err
	}
	_, err = q.AddScimGroupMember(ctx, db.AddScimGroupMemberParams{OrganizationID: org.ID, GroupID: g.ID, ScimUserID: su.ID})
	return err
}
