-- +goose Up

-- When the outbox sweep queued a delivery job for a message (or Send did,
-- in the message's own transaction). The sweep takes only messages without
-- one, so messages whose delivery is being retried (a provider outage) no
-- longer fill its batch and hold newer mail back.
ALTER TABLE outbox_emails ADD COLUMN dispatched_at timestamptz;
UPDATE outbox_emails SET dispatched_at = coalesce(sent_at, created_at) WHERE status <> 'pending';
CREATE INDEX outbox_emails_undispatched_idx ON outbox_emails (created_at, id)
    WHERE status = 'pending' AND dispatched_at IS NULL;

-- +goose Down
DROP INDEX outbox_emails_undispatched_idx;
ALTER TABLE outbox_emails DROP COLUMN dispatched_at;
