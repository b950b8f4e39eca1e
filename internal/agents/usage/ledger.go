// Package usage is the AI usage ledger: every model call of an agent run
// is recorded with its tokens and cost (a price table per model), per
// organization, member, agent, client and run; monthly budgets warn once at
// a threshold and refuse new runs at a hard cap; the plan's AI-token limit
// (internal/billing) is counted from the same ledger.
//
// The run executor calls CheckBudget before a run and Record after each
// completion, both in the run's transaction. Months are calendar months in
// UTC.
package usage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/notify"
	"accute/internal/store"
)

// Entry is one model call's usage.
type Entry struct {
	OrgID        uuid.UUID
	UserID       uuid.UUID
	AgentSlug    string
	ClientID     *uuid.UUID
	RunID        uuid.UUID
	Provider     string
	Model        string
	InputTokens  int
	OutputTokens int
}

// Ledger records usage. BaseURL (the application's, no trailing slash)
// puts a link to the usage page in the budget warning; without it the
// e-mail names the page.
type Ledger struct {
	BaseURL string
	// Now is the clock (time.Now when nil), for tests.
	Now func() time.Time
}

func (l *Ledger) now() time.Time {
	if l != nil && l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Record records e with a Ledger without BaseURL.
func Record(ctx context.Context, q *db.Queries, e Entry) error {
	return (&Ledger{}).Record(ctx, q, e)
}

// CheckBudget refuses a new run when the organization's monthly hard cap
// or its plan's AI-token limit is reached: a *billing.LimitError saying
// which limit and what to do (the web layer answers 402).
func CheckBudget(ctx context.Context, q *db.Queries, orgID uuid.UUID) error {
	return (&Ledger{}).CheckBudget(ctx, q, orgID)
}

// Record appends entries (a run's completions) to the ledger in q's
// transaction (which must be in their organization), each with its cost
// from the price table, then sends the month's budget warning if they
// crossed the threshold (once per month; checked once per call).
func (l *Ledger) Record(ctx context.Context, q *db.Queries, entries ...Entry) error {
	orgs := map[uuid.UUID]bool{}
	for _, e := range entries {
		if err := l.insert(ctx, q, e); err != nil {
			return err
		}
		orgs[e.OrgID] = true
	}
	for org := range orgs {
		if err := l.warnOnce(ctx, q, org); err != nil {
			return fmt.Errorf("usage: budget warning: %w", err)
		}
	}
	return nil
}

func (l *Ledger) insert(ctx context.Context, q *db.Queries, e Entry) error {
	if e.InputTokens < 0 || e.OutputTokens < 0 {
		return fmt.Errorf("usage: negative token count (%d in, %d out)", e.InputTokens, e.OutputTokens)
	}
	e.Provider = clip(strings.TrimSpace(e.Provider), 40)
	if e.Provider == "" {
		e.Provider = "unknown"
	}
	e.Model = clip(strings.TrimSpace(e.Model), 200)
	if e.AgentSlug == "" {
		return errors.New("usage: entry without an agent")
	}
	cost, priced := Cost(e.Provider, e.Model, e.InputTokens, e.OutputTokens)
	var user *uuid.UUID
	if e.UserID != uuid.Nil {
		user = &e.UserID
	}
	if _, err := q.InsertAIUsageEntry(ctx, db.InsertAIUsageEntryParams{
		OrganizationID: e.OrgID, RunID: e.RunID, UserID: user, AgentSlug: e.AgentSlug, ClientID: e.ClientID,
		Provider: e.Provider, Model: e.Model, InputTokens: int32(min(e.InputTokens, 1<<31-1)),
		OutputTokens: int32(min(e.OutputTokens, 1<<31-1)), CostNanos: cost, Priced: priced,
	}); err != nil {
		return fmt.Errorf("usage: record: %w", err)
	}
	return nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// Limit is one of the month's limits and how much of it is used.
type Limit struct {
	Kind  string // "tokens" or "cost" (the organization's caps), "plan" (the plan's token limit)
	Used  int64  // tokens, or nanodollars for "cost"
	Value int64
}

// Percent is how much of the limit is used, in whole percent.
func (l Limit) Percent() int {
	if l.Value <= 0 {
		return 0
	}
	return int(min(l.Used*100/l.Value, 999))
}

// Reached reports whether nothing is left.
func (l Limit) Reached() bool { return l.Used >= l.Value }

// Describe says what the limit is, for people.
func (l Limit) Describe() string {
	switch l.Kind {
	case "cost":
		return fmt.Sprintf("%s of the %s monthly AI budget", FormatUSD(l.Used), FormatUSD(l.Value))
	case "tokens":
		return fmt.Sprintf("%s of the %s-token monthly AI budget", FormatTokens(l.Used), FormatTokens(l.Value))
	default:
		return fmt.Sprintf("%s of the plan's %s AI tokens a month", FormatTokens(l.Used), FormatTokens(l.Value))
	}
}

// State is the organization's standing in a month: totals, budget and the
// limits that apply.
type State struct {
	Month  Month
	Totals db.SumAIUsageRow
	Budget Budget
	Plan   billing.Plan
	// Limits that apply, in this order: the token cap, the cost cap, the
	// plan's token limit (each only when set and not unlimited).
	Limits []Limit
}

// Tokens is the month's input plus output tokens.
func (s State) Tokens() int64 { return s.Totals.InputTokens + s.Totals.OutputTokens }

// stateOf reads m's totals and the limits for orgID in q.
func stateOf(ctx context.Context, q *db.Queries, orgID uuid.UUID, m Month) (State, error) {
	st := State{Month: m}
	start, end := m.bounds()
	var err error
	if st.Totals, err = q.SumAIUsage(ctx, db.SumAIUsageParams{OrganizationID: orgID, StartsAt: start, EndsAt: end}); err != nil {
		return st, err
	}
	if st.Budget, err = budgetOf(ctx, q, orgID); err != nil {
		return st, err
	}
	if st.Plan, err = billing.PlanOf(ctx, q, orgID); err != nil {
		return st, err
	}
	tokens := st.Tokens()
	if st.Budget.CapTokens > 0 {
		st.Limits = append(st.Limits, Limit{Kind: "tokens", Used: tokens, Value: st.Budget.CapTokens})
	}
	if st.Budget.CapCostNanos > 0 {
		st.Limits = append(st.Limits, Limit{Kind: "cost", Used: st.Totals.CostNanos, Value: st.Budget.CapCostNanos})
	}
	if pl := st.Plan.Limit(billing.AITokens); pl != billing.Unlimited {
		st.Limits = append(st.Limits, Limit{Kind: "plan", Used: tokens, Value: pl})
	}
	return st, nil
}

// AICost is the resource of a refusal at the organization's cost cap (the
// plan counts tokens, billing.AITokens).
const AICost billing.Resource = "ai_cost"

// CheckBudget: see the package function.
func (l *Ledger) CheckBudget(ctx context.Context, q *db.Queries, orgID uuid.UUID) error {
	st, err := stateOf(ctx, q, orgID, MonthOf(l.now()))
	if err != nil {
		return fmt.Errorf("usage: check budget: %w", err)
	}
	for _, lim := range st.Limits {
		if !lim.Reached() {
			continue
		}
		if lim.Kind == "plan" {
			// The plan's refusal, worded by billing (which plan would
			// allow more).
			_, err := billing.Check(ctx, q, orgID, billing.AITokens)
			if err != nil {
				return err
			}
			continue // counted between the two reads: not reached after all
		}
		e := &billing.LimitError{Resource: billing.AITokens, Plan: st.Plan, Used: lim.Used, Limit: lim.Value}
		if lim.Kind == "cost" {
			e.Resource = AICost
		}
		e.Message = fmt.Sprintf("Monthly AI budget reached: %s have been used in %s, the hard cap your organization set. "+
			"An administrator can raise the cap under AI usage → Budget; otherwise agents are available again on %s.",
			usedWords(lim), st.Month.Label(), st.Month.Next().Start().Format("2 January"))
		return e
	}
	return nil
}

func usedWords(l Limit) string {
	if l.Kind == "cost" {
		return fmt.Sprintf("%s of %s", FormatUSD(l.Used), FormatUSD(l.Value))
	}
	return fmt.Sprintf("%s of %s tokens", FormatTokens(l.Used), FormatTokens(l.Value))
}

// warnOnce sends the month's budget warning when a limit's use is at or
// above the warning threshold and no warning was sent this month. The
// warning row is claimed with INSERT ... ON CONFLICT DO NOTHING, so two
// runs finishing at once send one warning.
func (l *Ledger) warnOnce(ctx context.Context, q *db.Queries, orgID uuid.UUID) error {
	m := MonthOf(l.now())
	if _, err := q.GetAIBudgetWarning(ctx, db.GetAIBudgetWarningParams{OrganizationID: orgID, Month: m.String()}); err == nil {
		return nil // already warned this month
	} else if !errors.Is(store.MapError(err), store.ErrNotFound) {
		return err
	}
	st, err := stateOf(ctx, q, orgID, m)
	if err != nil {
		return err
	}
	var crossed *Limit
	for i, lim := range st.Limits {
		if lim.Used*100 >= lim.Value*int64(st.Budget.WarnPercent) {
			crossed = &st.Limits[i]
			break
		}
	}
	if crossed == nil {
		return nil
	}
	recipients, err := q.ListAIBudgetRecipients(ctx, orgID)
	if err != nil {
		return err
	}
	if _, err := q.InsertAIBudgetWarning(ctx, db.InsertAIBudgetWarningParams{
		OrganizationID: orgID, Month: m.String(), LimitKind: crossed.Kind, Used: crossed.Used, LimitValue: crossed.Value,
		Recipients: int32(len(recipients)),
	}); errors.Is(store.MapError(err), store.ErrNotFound) {
		return nil // another run claimed it first
	} else if err != nil {
		return err
	}
	org, err := q.GetOrganizationName(ctx, orgID)
	if err != nil {
		return err
	}
	link := "AI usage in Accute (" + "/o/" + org.Slug + "/usage)"
	if l.BaseURL != "" {
		link = l.BaseURL + "/o/" + org.Slug + "/usage"
	}
	subject := fmt.Sprintf("%s has used %d%% of its AI budget for %s", org.Name, crossed.Percent(), m.Label())
	for _, r := range recipients {
		text := fmt.Sprintf("Hello %s,\n\n%s has used %s in %s (%d%%). Your organization asked to be told at %d%%.\n\n"+
			"When a hard cap or the plan's limit is reached, agents stop answering until the next month or until an "+
			"administrator raises the budget. See the usage and change the budget here:\n%s\n\n"+
			"You receive this once a month because you manage AI agents for %s.\n",
			r.Name, org.Name, crossed.Describe(), m.Label(), crossed.Percent(), st.Budget.WarnPercent, link, org.Name)
		if err := notify.Enqueue(ctx, q, notify.Email{To: r.Email, Subject: subject, Text: text}); err != nil {
			return err
		}
	}
	return audit.Record(ctx, q, audit.Event{OrgID: &orgID, Action: audit.AIBudgetWarned, TargetType: "ai_budget", TargetID: m.String(),
		Summary: fmt.Sprintf("Budget warning for %s: %s (%d%%), sent to %d people", m.Label(), crossed.Describe(), crossed.Percent(), len(recipients))})
}
