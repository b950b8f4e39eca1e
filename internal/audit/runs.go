package audit

// Conversations with AI agents (internal/agents/runs). A run is a message
// a member sent and the answer it started; the messages themselves are not
// copied into the trail.
const (
	AgentRunStarted   = "agent.run_started"
	AgentRunCancelled = "agent.run_cancelled"
)

func init() {
	OrgActions = append(OrgActions, AgentRunStarted, AgentRunCancelled)
}
