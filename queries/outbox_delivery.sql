-- Delivery of the e-mail outbox by the job queue (internal/notify).

-- name: ListPendingOutboxEmailIDs :many
SELECT id FROM outbox_emails
WHERE status = 'pending'
ORDER BY created_at, id
LIMIT @max_rows;

-- name: LockOutboxEmail :one
SELECT * FROM outbox_emails WHERE id = @id FOR UPDATE;

-- name: MarkOutboxEmailSent :exec
UPDATE outbox_emails SET status = 'sent', sent_at = now() WHERE id = @id AND status = 'pending';

-- name: MarkOutboxEmailFailed :exec
UPDATE outbox_emails SET status = 'failed' WHERE id = @id AND status = 'pending';
