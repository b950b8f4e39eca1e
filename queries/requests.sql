-- Document requests (internal/requests). Reads that the client portal
-- makes pass scoped = true with the client ids the client user is linked
-- to; staff pass scoped = false (the whole organization).

-- name: CreateDocumentRequest :one
INSERT INTO document_requests (organization_id, client_id, title, instructions, due_on, reminders, created_by)
VALUES (@organization_id, @client_id, @title, @instructions, @due_on, @reminders, @created_by)
RETURNING *;

-- name: CreateDocumentRequestItems :many
INSERT INTO document_request_items (organization_id, request_id, position, label)
SELECT @organization_id::uuid, @request_id::uuid, (p.ord - 1)::int, p.label
FROM unnest(@labels::text[]) WITH ORDINALITY AS p (label, ord)
RETURNING *;

-- name: GetDocumentRequest :one
SELECT r.*, c.name AS client_name, (c.archived_at IS NOT NULL)::boolean AS client_archived,
       coalesce(cu.name, '')::text AS created_by_name, coalesce(rv.name, '')::text AS reviewed_by_name
FROM document_requests r
JOIN clients c ON c.organization_id = r.organization_id AND c.id = r.client_id
LEFT JOIN users cu ON cu.id = r.created_by
LEFT JOIN users rv ON rv.id = r.reviewed_by
WHERE r.organization_id = @organization_id AND r.id = @id
  AND (NOT @scoped::boolean OR r.client_id = ANY (@client_ids::uuid[]));

-- name: LockDocumentRequest :one
SELECT * FROM document_requests
WHERE organization_id = @organization_id AND id = @id
  AND (NOT @scoped::boolean OR client_id = ANY (@client_ids::uuid[]))
FOR UPDATE;

-- name: ListDocumentRequestItems :many
SELECT * FROM document_request_items
WHERE organization_id = @organization_id AND request_id = @request_id
ORDER BY position;

-- name: GetDocumentRequestItem :one
SELECT * FROM document_request_items
WHERE organization_id = @organization_id AND request_id = @request_id AND id = @id;

-- name: ListDocumentRequestUploads :many
SELECT up.id, up.item_id, up.document_id, up.created_at, d.name AS document_name, d.content_type, d.size,
       d.archived_at AS document_archived_at, coalesce(u.name, '')::text AS uploaded_by_name
FROM document_request_uploads up
JOIN documents d ON d.organization_id = up.organization_id AND d.id = up.document_id
LEFT JOIN users u ON u.id = up.uploaded_by
WHERE up.organization_id = @organization_id AND up.request_id = @request_id
ORDER BY up.created_at, up.id;

-- name: CreateDocumentRequestUpload :one
INSERT INTO document_request_uploads (organization_id, request_id, item_id, document_id, uploaded_by)
VALUES (@organization_id, @request_id, sqlc.narg(item_id), @document_id, @uploaded_by)
RETURNING *;

-- name: ListDocumentRequestEvents :many
SELECT * FROM document_request_events
WHERE organization_id = @organization_id AND request_id = @request_id
ORDER BY created_at, id;

-- name: InsertDocumentRequestEvent :exec
INSERT INTO document_request_events (organization_id, request_id, kind, actor_id, actor_name, note)
VALUES (@organization_id, @request_id, @kind, @actor_id, @actor_name, @note);

-- name: SetDocumentRequestSubmitted :one
-- The client uploaded: submitted (again, after a rejection).
UPDATE document_requests SET status = 'submitted', submitted_at = now(), updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: TouchDocumentRequest :exec
UPDATE document_requests SET updated_at = now()
WHERE organization_id = @organization_id AND id = @id;

-- name: AcceptDocumentRequest :one
UPDATE document_requests SET status = 'accepted', reviewed_by = @reviewed_by, reviewed_at = now(), closed_at = now(),
    rejection_reason = '', updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: RejectDocumentRequest :one
UPDATE document_requests SET status = 'rejected', reviewed_by = @reviewed_by, reviewed_at = now(),
    rejection_reason = @rejection_reason, updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: CancelDocumentRequest :one
UPDATE document_requests SET status = 'cancelled', cancel_reason = @cancel_reason, closed_at = now(), updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: ListDocumentRequests :many
-- A page of requests in due-date order with the total; statuses empty
-- means every status; overdue keeps requests waiting for their client past
-- their due date (today is the caller's).
SELECT r.id, r.client_id, r.title, r.due_on, r.status, r.reminders, r.created_at, r.updated_at, r.submitted_at,
       c.name AS client_name,
       (SELECT count(*) FROM document_request_items i
        WHERE i.organization_id = r.organization_id AND i.request_id = r.id)::int AS items,
       (SELECT count(*) FROM document_request_uploads up
        WHERE up.organization_id = r.organization_id AND up.request_id = r.id)::int AS uploads,
       count(*) OVER ()::int AS total
FROM document_requests r
JOIN clients c ON c.organization_id = r.organization_id AND c.id = r.client_id
WHERE r.organization_id = @organization_id
  AND (cardinality(@statuses::text[]) = 0 OR r.status = ANY (@statuses::text[]))
  AND (sqlc.narg(client_id)::uuid IS NULL OR r.client_id = sqlc.narg(client_id))
  AND (NOT @overdue::boolean OR (r.status IN ('open', 'rejected') AND r.due_on < @today::date))
  AND (NOT @scoped::boolean OR r.client_id = ANY (@client_ids::uuid[]))
ORDER BY r.due_on, r.id
LIMIT @max_rows OFFSET @skip;

-- name: ListDocumentRequestsPage :many
-- Keyset pagination for the API: the requests after (after_due, after_id)
-- in (due_on, id) order; the first page passes -infinity.
SELECT r.*, c.name AS client_name,
       (SELECT count(*) FROM document_request_items i
        WHERE i.organization_id = r.organization_id AND i.request_id = r.id)::int AS items,
       (SELECT count(*) FROM document_request_uploads up
        WHERE up.organization_id = r.organization_id AND up.request_id = r.id)::int AS uploads
FROM document_requests r
JOIN clients c ON c.organization_id = r.organization_id AND c.id = r.client_id
WHERE r.organization_id = @organization_id
  AND (r.due_on, r.id) > (@after_due::date, @after_id::uuid)
  AND (cardinality(@statuses::text[]) = 0 OR r.status = ANY (@statuses::text[]))
  AND (sqlc.narg(client_id)::uuid IS NULL OR r.client_id = sqlc.narg(client_id))
  AND (NOT @overdue::boolean OR (r.status IN ('open', 'rejected') AND r.due_on < @today::date))
ORDER BY r.due_on, r.id
LIMIT @max_rows;

-- name: GetDocumentRequestClient :one
-- The client a new request is for (it must exist in the organization).
SELECT id, name, archived_at FROM clients WHERE organization_id = @organization_id AND id = @id;

-- name: ListDocumentRequestClientEmails :many
-- Where a client's request e-mails go: the client's own address, its
-- contacts' and its portal users' (client users linked to it, see
-- migrations/00085), lower-cased; the caller drops duplicates.
SELECT lower(c.email)::text AS email, c.name::text AS name
FROM clients c
WHERE c.organization_id = @organization_id AND c.id = @client_id AND c.email <> ''
UNION
SELECT lower(cc.email)::text, cc.name::text
FROM client_contacts cc
WHERE cc.organization_id = @organization_id AND cc.client_id = @client_id AND cc.email <> ''
UNION
SELECT u.email::text, u.name::text
FROM client_portal_links l
JOIN users u ON u.id = l.user_id AND u.suspended_at IS NULL
WHERE l.organization_id = @organization_id AND l.client_id = @client_id
ORDER BY 1;

-- name: ListDocumentRequestStaffEmails :many
-- Whom to tell that a client submitted: the member who made the request,
-- or the owners when that member is gone.
SELECT u.id, u.email, u.name
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.organization_id = @organization_id AND u.suspended_at IS NULL AND m.role <> 'client'
  AND (m.user_id = sqlc.narg(created_by)::uuid
       OR (m.role = 'owner' AND NOT EXISTS (
           SELECT 1 FROM memberships x
           WHERE x.organization_id = @organization_id AND x.user_id = sqlc.narg(created_by)::uuid AND x.role <> 'client')))
ORDER BY u.email;

-- Reminders ------------------------------------------------------------------

-- name: ListOrganizationsWithRemindableRequests :many
-- tenant: platform (the reminder sweep finds the organizations that have requests waiting for their client; runs in platform mode)
SELECT DISTINCT organization_id FROM document_requests
WHERE status IN ('open', 'rejected') AND reminders AND due_on BETWEEN @earliest_due::date AND @latest_due::date;

-- name: ListRemindableDocumentRequests :many
-- Requests waiting for their (active) client with reminders on and a due
-- date between earliest_due and latest_due, with the reminder steps
-- already sent.
SELECT r.id, r.client_id, r.title, r.due_on, r.status, r.created_at, c.name AS client_name,
       coalesce((SELECT array_agg(m.step ORDER BY m.step) FROM document_request_reminders m
                 WHERE m.organization_id = r.organization_id AND m.request_id = r.id), '{}')::text[] AS sent_steps
FROM document_requests r
JOIN clients c ON c.organization_id = r.organization_id AND c.id = r.client_id AND c.archived_at IS NULL
WHERE r.organization_id = @organization_id AND r.status IN ('open', 'rejected') AND r.reminders
  AND r.due_on BETWEEN @earliest_due::date AND @latest_due::date
ORDER BY r.due_on, r.id;

-- name: RecordDocumentRequestReminder :one
-- No row when this step was already sent (by another run or instance).
INSERT INTO document_request_reminders (organization_id, request_id, step, recipients)
VALUES (@organization_id, @request_id, @step, @recipients)
ON CONFLICT (organization_id, request_id, step) DO NOTHING
RETURNING id;

-- name: ListDocumentRequestReminders :many
SELECT * FROM document_request_reminders
WHERE organization_id = @organization_id AND request_id = @request_id
ORDER BY sent_at, step;
