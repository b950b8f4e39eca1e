package billing

import (
	"strings"
	"testing"
)

func TestPlansAreOrderedAndLimitsGrow(t *testing.T) {
	for i := 1; i < len(Plans); i++ {
		prev, p := Plans[i-1], Plans[i]
		if p.Rank <= prev.Rank {
			t.Fatalf("%s not above %s", p.Key, prev.Key)
		}
		for _, r := range Resources {
			if p.Limit(r) < prev.Limit(r) {
				t.Errorf("%s has less %s than %s", p.Key, r, prev.Key)
			}
		}
	}
	if !PlanFor(Professional).AtLeast(Starter) || PlanFor(Free).AtLeast(Starter) || PlanFor("bogus").Key != Free {
		t.Fatal("plan ordering")
	}
	if !PlanFor(Enterprise).Has(FeatureSSO) || PlanFor(Free).Has(FeatureAPI) {
		t.Fatal("feature gates")
	}
}

func TestLimitErrorSaysWhichLimitAndWhatToDo(t *testing.T) {
	e := limitError(Usage{Resource: Seats, Plan: PlanFor(Free), Used: 2, Limit: 2})
	for _, want := range []string{"Plan limit reached: Seats", "Free plan includes 2 seats", "Upgrade to Starter (5)", "revoke a pending invitation"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("%q lacks %q", e.Message, want)
		}
	}
	if e.Needed != Starter {
		t.Errorf("needed %q", e.Needed)
	}
	e = limitError(Usage{Resource: Storage, Plan: PlanFor(Professional), Used: 100 << 30, Limit: 100 << 30})
	if !strings.Contains(e.Message, "100 GiB") || !strings.Contains(e.Message, "Upgrade to Enterprise (Unlimited)") {
		t.Errorf("storage: %q", e.Message)
	}
	err := RequirePlan(PlanFor(Starter), Professional, "Relay")
	if le, ok := err.(*LimitError); !ok || le.Needed != Professional || !strings.Contains(le.Message, "Relay needs the Professional plan") {
		t.Errorf("require plan: %v", err)
	}
	if RequirePlan(PlanFor(Enterprise), Professional, "Relay") != nil {
		t.Error("enterprise refused")
	}
	if FormatAmount(AITokens, 5_000_000) != "5,000,000" || FormatAmount(Storage, 1536<<20) != "1.5 GiB" || FormatAmount(Seats, Unlimited) != "Unlimited" {
		t.Error("format")
	}
}
