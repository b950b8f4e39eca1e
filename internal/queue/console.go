package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// The admin console's view of the queue.

// States lists the job states in the order the console shows them.
var States = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable,
	rivertype.JobStateScheduled, rivertype.JobStateDiscarded, rivertype.JobStateCancelled,
	rivertype.JobStateCompleted,
}

// ValidState reports whether s names a state the console shows.
func ValidState(s string) bool {
	for _, st := range States {
		if string(st) == s {
			return true
		}
	}
	return false
}

// Counts returns the number of jobs in each state.
func (q *Queue) Counts(ctx context.Context) (map[rivertype.JobState]int, error) {
	rows, err := q.pool.Query(ctx, `SELECT state::text, count(*)::int FROM river_job GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("job counts: %w", err)
	}
	defer rows.Close()
	out := map[rivertype.JobState]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[rivertype.JobState(s)] = n
	}
	return out, rows.Err()
}

// Job is a job as the console shows it.
type Job struct {
	ID          int64
	Kind        string
	Queue       string
	State       rivertype.JobState
	Attempt     int
	MaxAttempts int
	Args        string // JSON
	LastError   string
	Errors      []string
	CreatedAt   time.Time
	ScheduledAt time.Time
	FinalizedAt *time.Time
}

func toJob(r *rivertype.JobRow) Job {
	j := Job{
		ID: r.ID, Kind: r.Kind, Queue: r.Queue, State: r.State, Attempt: r.Attempt, MaxAttempts: r.MaxAttempts,
		Args: string(r.EncodedArgs), CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt, FinalizedAt: r.FinalizedAt,
	}
	for i := len(r.Errors) - 1; i >= 0; i-- {
		j.Errors = append(j.Errors, fmt.Sprintf("attempt %d at %s: %s", r.Errors[i].Attempt, r.Errors[i].At.UTC().Format(time.RFC3339), r.Errors[i].Error))
	}
	if len(r.Errors) > 0 {
		j.LastError = r.Errors[len(r.Errors)-1].Error
	}
	if len(j.Args) > 2000 {
		j.Args = j.Args[:2000] + "…"
	}
	return j
}

// Page is one page of a state's jobs, newest first.
type Page struct {
	Jobs []Job
	// Next is the cursor of the following page ("" at the end).
	Next string
}

// List returns up to limit jobs in state, after cursor (from a previous
// Page; "" for the first page). A cursor that does not parse starts over.
func (q *Queue) List(ctx context.Context, state rivertype.JobState, cursor string, limit int) (Page, error) {
	p := river.NewJobListParams().States(state).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(limit)
	if cursor != "" {
		var c river.JobListCursor
		if err := c.UnmarshalText([]byte(cursor)); err == nil {
			p = p.After(&c)
		}
	}
	res, err := q.Client.JobList(ctx, p)
	if err != nil {
		return Page{}, fmt.Errorf("list jobs: %w", err)
	}
	var out Page
	rows := res.Jobs
	if len(rows) == limit && res.LastCursor != nil {
		if b, err := res.LastCursor.MarshalText(); err == nil {
			out.Next = string(b)
		}
	}
	for _, r := range rows {
		out.Jobs = append(out.Jobs, toJob(r))
	}
	return out, nil
}

// ErrNoJob means no job has that id.
var ErrNoJob = errors.New("no such job")

// Get returns one job.
func (q *Queue) Get(ctx context.Context, id int64) (Job, error) {
	r, err := q.Client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Job{}, ErrNoJob
	}
	if err != nil {
		return Job{}, err
	}
	return toJob(r), nil
}

// Retry makes a job available to run again now (a dead job comes back
// with its attempts so far kept, and one more allowed).
func (q *Queue) Retry(ctx context.Context, id int64) (Job, error) {
	r, err := q.Client.JobRetry(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Job{}, ErrNoJob
	}
	if err != nil {
		return Job{}, fmt.Errorf("retry job %d: %w", id, err)
	}
	return toJob(r), nil
}

// Cancel cancels a job that has not finished; a running job is told to
// stop. Finished jobs are left as they are.
func (q *Queue) Cancel(ctx context.Context, id int64) (Job, error) {
	r, err := q.Client.JobCancel(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Job{}, ErrNoJob
	}
	if err != nil {
		return Job{}, fmt.Errorf("cancel job %d: %w", id, err)
	}
	return toJob(r), nil
}

// PrettyArgs indents a job's JSON arguments for display.
func PrettyArgs(args string) string {
	var v any
	if err := json.Unmarshal([]byte(strings.TrimSuffix(args, "…")), &v); err != nil {
		return args
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return args
	}
	return string(b)
}

// RetryTx is Retry inside tx (to audit it in the same transaction).
func (q *Queue) RetryTx(ctx context.Context, tx pgx.Tx, id int64) (Job, error) {
	r, err := q.Client.JobRetryTx(ctx, tx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Job{}, ErrNoJob
	}
	if err != nil {
		return Job{}, fmt.Errorf("retry job %d: %w", id, err)
	}
	return toJob(r), nil
}

// CancelTx is Cancel inside tx.
func (q *Queue) CancelTx(ctx context.Context, tx pgx.Tx, id int64) (Job, error) {
	r, err := q.Client.JobCancelTx(ctx, tx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Job{}, ErrNoJob
	}
	if err != nil {
		return Job{}, fmt.Errorf("cancel job %d: %w", id, err)
	}
	return toJob(r), nil
}
