package queue_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"accute/internal/db"
	"accute/internal/queue"
	"accute/internal/store"
	"accute/internal/testutil"
)

// flakyArgs is a job that fails its first Fail attempts.
type flakyArgs struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	Fail           int       `json:"fail"`
}

func (flakyArgs) Kind() string                 { return "test.flaky" }
func (a flakyArgs) OrgID() uuid.UUID           { return a.OrganizationID }
func (flakyArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type flakyWorker struct {
	river.WorkerDefaults[flakyArgs]
	Store  *store.Store
	runs   atomic.Int64
	orgs   atomic.Int64 // runs that saw their organization through RLS
	broken atomic.Bool  // fail every attempt while set
}

// Work reads the organization's clients inside store.InOrg, as tenant
// jobs do, then fails while attempts are left to fail.
func (w *flakyWorker) Work(ctx context.Context, job *river.Job[flakyArgs]) error {
	w.runs.Add(1)
	err := w.Store.InOrg(ctx, job.Args.OrganizationID, func(q *db.Queries) error {
		rows, err := q.ListClients(ctx, db.ListClientsParams{OrganizationID: job.Args.OrganizationID, MaxRows: 10})
		if err == nil && len(rows) == 1 {
			w.orgs.Add(1)
		}
		return err
	})
	if err != nil {
		return err
	}
	if w.broken.Load() {
		return errors.New("the worker is broken")
	}
	if job.Attempt <= job.Args.Fail {
		return errors.New("flaky failure on attempt " + string(rune('0'+job.Attempt)))
	}
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newQueue(t *testing.T, st *store.Store, w *flakyWorker, concurrency int) *queue.Queue {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q, err := queue.New(st.Pool, queue.Config{Workers: workers, Concurrency: concurrency, PollInterval: 100 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func jobCount(t *testing.T, st *store.Store, kind string) int {
	t.Helper()
	var n int
	if err := st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = $1`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInsertTxCommitsAndRollsBackWithTheChange: a job inserted in the
// transaction of a change exists exactly when the change was committed.
func TestInsertTxCommitsAndRollsBackWithTheChange(t *testing.T) {
	st, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: st}
	org := f.Org(f.User(""), "")
	q := newQueue(t, st, &flakyWorker{Store: st}, 0)
	ctx := context.Background()

	boom := errors.New("the change failed")
	err := st.InOrgTx(ctx, org.ID, func(tx pgx.Tx, qs *db.Queries) error {
		if _, err := qs.CreateClient(ctx, db.CreateClientParams{OrganizationID: org.ID, Name: "Rolled back", Kind: "business"}); err != nil {
			return err
		}
		if _, err := q.InsertTx(ctx, tx, flakyArgs{OrganizationID: org.ID}, nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if n := jobCount(t, st, "test.flaky"); n != 0 {
		t.Fatalf("%d jobs after a rollback", n)
	}
	err = st.InOrgTx(ctx, org.ID, func(tx pgx.Tx, qs *db.Queries) error {
		_, err := q.InsertTx(ctx, tx, flakyArgs{OrganizationID: org.ID}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := jobCount(t, st, "test.flaky"); n != 1 {
		t.Fatalf("%d jobs after a commit", n)
	}
}

// TestInsertTxJoinsTheRequestTransaction: inside a request that holds the
// organization's transaction, the job is part of it.
func TestInsertTxJoinsTheRequestTransaction(t *testing.T) {
	st, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: st}
	org := f.Org(f.User(""), "")
	q := newQueue(t, st, &flakyWorker{Store: st}, 0)

	for _, commit := range []bool{false, true} {
		ctx := context.Background()
		var set string
		rt, err := st.BeginRequestTx(ctx, "SELECT set_config('app.organization_id', $1, true)", []any{org.ID.String()}, &set)
		if err != nil {
			t.Fatal(err)
		}
		rt.OrgID = org.ID
		ctx = store.WithRequestTx(ctx, rt)
		err = st.InOrgTx(ctx, org.ID, func(tx pgx.Tx, qs *db.Queries) error {
			if _, err := qs.CreateClient(ctx, db.CreateClientParams{OrganizationID: org.ID, Name: "In the request", Kind: "business"}); err != nil {
				return err
			}
			// A savepoint inside the request's transaction works and is
			// released or rolled back on its own.
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			if _, err := sp.Exec(ctx, "SELECT 1"); err != nil {
				return err
			}
			if err := sp.Rollback(ctx); err != nil {
				return err
			}
			_, err = q.InsertTx(ctx, tx, flakyArgs{OrganizationID: org.ID}, nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := store.CommitRequest(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			store.RollbackRequest(ctx)
		}
		want := 0
		if commit {
			want = 1
		}
		if n := jobCount(t, st, "test.flaky"); n != want {
			t.Fatalf("commit=%v: %d jobs, want %d", commit, n, want)
		}
	}
}

func waitState(t *testing.T, q *queue.Queue, id int64, states ...rivertype.JobState) queue.Job {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		j, err := q.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if j.State == s {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s, want %v", id, j.State, states)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRetriesWithBackoffThenDead: a failing job is retried later (not at
// once), keeps its errors, and after its last attempt is discarded (dead)
// until retried by hand. Tenant work inside the job sees its organization.
func TestRetriesWithBackoffThenDead(t *testing.T) {
	st, _ := testutil.NewStore(t)
	f := testutil.Factory{T: t, Store: st}
	org := f.Org(f.User(""), "")
	f.Client(org, "Only client")
	w := &flakyWorker{Store: st}
	q := newQueue(t, st, w, 2)
	ctx := context.Background()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = q.Stop(5 * time.Second) }()

	// Fails once, then is retried on its own after a backoff.
	res, err := q.Insert(ctx, flakyArgs{OrganizationID: org.ID, Fail: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	j := waitState(t, q, res.Job.ID, rivertype.JobStateCompleted)
	if j.Attempt != 2 || len(j.Errors) != 1 || !strings.Contains(j.Errors[0], "flaky failure on attempt 1") {
		t.Fatalf("after a failure and a retry: %+v", j)
	}
	row, err := q.Client.JobGet(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if wait := row.AttemptedAt.Sub(row.Errors[0].At); wait < 800*time.Millisecond {
		t.Fatalf("retried %s after the failure: no backoff", wait)
	}
	if w.runs.Load() != 2 || w.orgs.Load() != 2 {
		t.Fatalf("%d runs, %d of them saw their organization's rows", w.runs.Load(), w.orgs.Load())
	}

	// Out of attempts: dead, listed as such, and retried by hand once the
	// cause is fixed.
	w.broken.Store(true)
	res, err = q.Insert(ctx, flakyArgs{OrganizationID: org.ID}, &river.InsertOpts{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	j = waitState(t, q, res.Job.ID, rivertype.JobStateDiscarded)
	if j.LastError != "the worker is broken" {
		t.Fatalf("dead job's error %q", j.LastError)
	}
	page, err := q.List(ctx, rivertype.JobStateDiscarded, "", 10)
	if err != nil || len(page.Jobs) != 1 || page.Jobs[0].ID != j.ID {
		t.Fatalf("dead jobs: %+v (%v)", page.Jobs, err)
	}
	counts, err := q.Counts(ctx)
	if err != nil || counts[rivertype.JobStateDiscarded] != 1 || counts[rivertype.JobStateCompleted] != 1 {
		t.Fatalf("counts %v (%v)", counts, err)
	}
	w.broken.Store(false)
	if _, err := q.Retry(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, q, j.ID, rivertype.JobStateCompleted)

	// A job waiting for its time can be cancelled.
	res, err = q.Insert(ctx, flakyArgs{OrganizationID: org.ID}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Job.State != rivertype.JobStateScheduled {
		t.Fatalf("state %s", res.Job.State)
	}
	if _, err := q.Cancel(ctx, res.Job.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, q, res.Job.ID, rivertype.JobStateCancelled)
	if _, err := q.Retry(ctx, 987654321); !errors.Is(err, queue.ErrNoJob) {
		t.Fatalf("retry of a missing job: %v", err)
	}
}

// TestRiverRunsAsTheApplicationRole: the queue works through the app's
// pool, whose connections SET ROLE to the role that owns nothing.
func TestRiverRunsAsTheApplicationRole(t *testing.T) {
	st, _ := testutil.NewStore(t)
	var role string
	if err := st.Pool.QueryRow(context.Background(), "SELECT current_user").Scan(&role); err != nil || role != store.AppRole {
		t.Fatalf("pool role %q (%v)", role, err)
	}
	var owned int
	if err := st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE tablename LIKE 'river%' AND tableowner = current_user`).Scan(&owned); err != nil || owned != 0 {
		t.Fatalf("the app role owns %d river tables (%v)", owned, err)
	}
	// River's migrations are the owner's business.
	if _, err := st.Pool.Exec(context.Background(), `DELETE FROM river_migration`); err == nil {
		t.Fatal("the app role may change river_migration")
	}
}
