package store_test

import (
	"context"

	"github.com/google/uuid"

	"accute/internal/db"
)

// populateAgentTools gives org a row in each table of the agents' actions
// and the AI usage ledger: a proposal (executed, with the note it created),
// an action policy, a ledger entry, a budget and a budget warning.
func populateAgentTools(ctx context.Context, q *db.Queries, org db.Organization, owner db.User, client db.Client) error {
	p, err := q.CreateAgentProposal(ctx, db.CreateAgentProposalParams{OrganizationID: org.ID, RunID: uuid.New(), AgentSlug: "cadence",
		Action: "create_task_note", RequestedBy: &owner.ID, ClientID: client.ID, Summary: "Fixture note", Arguments: []byte(`{"note":"Fixture"}`)})
	if err != nil {
		return err
	}
	if _, err := q.CreateClientNote(ctx, db.CreateClientNoteParams{OrganizationID: org.ID, ClientID: client.ID, Body: "Fixture", CreatedBy: &owner.ID, ProposalID: &p.ID}); err != nil {
		return err
	}
	if _, err := q.UpsertAgentActionPolicy(ctx, db.UpsertAgentActionPolicyParams{OrganizationID: org.ID, Action: "create_task_note", AutoRun: true, UpdatedBy: &owner.ID}); err != nil {
		return err
	}
	if _, err := q.InsertAIUsageEntry(ctx, db.InsertAIUsageEntryParams{OrganizationID: org.ID, RunID: uuid.New(), UserID: &owner.ID, AgentSlug: "luca",
		ClientID: &client.ID, Provider: "offline", Model: "", InputTokens: 10, OutputTokens: 10, Priced: true}); err != nil {
		return err
	}
	if _, err := q.UpsertAIBudget(ctx, db.UpsertAIBudgetParams{OrganizationID: org.ID, WarnPercent: 80, UpdatedBy: &owner.ID}); err != nil {
		return err
	}
	_, err = q.InsertAIBudgetWarning(ctx, db.InsertAIBudgetWarningParams{OrganizationID: org.ID, Month: "2026-01", LimitKind: "plan", Used: 1, LimitValue: 1})
	return err
}
