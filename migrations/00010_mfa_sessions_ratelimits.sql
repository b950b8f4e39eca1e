-- +goose Up

-- Two-factor authentication (TOTP). One row per user; confirmed_at is NULL
-- while an enrolment waits for its first code. The secret is sealed by the
-- key ring (internal/crypto) with associated data
-- "user_mfa.totp_secret:<user id>", so it is useless without
-- ENCRYPTION_KEY and cannot be moved to another user's row.
CREATE TABLE user_mfa (
    user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    totp_secret    text NOT NULL,
    confirmed_at   timestamptz,
    -- The newest TOTP time step accepted: codes are single use.
    last_used_step bigint NOT NULL DEFAULT 0,
    -- Part of every "remember this device" cookie's signature: a new
    -- enrolment (a new row) or a reset revokes every remembered device.
    remember_id    uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Single-use backup codes; only SHA-256(user id, code) is stored.
CREATE TABLE mfa_backup_codes (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, code_hash)
);

-- Organization policy: members must have two-factor authentication.
ALTER TABLE organizations ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

-- Sessions and devices: the scs session row itself carries who it belongs
-- to and where it was used from (written with the session data, in the same
-- statement; see internal/auth/sessions.go), so destroying a session removes
-- its device entry with it. id names a session in URLs: the token never
-- leaves the cookie.
ALTER TABLE sessions
    ADD COLUMN id              uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN user_id         uuid REFERENCES users (id) ON DELETE CASCADE,
    ADD COLUMN session_version integer,
    ADD COLUMN user_agent      text NOT NULL DEFAULT '',
    ADD COLUMN ip              text NOT NULL DEFAULT '',
    ADD COLUMN created_at      timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_seen_at    timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX sessions_id_key ON sessions (id);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE user_id IS NOT NULL;

-- Rate limits shared by every instance (internal/ratelimit): a fixed window
-- per key, counted with one atomic upsert.
CREATE TABLE rate_limits (
    key          text PRIMARY KEY,
    count        integer NOT NULL,
    window_start timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX rate_limits_expiry_idx ON rate_limits (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON user_mfa, mfa_backup_codes, rate_limits TO accute_app;

-- app_enter as in 00002, plus what the MFA policy needs on every
-- organization page without another round trip: whether the user has
-- two-factor authentication ("mfa") and whether the organization requires
-- it ("require_mfa"). Whoever redefines app_enter later must keep them.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION app_enter(p_user uuid, p_slug text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_org uuid;
    v_out text;
BEGIN
    PERFORM set_config('app.user_id', p_user::text, true);
    IF p_slug <> '' THEN
        SELECT m.organization_id INTO v_org
        FROM organizations o JOIN memberships m ON m.organization_id = o.id AND m.user_id = p_user
        WHERE o.slug = p_slug;
    END IF;
    PERFORM set_config('app.organization_id', coalesce(v_org::text, ''), true);
    SELECT json_build_object(
        'user', json_build_object('id', u.id, 'email', u.email, 'name', u.name,
            'is_platform_admin', u.is_platform_admin, 'suspended_at', u.suspended_at,
            'session_version', u.session_version, 'email_verified_at', u.email_verified_at,
            'mfa', EXISTS (SELECT 1 FROM user_mfa f WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL)),
        'org', CASE WHEN m.id IS NOT NULL THEN json_build_object('id', o.id, 'slug', o.slug, 'name', o.name, 'role', '',
            'require_mfa', o.require_mfa) END,
        'membership', CASE WHEN m.id IS NOT NULL THEN json_build_object('id', m.id, 'role', m.role,
            'custom_role_id', m.custom_role_id, 'custom_role_name', coalesce(r.name, ''),
            'permissions', coalesce(r.permissions, '{}')) END,
        'orgs', (SELECT coalesce(json_agg(json_build_object('id', o2.id, 'slug', o2.slug, 'name', o2.name, 'role', m2.role)
                    ORDER BY lower(o2.name), o2.id), '[]')
                 FROM memberships m2 JOIN organizations o2 ON o2.id = m2.organization_id
                 WHERE m2.user_id = p_user)
    )::text INTO v_out
    FROM users u
    LEFT JOIN memberships m ON m.organization_id = v_org AND m.user_id = u.id
    LEFT JOIN organizations o ON o.id = m.organization_id
    LEFT JOIN roles r ON r.organization_id = m.organization_id AND r.id = m.custom_role_id
    WHERE u.id = p_user;
    RETURN v_out;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION app_enter(p_user uuid, p_slug text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_org uuid;
    v_out text;
BEGIN
    PERFORM set_config('app.user_id', p_user::text, true);
    IF p_slug <> '' THEN
        SELECT m.organization_id INTO v_org
        FROM organizations o JOIN memberships m ON m.organization_id = o.id AND m.user_id = p_user
        WHERE o.slug = p_slug;
    END IF;
    PERFORM set_config('app.organization_id', coalesce(v_org::text, ''), true);
    SELECT json_build_object(
        'user', json_build_object('id', u.id, 'email', u.email, 'name', u.name,
            'is_platform_admin', u.is_platform_admin, 'suspended_at', u.suspended_at,
            'session_version', u.session_version, 'email_verified_at', u.email_verified_at),
        'org', CASE WHEN m.id IS NOT NULL THEN json_build_object('id', o.id, 'slug', o.slug, 'name', o.name, 'role', '') END,
        'membership', CASE WHEN m.id IS NOT NULL THEN json_build_object('id', m.id, 'role', m.role,
            'custom_role_id', m.custom_role_id, 'custom_role_name', coalesce(r.name, ''),
            'permissions', coalesce(r.permissions, '{}')) END,
        'orgs', (SELECT coalesce(json_agg(json_build_object('id', o2.id, 'slug', o2.slug, 'name', o2.name, 'role', m2.role)
                    ORDER BY lower(o2.name), o2.id), '[]')
                 FROM memberships m2 JOIN organizations o2 ON o2.id = m2.organization_id
                 WHERE m2.user_id = p_user)
    )::text INTO v_out
    FROM users u
    LEFT JOIN memberships m ON m.organization_id = v_org AND m.user_id = u.id
    LEFT JOIN organizations o ON o.id = m.organization_id
    LEFT JOIN roles r ON r.organization_id = m.organization_id AND r.id = m.custom_role_id
    WHERE u.id = p_user;
    RETURN v_out;
END
$$;
-- +goose StatementEnd
DROP TABLE rate_limits, mfa_backup_codes, user_mfa;
DROP INDEX sessions_user_idx, sessions_id_key;
ALTER TABLE sessions DROP COLUMN id, DROP COLUMN user_id, DROP COLUMN session_version, DROP COLUMN user_agent,
    DROP COLUMN ip, DROP COLUMN created_at, DROP COLUMN last_seen_at;
ALTER TABLE organizations DROP COLUMN require_mfa;
