-- Delivery of the e-mail outbox by the job queue (internal/notify).

-- name: ClaimUndispatchedOutboxEmails :many
-- The oldest pending messages that have no delivery job yet, marked as
-- having one (the caller queues the jobs in the same transaction).
UPDATE outbox_emails SET dispatched_at = now()
WHERE id IN (
    SELECT id FROM outbox_emails
    WHERE status = 'pending' AND dispatched_at IS NULL
    ORDER BY created_at, id
    LIMIT @max_rows
    FOR UPDATE SKIP LOCKED
)
RETURNING id;

-- name: MarkOutboxEmailDispatched :exec
UPDATE outbox_emails SET dispatched_at = now() WHERE id = @id;

-- name: LockOutboxEmail :one
SELECT * FROM outbox_emails WHERE id = @id FOR UPDATE;

-- name: MarkOutboxEmailSent :exec
UPDATE outbox_emails SET status = 'sent', sent_at = now() WHERE id = @id AND status = 'pending';

-- name: MarkOutboxEmailFailed :exec
UPDATE outbox_emails SET status = 'failed' WHERE id = @id AND status = 'pending';
