-- name: CreateOrganization :one
INSERT INTO organizations (slug, name) VALUES (@slug, @name) RETURNING *;

-- name: GetOrganizationBySlug :one
SELECT * FROM organizations WHERE slug = @slug;

-- name: RenameOrganization :one
UPDATE organizations SET name = @name, updated_at = now() WHERE id = @organization_id RETURNING *;

-- name: ListOrganizationsForAdmin :many
-- tenant: platform (admin console lists every organization; runs in platform mode)
SELECT o.*,
       (SELECT count(*) FROM memberships m WHERE m.organization_id = o.id)::int AS members,
       (SELECT count(*) FROM clients c WHERE c.organization_id = o.id)::int AS clients
FROM organizations o
WHERE (@query::text = '' OR o.slug LIKE '%' || lower(@query) || '%' OR lower(o.name) LIKE '%' || lower(@query) || '%')
ORDER BY o.created_at DESC, o.id
LIMIT @max_rows OFFSET @skip;

-- name: EnterOrganization :exec
-- Sets the tenant context inside the current transaction, right after the
-- organization was created in it.
SELECT set_config('app.organization_id', (@organization_id::uuid)::text, true);

-- name: GetDashboardStats :one
SELECT
    (SELECT count(*) FROM clients c WHERE c.organization_id = @organization_id AND c.archived_at IS NULL)::int AS active_clients,
    (SELECT count(*) FROM clients c WHERE c.organization_id = @organization_id AND c.created_at > now() - interval '30 days')::int AS new_clients,
    (SELECT count(*) FROM memberships m WHERE m.organization_id = @organization_id)::int AS members,
    (SELECT count(*) FROM invitations i WHERE i.organization_id = @organization_id AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now())::int AS pending_invitations;

-- name: ListRecentClients :many
SELECT id, name, kind, updated_at FROM clients
WHERE organization_id = @organization_id AND archived_at IS NULL
ORDER BY updated_at DESC, id
LIMIT 6;

-- name: GetOrganizationName :one
-- An organization's name and slug, for the e-mails that name it and link
-- into it.
SELECT id, slug, name FROM organizations WHERE id = @organization_id;
