-- name: EnqueueEmail :one
INSERT INTO outbox_emails (to_email, subject, text_body, html_body)
VALUES (@to_email, @subject, @text_body, @html_body)
RETURNING id;

-- name: ListOutboxEmails :many
SELECT * FROM outbox_emails
WHERE (@to_email::text = '' OR to_email = lower(@to_email))
ORDER BY created_at DESC, id
LIMIT @max_rows;

-- name: GetOutboxEmail :one
SELECT * FROM outbox_emails WHERE id = @id;
