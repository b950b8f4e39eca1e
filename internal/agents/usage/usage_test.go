package usage_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"accute/internal/agents/usage"
	"accute/internal/billing"
	"accute/internal/db"
	"accute/internal/store"
	"accute/internal/testutil"
)

func TestCostFromPriceTable(t *testing.T) {
	cases := []struct {
		provider, model string
		in, out         int
		nanos           int64
		priced          bool
	}{
		// $0.15 and $0.60 per million: 1,000 × 150 + 500 × 600 nanodollars.
		{"openai", "gpt-4o-mini", 1000, 500, 450_000, true},
		{"openai", "gpt-4o", 1_000_000, 1_000_000, 12_500_000_000, true},
		{"openai", "GPT-4o-2024-08-06", 1000, 0, 2_500_000, true}, // snapshot date and case
		{"openai-compatible", "openai/gpt-4.1-mini", 0, 1000, 1_600_000, true},
		{"offline", "gpt-4o", 5000, 5000, 0, true}, // the built-in provider is free
		{"openai-compatible", "llama3.1:8b", 5000, 5000, 0, false},
		{"azure", "my-deployment", 10, 10, 0, false},
		{"openai", "gpt-5-nano", 1, 1, 450, true},
	}
	for _, c := range cases {
		n, ok := usage.Cost(c.provider, c.model, c.in, c.out)
		if n != c.nanos || ok != c.priced {
			t.Errorf("Cost(%s, %s, %d, %d) = %d, %v; want %d, %v", c.provider, c.model, c.in, c.out, n, ok, c.nanos, c.priced)
		}
	}
}

func TestMoneyFormatsAndParses(t *testing.T) {
	for nanos, want := range map[int64]string{0: "$0.00", 450_000: "$0.0005", 4_200_000: "$0.0042", 10_000_000: "$0.01", 500_000_000: "$0.50", 999_990_000: "$1.00", 12_345_000_000: "$12.35", 1_234_500_000_000: "$1,234.50"} {
		if got := usage.FormatUSD(nanos); got != want {
			t.Errorf("FormatUSD(%d) = %q, want %q", nanos, got, want)
		}
	}
	if got := usage.DecimalUSD(1_234_567); got != "0.001235" {
		t.Errorf("DecimalUSD = %q", got)
	}
	for in, want := range map[string]int64{"250": 250_000_000_000, "$1,000.50": 1_000_500_000_000, ".25": 250_000_000, "0.000000001": 1} {
		if got, err := usage.ParseUSD(in); err != nil || got != want {
			t.Errorf("ParseUSD(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "1.2.3", "-5", "1e9", "99999999999", "0.0000000001"} {
		if _, err := usage.ParseUSD(bad); err == nil {
			t.Errorf("ParseUSD(%q) accepted", bad)
		}
	}
}

func TestParseBudgetValidates(t *testing.T) {
	b, errs := usage.ParseBudget(usage.BudgetInput{WarnPercent: "75%", CapTokens: "2,000,000", CapCost: "$99.50"})
	if errs.Any() || b.WarnPercent != 75 || b.CapTokens != 2_000_000 || b.CapCostNanos != 99_500_000_000 {
		t.Fatalf("valid budget: %+v %v", b, errs)
	}
	if in := b.Input(); in.CapCost != "99.5" || in.CapTokens != "2000000" || in.WarnPercent != "75" {
		t.Errorf("Input() = %+v", in)
	}
	b, errs = usage.ParseBudget(usage.BudgetInput{WarnPercent: "80"})
	if errs.Any() || b.CapTokens != 0 || b.CapCostNanos != 0 {
		t.Errorf("no caps: %+v %v", b, errs)
	}
	cases := []struct {
		in    usage.BudgetInput
		field string
	}{
		{usage.BudgetInput{WarnPercent: ""}, "warn_percent"},
		{usage.BudgetInput{WarnPercent: "0"}, "warn_percent"},
		{usage.BudgetInput{WarnPercent: "101"}, "warn_percent"},
		{usage.BudgetInput{WarnPercent: "eighty"}, "warn_percent"},
		{usage.BudgetInput{WarnPercent: "80", CapTokens: "0"}, "cap_tokens"},
		{usage.BudgetInput{WarnPercent: "80", CapTokens: "-5"}, "cap_tokens"},
		{usage.BudgetInput{WarnPercent: "80", CapTokens: "1.5"}, "cap_tokens"},
		{usage.BudgetInput{WarnPercent: "80", CapTokens: "99999999999999999999999"}, "cap_tokens"},
		{usage.BudgetInput{WarnPercent: "80", CapCost: "0"}, "cap_cost"},
		{usage.BudgetInput{WarnPercent: "80", CapCost: "ten"}, "cap_cost"},
	}
	for _, c := range cases {
		if _, errs := usage.ParseBudget(c.in); errs[c.field] == "" {
			t.Errorf("ParseBudget(%+v): no error on %s (%v)", c.in, c.field, errs)
		}
	}
}

func TestMonth(t *testing.T) {
	m, err := usage.ParseMonth("2024-02")
	if err != nil || m.Days() != 29 || m.String() != "2024-02" || m.Label() != "February 2024" || m.Next().String() != "2024-03" || m.Prev().String() != "2024-01" {
		t.Fatalf("month %+v %v", m, err)
	}
	for _, bad := range []string{"2024-13", "2024-2", "24-02", "", "2024-02-01", "1999-01"} {
		if _, err := usage.ParseMonth(bad); !errors.Is(err, usage.ErrBadMonth) {
			t.Errorf("ParseMonth(%q) = %v", bad, err)
		}
	}
}

// fixture is an organization with an owner, a member and a client.
type fixture struct {
	s      *store.Store
	dsn    string
	f      testutil.Factory
	org    db.Organization
	owner  db.User
	member db.User
	client db.Client
}

func newFixture(t *testing.T) fixture {
	s, dsn := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: s}
	owner := f.User("")
	org := f.Org(owner, "")
	member := f.User("")
	f.Member(org, member, "staff")
	return fixture{s: s, dsn: dsn, f: f, org: org, owner: owner, member: member, client: f.Client(org, "Acme Ltd")}
}

func (fx fixture) record(t *testing.T, l *usage.Ledger, e usage.Entry) {
	t.Helper()
	if e.OrgID == uuid.Nil {
		e.OrgID = fx.org.ID
	}
	if e.AgentSlug == "" {
		e.AgentSlug = "luca"
	}
	if e.RunID == uuid.Nil {
		e.RunID = uuid.New()
	}
	err := fx.s.InOrg(context.Background(), e.OrgID, func(q *db.Queries) error { return l.Record(context.Background(), q, e) })
	if err != nil {
		t.Fatal(err)
	}
}

func (fx fixture) check(ctx context.Context) error {
	return fx.s.InOrg(ctx, fx.org.ID, func(q *db.Queries) error { return usage.CheckBudget(ctx, q, fx.org.ID) })
}

// owner runs SQL as the tables' owner (fixtures that go around the
// application's rights, like backdating the ledger).
func (fx fixture) asOwner(t *testing.T, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), fx.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func outbox(t *testing.T, s *store.Store, to string) []db.OutboxEmail {
	t.Helper()
	mails, err := s.Q().ListOutboxEmails(context.Background(), db.ListOutboxEmailsParams{ToEmail: to, MaxRows: 50})
	if err != nil {
		t.Fatal(err)
	}
	return mails
}

func TestRecordReportAndBillingReadTheLedger(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	l := &usage.Ledger{}
	run := uuid.New()
	fx.record(t, l, usage.Entry{UserID: fx.owner.ID, AgentSlug: "luca", ClientID: &fx.client.ID, RunID: run, Provider: "openai", Model: "gpt-4o-mini", InputTokens: 1000, OutputTokens: 500})
	fx.record(t, l, usage.Entry{UserID: fx.owner.ID, AgentSlug: "luca", ClientID: &fx.client.ID, RunID: run, Provider: "openai", Model: "gpt-4o-mini", InputTokens: 2000, OutputTokens: 100})
	fx.record(t, l, usage.Entry{UserID: fx.member.ID, AgentSlug: "echo", Provider: "openai-compatible", Model: "llama3", InputTokens: 300, OutputTokens: 200})
	fx.record(t, l, usage.Entry{UserID: fx.member.ID, AgentSlug: "luca", Provider: "offline", Model: "", InputTokens: 50, OutputTokens: 50})
	// Last month's entry counts in last month only.
	fx.record(t, l, usage.Entry{UserID: fx.member.ID, AgentSlug: "luca", Provider: "openai", Model: "gpt-4o", InputTokens: 100000, OutputTokens: 0})
	fx.asOwner(t, `UPDATE ai_usage_entries SET created_at = date_trunc('month', now()) - interval '1 day' WHERE model = 'gpt-4o'`)

	svc := &usage.Service{Store: fx.s}
	now := usage.MonthOf(time.Now())
	r, err := svc.Report(ctx, fx.org.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.InputTokens != 3350 || r.Totals.OutputTokens != 850 || r.Tokens() != 4200 || r.Totals.Entries != 4 {
		t.Errorf("totals %+v", r.Totals)
	}
	wantCost := int64(3000*150 + 600*600) // the two gpt-4o-mini calls; llama3 unpriced, offline free
	if r.Totals.CostNanos != wantCost {
		t.Errorf("cost %d, want %d", r.Totals.CostNanos, wantCost)
	}
	if len(r.Days) != now.Days() || r.Days[time.Now().UTC().Day()-1].Tokens != 4200 {
		t.Errorf("days: %d days, today %+v", len(r.Days), r.Days[time.Now().UTC().Day()-1])
	}
	if len(r.ByAgent) != 2 || r.ByAgent[0].Key != "luca" || r.ByAgent[0].Tokens != 3700 || r.ByAgent[0].Runs != 2 || r.ByAgent[0].Label != "Luca" {
		t.Errorf("by agent %+v", r.ByAgent)
	}
	if len(r.ByUser) != 2 || r.ByUser[0].Key != fx.owner.ID.String() || r.ByUser[0].Tokens != 3600 {
		t.Errorf("by user %+v", r.ByUser)
	}
	if len(r.ByClient) != 2 || r.ByClient[0].Label != "Acme Ltd" || r.ByClient[1].Label != "No client" {
		t.Errorf("by client %+v", r.ByClient)
	}
	if len(r.Unpriced) != 1 || r.Unpriced[0].Model != "llama3" {
		t.Errorf("unpriced %+v", r.Unpriced)
	}
	if len(r.Months) != 2 || r.Months[0] != now || r.Months[1] != now.Prev() {
		t.Errorf("months %+v", r.Months)
	}
	prev, err := svc.Report(ctx, fx.org.ID, now.Prev())
	if err != nil || prev.Tokens() != 100000 || prev.Totals.CostNanos != 250_000_000 {
		t.Errorf("previous month: %+v %v", prev.Totals, err)
	}

	// The plan's AI-token limit counts this month's ledger.
	var u billing.Usage
	err = fx.s.InOrg(ctx, fx.org.ID, func(q *db.Queries) error {
		var err error
		u, err = billing.UsageOf(ctx, q, fx.org.ID, billing.AITokens)
		return err
	})
	if err != nil || u.Used != 4200 {
		t.Errorf("billing AI tokens used = %d (%v), want 4200", u.Used, err)
	}

	// Bad entries are refused, not recorded.
	err = fx.s.InOrg(ctx, fx.org.ID, func(q *db.Queries) error {
		return usage.Record(ctx, q, usage.Entry{OrgID: fx.org.ID, AgentSlug: "luca", RunID: uuid.New(), InputTokens: -1})
	})
	if err == nil {
		t.Error("negative tokens recorded")
	}
}

func TestBudgetWarningIsSentOnce(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	svc := &usage.Service{Store: fx.s}
	if _, err := svc.SaveBudget(ctx, usage.Actor{OrgID: fx.org.ID, UserID: fx.owner.ID, Email: fx.owner.Email},
		usage.BudgetInput{WarnPercent: "50", CapTokens: "1000"}); err != nil {
		t.Fatal(err)
	}
	l := &usage.Ledger{BaseURL: "https://accute.example"}
	entry := func(tokens int) usage.Entry {
		return usage.Entry{UserID: fx.member.ID, Provider: "offline", InputTokens: tokens}
	}
	fx.record(t, l, entry(400))
	if n := len(outbox(t, fx.s, fx.owner.Email)); n != 0 {
		t.Fatalf("%d e-mails below the threshold", n)
	}
	fx.record(t, l, entry(150)) // 550 of 1,000: over 50%
	mails := outbox(t, fx.s, fx.owner.Email)
	if len(mails) != 1 {
		t.Fatalf("%d warnings after crossing the threshold, want 1", len(mails))
	}
	m := mails[0]
	if !strings.Contains(m.Subject, "55%") || !strings.Contains(m.TextBody, "550 of the 1,000-token monthly AI budget") ||
		!strings.Contains(m.TextBody, "https://accute.example/o/"+fx.org.Slug+"/usage") {
		t.Errorf("warning e-mail: %q\n%s", m.Subject, m.TextBody)
	}
	if n := len(outbox(t, fx.s, fx.member.Email)); n != 0 {
		t.Errorf("staff member got %d warnings; only those who manage agents are told", n)
	}
	fx.record(t, l, entry(100))
	fx.record(t, l, entry(100))
	if n := len(outbox(t, fx.s, fx.owner.Email)); n != 1 {
		t.Errorf("%d warnings after more usage, want still 1", n)
	}
	r, err := svc.Report(ctx, fx.org.ID, usage.MonthOf(time.Now()))
	if err != nil || r.Warning == nil || r.Warning.Kind != "tokens" || r.Warning.Recipients != 1 {
		t.Errorf("report warning %+v %v", r.Warning, err)
	}
}

func TestBudgetWarningOnceUnderConcurrency(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	svc := &usage.Service{Store: fx.s}
	if _, err := svc.SaveBudget(ctx, usage.Actor{OrgID: fx.org.ID, UserID: fx.owner.ID}, usage.BudgetInput{WarnPercent: "10", CapTokens: "1000"}); err != nil {
		t.Fatal(err)
	}
	// Eight runs finish at once, each alone over the threshold.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- fx.s.InOrg(ctx, fx.org.ID, func(q *db.Queries) error {
				return usage.Record(ctx, q, usage.Entry{OrgID: fx.org.ID, UserID: fx.member.ID, AgentSlug: "luca", RunID: uuid.New(), Provider: "offline", InputTokens: 200})
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(outbox(t, fx.s, fx.owner.Email)); n != 1 {
		t.Errorf("%d warnings from concurrent runs, want 1", n)
	}
}

func TestHardCapsRefuseNewRuns(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	svc := &usage.Service{Store: fx.s}
	l := &usage.Ledger{}
	save := func(in usage.BudgetInput) {
		t.Helper()
		if _, err := svc.SaveBudget(ctx, usage.Actor{OrgID: fx.org.ID, UserID: fx.owner.ID}, in); err != nil {
			t.Fatal(err)
		}
	}
	save(usage.BudgetInput{WarnPercent: "90", CapTokens: "1000"})
	fx.record(t, l, usage.Entry{UserID: fx.member.ID, Provider: "openai", Model: "gpt-4o", InputTokens: 999})
	if err := fx.check(ctx); err != nil {
		t.Fatalf("under the cap: %v", err)
	}
	fx.record(t, l, usage.Entry{UserID: fx.member.ID, Provider: "openai", Model: "gpt-4o", OutputTokens: 1})
	err := fx.check(ctx)
	var le *billing.LimitError
	if !errors.As(err, &le) || le.Resource != billing.AITokens || le.Used != 1000 || le.Limit != 1000 ||
		!strings.Contains(le.Message, "Monthly AI budget reached: 1,000 of 1,000 tokens") || !strings.Contains(le.Message, "raise the cap") {
		t.Fatalf("at the token cap: %#v", err)
	}

	// A cost cap: 1,000 gpt-4o tokens cost 999 × $2.50 + 1 × $10 per million.
	save(usage.BudgetInput{WarnPercent: "90", CapCost: "0.01"})
	if err := fx.check(ctx); err != nil {
		t.Fatalf("under the cost cap: %v", err)
	}
	fx.record(t, l, usage.Entry{UserID: fx.member.ID, Provider: "openai", Model: "gpt-4o", OutputTokens: 1000})
	err = fx.check(ctx)
	if !errors.As(err, &le) || le.Resource != usage.AICost || !strings.Contains(le.Message, "$0.0125 of $0.01") {
		t.Fatalf("at the cost cap: %#v", err)
	}

	// No caps: the plan's limit (free: 50,000 tokens a month), worded by billing.
	save(usage.BudgetInput{WarnPercent: "90"})
	if err := fx.check(ctx); err != nil {
		t.Fatalf("no caps: %v", err)
	}
	fx.f.Plan(fx.org, billing.Free)
	fx.record(t, l, usage.Entry{UserID: fx.member.ID, Provider: "offline", InputTokens: 48000})
	err = fx.check(ctx)
	if !errors.As(err, &le) || le.Resource != billing.AITokens || le.Limit != 50_000 || !strings.Contains(le.Message, "Plan limit reached") ||
		!strings.Contains(le.Message, "Upgrade to Starter") {
		t.Fatalf("at the plan's limit: %#v", err)
	}
}

func TestExportCSVIsInjectionSafe(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	evil := fx.f.Client(fx.org, "=HYPERLINK(\"http://evil.example\",\"click\")")
	l := &usage.Ledger{}
	for i := range 5 {
		fx.record(t, l, usage.Entry{UserID: fx.owner.ID, ClientID: &evil.ID, Provider: "openai", Model: "gpt-4o-mini", InputTokens: 1000 * (i + 1), OutputTokens: 10})
	}
	fx.record(t, l, usage.Entry{UserID: fx.owner.ID, Provider: "openai", Model: "-cmd|calc", InputTokens: 1})
	var buf bytes.Buffer
	if err := (&usage.Service{Store: fx.s}).ExportCSV(ctx, fx.org.ID, usage.MonthOf(time.Now()), &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 || strings.Join(recs[0], ",") != strings.Join(usage.CSVHeader, ",") {
		t.Fatalf("%d records, header %v", len(recs), recs[0])
	}
	first := recs[1]
	if first[5] != `'=HYPERLINK("http://evil.example","click")` || first[3] != fx.owner.Email || first[7] != "gpt-4o-mini" ||
		first[8] != "1000" || first[9] != "10" || first[10] != "1010" || first[11] != "0.000156" || first[12] != "true" {
		t.Errorf("first row %q", first)
	}
	if last := recs[6]; last[7] != "'-cmd|calc" || last[12] != "false" {
		t.Errorf("last row %q", last)
	}
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("unsafe cell %q", cell)
			}
		}
	}
}
