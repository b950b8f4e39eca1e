// Package usage draws the organization's AI usage page (totals against the
// budget and the plan, daily and per agent, member and client charts as
// server-rendered SVG) and the budget form.
package usage

import "accute/views/components"

// PageView is the usage page.
type PageView struct {
	MonthLabel string
	Month      string // YYYY-MM
	Months     []components.Option
	BasePath   string
	CSVURL     string
	BudgetURL  string // "" when the member may not change the budget
	Current    bool

	Tokens       string
	InputTokens  string
	OutputTokens string
	Cost         string
	Calls        string

	PlanName string
	Budget   string // the budget in one line
	Limits   []LimitView
	Warning  string // the month's warning, when sent
	Unpriced []string

	DailyTokens Chart
	DailyCost   Chart
	Breakdowns  []Breakdown
	Empty       bool // no usage this month
}

// LimitView is one limit and how much of it is used.
type LimitView struct {
	Label   string
	Used    string
	Limit   string
	Percent int
	Kind    string // badge colour: success, warn, error
}

// Breakdown is one "by ..." chart with its table.
type Breakdown struct {
	Title string
	ID    string
	Chart Chart
	Rows  []BreakdownRow
}

// BreakdownRow is one line of a breakdown's table.
type BreakdownRow struct {
	Label  string
	Tokens string
	Cost   string
	Runs   string
}

// BudgetView is the budget form.
type BudgetView struct {
	Action      string
	BackURL     string
	WarnPercent string
	CapTokens   string
	CapCost     string
	PlanName    string
	PlanLimit   string
	Errors      map[string]string
}
