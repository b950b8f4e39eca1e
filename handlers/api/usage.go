package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"accute/internal/agents/usage"
	"accute/internal/billing"
)

// UsageReport is a month of the organization's AI usage. Costs are US
// dollars at list prices, as decimal strings with six places.
type UsageReport struct {
	Month          string          `json:"month"` // YYYY-MM, UTC
	Totals         UsageTotals     `json:"totals"`
	Budget         UsageBudget     `json:"budget"`
	Plan           UsagePlan       `json:"plan"`
	Limits         []UsageLimit    `json:"limits"`
	Warning        *UsageWarning   `json:"warning"`
	ByDay          []UsageDay      `json:"by_day"`
	ByAgent        []UsageSlice    `json:"by_agent"`
	ByUser         []UsageSlice    `json:"by_user"`
	ByClient       []UsageSlice    `json:"by_client"`
	UnpricedModels []UnpricedModel `json:"unpriced_models"`
}

// UsageTotals are the month's totals.
type UsageTotals struct {
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	Tokens       int64  `json:"tokens"`
	CostUSD      string `json:"cost_usd"`
	Calls        int64  `json:"calls"`
}

// UsageBudget is the organization's monthly budget (null caps: none).
type UsageBudget struct {
	WarnPercent int     `json:"warn_percent"`
	CapTokens   *int64  `json:"cap_tokens"`
	CapCostUSD  *string `json:"cap_cost_usd"`
}

// UsagePlan is the plan and its AI-token limit (null: unlimited).
type UsagePlan struct {
	Key            string `json:"key"`
	Name           string `json:"name"`
	AITokensLimit  *int64 `json:"ai_tokens_limit"`
	AITokensRemain *int64 `json:"ai_tokens_remaining"`
}

// UsageLimit is one limit that applies and how much of it is used: kind
// tokens or cost (the organization's caps), plan (the plan's token limit).
type UsageLimit struct {
	Kind    string `json:"kind"`
	Unit    string `json:"unit"` // tokens or usd
	Used    string `json:"used"`
	Limit   string `json:"limit"`
	Percent int    `json:"percent"`
	Reached bool   `json:"reached"`
}

// UsageWarning is the month's budget warning, once sent.
type UsageWarning struct {
	Kind       string    `json:"kind"`
	Recipients int       `json:"recipients"`
	SentAt     time.Time `json:"sent_at"`
}

// UsageDay is one day.
type UsageDay struct {
	Date    string `json:"date"`
	Tokens  int64  `json:"tokens"`
	CostUSD string `json:"cost_usd"`
}

// UsageSlice is one agent's, member's or client's share: key is the agent
// slug, user id or client id ("" for a former member or no client).
type UsageSlice struct {
	Key     string `json:"key"`
	Label   string `json:"label"`
	Tokens  int64  `json:"tokens"`
	CostUSD string `json:"cost_usd"`
	Runs    int64  `json:"runs"`
}

// UnpricedModel is a model without a list price (counted at 0).
type UnpricedModel struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Tokens   int64  `json:"tokens"`
}

func slicesOut(in []usage.Slice) []UsageSlice {
	out := make([]UsageSlice, 0, len(in))
	for _, s := range in {
		out = append(out, UsageSlice{Key: s.Key, Label: s.Label, Tokens: s.Tokens, CostUSD: usage.DecimalUSD(s.CostNanos), Runs: s.Runs})
	}
	return out
}

// UsageShow reports a month (?month=YYYY-MM, default this month) of AI
// usage with the budget and the plan's limit.
func (a *API) UsageShow(c echo.Context) error {
	now := usage.MonthOf(time.Now())
	m := now
	if s := c.QueryParam("month"); s != "" {
		var err error
		if m, err = usage.ParseMonth(s); err != nil {
			return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.", Details: map[string]string{"month": "Use YYYY-MM, for example " + now.String() + "."}}
		}
		if m.After(now) {
			return &Error{Status: http.StatusBadRequest, Message: "Validation failed: see details.", Details: map[string]string{"month": m.Label() + " has not started yet."}}
		}
	}
	r, err := a.Usage.Report(c.Request().Context(), principal(c).Org.ID, m)
	if err != nil {
		return err
	}
	out := UsageReport{Month: m.String(),
		Totals: UsageTotals{InputTokens: r.Totals.InputTokens, OutputTokens: r.Totals.OutputTokens, Tokens: r.Tokens(),
			CostUSD: usage.DecimalUSD(r.Totals.CostNanos), Calls: r.Totals.Entries},
		Budget:  UsageBudget{WarnPercent: r.Budget.WarnPercent},
		Plan:    UsagePlan{Key: r.Plan.Key, Name: r.Plan.Name},
		Limits:  []UsageLimit{},
		ByAgent: slicesOut(r.ByAgent), ByUser: slicesOut(r.ByUser), ByClient: slicesOut(r.ByClient),
		ByDay: make([]UsageDay, 0, len(r.Days)), UnpricedModels: []UnpricedModel{},
	}
	if r.Budget.CapTokens > 0 {
		out.Budget.CapTokens = &r.Budget.CapTokens
	}
	if r.Budget.CapCostNanos > 0 {
		s := usage.DecimalUSD(r.Budget.CapCostNanos)
		out.Budget.CapCostUSD = &s
	}
	if l := r.PlanLimit(); l != billing.Unlimited {
		left := max(l-r.Tokens(), 0)
		out.Plan.AITokensLimit, out.Plan.AITokensRemain = &l, &left
	}
	for _, l := range r.Limits {
		ul := UsageLimit{Kind: l.Kind, Unit: "tokens", Percent: l.Percent(), Reached: l.Reached()}
		if l.Kind == "cost" {
			ul.Unit, ul.Used, ul.Limit = "usd", usage.DecimalUSD(l.Used), usage.DecimalUSD(l.Value)
		} else {
			ul.Used, ul.Limit = itoa64(l.Used), itoa64(l.Value)
		}
		out.Limits = append(out.Limits, ul)
	}
	if w := r.Warning; w != nil {
		out.Warning = &UsageWarning{Kind: w.Kind, Recipients: w.Recipients, SentAt: w.SentAt}
	}
	for _, d := range r.Days {
		out.ByDay = append(out.ByDay, UsageDay{Date: time.Date(m.Year, m.Month, d.Day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
			Tokens: d.Tokens, CostUSD: usage.DecimalUSD(d.CostNanos)})
	}
	for _, u := range r.Unpriced {
		out.UnpricedModels = append(out.UnpricedModels, UnpricedModel{Provider: u.Provider, Model: u.Model, Tokens: u.Tokens})
	}
	return respond(c, http.StatusOK, out)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
