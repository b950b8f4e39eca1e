package usage

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/store"
)

// Day is one day's usage.
type Day struct {
	Day       int // 1..31
	Tokens    int64
	CostNanos int64
}

// Slice is one agent's, member's or client's share of a month.
type Slice struct {
	Key       string // agent slug, user id or client id ("" for none)
	Label     string
	Tokens    int64
	CostNanos int64
	Runs      int64
}

// Unpriced is a model the price table does not know, counted at 0.
type Unpriced struct {
	Provider string
	Model    string
	Tokens   int64
}

// Warning is the month's budget warning, once sent.
type Warning struct {
	Kind       string
	Used       int64
	Limit      int64
	Recipients int
	SentAt     time.Time
}

// Report is a month of usage with its budget and limits.
type Report struct {
	State
	Current  bool  // the month is the current one
	Days     []Day // every day of the month, zeros included
	ByAgent  []Slice
	ByUser   []Slice
	ByClient []Slice
	Unpriced []Unpriced
	Warning  *Warning
	// Months with usage in the last two years, newest first, always with
	// the current month: the month filter's choices.
	Months []Month
}

// PlanLimit is the plan's AI-token limit (billing.Unlimited when none).
func (r Report) PlanLimit() int64 { return r.Plan.Limit(billing.AITokens) }

// Report reads month m's usage of orgID.
func (s *Service) Report(ctx context.Context, orgID uuid.UUID, m Month) (Report, error) {
	now := MonthOf(s.Ledger.now())
	r := Report{Current: m == now}
	start, end := m.bounds()
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		if r.State, err = stateOf(ctx, q, orgID, m); err != nil {
			return err
		}
		days, err := q.AIUsageByDay(ctx, db.AIUsageByDayParams{OrganizationID: orgID, StartsAt: start, EndsAt: end})
		if err != nil {
			return err
		}
		r.Days = make([]Day, m.Days())
		for i := range r.Days {
			r.Days[i].Day = i + 1
		}
		for _, d := range days {
			if d.Day >= 1 && int(d.Day) <= len(r.Days) {
				r.Days[d.Day-1] = Day{Day: int(d.Day), Tokens: d.Tokens, CostNanos: d.CostNanos}
			}
		}
		agents, err := q.AIUsageByAgent(ctx, db.AIUsageByAgentParams{OrganizationID: orgID, StartsAt: start, EndsAt: end})
		if err != nil {
			return err
		}
		for _, a := range agents {
			r.ByAgent = append(r.ByAgent, Slice{Key: a.Key, Label: a.Label, Tokens: a.Tokens, CostNanos: a.CostNanos, Runs: a.Runs})
		}
		users, err := q.AIUsageByUser(ctx, db.AIUsageByUserParams{OrganizationID: orgID, StartsAt: start, EndsAt: end})
		if err != nil {
			return err
		}
		for _, u := range users {
			label := u.Label
			if u.Key == "" {
				label = "Former member"
			}
			r.ByUser = append(r.ByUser, Slice{Key: u.Key, Label: label, Tokens: u.Tokens, CostNanos: u.CostNanos, Runs: u.Runs})
		}
		clients, err := q.AIUsageByClient(ctx, db.AIUsageByClientParams{OrganizationID: orgID, StartsAt: start, EndsAt: end})
		if err != nil {
			return err
		}
		for _, c := range clients {
			label := c.Label
			if c.Key == "" {
				label = "No client"
			}
			r.ByClient = append(r.ByClient, Slice{Key: c.Key, Label: label, Tokens: c.Tokens, CostNanos: c.CostNanos, Runs: c.Runs})
		}
		unpriced, err := q.AIUsageUnpricedModels(ctx, db.AIUsageUnpricedModelsParams{OrganizationID: orgID, StartsAt: start, EndsAt: end})
		if err != nil {
			return err
		}
		for _, u := range unpriced {
			r.Unpriced = append(r.Unpriced, Unpriced{Provider: u.Provider, Model: u.Model, Tokens: u.Tokens})
		}
		w, err := q.GetAIBudgetWarning(ctx, db.GetAIBudgetWarningParams{OrganizationID: orgID, Month: m.String()})
		switch {
		case err == nil:
			r.Warning = &Warning{Kind: w.LimitKind, Used: w.Used, Limit: w.LimitValue, Recipients: int(w.Recipients), SentAt: w.CreatedAt}
		case !errors.Is(store.MapError(err), store.ErrNotFound):
			return err
		}
		months, err := q.ListAIUsageMonths(ctx, db.ListAIUsageMonthsParams{OrganizationID: orgID, Since: now.Start().AddDate(-2, 0, 0)})
		if err != nil {
			return err
		}
		r.Months = append(r.Months, now)
		for _, s := range months {
			if mm, err := ParseMonth(s); err == nil && mm != now {
				r.Months = append(r.Months, mm)
			}
		}
		return nil
	})
	return r, err
}
