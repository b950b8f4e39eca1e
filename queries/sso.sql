-- SAML single sign-on (internal/sso).

-- name: GetSAMLConnection :one
SELECT * FROM saml_connections WHERE organization_id = @organization_id;

-- name: CreateSAMLConnection :exec
-- The first configuration creates the row with the SP key pair; a
-- concurrent first configuration keeps the key pair that won.
-- The id is chosen by the caller: the sealed key is bound to it.
INSERT INTO saml_connections (organization_id, id, sp_certificate, sp_private_key)
VALUES (@organization_id, @id, @sp_certificate, @sp_private_key)
ON CONFLICT (organization_id) DO NOTHING;

-- name: UpdateSAMLConnection :one
UPDATE saml_connections SET
    enabled = @enabled,
    metadata_url = @metadata_url,
    metadata_xml = @metadata_xml,
    metadata_fetched_at = @metadata_fetched_at,
    idp_entity_id = @idp_entity_id,
    idp_sso_url = @idp_sso_url,
    attr_email = @attr_email,
    attr_first_name = @attr_first_name,
    attr_last_name = @attr_last_name,
    attr_display_name = @attr_display_name,
    attr_groups = @attr_groups,
    default_role = @default_role,
    default_custom_role_id = @default_custom_role_id,
    allow_idp_initiated = @allow_idp_initiated,
    -- Turning SSO off also turns off the requirement: nobody is locked out.
    sso_required = sso_required AND @enabled,
    updated_at = now()
WHERE organization_id = @organization_id
RETURNING *;

-- name: UpdateSAMLMetadata :one
UPDATE saml_connections SET
    metadata_xml = @metadata_xml,
    metadata_fetched_at = @metadata_fetched_at,
    idp_entity_id = @idp_entity_id,
    idp_sso_url = @idp_sso_url,
    updated_at = now()
WHERE organization_id = @organization_id
RETURNING *;

-- name: SetSAMLRequired :one
UPDATE saml_connections SET sso_required = @sso_required, updated_at = now()
WHERE organization_id = @organization_id
RETURNING *;

-- name: RecordSAMLLogin :exec
UPDATE saml_connections SET last_login_at = now() WHERE organization_id = @organization_id;

-- name: ListSAMLGroupRoles :many
SELECT g.id, g.group_name, g.role, g.custom_role_id, g.created_at,
       coalesce(r.name, '')::text AS custom_role_name,
       coalesce(r.permissions, '{}')::text[] AS custom_permissions
FROM saml_group_roles g
LEFT JOIN roles r ON r.organization_id = g.organization_id AND r.id = g.custom_role_id
WHERE g.organization_id = @organization_id
ORDER BY lower(g.group_name), g.id;

-- name: CreateSAMLGroupRole :one
INSERT INTO saml_group_roles (organization_id, group_name, role, custom_role_id)
VALUES (@organization_id, @group_name, @role, @custom_role_id)
RETURNING *;

-- name: DeleteSAMLGroupRole :one
DELETE FROM saml_group_roles WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: ListSSODomains :many
SELECT d.*, coalesce(u.email, '')::text AS claimed_by_email
FROM sso_domains d
LEFT JOIN users u ON u.id = d.claimed_by
WHERE d.organization_id = @organization_id
ORDER BY d.domain;

-- name: CreateSSODomain :one
INSERT INTO sso_domains (organization_id, domain, claimed_by)
VALUES (@organization_id, @domain, @claimed_by)
RETURNING *;

-- name: VerifySSODomain :one
UPDATE sso_domains SET verified_at = now(), verification = @verification, verified_by = @verified_by
WHERE organization_id = @organization_id AND id = @id AND verified_at IS NULL
RETURNING *;

-- name: DeleteSSODomain :one
DELETE FROM sso_domains WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: CountVerifiedSSODomains :one
SELECT count(*) FROM sso_domains WHERE organization_id = @organization_id AND verified_at IS NOT NULL;

-- name: IsVerifiedSSODomain :one
SELECT EXISTS (
    SELECT 1 FROM sso_domains WHERE organization_id = @organization_id AND domain = @domain AND verified_at IS NOT NULL
);

-- name: GetSSODomainRoute :one
-- tenant: platform (routes an e-mail domain to the one organization that verified it, before anyone is signed in; verified domains only, read-only)
SELECT d.organization_id, o.slug, o.name,
       coalesce(c.enabled, false)::boolean AS enabled,
       coalesce(c.enabled AND c.sso_required, false)::boolean AS sso_required
FROM sso_domains d
JOIN organizations o ON o.id = d.organization_id
LEFT JOIN saml_connections c ON c.organization_id = d.organization_id
WHERE d.domain = @domain AND d.verified_at IS NOT NULL;

-- name: ListSSODomainsForAdmin :many
-- tenant: platform (admin console reviews every organization's domain claims; runs in platform mode)
SELECT d.organization_id, d.id, d.domain, d.verified_at, d.verification, d.created_at,
       o.slug, o.name AS org_name, coalesce(u.email, '')::text AS claimed_by_email,
       coalesce(c.enabled AND c.sso_required, false)::boolean AS sso_required
FROM sso_domains d
JOIN organizations o ON o.id = d.organization_id
LEFT JOIN users u ON u.id = d.claimed_by
LEFT JOIN saml_connections c ON c.organization_id = d.organization_id
WHERE (@status::text = '' OR (@status = 'pending' AND d.verified_at IS NULL) OR (@status = 'verified' AND d.verified_at IS NOT NULL))
ORDER BY d.verified_at IS NOT NULL, d.created_at DESC, d.id
LIMIT @max_rows OFFSET @skip;

-- name: CountSSODomainsForAdmin :one
-- tenant: platform (admin console; same filter as ListSSODomainsForAdmin; runs in platform mode)
SELECT count(*) FROM sso_domains d
WHERE (@status::text = '' OR (@status = 'pending' AND d.verified_at IS NULL) OR (@status = 'verified' AND d.verified_at IS NOT NULL));

-- name: UnverifySSODomain :one
UPDATE sso_domains SET verified_at = NULL, verification = '', verified_by = NULL
WHERE organization_id = @organization_id AND id = @id AND verified_at IS NOT NULL
RETURNING *;

-- name: GetSSODomain :one
SELECT * FROM sso_domains WHERE organization_id = @organization_id AND id = @id;

-- name: CreateSAMLRequest :exec
INSERT INTO saml_requests (organization_id, id, browser_hash, next_path, expires_at)
VALUES (@organization_id, @id, @browser_hash, @next_path, @expires_at);

-- name: ListSAMLRequests :many
SELECT id, next_path FROM saml_requests
WHERE organization_id = @organization_id AND browser_hash = @browser_hash AND expires_at > now()
ORDER BY created_at DESC
LIMIT 20;

-- name: DeleteSAMLRequest :execrows
DELETE FROM saml_requests WHERE organization_id = @organization_id AND id = @id AND browser_hash = @browser_hash;

-- name: DeleteExpiredSAMLRequests :exec
DELETE FROM saml_requests WHERE organization_id = @organization_id AND expires_at <= now();

-- name: ConsumeSAMLAssertion :execrows
-- Zero rows: the id was already used.
INSERT INTO saml_assertions (organization_id, id, expires_at)
VALUES (@organization_id, @id, @expires_at)
ON CONFLICT (organization_id, id) DO NOTHING;

-- name: DeleteExpiredSAMLAssertions :exec
DELETE FROM saml_assertions WHERE organization_id = @organization_id AND expires_at < now() - interval '1 hour';

-- name: UpsertSAMLIdentity :exec
INSERT INTO saml_identities (organization_id, user_id, name_id, name_id_format)
VALUES (@organization_id, @user_id, @name_id, @name_id_format)
ON CONFLICT (organization_id, name_id) DO UPDATE
SET user_id = excluded.user_id, name_id_format = excluded.name_id_format, last_login_at = now();

-- name: GetSAMLIdentityUser :one
SELECT user_id FROM saml_identities WHERE organization_id = @organization_id AND name_id = @name_id;

-- name: SSOEndUserSessions :exec
-- Ends every session of the user (sessions carry the version they began with).
UPDATE users SET session_version = session_version + 1, updated_at = now() WHERE id = @id;
