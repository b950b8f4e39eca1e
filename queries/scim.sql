-- Tokens ---------------------------------------------------------------

-- name: CreateScimToken :one
INSERT INTO scim_tokens (organization_id, name, token_hash, hint, created_by)
VALUES (@organization_id, @name, @token_hash, @hint, @created_by)
RETURNING *;

-- name: ListScimTokens :many
SELECT t.id, t.name, t.hint, t.created_at, t.last_used_at, t.revoked_at,
       coalesce(u.name, '')::text AS created_by_name
FROM scim_tokens t
LEFT JOIN users u ON u.id = t.created_by
WHERE t.organization_id = @organization_id
ORDER BY (t.revoked_at IS NULL) DESC, t.created_at DESC, t.id
LIMIT 200;

-- name: RevokeScimToken :one
UPDATE scim_tokens SET revoked_at = now()
WHERE organization_id = @organization_id AND id = @id AND revoked_at IS NULL
RETURNING *;

-- name: UseScimToken :one
-- Finds a live token and records its use, in one statement.
UPDATE scim_tokens SET last_used_at = now()
WHERE organization_id = @organization_id AND token_hash = @token_hash AND revoked_at IS NULL
RETURNING id, name;

-- name: GetScimTokenByHash :one
SELECT * FROM scim_tokens WHERE organization_id = @organization_id AND token_hash = @token_hash;

-- Role mappings --------------------------------------------------------

-- name: CreateScimRoleMapping :one
INSERT INTO scim_role_mappings (organization_id, group_name, role, custom_role_id)
VALUES (@organization_id, @group_name, @role, @custom_role_id)
RETURNING *;

-- name: ListScimRoleMappings :many
SELECT m.id, m.group_name, m.role, m.custom_role_id, m.created_at,
       coalesce(r.name, '')::text AS custom_role_name,
       coalesce(r.permissions, '{}')::text[] AS custom_permissions
FROM scim_role_mappings m
LEFT JOIN roles r ON r.organization_id = m.organization_id AND r.id = m.custom_role_id
WHERE m.organization_id = @organization_id
ORDER BY lower(m.group_name);

-- name: DeleteScimRoleMapping :one
DELETE FROM scim_role_mappings WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: MappedRolesForScimUser :many
-- The roles the user's groups map to.
SELECT g.display_name, rm.role, rm.custom_role_id
FROM scim_group_members gm
JOIN scim_groups g ON g.organization_id = gm.organization_id AND g.id = gm.group_id
JOIN scim_role_mappings rm ON rm.organization_id = g.organization_id AND lower(rm.group_name) = lower(g.display_name)
WHERE gm.organization_id = @organization_id AND gm.scim_user_id = @scim_user_id
ORDER BY lower(g.display_name);

-- name: ScimUsersInGroupsNamed :many
-- Provisioned users in the groups called name (for re-applying a mapping).
SELECT DISTINCT gm.scim_user_id
FROM scim_group_members gm
JOIN scim_groups g ON g.organization_id = gm.organization_id AND g.id = gm.group_id
WHERE gm.organization_id = @organization_id AND lower(g.display_name) = lower(@group_name);

-- Users ----------------------------------------------------------------

-- name: CreateScimUser :one
INSERT INTO scim_users (organization_id, user_id, user_name, external_id, given_name, family_name,
                        display_name, email, active, created_user)
VALUES (@organization_id, @user_id, @user_name, @external_id, @given_name, @family_name,
        @display_name, @email, @active, @created_user)
RETURNING *;

-- name: GetScimUser :one
SELECT * FROM scim_users WHERE organization_id = @organization_id AND id = @id;

-- name: LockScimUser :one
SELECT * FROM scim_users WHERE organization_id = @organization_id AND id = @id FOR UPDATE;

-- name: GetScimUserByUserID :one
SELECT * FROM scim_users WHERE organization_id = @organization_id AND user_id = @user_id;

-- name: ListScimUsers :many
SELECT * FROM scim_users
WHERE organization_id = @organization_id
  AND (@user_name::text = '' OR lower(user_name) = lower(@user_name))
  AND (@external_id::text = '' OR external_id = @external_id)
  AND (@email::text = '' OR lower(email) = lower(@email))
ORDER BY created_at, id
LIMIT @max_rows OFFSET @skip;

-- name: CountScimUsers :one
SELECT count(*) FROM scim_users
WHERE organization_id = @organization_id
  AND (@user_name::text = '' OR lower(user_name) = lower(@user_name))
  AND (@external_id::text = '' OR external_id = @external_id)
  AND (@email::text = '' OR lower(email) = lower(@email));

-- name: UpdateScimUser :one
UPDATE scim_users SET user_name = @user_name, external_id = @external_id, given_name = @given_name,
    family_name = @family_name, display_name = @display_name, email = @email, active = @active,
    updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: SetScimUserRoleManaged :exec
UPDATE scim_users SET role_managed = @role_managed
WHERE organization_id = @organization_id AND id = @id;

-- name: DeleteScimUser :execrows
DELETE FROM scim_users WHERE organization_id = @organization_id AND id = @id;

-- name: ListGroupsOfScimUsers :many
SELECT gm.scim_user_id, g.id, g.display_name
FROM scim_group_members gm
JOIN scim_groups g ON g.organization_id = gm.organization_id AND g.id = gm.group_id
WHERE gm.organization_id = @organization_id AND gm.scim_user_id = ANY(@scim_user_ids::uuid[])
ORDER BY lower(g.display_name), g.id;

-- name: CountExistingScimUsers :one
SELECT count(*) FROM scim_users
WHERE organization_id = @organization_id AND id = ANY(@ids::uuid[]);

-- name: ScimSummary :one
SELECT
    (SELECT count(*) FROM scim_users u WHERE u.organization_id = @organization_id AND u.active)::int AS active_users,
    (SELECT count(*) FROM scim_users u WHERE u.organization_id = @organization_id AND NOT u.active)::int AS inactive_users,
    (SELECT count(*) FROM scim_groups g WHERE g.organization_id = @organization_id)::int AS groups;

-- Groups ---------------------------------------------------------------

-- name: CreateScimGroup :one
INSERT INTO scim_groups (organization_id, display_name, external_id)
VALUES (@organization_id, @display_name, @external_id)
RETURNING *;

-- name: GetScimGroup :one
SELECT * FROM scim_groups WHERE organization_id = @organization_id AND id = @id;

-- name: LockScimGroup :one
SELECT * FROM scim_groups WHERE organization_id = @organization_id AND id = @id FOR UPDATE;

-- name: ListScimGroups :many
SELECT * FROM scim_groups
WHERE organization_id = @organization_id
  AND (@display_name::text = '' OR lower(display_name) = lower(@display_name))
  AND (@external_id::text = '' OR external_id = @external_id)
ORDER BY lower(display_name), id
LIMIT @max_rows OFFSET @skip;

-- name: CountScimGroups :one
SELECT count(*) FROM scim_groups
WHERE organization_id = @organization_id
  AND (@display_name::text = '' OR lower(display_name) = lower(@display_name))
  AND (@external_id::text = '' OR external_id = @external_id);

-- name: ListScimGroupNames :many
SELECT display_name FROM scim_groups WHERE organization_id = @organization_id
ORDER BY lower(display_name) LIMIT 500;

-- name: UpdateScimGroup :one
UPDATE scim_groups SET display_name = @display_name, external_id = @external_id, updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: DeleteScimGroup :execrows
DELETE FROM scim_groups WHERE organization_id = @organization_id AND id = @id;

-- name: ListMembersOfScimGroups :many
SELECT gm.group_id, u.id, u.user_name, u.display_name
FROM scim_group_members gm
JOIN scim_users u ON u.organization_id = gm.organization_id AND u.id = gm.scim_user_id
WHERE gm.organization_id = @organization_id AND gm.group_id = ANY(@group_ids::uuid[])
ORDER BY lower(u.user_name), u.id;

-- name: AddScimGroupMember :execrows
INSERT INTO scim_group_members (organization_id, group_id, scim_user_id)
VALUES (@organization_id, @group_id, @scim_user_id)
ON CONFLICT (organization_id, group_id, scim_user_id) DO NOTHING;

-- name: RemoveScimGroupMember :execrows
DELETE FROM scim_group_members
WHERE organization_id = @organization_id AND group_id = @group_id AND scim_user_id = @scim_user_id;

-- name: ClearScimGroupMembers :many
DELETE FROM scim_group_members
WHERE organization_id = @organization_id AND group_id = @group_id
RETURNING scim_user_id;
