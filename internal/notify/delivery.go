package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"accute/internal/db"
	"accute/internal/queue"
	"accute/internal/store"
)

// Delivery of the outbox through the job queue.
//
// Every outbox row gets a notify.deliver_email job, which hands the message
// to the configured Provider and marks the row sent. Rows written with
// Send get their job in the same transaction; rows written with Enqueue
// (which has no transaction to put a job in) are picked up by
// notify.dispatch_outbox, a periodic job that runs every DispatchInterval.
// Jobs are unique per e-mail, so a row never has two live jobs. A message
// that fails every attempt is marked failed and its job stays dead in the
// console, where retrying it sends it again.

// Message is one e-mail as a provider sends it.
type Message struct {
	ID      uuid.UUID // the outbox row: providers may use it as an idempotency key
	To      string
	Subject string
	Text    string
	HTML    string
}

// Provider delivers e-mail.
type Provider interface {
	Name() string
	Send(ctx context.Context, m Message) error
}

// ErrPermanent marks a delivery failure that retrying cannot fix (an
// address the provider refuses): the message is marked failed at once.
var ErrPermanent = errors.New("permanent delivery failure")

// DevMailbox is the provider used until a real one is configured: it
// delivers nothing anywhere; the message stays readable in the admin
// console's development mailbox, marked sent.
type DevMailbox struct{}

// Name implements Provider.
func (DevMailbox) Name() string { return "development mailbox" }

// Send implements Provider.
func (DevMailbox) Send(context.Context, Message) error { return nil }

// DispatchInterval is how often the outbox is swept for rows without a
// job.
const DispatchInterval = 5 * time.Second

// DeliverArgs is the job that delivers one outbox e-mail.
type DeliverArgs struct {
	EmailID uuid.UUID `json:"email_id"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "notify.deliver_email" }

// InsertOpts makes the job unique per e-mail while it is pending, running
// or done.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Send writes e to the outbox and queues its delivery, both in tx.
func Send(ctx context.Context, tx pgx.Tx, jobs queue.Inserter, e Email) (uuid.UUID, error) {
	id, err := db.New(tx).EnqueueEmail(ctx, db.EnqueueEmailParams{ToEmail: e.To, Subject: e.Subject, TextBody: e.Text, HtmlBody: e.HTML})
	if err != nil {
		return uuid.Nil, fmt.Errorf("enqueue e-mail: %w", err)
	}
	if _, err := jobs.InsertTx(ctx, tx, DeliverArgs{EmailID: id}, nil); err != nil {
		return uuid.Nil, fmt.Errorf("queue e-mail delivery: %w", err)
	}
	if err := db.New(tx).MarkOutboxEmailDispatched(ctx, id); err != nil {
		return uuid.Nil, fmt.Errorf("queue e-mail delivery: %w", err)
	}
	return id, nil
}

// DeliverWorker works DeliverArgs.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	Store    *store.Store
	Provider Provider
}

// Timeout bounds one delivery attempt.
func (w *DeliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return time.Minute }

// Work sends the message unless it was already sent. The row stays locked
// while the provider is called, so two deliveries of one message never
// overlap; the outbox is global (not a tenant table), so no organization
// context is needed.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	var sendErr error
	err := w.Store.InTx(ctx, func(q *db.Queries) error {
		m, err := q.LockOutboxEmail(ctx, job.Args.EmailID)
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			return nil // deleted meanwhile: nothing to send
		}
		if err != nil {
			return err
		}
		if m.Status == "sent" {
			return nil
		}
		sendErr = w.Provider.Send(ctx, Message{ID: m.ID, To: m.ToEmail, Subject: m.Subject, Text: m.TextBody, HTML: m.HtmlBody})
		if sendErr == nil {
			return q.MarkOutboxEmailSent(ctx, m.ID)
		}
		if errors.Is(sendErr, ErrPermanent) || job.Attempt >= job.MaxAttempts {
			return q.MarkOutboxEmailFailed(ctx, m.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deliver e-mail %s: %w", job.Args.EmailID, err)
	}
	if errors.Is(sendErr, ErrPermanent) {
		return river.JobCancel(fmt.Errorf("%s: %w", w.Provider.Name(), sendErr))
	}
	if sendErr != nil {
		return fmt.Errorf("%s: %w", w.Provider.Name(), sendErr)
	}
	return nil
}

// DispatchArgs is the periodic sweep of the outbox.
type DispatchArgs struct{}

// Kind implements river.JobArgs.
func (DispatchArgs) Kind() string { return "notify.dispatch_outbox" }

// InsertOpts keeps at most one sweep waiting at a time.
func (DispatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}

// DispatchWorker queues a delivery for every outbox row that has none
// (rows written by Enqueue, in the transaction of their change).
type DispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	Store *store.Store
}

// dispatchBatch bounds one sweep; the next one takes the rest.
const dispatchBatch = 500

// Work inserts the deliveries in the same transaction that read the rows.
func (w *DispatchWorker) Work(ctx context.Context, _ *river.Job[DispatchArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	return w.Store.InTxRaw(ctx, func(tx pgx.Tx, q *db.Queries) error {
		ids, err := q.ClaimUndispatchedOutboxEmails(ctx, dispatchBatch)
		if err != nil || len(ids) == 0 {
			return err
		}
		params := make([]river.InsertManyParams, len(ids))
		for i, id := range ids {
			params[i] = river.InsertManyParams{Args: DeliverArgs{EmailID: id}}
		}
		_, err = client.InsertManyTx(ctx, tx, params)
		return err
	})
}

// Register adds the outbox's workers to workers and returns its periodic
// job.
func Register(workers *river.Workers, st *store.Store, p Provider) *river.PeriodicJob {
	river.AddWorker(workers, &DeliverWorker{Store: st, Provider: p})
	river.AddWorker(workers, &DispatchWorker{Store: st})
	return river.NewPeriodicJob(river.PeriodicInterval(DispatchInterval), func() (river.JobArgs, *river.InsertOpts) {
		return DispatchArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "notify.dispatch_outbox", RunOnStart: true})
}
