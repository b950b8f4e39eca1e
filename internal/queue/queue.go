// Package queue is the durable job queue: River on PostgreSQL. Jobs are
// inserted in the transaction of the change that causes them (InsertTx
// with the store's transaction), so a job exists exactly when its cause
// was committed; they are retried with exponential backoff, and jobs that
// ran out of attempts stay "discarded" (dead) until an administrator
// retries or cancels them from the console.
//
// River's tables are global (not tenant tables): a job for an
// organization carries the organization's id in its arguments, and its
// worker does the organization's work inside store.InOrg for that id (see
// TenantArgs), so row-level security applies to jobs as to requests.
//
// `accute serve` works jobs in-process (JOB_WORKERS > 0); `accute worker`
// only works jobs. Any number of either may run against one database:
// River hands each job to one of them, and one elected leader schedules
// periodic jobs and maintenance.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Queues. Documents get their own, smaller queue: text extraction is heavy
// and must not hold up e-mail. Agent runs get theirs: a person watches the
// answer being written, so a run never waits behind a batch of e-mail or
// parsing.
const (
	QueueDefault   = river.QueueDefault
	QueueDocuments = "documents"
	QueueAgents    = "agents"
)

// Inserter inserts jobs in a transaction; *river.Client[pgx.Tx] (and so
// *Queue) is one. Services that cause jobs depend on this, not on Queue.
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// TenantArgs are the arguments of a job that works for one organization.
type TenantArgs interface {
	river.JobArgs
	OrgID() uuid.UUID
}

// Config configures a Queue.
type Config struct {
	// Workers are the job kinds this process knows (every process must know
	// every kind it inserts).
	Workers *river.Workers
	// Periodic are jobs the leader inserts on a schedule.
	Periodic []*river.PeriodicJob
	// Concurrency is how many jobs this process works at once; 0 makes an
	// insert-only queue (the process inserts jobs, others work them).
	Concurrency int
	Logger      *slog.Logger
	// PollInterval is how often workers look for jobs when no notification
	// arrives (River's default, 1s, when zero).
	PollInterval time.Duration
}

// Queue is the job queue of one process.
type Queue struct {
	*river.Client[pgx.Tx]
	pool    *pgxpool.Pool
	working bool
}

// MaxAttempts is how often a job runs before it is discarded (dead). With
// River's backoff (attempt^4 seconds, with jitter) the last of 10 attempts
// runs about 4 hours after the first (1 + 16 + 81 + ... + 6561 seconds).
const MaxAttempts = 10

// New builds the queue on pool (connected as the application role).
func New(pool *pgxpool.Pool, cfg Config) (*Queue, error) {
	if cfg.Workers == nil {
		cfg.Workers = river.NewWorkers()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	rc := &river.Config{
		Workers:      cfg.Workers,
		Logger:       cfg.Logger,
		MaxAttempts:  MaxAttempts,
		PeriodicJobs: cfg.Periodic,
		// The reindexer needs to own River's indexes; the application role
		// owns nothing (see store.AppRole), and River's indexes stay small
		// because finished jobs are deleted after a day.
		ReindexerSchedule:           river.NeverSchedule(),
		CompletedJobRetentionPeriod: 24 * time.Hour,
		CancelledJobRetentionPeriod: 7 * 24 * time.Hour,
		// Dead jobs stay for a month: the console lists them for retry.
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
		JobTimeout:                  10 * time.Minute,
		FetchPollInterval:           cfg.PollInterval,
	}
	if cfg.Concurrency > 0 {
		docs := max(1, cfg.Concurrency/4)
		rc.Queues = map[string]river.QueueConfig{
			QueueDefault:   {MaxWorkers: cfg.Concurrency},
			QueueDocuments: {MaxWorkers: docs},
			// Runs mostly wait on the network (the model), not the CPU.
			QueueAgents: {MaxWorkers: cfg.Concurrency},
		}
	}
	c, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{Client: c, pool: pool, working: cfg.Concurrency > 0}, nil
}

// Working reports whether this process works jobs.
func (q *Queue) Working() bool { return q.working }

// Start starts working jobs (a no-op for an insert-only queue).
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		return nil
	}
	if err := q.Client.Start(ctx); err != nil {
		return fmt.Errorf("job queue: start: %w", err)
	}
	return nil
}

// Stop lets running jobs finish for up to grace, then cancels them (they
// run again later: River rescues jobs of a process that went away).
func (q *Queue) Stop(grace time.Duration) error {
	if !q.working {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := q.Client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = q.Client.StopAndCancel(hard)
	}
	return err
}
