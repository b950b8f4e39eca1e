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

// Install installs an agent for org directly (no plan checks).
func (f Factory) Install(org db.Organization, slug string) db.AgentInstallation {
	f.T.Helper()
	ctx := context.Background()
	var inst db.AgentInstallation
	err := f.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		a, err := q.GetAgent(ctx, slug)
		if err != nil {
			return err
		}
		inst, err = q.InstallAgent(ctx, db.InstallAgentParams{OrganizationID: org.ID, AgentSlug: slug, Settings: a.DefaultSettings})
		return err
	})
	if err != nil {
		f.T.Fatalf("factory install %s: %v", slug, err)
	}
	return inst
}
