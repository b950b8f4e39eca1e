// Package agents is the AI agents' registry and each organization's
// installations (the marketplace). Providers, runs, tools, approvals and the
// usage ledger build on it (issue 5, later slices).
package agents

// Settings are an installation's settings: the registry's defaults, then
// what the firm configured.
type Settings struct {
	Model        string  `json:"model"`
	Temperature  float64 `json:"temperature"`
	Instructions string  `json:"instructions"`
}

// Definition is one agent of the built-in catalogue.
type Definition struct {
	Slug         string
	Name         string
	Tagline      string
	Description  string
	Capabilities []string
	MinPlan      string // a billing plan key
	SystemPrompt string
	Tools        []string
	Defaults     Settings
	// Version is bumped whenever any field above changes; start-up writes
	// the entry over the stored one only when it is higher.
	Version int32
}

// DefaultModel is the model new installations use; the offline provider
// ignores it.
const DefaultModel = "gpt-4o-mini"

// Tools an agent may be allowed to call (implemented with runs, later).
const (
	ToolSearchDocuments = "search_documents"
	ToolReadClient      = "read_client"
	ToolListRequests    = "list_document_requests"
	ToolCreateRequest   = "create_document_request"
	ToolDraftEmail      = "draft_client_email"
	ToolCreateTaskNote  = "create_task_note"
)

const sharedRules = " Answer from the firm's own documents and client records; cite every source you rely on " +
	"(document, page or sheet!cell, client). Say plainly when the sources do not answer the question; never invent " +
	"figures, dates or citations. Actions you propose wait for a person's approval."

// Catalogue is the built-in agent set of ARCHITECTURE.md, following the
// original system. Luca comes installed for every new organization.
var Catalogue = []Definition{
	{
		Slug: "luca", Name: "Luca", Tagline: "Accounting and tax Q&A",
		Description:  "Answers accounting and tax questions from your firm's documents and client files, quoting the passages it relied on so every answer can be checked.",
		Capabilities: []string{"Accounting and tax questions", "Answers cited from your documents", "Client-aware context"},
		MinPlan:      "free",
		SystemPrompt: "You are Luca, an accounting and tax assistant for an accounting firm." + sharedRules,
		Tools:        []string{ToolSearchDocuments, ToolReadClient},
		Defaults:     Settings{Model: DefaultModel, Temperature: 0.2}, Version: 1,
	},
	{
		Slug: "cadence", Name: "Cadence", Tagline: "Builds workflows",
		Description:  "Turns a description of how your firm does a piece of work into a workflow template with stages, tasks and checklists.",
		Capabilities: []string{"Workflow templates from a description", "Stages, tasks and checklists", "Recurring engagements"},
		MinPlan:      "starter",
		SystemPrompt: "You are Cadence, who designs workflow templates (stages, tasks, checklists) for an accounting firm." + sharedRules,
		Tools:        []string{ToolSearchDocuments, ToolCreateTaskNote},
		Defaults:     Settings{Model: DefaultModel, Temperature: 0.4}, Version: 1,
	},
	{
		Slug: "forma", Name: "Forma", Tagline: "Intake forms",
		Description:  "Drafts client intake forms and organizers, and lists the documents a client should send for an engagement.",
		Capabilities: []string{"Client intake forms", "Document checklists", "Document requests"},
		MinPlan:      "starter",
		SystemPrompt: "You are Forma, who drafts client intake forms and document checklists for an accounting firm." + sharedRules,
		Tools:        []string{ToolSearchDocuments, ToolReadClient, ToolListRequests, ToolCreateRequest},
		Defaults:     Settings{Model: DefaultModel, Temperature: 0.3}, Version: 1,
	},
	{
		Slug: "echo", Name: "Echo", Tagline: "Message templates",
		Description:  "Writes reusable e-mail and message templates in your firm's voice: reminders, engagement letters' cover notes, follow-ups.",
		Capabilities: []string{"E-mail and SMS templates", "Your firm's tone of voice", "Merge fields"},
		MinPlan:      "starter",
		SystemPrompt: "You are Echo, who writes clear, courteous message templates for an accounting firm's clients." + sharedRules,
		Tools:        []string{ToolSearchDocuments, ToolDraftEmail},
		Defaults:     Settings{Model: DefaultModel, Temperature: 0.6}, Version: 1,
	},
	{
		Slug: "relay", Name: "Relay", Tagline: "E-mail to tasks",
		Description:  "Reads client e-mails and turns what they ask for into task notes and document requests, ready for a person to approve.",
		Capabilities: []string{"E-mail triage", "Tasks from messages", "Document requests from messages"},
		MinPlan:      "professional",
		SystemPrompt: "You are Relay, who turns client e-mails into task notes and document requests for an accounting firm." + sharedRules,
		Tools:        []string{ToolReadClient, ToolListRequests, ToolCreateRequest, ToolCreateTaskNote},
		Defaults:     Settings{Model: DefaultModel, Temperature: 0.2}, Version: 1,
	},
	{
		Slug: "scribe", Name: "Scribe", Tagline: "Content",
		Description:  "Writes newsletters, articles and client explainers on accounting and tax topics, grounded in your firm's material.",
		Capabilities: []string{"Newsletters and articles", "Client explainers", "Summaries"},
		MinPlan:      "starter",
		SystemPrompt: "You are Scribe, who writes accurate, readable content for an accounting firm's clients." + sharedRules,
		Tools:        []string{ToolSearchDocuments},
		Defaults:     Settings{Model: DefaultModel, Temperature: 0.7}, Version: 1,
	},
	{
		Slug: "parity", Name: "Parity", Tagline: "Document drafting",
		Description:  "Drafts engagement letters, management letters and memos from your templates and the client's file, citing what it used.",
		Capabilities: []string{"Engagement and management letters", "Memos from client files", "Template-based drafting"},
		MinPlan:      "professional",
		SystemPrompt: "You are Parity, who drafts professional documents for an accounting firm from its templates and client files." + sharedRules,
		Tools:        []string{ToolSearchDocuments, ToolReadClient, ToolDraftEmail},
		Defaults:     Settings{Model: DefaultModel, Temperature: 0.3}, Version: 1,
	},
	{
		Slug: "radar", Name: "Radar", Tagline: "Activity evidence",
		Description:  "Gathers the evidence of work done for a client — documents received, requests sent, notes — into a dated, cited timeline.",
		Capabilities: []string{"Client activity timelines", "Evidence for reviews and disputes", "Cited summaries"},
		MinPlan:      "professional",
		SystemPrompt: "You are Radar, who assembles dated, cited evidence of the work an accounting firm did for a client." + sharedRules,
		Tools:        []string{ToolSearchDocuments, ToolReadClient, ToolListRequests},
		Defaults:     Settings{Model: DefaultModel, Temperature: 0.1}, Version: 1,
	},
	{
		Slug: "omnispectra", Name: "OmniSpectra", Tagline: "Workload analytics",
		Description:  "Analyses the firm's workload across clients and staff: where work piles up, what is late, who has capacity.",
		Capabilities: []string{"Workload and capacity analysis", "Bottlenecks and late work", "Staffing suggestions"},
		MinPlan:      "enterprise",
		SystemPrompt: "You are OmniSpectra, who analyses an accounting firm's workload, deadlines and capacity." + sharedRules,
		Tools:        []string{ToolReadClient, ToolListRequests},
		Defaults:     Settings{Model: DefaultModel, Temperature: 0.2}, Version: 1,
	},
	{
		Slug: "lynk", Name: "Lynk", Tagline: "Client relationships",
		Description:  "Keeps client relationships warm: spots clients who have gone quiet, prepares check-in notes and drafts follow-ups.",
		Capabilities: []string{"Relationship health", "Check-in preparation", "Follow-up drafts"},
		MinPlan:      "professional",
		SystemPrompt: "You are Lynk, who helps an accounting firm look after its client relationships." + sharedRules,
		Tools:        []string{ToolReadClient, ToolListRequests, ToolDraftEmail},
		Defaults:     Settings{Model: DefaultModel, Temperature: 0.5}, Version: 1,
	},
}

// DefaultSlug is the agent every new organization has installed.
const DefaultSlug = "luca"
