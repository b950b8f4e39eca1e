package usage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

// DefaultWarnPercent is the warning threshold of an organization that has
// not set a budget.
const DefaultWarnPercent = 80

// maxCapTokens bounds a token cap (a trillion: far above any plan).
const maxCapTokens int64 = 1_000_000_000_000

// Budget is an organization's monthly AI budget: a warning at WarnPercent
// of each limit, and optional hard caps (0 = none).
type Budget struct {
	WarnPercent  int
	CapTokens    int64
	CapCostNanos int64
	UpdatedAt    *time.Time
}

func budgetOf(ctx context.Context, q *db.Queries, orgID uuid.UUID) (Budget, error) {
	b, err := q.GetAIBudget(ctx, orgID)
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return Budget{WarnPercent: DefaultWarnPercent}, nil
	}
	if err != nil {
		return Budget{}, err
	}
	out := Budget{WarnPercent: int(b.WarnPercent), UpdatedAt: &b.UpdatedAt}
	if b.CapTokens != nil {
		out.CapTokens = *b.CapTokens
	}
	if b.CapCostNanos != nil {
		out.CapCostNanos = *b.CapCostNanos
	}
	return out, nil
}

// BudgetInput is the budget form as typed.
type BudgetInput struct {
	WarnPercent string
	CapTokens   string // empty: no token cap
	CapCost     string // US dollars; empty: no cost cap
}

// Input is b as the form shows it.
func (b Budget) Input() BudgetInput {
	in := BudgetInput{WarnPercent: strconv.Itoa(b.WarnPercent)}
	if b.CapTokens > 0 {
		in.CapTokens = strconv.FormatInt(b.CapTokens, 10)
	}
	if b.CapCostNanos > 0 {
		in.CapCost = strings.TrimSuffix(strings.TrimRight(DecimalUSD(b.CapCostNanos), "0"), ".")
	}
	return in
}

// ParseBudget validates the budget form.
func ParseBudget(in BudgetInput) (Budget, form.Errors) {
	errs := form.Errors{}
	b := Budget{}
	w, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(in.WarnPercent), "%"))
	switch {
	case strings.TrimSpace(in.WarnPercent) == "":
		errs.Add("warn_percent", "Enter the percentage at which to warn, for example 80.")
	case err != nil:
		errs.Add("warn_percent", "Enter a whole number between 1 and 100.")
	case w < 1 || w > 100:
		errs.Add("warn_percent", "The warning threshold must be between 1 and 100 percent.")
	default:
		b.WarnPercent = w
	}
	if s := strings.NewReplacer(",", "", "_", "", " ", "").Replace(strings.TrimSpace(in.CapTokens)); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil && strings.Trim(s, "0123456789") == "":
			errs.Add("cap_tokens", fmt.Sprintf("The most you can enter is %s tokens.", FormatTokens(maxCapTokens)))
		case err != nil:
			errs.Add("cap_tokens", "Enter a whole number of tokens, for example 2,000,000, or leave it empty for no cap.")
		case n <= 0:
			errs.Add("cap_tokens", "A cap must be more than 0 tokens; leave it empty for no cap.")
		case n > maxCapTokens:
			errs.Add("cap_tokens", fmt.Sprintf("The most you can enter is %s tokens.", FormatTokens(maxCapTokens)))
		default:
			b.CapTokens = n
		}
	}
	if strings.TrimSpace(in.CapCost) != "" {
		n, err := ParseUSD(in.CapCost)
		switch {
		case err != nil:
			msg := err.Error()
			errs.Add("cap_cost", strings.ToUpper(msg[:1])+msg[1:]+".")
		case n < NanosPerDollar/100:
			errs.Add("cap_cost", "A cost cap must be at least $0.01; leave it empty for no cap.")
		default:
			b.CapCostNanos = n
		}
	}
	return b, errs
}

// Service is the usage page's and budget form's data.
type Service struct {
	Store  *store.Store
	Ledger *Ledger // its clock; nil: time.Now
}

// Actor is the member acting, as audited.
type Actor struct {
	OrgID  uuid.UUID
	UserID uuid.UUID
	Email  string
}

// Budget reads the organization's budget (the defaults when none is set).
func (s *Service) Budget(ctx context.Context, orgID uuid.UUID) (Budget, error) {
	var b Budget
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		b, err = budgetOf(ctx, q, orgID)
		return err
	})
	return b, err
}

// SaveBudget validates and saves the budget form (form.Errors for bad
// input), audited.
func (s *Service) SaveBudget(ctx context.Context, a Actor, in BudgetInput) (Budget, error) {
	b, errs := ParseBudget(in)
	if errs.Any() {
		return Budget{}, errs
	}
	opt := func(n int64) *int64 {
		if n <= 0 {
			return nil
		}
		return &n
	}
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		row, err := q.UpsertAIBudget(ctx, db.UpsertAIBudgetParams{OrganizationID: a.OrgID, WarnPercent: int32(b.WarnPercent),
			CapTokens: opt(b.CapTokens), CapCostNanos: opt(b.CapCostNanos), UpdatedBy: &a.UserID})
		if err != nil {
			return err
		}
		b.UpdatedAt = &row.UpdatedAt
		return audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.AIBudgetUpdated,
			TargetType: "ai_budget", Summary: "AI budget set: " + b.Describe()})
	})
	return b, err
}

// Describe says what the budget is, in one line.
func (b Budget) Describe() string {
	parts := []string{fmt.Sprintf("warning at %d%%", b.WarnPercent)}
	if b.CapTokens > 0 {
		parts = append(parts, "cap "+FormatTokens(b.CapTokens)+" tokens")
	}
	if b.CapCostNanos > 0 {
		parts = append(parts, "cap "+FormatUSD(b.CapCostNanos))
	}
	if b.CapTokens == 0 && b.CapCostNanos == 0 {
		parts = append(parts, "no hard cap")
	}
	return strings.Join(parts, ", ") + " a month"
}
