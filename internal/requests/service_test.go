package requests_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"accute/internal/audit"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/form"
	"accute/internal/notify"
	"accute/internal/queue"
	"accute/internal/requests"
	"accute/internal/storage"
	"accute/internal/store"
	"accute/internal/testutil"
)

// clock is a movable time for the service.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// env is a database with the documents and requests services over it.
type env struct {
	t     *testing.T
	st    *store.Store
	f     testutil.Factory
	docs  *documents.Service
	svc   *requests.Service
	clock *clock
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t *testing.T) *env {
	t.Helper()
	st, _ := testutil.NewStore(t)
	keys, err := crypto.NewKeyRing([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	backend, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	docs := &documents.Service{Store: st, Backend: backend, Keys: &documents.Keys{Store: st, Ring: keys}, MaxBytes: 10 << 20, Logger: quietLogger()}
	// 10:00 UTC today: requests' created_at is the database's time, which
	// the reminder schedule compares by day with the moved clock.
	c := &clock{now: requests.DateOf(time.Now()).Add(10 * time.Hour)}
	svc := &requests.Service{Store: st, Docs: docs, BaseURL: "https://accute.example", Clock: c.Now, Logger: quietLogger()}
	workers := river.NewWorkers()
	river.AddWorker(workers, &documents.ParseWorker{Docs: docs})
	notify.Register(workers, st, notify.DevMailbox{})
	requests.Register(workers, svc)
	jobs, err := queue.New(st.Pool, queue.Config{Workers: workers, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	docs.Jobs, svc.Jobs = jobs, jobs
	return &env{t: t, st: st, f: testutil.Factory{T: t, Store: st}, docs: docs, svc: svc, clock: c}
}

// firm is an organization with an owner, a client with a contact, and a
// client user linked to the client.
type firm struct {
	org      db.Organization
	owner    db.User
	client   db.Client
	contact  string // the contact's address
	portal   db.User
	staff    requests.Actor
	customer requests.Actor
}

func (e *env) firm() firm {
	e.t.Helper()
	ctx := context.Background()
	owner := e.f.User("")
	org := e.f.Org(owner, "")
	client := e.f.Client(org, "Acme Holdings")
	contact := testutil.Unique("pat") + "@acme.example"
	portal := e.f.User("")
	e.f.Member(org, portal, "client")
	err := e.st.InOrgTx(ctx, org.ID, func(tx pgx.Tx, q *db.Queries) error {
		if _, err := q.CreateClientContact(ctx, db.CreateClientContactParams{OrganizationID: org.ID, ClientID: client.ID, Name: "Pat", Email: contact}); err != nil {
			return err
		}
		// The portal's link of the client user to the client (migrations/00085).
		_, err := tx.Exec(ctx, `INSERT INTO client_portal_links (organization_id, client_id, user_id) VALUES ($1, $2, $3)`, org.ID, client.ID, portal.ID)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return firm{
		org: org, owner: owner, client: client, contact: contact, portal: portal,
		staff:    requests.Staff(org.ID, owner.ID, owner.Email, owner.Name),
		customer: requests.ClientUser(org.ID, portal.ID, portal.Email, portal.Name, []uuid.UUID{client.ID}),
	}
}

// mails returns the subjects of the e-mails to addr, oldest first.
func (e *env) mails(addr string) []string {
	e.t.Helper()
	rows, err := e.st.Q().ListOutboxEmails(context.Background(), db.ListOutboxEmailsParams{ToEmail: addr, MaxRows: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		out = append(out, rows[i].Subject)
	}
	return out
}

func (e *env) lastMail(addr string) db.OutboxEmail {
	e.t.Helper()
	rows, err := e.st.Q().ListOutboxEmails(context.Background(), db.ListOutboxEmailsParams{ToEmail: addr, MaxRows: 1})
	if err != nil || len(rows) == 0 {
		e.t.Fatalf("no e-mail to %s (%v)", addr, err)
	}
	return rows[0]
}

// auditCount counts the organization's audit events with action.
func (e *env) auditCount(org uuid.UUID, action string) int {
	e.t.Helper()
	var n int
	err := e.st.InOrg(context.Background(), org, func(q *db.Queries) error {
		rows, err := q.ListAuditEvents(context.Background(), db.ListAuditEventsParams{OrganizationID: &org, Action: action, MaxRows: 1000})
		n = len(rows)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) create(fm firm, due time.Time, items ...string) requests.Request {
	e.t.Helper()
	r, err := e.svc.Create(context.Background(), fm.staff, requests.Input{
		ClientID: fm.client.ID, Title: "Bank statements for Q1", Instructions: "PDF please.", DueOn: due, Items: items, Reminders: true,
	})
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	return r
}

func pdf(name string) []byte {
	return []byte("%PDF-1.4\n% " + name + "\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

func fieldErr(t *testing.T, err error, field string) string {
	t.Helper()
	var fe form.Errors
	if !errors.As(err, &fe) || fe[field] == "" {
		t.Fatalf("want a form error on %s, got %v", field, err)
	}
	return fe[field]
}

// TestLifecycle: create (client and contacts e-mailed) -> the client user
// uploads against an item -> submitted (staff e-mailed) -> reject with a
// reason -> upload again -> submitted -> accept; then nothing more can be
// uploaded. Every step is in the history and the audit trail.
func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	fm := e.firm()
	ctx := context.Background()
	due := e.clock.Now().AddDate(0, 0, 10)
	r := e.create(fm, due, "Bank statement – January", "  ", "Bank statement – February")
	if r.Status != requests.StatusOpen || r.ClientName != "Acme Holdings" || !r.DueOn.Equal(requests.DateOf(due)) {
		t.Fatalf("created %+v", r)
	}
	d, err := e.svc.Get(ctx, fm.org.ID, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Items) != 2 || d.Items[1].Label != "Bank statement – February" || d.Items[1].Position != 1 {
		t.Fatalf("items %+v (the blank one is dropped)", d.Items)
	}
	// The client's address, the contact's and the portal user's, once each.
	for _, addr := range []string{fm.client.Email, fm.contact, fm.portal.Email} {
		m := e.lastMail(addr)
		if !strings.Contains(m.Subject, "asks you for documents: Bank statements for Q1") || !strings.Contains(m.TextBody, "Bank statement – February") ||
			!strings.Contains(m.TextBody, "https://accute.example/o/"+fm.org.Slug) {
			t.Fatalf("request e-mail to %s: %q\n%s", addr, m.Subject, m.TextBody)
		}
	}

	// The client user uploads against the first item.
	sub, err := e.svc.Upload(ctx, fm.customer, r.ID, &d.Items[0].ID, "january.pdf", bytes.NewReader(pdf("jan")))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if !sub.Submitted || sub.Status != requests.StatusSubmitted || sub.Document.ClientID == nil || *sub.Document.ClientID != fm.client.ID {
		t.Fatalf("submission %+v", sub)
	}
	staffMail := e.lastMail(fm.owner.Email)
	if !strings.Contains(staffMail.Subject, "Acme Holdings submitted documents") || !strings.Contains(staffMail.TextBody, "/requests/"+r.ID.String()) {
		t.Fatalf("staff e-mail %q\n%s", staffMail.Subject, staffMail.TextBody)
	}
	// The upload is a real document: stored, versioned, queued for parsing.
	doc, err := e.docs.Get(ctx, fm.org.ID, sub.Document.ID)
	if err != nil || doc.Document.ParseStatus != documents.StatusQueued || len(doc.Versions) != 1 {
		t.Fatalf("document %+v (%v)", doc.Document, err)
	}
	// A second file while submitted: no second e-mail to staff.
	before := len(e.mails(fm.owner.Email))
	sub2, err := e.svc.Upload(ctx, fm.customer, r.ID, nil, "notes.txt", strings.NewReader("see attached"))
	if err != nil || sub2.Submitted {
		t.Fatalf("second upload %+v %v", sub2, err)
	}
	if n := len(e.mails(fm.owner.Email)); n != before {
		t.Fatalf("staff got %d e-mails for a second file", n-before)
	}

	// Reject needs a reason.
	if _, err := e.svc.Reject(ctx, fm.staff, r.ID, "   "); fieldErr(t, err, "reason") == "" {
		t.Fatal("no reason accepted")
	}
	rej, err := e.svc.Reject(ctx, fm.staff, r.ID, "February is missing.")
	if err != nil || rej.Status != requests.StatusRejected || rej.RejectionReason != "February is missing." {
		t.Fatalf("reject %+v %v", rej, err)
	}
	if m := e.lastMail(fm.contact); !strings.Contains(m.Subject, "needs more from you") || !strings.Contains(m.TextBody, "February is missing.") {
		t.Fatalf("rejection e-mail %q\n%s", m.Subject, m.TextBody)
	}
	// Accepting a rejected request is refused.
	var se *requests.StateError
	if _, err := e.svc.Accept(ctx, fm.staff, r.ID); !errors.As(err, &se) {
		t.Fatalf("accept while rejected: %v", err)
	}

	// The client uploads again: submitted again, staff told again.
	sub3, err := e.svc.Upload(ctx, fm.customer, r.ID, &d.Items[1].ID, "february.pdf", bytes.NewReader(pdf("feb")))
	if err != nil || !sub3.Submitted {
		t.Fatalf("upload after rejection %+v %v", sub3, err)
	}
	acc, err := e.svc.Accept(ctx, fm.staff, r.ID)
	if err != nil || acc.Status != requests.StatusAccepted || acc.ClosedAt == nil || acc.RejectionReason != "" {
		t.Fatalf("accept %+v %v", acc, err)
	}
	if m := e.lastMail(fm.client.Email); !strings.Contains(m.Subject, "Received, thank you") {
		t.Fatalf("acceptance e-mail %q", m.Subject)
	}
	// Closed: no more uploads, no cancel, no second accept.
	if _, err := e.svc.Upload(ctx, fm.customer, r.ID, nil, "late.pdf", bytes.NewReader(pdf("late"))); !errors.As(err, &se) {
		t.Fatalf("upload to an accepted request: %v", err)
	}
	if _, err := e.svc.Cancel(ctx, fm.staff, r.ID, ""); !errors.As(err, &se) {
		t.Fatalf("cancel an accepted request: %v", err)
	}

	d, err = e.svc.Get(ctx, fm.org.ID, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Uploads) != 3 || len(d.ItemUploads(&d.Items[0].ID)) != 1 || len(d.ItemUploads(&d.Items[1].ID)) != 1 || len(d.ItemUploads(nil)) != 1 {
		t.Fatalf("uploads %+v", d.Uploads)
	}
	var kinds []string
	for _, ev := range d.Events {
		kinds = append(kinds, ev.Kind)
	}
	want := "created uploaded submitted uploaded rejected uploaded submitted accepted"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("history %q, want %q", got, want)
	}
	for action, n := range map[string]int{audit.RequestCreated: 1, audit.RequestSubmitted: 2, audit.RequestDocumentAdded: 1,
		audit.RequestRejected: 1, audit.RequestAccepted: 1, audit.DocumentUploaded: 3} {
		if got := e.auditCount(fm.org.ID, action); got != n {
			t.Errorf("audit %s: %d events, want %d", action, got, n)
		}
	}
}

// TestCancel: staff cancel with a reason; the client is told; uploads are
// refused afterwards.
func TestCancel(t *testing.T) {
	e := newEnv(t)
	fm := e.firm()
	ctx := context.Background()
	r := e.create(fm, e.clock.Now().AddDate(0, 0, 5))
	c, err := e.svc.Cancel(ctx, fm.staff, r.ID, "We found them in last year's file.")
	if err != nil || c.Status != requests.StatusCancelled || c.CancelReason == "" {
		t.Fatalf("cancel %+v %v", c, err)
	}
	if m := e.lastMail(fm.contact); !strings.Contains(m.Subject, "No longer needed") || !strings.Contains(m.TextBody, "last year's file") {
		t.Fatalf("cancel e-mail %q\n%s", m.Subject, m.TextBody)
	}
	var se *requests.StateError
	if _, err := e.svc.CheckUpload(ctx, fm.customer, r.ID, nil); !errors.As(err, &se) {
		t.Fatalf("check upload on a cancelled request: %v", err)
	}
	if e.auditCount(fm.org.ID, audit.RequestCancelled) != 1 {
		t.Fatal("cancel not audited")
	}
}

// TestValidation: every field's rule, and a client of another organization.
func TestValidation(t *testing.T) {
	e := newEnv(t)
	fm := e.firm()
	other := e.firm()
	ctx := context.Background()
	now := e.clock.Now()
	ok := requests.Input{ClientID: fm.client.ID, Title: "Statements", DueOn: now.AddDate(0, 0, 7)}
	cases := []struct {
		name, field string
		change      func(*requests.Input)
	}{
		{"no title", "title", func(in *requests.Input) { in.Title = " \t " }},
		{"long title", "title", func(in *requests.Input) { in.Title = strings.Repeat("x", requests.MaxTitle+1) }},
		{"no due date", "due_on", func(in *requests.Input) { in.DueOn = time.Time{} }},
		{"past due date", "due_on", func(in *requests.Input) { in.DueOn = now.AddDate(0, 0, -2) }},
		{"far due date", "due_on", func(in *requests.Input) { in.DueOn = now.AddDate(requests.MaxDueYears+1, 0, 0) }},
		{"no client", "client_id", func(in *requests.Input) { in.ClientID = uuid.Nil }},
		{"unknown client", "client_id", func(in *requests.Input) { in.ClientID = uuid.New() }},
		{"another firm's client", "client_id", func(in *requests.Input) { in.ClientID = other.client.ID }},
		{"too many items", "items", func(in *requests.Input) { in.Items = make([]string, requests.MaxItems+1); fillItems(in.Items) }},
		{"long item", "items", func(in *requests.Input) { in.Items = []string{strings.Repeat("y", requests.MaxItemLabel+1)} }},
		{"long instructions", "instructions", func(in *requests.Input) { in.Instructions = strings.Repeat("z", requests.MaxInstructions+1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.change(&in)
			_, err := e.svc.Create(ctx, fm.staff, in)
			fieldErr(t, err, tc.field)
		})
	}
	// Today is fine (and yesterday in UTC while it is still yesterday
	// somewhere: 10:00 UTC is 22:00 the previous day at UTC-12).
	in := ok
	in.DueOn = now.AddDate(0, 0, -1)
	if _, err := e.svc.Create(ctx, fm.staff, in); err != nil {
		t.Fatalf("yesterday (still today at UTC-12): %v", err)
	}
	// Client users cannot create, review or cancel.
	if _, err := e.svc.Create(ctx, fm.customer, ok); !errors.Is(err, requests.ErrNotStaff) {
		t.Fatalf("client user creating: %v", err)
	}
	// An archived client cannot be asked.
	err := e.st.InOrg(ctx, fm.org.ID, func(q *db.Queries) error {
		_, err := q.SetClientArchived(ctx, db.SetClientArchivedParams{OrganizationID: fm.org.ID, ID: fm.client.ID, Archived: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if msg := fieldErr(t, func() error { _, err := e.svc.Create(ctx, fm.staff, ok); return err }(), "client_id"); !strings.Contains(msg, "archived") {
		t.Fatalf("archived client: %q", msg)
	}
	if n := e.auditCount(other.org.ID, audit.RequestCreated); n != 0 {
		t.Fatalf("another firm's audit trail has %d creations", n)
	}
}

func fillItems(items []string) {
	for i := range items {
		items[i] = "item"
	}
}

// TestClientScope: a client user reaches only their clients' requests; an
// empty scope reaches nothing; another organization's ids are not found.
func TestClientScope(t *testing.T) {
	e := newEnv(t)
	fm := e.firm()
	ctx := context.Background()
	mine := e.create(fm, e.clock.Now().AddDate(0, 0, 5))
	otherClient := e.f.Client(fm.org, "Other Client Ltd")
	theirs, err := e.svc.Create(ctx, fm.staff, requests.Input{ClientID: otherClient.ID, Title: "Payroll", DueOn: e.clock.Now().AddDate(0, 0, 5)})
	if err != nil {
		t.Fatal(err)
	}

	page, err := e.svc.ListForClients(ctx, fm.org.ID, []uuid.UUID{fm.client.ID}, requests.Filter{Status: requests.StatusActive})
	if err != nil || page.Total != 1 || len(page.Rows) != 1 || page.Rows[0].ID != mine.ID {
		t.Fatalf("list for the client: %+v %v", page, err)
	}
	if _, err := e.svc.GetForClients(ctx, fm.org.ID, []uuid.UUID{fm.client.ID}, theirs.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another client's request: %v", err)
	}
	if _, err := e.svc.Upload(ctx, fm.customer, theirs.ID, nil, "x.pdf", bytes.NewReader(pdf("x"))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("upload to another client's request: %v", err)
	}
	// An item of another request is not this request's.
	d, _ := e.svc.Get(ctx, fm.org.ID, mine.ID)
	withItems := e.create(fm, e.clock.Now().AddDate(0, 0, 5), "Only item")
	wd, _ := e.svc.Get(ctx, fm.org.ID, withItems.ID)
	if _, err := e.svc.Upload(ctx, fm.customer, d.Request.ID, &wd.Items[0].ID, "x.pdf", bytes.NewReader(pdf("x"))); fieldErr(t, err, "item_id") == "" {
		t.Fatal("foreign item accepted")
	}
	// No clients: nothing at all.
	if p, err := e.svc.ListForClients(ctx, fm.org.ID, nil, requests.Filter{}); err != nil || len(p.Rows) != 0 {
		t.Fatalf("empty scope lists %+v %v", p, err)
	}
	if _, err := e.svc.GetForClients(ctx, fm.org.ID, nil, mine.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty scope gets %v", err)
	}
	nobody := requests.ClientUser(fm.org.ID, fm.portal.ID, fm.portal.Email, "", nil)
	if _, err := e.svc.CheckUpload(ctx, nobody, mine.ID, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty scope may upload: %v", err)
	}
	var zero requests.Actor
	zero.OrgID = fm.org.ID
	if _, err := e.svc.CheckUpload(ctx, zero, mine.ID, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a zero actor may upload: %v", err)
	}

	// Another organization: its id with this organization's request is
	// not found, for staff too.
	other := e.firm()
	if _, err := e.svc.Get(ctx, other.org.ID, mine.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another organization gets: %v", err)
	}
	if _, err := e.svc.Accept(ctx, other.staff, mine.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another organization accepts: %v", err)
	}
	if _, err := e.svc.Upload(ctx, other.staff, mine.ID, nil, "x.pdf", bytes.NewReader(pdf("x"))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another organization uploads: %v", err)
	}
}

// TestUploadRefusedLeavesNothing: a refused file (its type) changes
// neither the request nor its history.
func TestUploadRefusedLeavesNothing(t *testing.T) {
	e := newEnv(t)
	fm := e.firm()
	ctx := context.Background()
	r := e.create(fm, e.clock.Now().AddDate(0, 0, 5))
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), bytes.Repeat([]byte{0}, 200)...)
	var refusal *documents.Refusal
	if _, err := e.svc.Upload(ctx, fm.customer, r.ID, nil, "setup.exe", bytes.NewReader(exe)); !errors.As(err, &refusal) {
		t.Fatalf("executable: %v", err)
	}
	d, err := e.svc.Get(ctx, fm.org.ID, r.ID)
	if err != nil || d.Request.Status != requests.StatusOpen || len(d.Uploads) != 0 || len(d.Events) != 1 {
		t.Fatalf("after a refused upload: %+v %v", d, err)
	}
}

// TestListFilters: status, client, overdue, and the API's cursor pages.
func TestListFilters(t *testing.T) {
	e := newEnv(t)
	fm := e.firm()
	ctx := context.Background()
	start := e.clock.Now()
	var ids []uuid.UUID
	for i := range 5 {
		ids = append(ids, e.create(fm, start.AddDate(0, 0, i+1)).ID)
	}
	if _, err := e.svc.Cancel(ctx, fm.staff, ids[4], ""); err != nil {
		t.Fatal(err)
	}
	// Three days later the first two are overdue.
	e.clock.Set(start.AddDate(0, 0, 3))
	count := func(f requests.Filter) int {
		t.Helper()
		p, err := e.svc.List(ctx, fm.org.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	if n := count(requests.Filter{Status: requests.StatusActive}); n != 4 {
		t.Errorf("active: %d", n)
	}
	if n := count(requests.Filter{}); n != 5 {
		t.Errorf("all: %d", n)
	}
	if n := count(requests.Filter{Status: requests.StatusCancelled}); n != 1 {
		t.Errorf("cancelled: %d", n)
	}
	if n := count(requests.Filter{Overdue: true}); n != 2 {
		t.Errorf("overdue: %d", n)
	}
	other := e.f.Client(fm.org, "")
	if n := count(requests.Filter{ClientID: &other.ID}); n != 0 {
		t.Errorf("another client: %d", n)
	}
	p, _ := e.svc.List(ctx, fm.org.ID, requests.Filter{Status: requests.StatusActive})
	if !p.Rows[0].Overdue || p.Rows[2].Overdue {
		t.Errorf("overdue flags %+v", p.Rows)
	}
	// Cursor pages of two, in due-date order, end with no cursor.
	var got []uuid.UUID
	var after *requests.Cursor
	for range 10 {
		cp, err := e.svc.ListPage(ctx, fm.org.ID, requests.PageFilter{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range cp.Rows {
			got = append(got, r.ID)
		}
		if cp.Next == nil {
			break
		}
		after = cp.Next
	}
	if len(got) != 5 || got[0] != ids[0] || got[4] != ids[4] {
		t.Fatalf("cursor pages %v, want %v", got, ids)
	}
}

// TestReminderSteps is the schedule: due soon, then overdue every few
// days, capped; nothing for a request sent inside the due-soon window.
func TestReminderSteps(t *testing.T) {
	p := requests.DefaultReminderPolicy
	day := func(d int) time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	due, created := day(10), day(0)
	cases := []struct {
		today int
		want  string
	}{
		{0, ""}, {6, ""}, {7, "due_soon"}, {9, "due_soon"}, {10, "due_soon"},
		{11, "overdue_1"}, {13, "overdue_1"}, {14, "overdue_2"}, {16, "overdue_2"}, {17, "overdue_3"}, {40, "overdue_3"},
	}
	for _, c := range cases {
		if got := p.Step(due, created, day(c.today).Add(15*time.Hour)); got != c.want {
			t.Errorf("day %d: %q, want %q", c.today, got, c.want)
		}
	}
	// Made two days before it is due: its own e-mail said when.
	if got := p.Step(due, day(8), day(9)); got != "" {
		t.Errorf("created inside the window: %q", got)
	}
	if got := (requests.ReminderPolicy{BeforeDays: 0, OverdueEvery: 2, MaxOverdue: 0}).Step(due, created, day(9)); got != "" {
		t.Errorf("no due-soon reminders: %q", got)
	}
}

// TestRemindersIdempotent drives the schedule with a moved clock: each step
// is sent once, to every address, whatever the number of runs (including
// concurrent ones, as on several instances); submitted requests, requests
// with reminders off and requests made inside the window get none.
func TestRemindersIdempotent(t *testing.T) {
	e := newEnv(t)
	fm := e.firm()
	ctx := context.Background()
	start := e.clock.Now()
	r := e.create(fm, start.AddDate(0, 0, 5), "January")
	quiet, err := e.svc.Create(ctx, fm.staff, requests.Input{ClientID: fm.client.ID, Title: "No reminders", DueOn: start.AddDate(0, 0, 5)})
	if err != nil {
		t.Fatal(err)
	}
	submitted := e.create(fm, start.AddDate(0, 0, 5))
	if _, err := e.svc.Upload(ctx, fm.customer, submitted.ID, nil, "s.pdf", bytes.NewReader(pdf("s"))); err != nil {
		t.Fatal(err)
	}
	// Another organization's request, due too: its own job sends it.
	other := e.firm()
	e.create(other, start.AddDate(0, 0, 5))

	reminders := func(addr string) []string {
		var out []string
		for _, s := range e.mails(addr) {
			if strings.HasPrefix(s, "Reminder:") || strings.HasPrefix(s, "Overdue:") {
				out = append(out, s)
			}
		}
		return out
	}
	run := func(days, want int) {
		t.Helper()
		now := start.AddDate(0, 0, days)
		e.clock.Set(now)
		n, err := e.svc.SendReminders(ctx, fm.org.ID, now)
		if err != nil || n != want {
			t.Fatalf("day %d: %d reminded (%v), want %d", days, n, err, want)
		}
	}
	run(1, 0) // four days before: too early
	orgs, err := e.svc.DueOrganizations(ctx, start.AddDate(0, 0, 2))
	if err != nil || !containsID(orgs, fm.org.ID) || !containsID(orgs, other.org.ID) {
		t.Fatalf("due organizations %v (%v)", orgs, err)
	}

	// Day 2 (three days before): due soon, from several runs at once.
	e.clock.Set(start.AddDate(0, 0, 2))
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := e.svc.SendReminders(ctx, fm.org.ID, start.AddDate(0, 0, 2))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 1 {
		t.Fatalf("concurrent runs reminded %d times, want 1", total)
	}
	for _, addr := range []string{fm.client.Email, fm.contact, fm.portal.Email} {
		if got := reminders(addr); len(got) != 1 || !strings.Contains(got[0], "Reminder: Bank statements for Q1 is due on") {
			t.Fatalf("reminders to %s: %q", addr, got)
		}
	}
	m := e.lastMail(fm.contact)
	if !strings.Contains(m.TextBody, "January") {
		t.Fatalf("the reminder does not list the items:\n%s", m.TextBody)
	}
	run(3, 0)
	run(5, 0) // due today: due_soon already sent
	run(6, 1) // overdue_1
	run(6, 0)
	// Submitted, it is not reminded; rejected (sent back), it is again,
	// with what is missing.
	if _, err := e.svc.Upload(ctx, fm.customer, r.ID, nil, "jan.pdf", bytes.NewReader(pdf("jan"))); err != nil {
		t.Fatal(err)
	}
	run(9, 0)
	if _, err := e.svc.Reject(ctx, fm.staff, r.ID, "The January statement is for the wrong account."); err != nil {
		t.Fatal(err)
	}
	run(9, 1) // overdue_2
	if m := e.lastMail(fm.contact); !strings.Contains(m.TextBody, "wrong account") {
		t.Fatalf("the reminder of a rejected request does not say what is missing:\n%s", m.TextBody)
	}
	run(12, 1)
	run(15, 0) // capped at three
	run(40, 0)
	if got := reminders(fm.contact); len(got) != 4 || !strings.HasPrefix(got[3], "Overdue:") {
		t.Fatalf("reminders %q", got)
	}
	d, err := e.svc.Get(ctx, fm.org.ID, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	reminded := 0
	for _, ev := range d.Events {
		if ev.Kind == requests.EventReminded {
			reminded++
		}
	}
	if reminded != 4 || e.auditCount(fm.org.ID, audit.RequestReminderSent) != 4 {
		t.Fatalf("history has %d reminders, audit %d", reminded, e.auditCount(fm.org.ID, audit.RequestReminderSent))
	}
	for _, id := range []uuid.UUID{quiet.ID, submitted.ID} {
		d, _ := e.svc.Get(ctx, fm.org.ID, id)
		for _, ev := range d.Events {
			if ev.Kind == requests.EventReminded {
				t.Fatalf("%s (%s) was reminded", d.Request.Title, d.Request.Status)
			}
		}
	}
	// The other organization's client heard nothing from this one's runs.
	if got := reminders(other.contact); len(got) != 0 {
		t.Fatalf("another organization's client got %q", got)
	}
}

// TestReminderWithoutAddress: nothing is recorded while the client has no
// address, so adding one lets the next run send the reminder.
func TestReminderWithoutAddress(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	owner := e.f.User("")
	org := e.f.Org(owner, "")
	var client db.Client
	err := e.st.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		client, err = q.CreateClient(ctx, db.CreateClientParams{OrganizationID: org.ID, Name: "Quiet Ltd", Kind: "business"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	staff := requests.Staff(org.ID, owner.ID, owner.Email, owner.Name)
	start := e.clock.Now()
	if _, err := e.svc.Create(ctx, staff, requests.Input{ClientID: client.ID, Title: "Payroll", DueOn: start.AddDate(0, 0, 5), Reminders: true}); err != nil {
		t.Fatal(err)
	}
	day := start.AddDate(0, 0, 6)
	if n, err := e.svc.SendReminders(ctx, org.ID, day); err != nil || n != 0 {
		t.Fatalf("no address: %d %v", n, err)
	}
	err = e.st.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, err := q.CreateClientContact(ctx, db.CreateClientContactParams{OrganizationID: org.ID, ClientID: client.ID, Name: "Sam", Email: "sam@quiet.example"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.SendReminders(ctx, org.ID, day); err != nil || n != 1 {
		t.Fatalf("with an address: %d %v", n, err)
	}
}

// TestReminderJobs runs the real job queue: the periodic sweep queues the
// organization's job, which sends the reminder.
func TestReminderJobs(t *testing.T) {
	e := newEnv(t)
	fm := e.firm()
	start := e.clock.Now()
	e.create(fm, start.AddDate(0, 0, 5))
	e.clock.Set(start.AddDate(0, 0, 6)) // a day overdue

	workers := river.NewWorkers()
	river.AddWorker(workers, &documents.ParseWorker{Docs: e.docs})
	notify.Register(workers, e.st, notify.DevMailbox{})
	sweep := requests.Register(workers, e.svc)
	q, err := queue.New(e.st.Pool, queue.Config{Workers: workers, Periodic: []*river.PeriodicJob{sweep}, Concurrency: 2,
		PollInterval: 100 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = q.Stop(5 * time.Second) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := e.st.AsPlatformTx(ctx, func(tx pgx.Tx, _ *db.Queries) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM document_request_reminders WHERE organization_id = $1 AND step = 'overdue_1'`, fm.org.ID).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweep did not send the overdue reminder within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := e.lastMail(fm.contact).Subject; !strings.HasPrefix(got, "Overdue: Bank statements for Q1") {
		t.Fatalf("last e-mail %q", got)
	}
}

func containsID(ids []uuid.UUID, id uuid.UUID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
