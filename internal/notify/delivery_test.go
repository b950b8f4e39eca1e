package notify_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"accute/internal/db"
	"accute/internal/notify"
	"accute/internal/queue"
	"accute/internal/store"
	"accute/internal/testutil"
)

// recorder is a provider that records what it sends, failing while told to.
type recorder struct {
	mu   sync.Mutex
	sent []notify.Message
	fail error
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Send(_ context.Context, m notify.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.sent = append(r.sent, m)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

func start(t *testing.T, st *store.Store, p notify.Provider) *queue.Queue {
	t.Helper()
	workers := river.NewWorkers()
	periodic := notify.Register(workers, st, p)
	q, err := queue.New(st.Pool, queue.Config{Workers: workers, Periodic: []*river.PeriodicJob{periodic}, Concurrency: 2,
		PollInterval: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(5 * time.Second) })
	return q
}

func status(t *testing.T, st *store.Store, id uuid.UUID) string {
	t.Helper()
	m, err := st.Q().GetOutboxEmail(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Status
}

func waitStatus(t *testing.T, st *store.Store, id uuid.UUID, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for status(t, st, id) != want {
		if time.Now().After(deadline) {
			t.Fatalf("e-mail %s is %s, want %s", id, status(t, st, id), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOutboxIsDeliveredThroughTheQueue: e-mails written with Enqueue (no
// transaction to put a job in) are swept up by the periodic dispatch; ones
// written with Send carry their job; each is sent once and marked sent.
func TestOutboxIsDeliveredThroughTheQueue(t *testing.T) {
	st, _ := testutil.NewStore(t)
	ctx := context.Background()
	var swept uuid.UUID
	err := st.InTx(ctx, func(q *db.Queries) error {
		if err := notify.Enqueue(ctx, q, notify.Email{To: "a@example.test", Subject: "Swept", Text: "hello"}); err != nil {
			return err
		}
		mails, err := q.ListOutboxEmails(ctx, db.ListOutboxEmailsParams{ToEmail: "a@example.test", MaxRows: 1})
		if err == nil {
			swept = mails[0].ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	q := start(t, st, rec)
	waitStatus(t, st, swept, "sent")

	var direct uuid.UUID
	err = st.InTxRaw(ctx, func(tx pgx.Tx, _ *db.Queries) error {
		var err error
		direct, err = notify.Send(ctx, tx, q, notify.Email{To: "b@example.test", Subject: "Direct", Text: "hi"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, st, direct, "sent")
	// Let another sweep run: nothing is sent twice.
	time.Sleep(notify.DispatchInterval + time.Second)
	if rec.count() != 2 {
		t.Fatalf("%d messages sent, want 2", rec.count())
	}
	m, _ := st.Q().GetOutboxEmail(ctx, direct)
	if m.SentAt == nil {
		t.Fatal("sent_at not set")
	}

	// Send in a transaction that rolls back: no e-mail, no job.
	boom := errors.New("rolled back")
	err = st.InTxRaw(ctx, func(tx pgx.Tx, _ *db.Queries) error {
		if _, err := notify.Send(ctx, tx, q, notify.Email{To: "c@example.test", Subject: "Never", Text: "x"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if mails, _ := st.Q().ListOutboxEmails(ctx, db.ListOutboxEmailsParams{ToEmail: "c@example.test", MaxRows: 5}); len(mails) != 0 {
		t.Fatal("an e-mail of a rolled-back transaction exists")
	}
	var jobs int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'notify.deliver_email'`).Scan(&jobs); err != nil || jobs != 2 {
		t.Fatalf("%d delivery jobs (%v), want 2", jobs, err)
	}
}

// TestPermanentFailureMarksTheEmailFailed: a provider's permanent refusal
// fails the message at once; its job is cancelled, not retried.
func TestPermanentFailureMarksTheEmailFailed(t *testing.T) {
	st, _ := testutil.NewStore(t)
	ctx := context.Background()
	rec := &recorder{fail: errors.Join(notify.ErrPermanent, errors.New("mailbox does not exist"))}
	q := start(t, st, rec)
	var id uuid.UUID
	var jobID int64
	err := st.InTxRaw(ctx, func(tx pgx.Tx, _ *db.Queries) error {
		var err error
		id, err = notify.Send(ctx, tx, q, notify.Email{To: "nobody@example.test", Subject: "Bounce", Text: "x"})
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT max(id) FROM river_job WHERE kind = 'notify.deliver_email'`).Scan(&jobID)
	})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, st, id, "failed")
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := q.Get(ctx, jobID)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == rivertype.JobStateCancelled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job state %s, want cancelled", j.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSweepSkipsMessagesThatHaveAJob: messages whose delivery is being
// retried (a provider outage) stay pending, but the sweep does not take
// them again, so however many are stuck, newer messages get their jobs.
func TestSweepSkipsMessagesThatHaveAJob(t *testing.T) {
	st, _ := testutil.NewStore(t)
	ctx := context.Background()
	q := st.Q()
	for i := range 3 {
		if err := notify.Enqueue(ctx, q, notify.Email{To: "a@example.test", Subject: "n" + string(rune('0'+i)), Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := q.ClaimUndispatchedOutboxEmails(ctx, 2)
	if err != nil || len(first) != 2 {
		t.Fatalf("first sweep: %v %v", first, err)
	}
	second, err := q.ClaimUndispatchedOutboxEmails(ctx, 2)
	if err != nil || len(second) != 1 || second[0] == first[0] || second[0] == first[1] {
		t.Fatalf("second sweep took %v (first %v): %v", second, first, err)
	}
	if status(t, st, first[0]) != "pending" {
		t.Fatal("claiming changed the status")
	}
	if err := notify.Enqueue(ctx, q, notify.Email{To: "a@example.test", Subject: "new", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	third, err := q.ClaimUndispatchedOutboxEmails(ctx, 2)
	if err != nil || len(third) != 1 {
		t.Fatalf("the new message was not taken: %v %v", third, err)
	}
	// Send queues its own job: the sweep leaves the message alone.
	workers := river.NewWorkers()
	notify.Register(workers, st, &recorder{})
	jobs, err := queue.New(st.Pool, queue.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InTxRaw(ctx, func(tx pgx.Tx, _ *db.Queries) error {
		_, err := notify.Send(ctx, tx, jobs, notify.Email{To: "b@example.test", Subject: "direct", Text: "x"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if rest, err := q.ClaimUndispatchedOutboxEmails(ctx, 10); err != nil || len(rest) != 0 {
		t.Fatalf("the sweep took a message Send queued: %v %v", rest, err)
	}
}
