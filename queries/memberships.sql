-- name: CreateMembership :one
INSERT INTO memberships (organization_id, user_id, role, custom_role_id)
VALUES (@organization_id, @user_id, @role, @custom_role_id)
RETURNING *;

-- name: ListMembers :many
SELECT m.id, m.user_id, m.role, m.custom_role_id, m.created_at,
       u.email, u.name, u.last_login_at, u.suspended_at,
       coalesce(r.name, '')::text AS custom_role_name
FROM memberships m
JOIN users u ON u.id = m.user_id
LEFT JOIN roles r ON r.organization_id = m.organization_id AND r.id = m.custom_role_id
WHERE m.organization_id = @organization_id
ORDER BY lower(u.name), u.id;

-- name: GetMember :one
SELECT m.id, m.user_id, m.role, m.custom_role_id, m.created_at, u.email, u.name
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.organization_id = @organization_id AND m.id = @id;

-- name: GetMembershipByUser :one
SELECT * FROM memberships WHERE organization_id = @organization_id AND user_id = @user_id;

-- name: CountOwnersForUpdate :one
-- Locks the owner rows so two concurrent demotions cannot remove the last owner.
SELECT count(*) FROM (
    SELECT 1 FROM memberships WHERE organization_id = @organization_id AND role = 'owner' FOR UPDATE
) owners;

-- name: UpdateMemberRole :one
UPDATE memberships SET role = @role, custom_role_id = @custom_role_id, updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: DeleteMember :execrows
DELETE FROM memberships WHERE organization_id = @organization_id AND id = @id;

-- name: MemberExistsByEmail :one
SELECT EXISTS (
    SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
    WHERE m.organization_id = @organization_id AND u.email = lower(@email)
);
