package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"accute/internal/agents/usage"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/views/components"
	usageview "accute/views/pages/usage"
)

// usageSvc is stateless over the store, like the marketplace's.
func (h *Handlers) usageSvc() *usage.Service { return &usage.Service{Store: h.Store} }

// usageMonth reads ?month=YYYY-MM (default: this month); a month not yet
// begun, or not written as a month, is 400.
func usageMonth(c echo.Context) (usage.Month, error) {
	now := usage.MonthOf(time.Now())
	s := c.QueryParam("month")
	if s == "" {
		return now, nil
	}
	m, err := usage.ParseMonth(s)
	if err != nil {
		return m, echo.NewHTTPError(http.StatusBadRequest, "Give the month as YYYY-MM, for example "+now.String()+".")
	}
	if m.After(now) {
		return m, echo.NewHTTPError(http.StatusBadRequest, m.Label()+" has not started yet.")
	}
	return m, nil
}

// UsageShow is a month of AI usage: totals against the budget and the
// plan, daily charts and breakdowns.
func (h *Handlers) UsageShow(c echo.Context) error {
	m, err := usageMonth(c)
	if err != nil {
		return err
	}
	r, err := h.usageSvc().Report(c.Request().Context(), principal(c).Org.ID, m)
	if err != nil {
		return err
	}
	base := orgURL(c, "/usage")
	v := usageview.PageView{MonthLabel: m.Label(), Month: m.String(), BasePath: base, BudgetURL: base + "/budget",
		CSVURL: orgURL(c, "/usage.csv?month="+m.String()), Current: r.Current,
		Tokens: usage.FormatTokens(r.Tokens()), InputTokens: usage.FormatTokens(r.Totals.InputTokens),
		OutputTokens: usage.FormatTokens(r.Totals.OutputTokens), Cost: usage.FormatUSD(r.Totals.CostNanos),
		Calls: usage.FormatTokens(r.Totals.Entries), PlanName: r.Plan.Name, Budget: r.Budget.Describe(), Empty: r.Totals.Entries == 0}
	seen := false
	for _, mm := range r.Months {
		seen = seen || mm == m
		v.Months = append(v.Months, components.Option{Value: mm.String(), Label: mm.Label(), Selected: mm == m})
	}
	if !seen {
		v.Months = append(v.Months, components.Option{Value: m.String(), Label: m.Label(), Selected: true})
	}
	for _, l := range r.Limits {
		lv := usageview.LimitView{Percent: l.Percent(), Kind: "success"}
		switch {
		case l.Reached():
			lv.Kind = "error"
		case l.Percent() >= r.Budget.WarnPercent:
			lv.Kind = "warn"
		}
		switch l.Kind {
		case "tokens":
			lv.Label, lv.Used, lv.Limit = "Token cap", usage.FormatTokens(l.Used), usage.FormatTokens(l.Value)
		case "cost":
			lv.Label, lv.Used, lv.Limit = "Cost cap", usage.FormatUSD(l.Used), usage.FormatUSD(l.Value)
		default:
			lv.Label, lv.Used, lv.Limit = r.Plan.Name+" plan's AI tokens", usage.FormatTokens(l.Used), usage.FormatTokens(l.Value)
		}
		v.Limits = append(v.Limits, lv)
	}
	if w := r.Warning; w != nil {
		v.Warning = fmt.Sprintf("A budget warning was e-mailed to %d %s on %s UTC, at %s.", w.Recipients, peopleWord(w.Recipients),
			w.SentAt.UTC().Format("2 January 15:04"), usage.Limit{Kind: w.Kind, Used: w.Used, Value: w.Limit}.Describe())
	}
	for _, u := range r.Unpriced {
		v.Unpriced = append(v.Unpriced, u.Model+" ("+u.Provider+", "+usage.FormatTokens(u.Tokens)+" tokens)")
	}
	tokens, cost := make([]usageview.Point, len(r.Days)), make([]usageview.Point, len(r.Days))
	for i, d := range r.Days {
		day := time.Date(m.Year, m.Month, d.Day, 0, 0, 0, 0, time.UTC).Format("2 Jan")
		tokens[i] = usageview.Point{Label: strconv.Itoa(d.Day), Value: float64(d.Tokens), Title: day + ": " + usage.FormatTokens(d.Tokens) + " tokens"}
		cost[i] = usageview.Point{Label: strconv.Itoa(d.Day), Value: float64(d.CostNanos), Title: day + ": " + usage.FormatUSD(d.CostNanos)}
	}
	v.DailyTokens = usageview.Columns("Tokens per day in "+m.Label(), tokens, 5, func(x float64) string { return shortNumber(x) })
	v.DailyCost = usageview.Columns("Cost per day in "+m.Label(), cost, 5, func(x float64) string { return usage.FormatUSD(int64(x)) })
	for _, b := range []struct {
		title, id string
		rows      []usage.Slice
	}{{"By agent", "by-agent", r.ByAgent}, {"By member", "by-member", r.ByUser}, {"By client", "by-client", r.ByClient}} {
		bd := usageview.Breakdown{Title: b.title, ID: b.id}
		var pts []usageview.Point
		for _, s := range b.rows {
			pts = append(pts, usageview.Point{Label: s.Label, Value: float64(s.Tokens),
				Title: fmt.Sprintf("%s: %s tokens, %s", s.Label, usage.FormatTokens(s.Tokens), usage.FormatUSD(s.CostNanos))})
			bd.Rows = append(bd.Rows, usageview.BreakdownRow{Label: s.Label, Tokens: usage.FormatTokens(s.Tokens), Cost: usage.FormatUSD(s.CostNanos),
				Runs: usage.FormatTokens(s.Runs)})
		}
		bd.Chart = usageview.Rows(b.title+" in "+m.Label()+", tokens", pts)
		v.Breakdowns = append(v.Breakdowns, bd)
	}
	return h.render(c, http.StatusOK, usageview.UsagePage(h.shell(c, "AI usage", "usage"), v))
}

func peopleWord(n int) string {
	if n == 1 {
		return "person"
	}
	return "people"
}

// shortNumber writes an axis label: 0, 950, 12k, 1.5M.
func shortNumber(x float64) string {
	switch {
	case x >= 1e6:
		return strconv.FormatFloat(x/1e6, 'f', -1, 64) + "M"
	case x >= 1e3:
		return strconv.FormatFloat(x/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// lazyHeaders writes the CSV answer's status and headers with its first
// byte, so a failure before any row is read still reaches the error handler.
type lazyHeaders struct {
	c       echo.Context
	name    string
	started bool
}

func (w *lazyHeaders) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		hdr := w.c.Response().Header()
		hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		hdr.Set(echo.HeaderContentDisposition, `attachment; filename="`+w.name+`"`)
		hdr.Set("Cache-Control", "no-store")
		w.c.Response().WriteHeader(http.StatusOK)
	}
	return w.c.Response().Write(p)
}

// UsageCSV exports a month of the ledger as CSV (one row per model call),
// streamed in pages.
func (h *Handlers) UsageCSV(c echo.Context) error {
	m, err := usageMonth(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	// The export reads in its own transactions while it writes: the
	// request's has nothing to save.
	if err := store.CommitRequest(ctx); err != nil {
		return err
	}
	w := &lazyHeaders{c: c, name: "ai-usage-" + p.Org.Slug + "-" + m.String() + ".csv"}
	if err := h.usageSvc().ExportCSV(ctx, p.Org.ID, m, w); err != nil {
		if !w.started {
			return err
		}
		// Headers are gone: the truncated file is all the client gets.
		h.Logger.ErrorContext(ctx, "usage export failed mid-stream", slog.String("error", err.Error()),
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)))
	}
	return nil
}

func (h *Handlers) budgetView(c echo.Context, in usage.BudgetInput, errs form.Errors) (usageview.BudgetView, error) {
	var plan billing.Plan
	err := h.Store.InOrg(c.Request().Context(), principal(c).Org.ID, func(q *db.Queries) error {
		var err error
		plan, err = billing.PlanOf(c.Request().Context(), q, principal(c).Org.ID)
		return err
	})
	return usageview.BudgetView{Action: orgURL(c, "/usage/budget"), BackURL: orgURL(c, "/usage"), WarnPercent: in.WarnPercent,
		CapTokens: in.CapTokens, CapCost: in.CapCost, PlanName: plan.Name, PlanLimit: billing.FormatAmount(billing.AITokens, plan.Limit(billing.AITokens)),
		Errors: errs}, err
}

// UsageBudget shows the budget form.
func (h *Handlers) UsageBudget(c echo.Context) error {
	b, err := h.usageSvc().Budget(c.Request().Context(), principal(c).Org.ID)
	if err != nil {
		return err
	}
	v, err := h.budgetView(c, b.Input(), nil)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, usageview.BudgetPage(h.shell(c, "AI budget", "usage"), v))
}

// UsageBudgetUpdate saves the budget.
func (h *Handlers) UsageBudgetUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	in := usage.BudgetInput{WarnPercent: c.FormValue("warn_percent"), CapTokens: c.FormValue("cap_tokens"), CapCost: c.FormValue("cap_cost")}
	_, err := h.usageSvc().SaveBudget(ctx, usage.Actor{OrgID: p.Org.ID, UserID: p.User.ID, Email: p.User.Email}, in)
	var fe form.Errors
	if errors.As(err, &fe) {
		store.RollbackRequest(ctx)
		v, err := h.budgetView(c, in, fe)
		if err != nil {
			return err
		}
		if isHTMX(c) {
			return h.render(c, http.StatusUnprocessableEntity, usageview.BudgetForm(v))
		}
		return h.render(c, http.StatusUnprocessableEntity, usageview.BudgetPage(h.shell(c, "AI budget", "usage"), v))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Budget saved.")
	return h.redirect(c, orgURL(c, "/usage"))
}
