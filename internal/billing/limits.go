package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"accute/internal/db"
)

// Usage is how much of one resource an organization uses, and its limit.
type Usage struct {
	Resource Resource
	Plan     Plan
	Used     int64
	Limit    int64
}

// Remaining is how much is left (never negative).
func (u Usage) Remaining() int64 {
	if u.Limit == Unlimited {
		return Unlimited
	}
	return max(u.Limit-u.Used, 0)
}

// LimitError refuses something the organization's plan does not allow: a
// limit reached or a plan too low. Its message says which limit and what to
// do, and is safe to show. The web layer answers it with 402 Payment
// Required (the refusal is about the plan, not the person's permissions):
// an error page for browsers, a toast for htmx, the JSON envelope for /api.
type LimitError struct {
	Resource Resource // empty for a minimum-plan refusal
	Plan     Plan     // the organization's plan
	Used     int64
	Limit    int64
	Needed   string // the plan that would allow it ("" when none would)
	Message  string
}

func (e *LimitError) Error() string { return e.Message }

// usage counts what the organization uses of r, in the caller's transaction
// (which must be in the organization, store.InOrg).
func usage(ctx context.Context, q *db.Queries, orgID uuid.UUID, r Resource) (int64, error) {
	switch r {
	case Seats:
		return q.CountSeats(ctx, orgID)
	case Agents:
		return q.CountAgentInstallations(ctx, orgID)
	case Storage:
		return q.SumStorageBytes(ctx, orgID)
	case AITokens:
		// This calendar month's (UTC) input and output tokens in the AI
		// usage ledger (internal/agents/usage records them).
		start, end := MonthBounds(time.Now())
		return q.SumAITokensBetween(ctx, db.SumAITokensBetweenParams{OrganizationID: orgID, StartsAt: start, EndsAt: end})
	}
	return 0, fmt.Errorf("billing: unknown resource %q", r)
}

// MonthBounds is the calendar month (UTC) that contains t, as [start, end):
// the period of the AI-token limit and of the usage ledger's budgets.
func MonthBounds(t time.Time) (start, end time.Time) {
	t = t.UTC()
	start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// PlanOf reads the organization's plan.
func PlanOf(ctx context.Context, q *db.Queries, orgID uuid.UUID) (Plan, error) {
	key, err := q.GetOrganizationPlan(ctx, orgID)
	if err != nil {
		return Plan{}, err
	}
	return PlanFor(key), nil
}

// UsageOf returns the organization's use and limit of r.
func UsageOf(ctx context.Context, q *db.Queries, orgID uuid.UUID, r Resource) (Usage, error) {
	p, err := PlanOf(ctx, q, orgID)
	if err != nil {
		return Usage{}, err
	}
	used, err := usage(ctx, q, orgID, r)
	if err != nil {
		return Usage{}, err
	}
	return Usage{Resource: r, Plan: p, Used: used, Limit: p.Limit(r)}, nil
}

// Check answers "may this organization add one more of r": its usage, or a
// *LimitError when one more would exceed the plan's limit. Call it inside
// the transaction that adds the thing, so the count and the write agree.
func Check(ctx context.Context, q *db.Queries, orgID uuid.UUID, r Resource) (Usage, error) {
	return CheckAdd(ctx, q, orgID, r, 1)
}

// CheckAdd is Check for adding n.
func CheckAdd(ctx context.Context, q *db.Queries, orgID uuid.UUID, r Resource, n int64) (Usage, error) {
	u, err := UsageOf(ctx, q, orgID, r)
	if err != nil {
		return Usage{}, err
	}
	if u.Limit == Unlimited || u.Used+n <= u.Limit {
		return u, nil
	}
	return u, limitError(u)
}

func limitError(u Usage) *LimitError {
	e := &LimitError{Resource: u.Resource, Plan: u.Plan, Used: u.Used, Limit: u.Limit}
	what := ""
	switch u.Resource {
	case Seats:
		what = fmt.Sprintf("The %s plan includes %s seats and all are taken (members and pending invitations count).", u.Plan.Name, FormatAmount(Seats, u.Limit))
	case Agents:
		what = fmt.Sprintf("The %s plan includes %s installed agents and all are in use.", u.Plan.Name, FormatAmount(Agents, u.Limit))
	case AITokens:
		what = fmt.Sprintf("The %s plan includes %s AI tokens a month and this month's are used up.", u.Plan.Name, FormatAmount(AITokens, u.Limit))
	case Storage:
		what = fmt.Sprintf("The %s plan includes %s of document storage and it is full.", u.Plan.Name, FormatAmount(Storage, u.Limit))
	}
	free := map[Resource]string{
		Seats:    "remove a member or revoke a pending invitation",
		Agents:   "ask support to remove an agent you no longer use",
		AITokens: "wait for next month",
		Storage:  "archive and delete documents you no longer need",
	}[u.Resource]
	var todo string
	if next, ok := u.Plan.next(u.Resource, u.Limit); ok {
		e.Needed = next.Key
		todo = fmt.Sprintf(" Upgrade to %s (%s), or %s.", next.Name, FormatAmount(u.Resource, next.Limit(u.Resource)), free)
	} else {
		todo = " To continue, " + free + "."
	}
	e.Message = "Plan limit reached: " + u.Resource.Label() + ". " + what + todo
	return e
}

// RequirePlan refuses a feature or item that needs plan minKey or higher.
func RequirePlan(p Plan, minKey, what string) error {
	if p.AtLeast(minKey) {
		return nil
	}
	need := PlanFor(minKey)
	return &LimitError{Plan: p, Needed: need.Key, Message: fmt.Sprintf(
		"%s needs the %s plan or higher; this organization is on %s. Upgrade to %s to use it.", what, need.Name, p.Name, need.Name)}
}
