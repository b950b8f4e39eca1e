-- name: CreateInvitation :one
INSERT INTO invitations (organization_id, email, role, custom_role_id, token_hash, invited_by, expires_at)
VALUES (@organization_id, lower(@email), @role, @custom_role_id, @token_hash, @invited_by, @expires_at)
RETURNING *;

-- name: ListPendingInvitations :many
SELECT i.*, coalesce(u.name, '')::text AS invited_by_name
FROM invitations i
LEFT JOIN users u ON u.id = i.invited_by
WHERE i.organization_id = @organization_id AND i.accepted_at IS NULL AND i.revoked_at IS NULL
ORDER BY i.created_at DESC;

-- name: GetInvitationByToken :one
SELECT i.*, o.name AS organization_name, o.slug AS organization_slug
FROM invitations i
JOIN organizations o ON o.id = i.organization_id
WHERE i.organization_id = @organization_id AND i.token_hash = @token_hash;

-- name: AcceptInvitation :execrows
UPDATE invitations SET accepted_at = now()
WHERE organization_id = @organization_id AND id = @id AND accepted_at IS NULL AND revoked_at IS NULL;

-- name: RevokeInvitation :execrows
UPDATE invitations SET revoked_at = now()
WHERE organization_id = @organization_id AND id = @id AND accepted_at IS NULL AND revoked_at IS NULL;

-- name: GetInvitation :one
SELECT * FROM invitations WHERE organization_id = @organization_id AND id = @id;

-- name: RevokeExpiredInvitation :exec
-- An expired invitation must not block inviting the same address again.
UPDATE invitations SET revoked_at = now()
WHERE organization_id = @organization_id AND email = lower(@email)
  AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at <= now();

-- name: DeleteSettledInvitationsForRole :exec
-- Accepted, revoked and expired invitations are history (the audit trail
-- keeps it); they must not keep a custom role from being deleted.
DELETE FROM invitations
WHERE organization_id = @organization_id AND custom_role_id = @custom_role_id
  AND (accepted_at IS NOT NULL OR revoked_at IS NOT NULL OR expires_at <= now());
