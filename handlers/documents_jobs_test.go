package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/notify"
	"accute/internal/queue"
	"accute/internal/testutil"
)

// TestDocumentsVirusScan uploads through a clamd speaking the real
// protocol: the EICAR test file is refused and nothing is stored; clean
// files go through; an unreachable scanner refuses (fails closed).
func TestDocumentsVirusScan(t *testing.T) {
	clamd := testutil.NewFakeClamd(t, 10<<20)
	app := newTestAppWith(t, map[string]string{"CLAMAV_ADDR": clamd.Addr()})
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/documents"

	infected := []byte("Dear client,\n" + testutil.EICAR + "\n")
	msg := uploadError(t, postFiles(c, base, nil, "", true, upload{"letter.txt", infected}), http.StatusUnprocessableEntity)
	if !strings.Contains(msg, "contains malware (Eicar-Test-Signature)") {
		t.Fatalf("refusal %q", msg)
	}
	if got := <-clamd.Streams; !bytes.Equal(got, infected) {
		t.Fatalf("clamd saw %q", got)
	}
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM documents`); n != 0 {
		t.Fatalf("%d documents after an infected upload", n)
	}
	if files := storedFiles(t, app); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM audit_events WHERE action = $1 AND summary LIKE '%Eicar-Test-Signature%'`, audit.DocumentRefused); n != 1 {
		t.Fatalf("%d refusal audit events", n)
	}

	clean := bytes.Repeat([]byte("ledger line\n"), 20000) // 240 kB, many chunks to clamd
	doc := uploadedDocument(t, postFiles(c, base, nil, "", true, upload{"ledger.txt", clean}))
	if got := <-clamd.Streams; !bytes.Equal(got, clean) {
		t.Fatalf("clamd saw %d bytes, want %d", len(got), len(clean))
	}
	if r := c.Get(doc.URL + "/download"); r.Body != string(clean) {
		t.Fatal("clean file not stored whole")
	}

	clamd.Drop.Store(true)
	msg = uploadError(t, postFiles(c, base, nil, "", true, upload{"x.txt", []byte("hello")}), http.StatusUnprocessableEntity)
	if !strings.Contains(msg, "could not be checked for viruses") {
		t.Fatalf("scanner failure: %q", msg)
	}
	if n := countRows(t, app, org.ID, `SELECT count(*) FROM documents`); n != 1 {
		t.Fatalf("%d documents", n)
	}
}

// deadArgs is a job that fails until fixed.
type deadArgs struct {
	Note string `json:"note"`
}

func (deadArgs) Kind() string { return "test.dead" }

type deadWorker struct {
	river.WorkerDefaults[deadArgs]
	fixed bool
}

func (w *deadWorker) Work(context.Context, *river.Job[deadArgs]) error {
	if !w.fixed {
		return errors.New("the remote service refused: 503")
	}
	return nil
}

// TestAdminJobsPage: a dead job is listed under Dead with its error, a
// platform administrator retries it (audited), and it runs again.
func TestAdminJobsPage(t *testing.T) {
	app := newTestApp(t)
	adminC, adm := app.platformAdmin()
	w := &deadWorker{}
	extra := func(ws *river.Workers) { river.AddWorker(ws, w) }

	// An inserting client that knows the test's job kind.
	ins, err := queue.New(app.Store.Pool, queue.Config{Workers: testWorkers(app.Store, app.Docs, extra)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ins.Insert(context.Background(), deadArgs{Note: "first"}, &river.InsertOpts{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	scheduled, err := ins.Insert(context.Background(), deadArgs{Note: "later"}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	app.workJobs(extra, false)
	if j, _ := app.Jobs.Get(context.Background(), res.Job.ID); j.State != rivertype.JobStateDiscarded {
		t.Fatalf("job state %s, want discarded", j.State)
	}

	page := adminC.Get("/admin/jobs")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("jobs page: %d", page.StatusCode)
	}
	if page.Attr("[data-testid=job-tab-discarded]", "aria-current") != "page" {
		t.Fatal("the page does not open on the dead jobs")
	}
	if got := page.Text("[data-testid=job-tab-discarded] .jobs-count"); got != "1" {
		t.Fatalf("dead count %q", got)
	}
	row := page.Find("[data-testid=job-row]")
	if row.Length() != 1 || !strings.Contains(row.Find("[data-testid=job-kind]").Text(), "test.dead") ||
		!strings.Contains(row.Find("[data-testid=job-error]").Text(), "the remote service refused: 503") {
		t.Fatalf("dead job row: %q", row.Text())
	}
	if !strings.Contains(row.Find("[data-testid=job-args]").Text(), `"note": "first"`) {
		t.Fatalf("arguments: %q", row.Find("[data-testid=job-args]").Text())
	}
	if row.Find("[data-testid=job-retry]").Length() != 1 || row.Find("[data-testid=job-cancel]").Length() != 0 {
		t.Fatal("a dead job offers retry, not cancel")
	}
	back := page.Attr("[data-testid=job-row] input[name=back]", "value")

	// Retry: back to the list, audited, and it runs again.
	w.fixed = true
	r := adminC.PostForm("/admin/jobs/"+itoa64(res.Job.ID)+"/retry", url.Values{"back": {back}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != back {
		t.Fatalf("retry: %d %q", r.StatusCode, r.Location())
	}
	if got := adminC.Follow(r).Text("[data-testid=flash]"); !strings.Contains(got, "will run again now") {
		t.Fatalf("flash %q", got)
	}
	var n int
	err = app.Store.AsPlatformTx(context.Background(), func(tx pgx.Tx, _ *db.Queries) error {
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = $1 AND actor_user_id = $2 AND target_id = $3 AND organization_id IS NULL`,
			audit.AdminJobRetried, adm.ID, itoa64(res.Job.ID)).Scan(&n)
	})
	if err != nil || n != 1 {
		t.Fatalf("retry audit events: %d (%v)", n, err)
	}
	app.workJobs(extra, false)
	if j, _ := app.Jobs.Get(context.Background(), res.Job.ID); j.State != rivertype.JobStateCompleted {
		t.Fatalf("after retry: %s", j.State)
	}

	// Cancel a scheduled job; an open redirect in "back" is ignored.
	sched := adminC.Get("/admin/jobs?state=scheduled")
	if sched.Count("[data-testid=job-cancel]") != 1 {
		t.Fatal("a scheduled job offers no cancel")
	}
	r = adminC.PostForm("/admin/jobs/"+itoa64(scheduled.Job.ID)+"/cancel", url.Values{"back": {"https://evil.example/"}})
	if r.StatusCode != http.StatusSeeOther || r.Location() != "/admin/jobs" {
		t.Fatalf("cancel: %d %q", r.StatusCode, r.Location())
	}
	if j, _ := app.Jobs.Get(context.Background(), scheduled.Job.ID); j.State != rivertype.JobStateCancelled {
		t.Fatalf("after cancel: %s", j.State)
	}
	if r := adminC.PostForm("/admin/jobs/99999999/retry", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("missing job: %d", r.StatusCode)
	}
	if r := adminC.PostForm("/admin/jobs/abc/retry", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("bad id: %d", r.StatusCode)
	}
	// Only platform administrators.
	member, _, _ := app.owner()
	if r := member.Get("/admin/jobs"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("member: %d", r.StatusCode)
	}
}

// TestOutboxDeliveredByJobs: e-mails the application sends (here a
// password reset) are delivered by the queue through the development
// mailbox, and show as sent in the console.
func TestOutboxDeliveredByJobs(t *testing.T) {
	app := newTestApp(t)
	_, u, _ := app.owner()
	app.client().PostForm("/forgot-password", url.Values{"email": {u.Email}})
	mail := app.lastEmail(u.Email)
	if mail.Status != "pending" {
		t.Fatalf("status before delivery %q", mail.Status)
	}
	// The periodic sweep (run here once, by hand) queues its delivery.
	if _, err := app.Jobs.Insert(context.Background(), notify.DispatchArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	app.workJobs(nil, false)
	if got := app.lastEmail(u.Email); got.Status != "sent" || got.SentAt == nil {
		t.Fatalf("after delivery: %q %v", got.Status, got.SentAt)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
