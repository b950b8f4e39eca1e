package audit

// Plans and AI agents (internal/billing, internal/agents).
const (
	PlanChanged       = "org.plan_changed" // by a platform administrator
	AgentInstalled    = "agent.installed"
	AgentEnabled      = "agent.enabled"
	AgentDisabled     = "agent.disabled"
	AgentConfigured   = "agent.configured"
	AdminAgentUpdated = "admin.agent_updated" // registry edit in the console (no organization)
)

func init() {
	OrgActions = append(OrgActions, PlanChanged, AgentInstalled, AgentEnabled, AgentDisabled, AgentConfigured)
}
