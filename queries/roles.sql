-- name: CreateRole :one
INSERT INTO roles (organization_id, name, description, permissions)
VALUES (@organization_id, @name, @description, @permissions)
RETURNING *;

-- name: ListRoles :many
SELECT r.*,
       (SELECT count(*) FROM memberships m WHERE m.organization_id = r.organization_id AND m.custom_role_id = r.id)::int AS members
FROM roles r
WHERE r.organization_id = @organization_id
ORDER BY lower(r.name);

-- name: GetRole :one
SELECT * FROM roles WHERE organization_id = @organization_id AND id = @id;

-- name: UpdateRole :one
UPDATE roles SET name = @name, description = @description, permissions = @permissions, updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: DeleteRole :execrows
DELETE FROM roles r WHERE r.organization_id = @organization_id AND r.id = @id
AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = r.organization_id AND m.custom_role_id = r.id);

-- name: LockRole :one
-- Locks the role so no membership or invitation can start using it while
-- its deletion is decided.
SELECT * FROM roles WHERE organization_id = @organization_id AND id = @id FOR UPDATE;

-- name: RoleUsage :one
SELECT
    (SELECT count(*) FROM memberships m WHERE m.organization_id = @organization_id AND m.custom_role_id = @id::uuid)::int AS members,
    (SELECT count(*) FROM invitations i WHERE i.organization_id = @organization_id AND i.custom_role_id = @id::uuid
        AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now())::int AS invitations;

-- name: RoleNameTaken :one
-- Role names are unique regardless of case ("Reviewer" and "reviewer" would confuse).
SELECT EXISTS (
    SELECT 1 FROM roles
    WHERE organization_id = @organization_id AND lower(name) = lower(@name) AND id <> @exclude_id::uuid
);
