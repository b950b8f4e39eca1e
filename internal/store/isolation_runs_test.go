package store_test

import (
	"context"

	"accute/internal/db"
)

// populateAgentRuns adds a conversation about client with a run, its
// messages and an event (agent_conversations, agent_runs, agent_messages,
// agent_run_events).
func populateAgentRuns(ctx context.Context, q *db.Queries, org db.Organization, owner db.User, client db.Client) error {
	conv, err := q.CreateAgentConversation(ctx, db.CreateAgentConversationParams{OrganizationID: org.ID, UserID: owner.ID, AgentSlug: "luca",
		ClientID: &client.ID, Title: "Fixture"})
	if err != nil {
		return err
	}
	run, err := q.CreateAgentRun(ctx, db.CreateAgentRunParams{OrganizationID: org.ID, ConversationID: conv.ID, UserID: owner.ID, AgentSlug: "luca", ClientID: &client.ID})
	if err != nil {
		return err
	}
	if _, err := q.CreateAgentMessage(ctx, db.CreateAgentMessageParams{OrganizationID: org.ID, ConversationID: conv.ID, RunID: run.ID,
		Role: "user", Content: "Fixture question", Citations: []byte("[]")}); err != nil {
		return err
	}
	_, err = q.AppendAgentRunEvents(ctx, db.AppendAgentRunEventsParams{Channel: "accute_test", Payload: "fixture", OrganizationID: org.ID, RunID: run.ID,
		Seqs: []int64{1}, Types: []string{"delta"}, Datas: [][]byte{[]byte(`{"text":"x"}`)}})
	return err
}
