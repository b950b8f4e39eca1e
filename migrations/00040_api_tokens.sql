-- +goose Up

-- Personal access tokens for the JSON API. A token belongs to one member of
-- one organization and carries a role no higher than the member's (checked
-- when it is created; at each use its permissions are also cut down to the
-- member's current ones). The token text is
-- "acc_pat_" || base64url(organization id (16 bytes) || 24 random bytes):
-- the organization id lets the lookup run inside that organization's
-- row-level-security context, like invitation tokens. Only its SHA-256 is
-- stored.
CREATE TABLE api_tokens (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash      bytea NOT NULL UNIQUE,
    -- The token's last characters, so people can recognise it in a list.
    token_hint      text NOT NULL,
    role            text NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'staff', 'client', 'custom')),
    custom_role_id  uuid,
    expires_at      timestamptz,
    -- Updated at most once a minute (see app_enter_pat).
    last_used_at    timestamptz,
    revoked_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    -- Deleting a custom role deletes the tokens that carry it.
    FOREIGN KEY (organization_id, custom_role_id) REFERENCES roles (organization_id, id) ON DELETE CASCADE,
    CHECK ((role = 'custom') = (custom_role_id IS NOT NULL))
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at DESC);

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
-- Like memberships: a user also sees their own tokens in every organization
-- (the account's token page).
CREATE POLICY tenant ON api_tokens
    USING (app_org_visible(organization_id) OR user_id = app_current_user())
    WITH CHECK (app_org_visible(organization_id) OR user_id = app_current_user());

-- Refresh tokens of the JWT flow: opaque, stored hashed, single use. Each
-- use rotates the token within its family; presenting a token that was
-- already rotated revokes the whole family (reuse detection). They belong to
-- a user, not to an organization.
CREATE TABLE api_refresh_tokens (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id       uuid NOT NULL,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash      bytea NOT NULL UNIQUE,
    -- users.session_version at sign-in: a password reset or a suspension
    -- ends the family.
    session_version integer NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    revoked_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_refresh_tokens_family_idx ON api_refresh_tokens (family_id);
CREATE INDEX api_refresh_tokens_user_idx ON api_refresh_tokens (user_id);

-- API rate limits use the shared rate_limits table (00010) with keys
-- "api:...": instances count locally and add their counts there in batches
-- (see internal/auth/api_ratelimit.go), so a request costs no write.

GRANT SELECT, INSERT, UPDATE, DELETE ON api_tokens, api_refresh_tokens TO accute_app;

-- app_enter_pat authenticates a personal access token and, when it is valid
-- and (with p_slug) names its own organization, enters that organization
-- (app.organization_id and app.user_id set for the transaction): one
-- statement, sent pipelined with BEGIN, so an API request costs three round
-- trips (this, the handler's query, COMMIT). status is 'ok', 'invalid'
-- (unknown token, or its member left), 'revoked', 'expired', or 'wrong_org'
-- (a valid token used on another organization's URL: answered 404, like a
-- missing organization). Only 'ok' leaves a tenant context set.
--
-- It returns the principal as columns rather than app_enter's JSON: one
-- join instead of app_enter's several queries and JSON building, which
-- halves the database's work on the API's hot path. The columns are
-- app_enter's fields for the token's organization (including 00010's
-- mfa and require_mfa); keep them in step when app_enter changes.
-- +goose StatementBegin
CREATE FUNCTION app_enter_pat(p_org uuid, p_hash bytea, p_slug text,
    OUT status text, OUT token_id uuid, OUT token_name text, OUT token_role text, OUT token_perms text[],
    OUT expires_at timestamptz, OUT user_id uuid, OUT user_email text, OUT user_name text,
    OUT user_platform_admin boolean, OUT user_suspended_at timestamptz, OUT user_session_version integer,
    OUT user_email_verified_at timestamptz, OUT user_mfa boolean, OUT org_slug text, OUT org_name text,
    OUT org_require_mfa boolean, OUT member_id uuid, OUT member_role text, OUT member_custom_role_id uuid,
    OUT member_custom_role_name text, OUT member_perms text[])
LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    PERFORM set_config('app.organization_id', p_org::text, true);
    SELECT a.id, a.name, a.role, a.user_id, a.expires_at, a.revoked_at, a.last_used_at, tr.permissions AS token_perms,
           u.email, u.name AS user_name, u.is_platform_admin, u.suspended_at, u.session_version, u.email_verified_at,
           EXISTS (SELECT 1 FROM user_mfa f WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL) AS mfa,
           o.slug, o.name AS org_name, o.require_mfa,
           m.id AS member_id, m.role AS member_role, m.custom_role_id AS member_custom_role_id,
           mr.name AS member_custom_role_name, mr.permissions AS member_perms
    INTO t
    FROM api_tokens a
    JOIN users u ON u.id = a.user_id
    JOIN organizations o ON o.id = a.organization_id
    LEFT JOIN roles tr ON tr.organization_id = a.organization_id AND tr.id = a.custom_role_id
    LEFT JOIN memberships m ON m.organization_id = a.organization_id AND m.user_id = a.user_id
    LEFT JOIN roles mr ON mr.organization_id = m.organization_id AND mr.id = m.custom_role_id
    WHERE a.organization_id = p_org AND a.token_hash = p_hash;
    IF NOT FOUND THEN
        status := 'invalid';
        PERFORM set_config('app.organization_id', '', true);
        RETURN;
    END IF;
    token_id := t.id; token_name := t.name; token_role := t.role; user_id := t.user_id; expires_at := t.expires_at;
    IF t.revoked_at IS NOT NULL THEN
        status := 'revoked';
    ELSIF t.expires_at IS NOT NULL AND t.expires_at <= now() THEN
        status := 'expired';
    ELSIF t.member_id IS NULL THEN
        status := 'invalid';
    ELSIF p_slug <> '' AND p_slug IS DISTINCT FROM t.slug THEN
        status := 'wrong_org';
    END IF;
    -- At most one write a minute per token: concurrent requests that raced
    -- past the first test re-check the condition after the winner commits.
    IF (status IS NULL OR status = 'wrong_org') AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') THEN
        UPDATE api_tokens a SET last_used_at = now()
        WHERE a.organization_id = p_org AND a.id = t.id
          AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '1 minute');
    END IF;
    IF status IS NOT NULL THEN
        PERFORM set_config('app.organization_id', '', true);
        RETURN;
    END IF;
    status := 'ok';
    token_perms := t.token_perms;
    user_email := t.email; user_name := t.user_name; user_platform_admin := t.is_platform_admin;
    user_suspended_at := t.suspended_at; user_session_version := t.session_version;
    user_email_verified_at := t.email_verified_at; user_mfa := t.mfa;
    org_slug := t.slug; org_name := t.org_name; org_require_mfa := t.require_mfa;
    member_id := t.member_id; member_role := t.member_role; member_custom_role_id := t.member_custom_role_id;
    member_custom_role_name := coalesce(t.member_custom_role_name, ''); member_perms := coalesce(t.member_perms, '{}');
    PERFORM set_config('app.user_id', t.user_id::text, true);
    IF p_slug = '' THEN
        -- No organization route: no tenant context.
        PERFORM set_config('app.organization_id', '', true);
    END IF;
END
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION app_enter_pat(uuid, bytea, text) TO accute_app;

-- +goose Down
DROP FUNCTION app_enter_pat(uuid, bytea, text);
DROP TABLE api_refresh_tokens, api_tokens;
