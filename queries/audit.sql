-- name: InsertAuditEvent :exec
INSERT INTO audit_events (organization_id, actor_user_id, actor_email, action, target_type, target_id, summary, ip, user_agent, request_id)
VALUES (@organization_id, @actor_user_id, @actor_email, @action, @target_type, @target_id, @summary, @ip, @user_agent, @request_id);

-- name: ListAuditEvents :many
SELECT * FROM audit_events
WHERE organization_id = @organization_id
  AND (@action::text = '' OR action = @action)
  AND (@actor::text = '' OR actor_email ILIKE '%' || @actor || '%')
  AND (sqlc.narg('since')::timestamptz IS NULL OR created_at >= sqlc.narg('since'))
ORDER BY created_at DESC, id
LIMIT @max_rows OFFSET @skip;

-- name: ListAllAuditEvents :many
-- tenant: platform (admin console; runs in platform mode)
SELECT a.*, coalesce(o.slug, '')::text AS organization_slug
FROM audit_events a
LEFT JOIN organizations o ON o.id = a.organization_id
WHERE (@action::text = '' OR a.action = @action)
  AND (@actor::text = '' OR a.actor_email ILIKE '%' || @actor || '%')
  AND (@org_slug::text = '' OR o.slug = @org_slug)
ORDER BY a.created_at DESC, a.id
LIMIT @max_rows OFFSET @skip;

-- name: ListAuditEventsPage :many
-- Keyset pagination for the API: events before (before_time, before_id),
-- newest first.
SELECT * FROM audit_events
WHERE organization_id = @organization_id
  AND (created_at, id) < (@before_time::timestamptz, @before_id::uuid)
  AND (@action::text = '' OR action = @action)
  AND (@actor::text = '' OR actor_email ILIKE '%' || @actor || '%')
  AND (sqlc.narg('since')::timestamptz IS NULL OR created_at >= sqlc.narg('since'))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;
