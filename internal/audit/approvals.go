package audit

// AI agents' actions, approvals and usage (internal/agents/tools,
// internal/agents/usage).
const (
	AgentActionProposed = "agent.action_proposed" // waiting for approval
	AgentActionAutoRun  = "agent.action_auto_run" // run without approval, by the organization's policy
	AgentActionApproved = "agent.action_approved" // approved (as proposed or edited) and executed
	AgentActionRejected = "agent.action_rejected"
	AgentPolicyChanged  = "agent.policy_changed"
	ClientNoteAdded     = "client.note_added"
	AIBudgetUpdated     = "ai.budget_updated"
	AIBudgetWarned      = "ai.budget_warning_sent"
)

func init() {
	OrgActions = append(OrgActions, AgentActionProposed, AgentActionAutoRun, AgentActionApproved, AgentActionRejected,
		AgentPolicyChanged, ClientNoteAdded, AIBudgetUpdated, AIBudgetWarned)
}
