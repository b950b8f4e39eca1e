-- Queries of the platform console (/admin). Those that read tenant tables
-- across organizations run in platform mode (store.AsPlatform), which is
-- what opens row-level security to them.

-- name: GetPlatformStats :one
-- tenant: platform (console overview counts across every organization; runs in platform mode)
SELECT
    (SELECT count(*) FROM organizations)::int AS organizations,
    (SELECT count(*) FROM users)::int AS users,
    (SELECT count(*) FROM users WHERE suspended_at IS NOT NULL)::int AS suspended_users,
    (SELECT count(*) FROM outbox_emails)::int AS outbox_emails,
    (SELECT count(*) FROM audit_events WHERE created_at > now() - interval '24 hours')::int AS audit_events_24h;

-- name: CountOrganizationsForAdmin :one
-- Same filter as ListOrganizationsForAdmin.
SELECT count(*)::int FROM organizations o
WHERE (@query::text = '' OR o.slug LIKE '%' || lower(@query) || '%' OR lower(o.name) LIKE '%' || lower(@query) || '%');

-- name: ListUsersForAdmin :many
-- tenant: platform (counts each user's memberships in every organization; runs in platform mode)
SELECT u.id, u.email, u.name, u.email_verified_at, u.is_platform_admin, u.suspended_at, u.last_login_at, u.created_at,
       (SELECT count(*) FROM memberships m WHERE m.user_id = u.id)::int AS organizations,
       count(*) OVER ()::int AS total
FROM users u
WHERE (@query::text = '' OR u.email LIKE '%' || lower(@query) || '%' OR lower(u.name) LIKE '%' || lower(@query) || '%')
ORDER BY u.created_at DESC, u.id
LIMIT @max_rows OFFSET @skip;

-- name: ListMailbox :many
-- The development mailbox: the outbox, newest first, optionally filtered by
-- (part of) the recipient's address.
SELECT id, to_email, subject, status, created_at, sent_at,
       count(*) OVER ()::int AS total
FROM outbox_emails
WHERE (@to_email::text = '' OR to_email LIKE '%' || lower(@to_email) || '%')
ORDER BY created_at DESC, id
LIMIT @max_rows OFFSET @skip;

-- name: CountAllAuditEvents :one
-- tenant: platform (admin console; same filter as ListAllAuditEvents; runs in platform mode)
SELECT count(*)::int
FROM audit_events a
LEFT JOIN organizations o ON o.id = a.organization_id
WHERE (@action::text = '' OR a.action = @action)
  AND (@actor::text = '' OR a.actor_email ILIKE '%' || @actor || '%')
  AND (@org_slug::text = '' OR o.slug = @org_slug);

-- name: LockUser :one
-- Reads a user and locks the row, so concurrent suspensions of one user
-- record one audit event.
SELECT * FROM users WHERE id = @id FOR UPDATE;
