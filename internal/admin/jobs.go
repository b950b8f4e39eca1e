package admin

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/queue"
)

// RetryJob makes a job run again now and records it in the audit trail,
// in one transaction.
func (s *Service) RetryJob(ctx context.Context, jobs *queue.Queue, actor Actor, id int64) (queue.Job, error) {
	return s.jobAction(ctx, actor, id, audit.AdminJobRetried, jobs.RetryTx)
}

// CancelJob cancels a job that has not finished, and records it.
func (s *Service) CancelJob(ctx context.Context, jobs *queue.Queue, actor Actor, id int64) (queue.Job, error) {
	return s.jobAction(ctx, actor, id, audit.AdminJobCancelled, jobs.CancelTx)
}

func (s *Service) jobAction(ctx context.Context, actor Actor, id int64, action string, do func(context.Context, pgx.Tx, int64) (queue.Job, error)) (queue.Job, error) {
	var j queue.Job
	err := s.Store.InTxRaw(ctx, func(tx pgx.Tx, q *db.Queries) error {
		var err error
		if j, err = do(ctx, tx, id); err != nil {
			return err
		}
		// organization_id stays NULL: a platform event.
		return audit.Record(ctx, q, audit.Event{ActorID: &actor.ID, ActorEmail: actor.Email, Action: action,
			TargetType: "job", TargetID: strconv.FormatInt(j.ID, 10), Summary: j.Kind})
	})
	return j, err
}
