package billing

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

// Admin is the platform administrator changing a plan, as audited.
type Admin struct {
	ID    uuid.UUID
	Email string
}

// ChangePlan moves an organization to plan, audited in the organization's
// trail and the platform's. A plan below current usage is allowed: limits
// refuse additions, they never remove anything.
func ChangePlan(ctx context.Context, s *store.Store, by Admin, orgID uuid.UUID, plan string) (db.Organization, error) {
	if !ValidPlan(plan) {
		return db.Organization{}, form.Errors{"plan": "Choose one of the plans."}
	}
	var org db.Organization
	err := s.AsPlatform(ctx, func(q *db.Queries) error {
		before, err := q.GetOrganizationByID(ctx, orgID)
		if err != nil {
			return err
		}
		if before.Plan == plan {
			org = before
			return nil
		}
		if org, err = q.SetOrganizationPlan(ctx, db.SetOrganizationPlanParams{OrganizationID: orgID, Plan: plan}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &orgID, ActorID: &by.ID, ActorEmail: by.Email, Action: audit.PlanChanged,
			TargetType: "organization", TargetID: orgID.String(),
			Summary: fmt.Sprintf("Plan changed from %s to %s", PlanFor(before.Plan).Name, PlanFor(plan).Name),
		})
	})
	if err != nil {
		return db.Organization{}, fmt.Errorf("change plan: %w", store.MapError(err))
	}
	return org, nil
}
