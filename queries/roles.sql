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
