package testutil

import (
	"context"

	"accute/internal/db"
)

// Plan puts org on plan (free, starter, professional, enterprise). Factory
// organizations are on enterprise; tests of limits set a lower plan.
func (f Factory) Plan(org db.Organization, plan string) db.Organization {
	f.T.Helper()
	ctx := context.Background()
	err := f.Store.AsPlatform(ctx, func(q *db.Queries) error {
		var err error
		org, err = q.SetOrganizationPlan(ctx, db.SetOrganizationPlanParams{OrganizationID: org.ID, Plan: plan})
		return err
	})
	if err != nil {
		f.T.Fatalf("factory plan: %v", err)
	}
	return org
}
