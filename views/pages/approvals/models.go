// Package approvals draws the approval queue of AI agents' proposed actions,
// one proposal with its arguments as a form, and the organization's policy
// of which actions need approval.
package approvals

import "accute/views/components"

// ResultsID is the element the queue's filters replace.
const ResultsID = "approval-results"

// Status is a proposal's state as a badge.
type Status struct {
	Kind  string // badge colour
	Label string
}

// ListView is the queue.
type ListView struct {
	BasePath  string
	PolicyURL string // "" when the member may not change the policy
	Statuses  []components.Option
	Actions   []components.Option
	Agents    []components.Option
	Filtered  bool
	Pending   int
	Rows      []Row
	Pager     components.Pager
}

// Row is one proposal in the queue.
type Row struct {
	URL         string
	Summary     string
	ActionLabel string
	AgentName   string
	ClientName  string
	ClientURL   string
	RequestedBy string
	When        string
	Status      Status
	AutoRun     bool
	Edited      bool
}

// DetailView is one proposal.
type DetailView struct {
	BackURL     string
	Summary     string
	ActionLabel string
	AgentName   string
	ClientName  string
	ClientURL   string
	RequestedBy string
	Created     string
	Status      Status
	AutoRun     bool
	Edited      bool
	DecidedBy   string
	DecidedAt   string
	Reason      string // a rejection's
	Result      string
	// Proposed are the arguments as the agent proposed them; Final as
	// executed, when a person edited them.
	Proposed []FieldView
	Final    []FieldView
	// Pending: the forms are shown. CanApprove is false (with Why) when
	// the member's role does not cover the action.
	Pending    bool
	CanApprove bool
	Why        string
	ApproveURL string
	RejectURL  string
	Form       []FieldInput
	FormError  string
	RejectText string
	RejectErr  string
}

// FieldView is an argument as read.
type FieldView struct {
	Label     string
	Value     string
	Multiline bool
}

// FieldInput is an argument in the edit form.
type FieldInput struct {
	Name      string
	Label     string
	Kind      string // text, textarea, date, lines, choice, client (read-only)
	Value     string
	Hint      string
	Error     string
	MaxLength int
	Required  bool
	Options   []components.Option
}

// PolicyView is the policy page.
type PolicyView struct {
	Action  string
	BackURL string
	Rows    []PolicyRow
}

// PolicyRow is one action's setting.
type PolicyRow struct {
	Action      string
	Label       string
	Description string
	AutoRun     bool
}

// NotesCard is the notes card of a client's page.
type NotesCard struct {
	Notes []NoteRow
}

// NoteRow is one note.
type NoteRow struct {
	Body        string
	Author      string
	When        string
	ProposalURL string // the agent's proposal it came from, if any
}
