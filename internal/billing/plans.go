// Package billing holds the plans, their feature gates and limits, and the
// one place that answers "may this organization do X / how much is left"
// (Check and Usage). Payments (Stripe, Razorpay) come later; the plan an
// organization is on is the organizations.plan column.
package billing

import (
	"fmt"
	"math"
)

// Resource is a limited quantity of a plan.
type Resource string

// The limited resources.
const (
	Seats    Resource = "seats"     // members other than clients, plus pending invitations
	Agents   Resource = "agents"    // installed agents
	AITokens Resource = "ai_tokens" // AI tokens per calendar month (input + output)
	Storage  Resource = "storage"   // bytes of stored documents
)

// Resources in display order.
var Resources = []Resource{Seats, Agents, AITokens, Storage}

// Label is the resource's name for people.
func (r Resource) Label() string {
	switch r {
	case Seats:
		return "Seats"
	case Agents:
		return "Installed agents"
	case AITokens:
		return "AI tokens this month"
	case Storage:
		return "Document storage"
	}
	return string(r)
}

// Feature is a capability a plan may include.
type Feature string

// The gated features.
const (
	FeatureSSO            Feature = "sso"             // SAML single sign-on and SCIM
	FeatureAPI            Feature = "api"             // the JSON API and personal access tokens
	FeatureCustomProvider Feature = "custom_provider" // bring your own AI provider and key
	FeatureAuditExport    Feature = "audit_export"
)

// Unlimited is the limit of a resource a plan does not cap.
const Unlimited int64 = math.MaxInt64

// Plan keys, in ascending order.
const (
	Free         = "free"
	Starter      = "starter"
	Professional = "professional"
	Enterprise   = "enterprise"
)

// Plan is one plan's gates and limits.
type Plan struct {
	Key      string
	Name     string
	Rank     int
	Price    string // display only; payments come later
	Limits   map[Resource]int64
	Features []Feature
}

const gib = int64(1) << 30

// Plans in ascending order: this is the data every limit and gate comes from.
var Plans = []Plan{
	{Key: Free, Name: "Free", Rank: 0, Price: "$0",
		Limits: map[Resource]int64{Seats: 2, Agents: 1, AITokens: 50_000, Storage: 1 * gib}},
	{Key: Starter, Name: "Starter", Rank: 1, Price: "$29 per seat / month",
		Limits:   map[Resource]int64{Seats: 5, Agents: 3, AITokens: 500_000, Storage: 10 * gib},
		Features: []Feature{FeatureAPI}},
	{Key: Professional, Name: "Professional", Rank: 2, Price: "$59 per seat / month",
		Limits:   map[Resource]int64{Seats: 25, Agents: 10, AITokens: 5_000_000, Storage: 100 * gib},
		Features: []Feature{FeatureAPI, FeatureCustomProvider, FeatureAuditExport}},
	{Key: Enterprise, Name: "Enterprise", Rank: 3, Price: "Contact sales",
		Limits:   map[Resource]int64{Seats: Unlimited, Agents: Unlimited, AITokens: Unlimited, Storage: Unlimited},
		Features: []Feature{FeatureAPI, FeatureCustomProvider, FeatureAuditExport, FeatureSSO}},
}

// PlanFor returns the plan with key; an unknown key is the free plan, the
// most restrictive (the column's CHECK makes that unreachable).
func PlanFor(key string) Plan {
	for _, p := range Plans {
		if p.Key == key {
			return p
		}
	}
	return Plans[0]
}

// ValidPlan reports whether key names a plan.
func ValidPlan(key string) bool {
	for _, p := range Plans {
		if p.Key == key {
			return true
		}
	}
	return false
}

// Limit is the plan's limit of r.
func (p Plan) Limit(r Resource) int64 {
	if n, ok := p.Limits[r]; ok {
		return n
	}
	return 0
}

// Has reports whether the plan includes f.
func (p Plan) Has(f Feature) bool {
	for _, x := range p.Features {
		if x == f {
			return true
		}
	}
	return false
}

// AtLeast reports whether p is minKey's plan or a higher one.
func (p Plan) AtLeast(minKey string) bool { return p.Rank >= PlanFor(minKey).Rank }

// Next is the cheapest plan above p whose limit of r exceeds limit, if any.
func (p Plan) next(r Resource, limit int64) (Plan, bool) {
	for _, q := range Plans {
		if q.Rank > p.Rank && q.Limit(r) > limit {
			return q, true
		}
	}
	return Plan{}, false
}

// FormatAmount writes an amount of r for people ("1 GiB", "50,000", "Unlimited").
func FormatAmount(r Resource, n int64) string {
	if n == Unlimited {
		return "Unlimited"
	}
	if r == Storage {
		switch {
		case n >= gib:
			return trimZero(fmt.Sprintf("%.1f", float64(n)/float64(gib))) + " GiB"
		case n >= 1<<20:
			return trimZero(fmt.Sprintf("%.1f", float64(n)/float64(1<<20))) + " MiB"
		case n >= 1<<10:
			return trimZero(fmt.Sprintf("%.1f", float64(n)/float64(1<<10))) + " KiB"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	return groupThousands(n)
}

func trimZero(s string) string {
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}

func groupThousands(n int64) string {
	s := fmt.Sprintf("%d", n)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return neg + string(out)
}
