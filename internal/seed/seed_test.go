package seed_test

import (
	"context"
	"testing"

	"accute/internal/db"
	"accute/internal/seed"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

// TestDemoSeedsAClientPortalUser: the demo firm comes with a client user
// who can sign in to the portal and sees the first demo client.
func TestDemoSeedsAClientPortalUser(t *testing.T) {
	s, _ := testutil.NewStore(t)
	ctx := context.Background()
	if _, err := seed.Demo(ctx, s, &tenant.Service{Store: s}, "demo-password-123", testutil.BcryptCost); err != nil {
		t.Fatal(err)
	}
	u, err := s.Q().GetUserByEmail(ctx, seed.ClientEmail)
	if err != nil {
		t.Fatal(err)
	}
	org, err := s.Q().GetOrganizationBySlug(ctx, seed.OrgSlug)
	if err != nil {
		t.Fatal(err)
	}
	err = s.InOrg(ctx, org.ID, func(q *db.Queries) error {
		m, err := q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: org.ID, UserID: u.ID})
		if err != nil {
			return err
		}
		if m.Role != tenant.RoleClient {
			t.Errorf("demo client user has role %q", m.Role)
		}
		clients, err := q.ListPortalClients(ctx, db.ListPortalClientsParams{OrganizationID: org.ID, UserID: u.ID})
		if err != nil {
			return err
		}
		if len(clients) != 1 || clients[0].ClientName != "Acme Manufacturing Inc." {
			t.Errorf("demo client user sees %+v", clients)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
