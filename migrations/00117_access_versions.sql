-- +goose Up

-- Access versions: a number on each organization and each user that moves
-- whenever anything a personal access token's principal is made of changes
-- (app_enter_pat reads it all): the token itself, the organization's name,
-- slug and MFA policy, the user's account, two-factor state and
-- memberships, and custom roles. Triggers move them in the transaction that
-- makes the change, so the change and the new version commit together.
--
-- An instance that has checked a token keeps its principal for a short
-- while (internal/auth/pat_cache.go) and, on a later read request, opens the
-- tenant context with app_enter_known in the same round trip as the
-- request's query: it compares the two versions and fails the transaction
-- before that query runs when either has moved. A revoked token, a changed
-- role or a suspended user is therefore refused on the very next request,
-- on every instance, as before.
ALTER TABLE organizations ADD COLUMN access_version bigint NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN access_version bigint NOT NULL DEFAULT 1;

-- +goose StatementBegin
CREATE FUNCTION access_version_bump_self() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.access_version := OLD.access_version + 1;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER organizations_access_version BEFORE UPDATE OF slug, name, require_mfa ON organizations
    FOR EACH ROW WHEN ((OLD.slug, OLD.name, OLD.require_mfa) IS DISTINCT FROM (NEW.slug, NEW.name, NEW.require_mfa))
    EXECUTE FUNCTION access_version_bump_self();
CREATE TRIGGER users_access_version BEFORE UPDATE ON users
    FOR EACH ROW WHEN ((OLD.email, OLD.name, OLD.is_platform_admin, OLD.suspended_at, OLD.session_version, OLD.email_verified_at)
        IS DISTINCT FROM (NEW.email, NEW.name, NEW.is_platform_admin, NEW.suspended_at, NEW.session_version, NEW.email_verified_at))
    EXECUTE FUNCTION access_version_bump_self();

-- A change to a row of an organization (memberships, roles, api_tokens)
-- moves the organization's version; to a user's two-factor row, the user's.
-- +goose StatementBegin
CREATE FUNCTION access_version_bump_org() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        UPDATE organizations SET access_version = access_version + 1 WHERE id = NEW.organization_id;
    END IF;
    IF TG_OP <> 'INSERT' AND (TG_OP = 'DELETE' OR OLD.organization_id <> NEW.organization_id) THEN
        UPDATE organizations SET access_version = access_version + 1 WHERE id = OLD.organization_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION access_version_bump_user() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        UPDATE users SET access_version = access_version + 1 WHERE id = NEW.user_id;
    END IF;
    IF TG_OP <> 'INSERT' AND (TG_OP = 'DELETE' OR OLD.user_id <> NEW.user_id) THEN
        UPDATE users SET access_version = access_version + 1 WHERE id = OLD.user_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER memberships_access_version AFTER INSERT OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION access_version_bump_org();
CREATE TRIGGER memberships_access_version_changed AFTER UPDATE ON memberships
    FOR EACH ROW WHEN ((OLD.organization_id, OLD.user_id, OLD.role, OLD.custom_role_id)
        IS DISTINCT FROM (NEW.organization_id, NEW.user_id, NEW.role, NEW.custom_role_id))
    EXECUTE FUNCTION access_version_bump_org();
CREATE TRIGGER roles_access_version AFTER DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION access_version_bump_org();
CREATE TRIGGER roles_access_version_changed AFTER UPDATE ON roles
    FOR EACH ROW WHEN ((OLD.organization_id, OLD.name, OLD.permissions) IS DISTINCT FROM (NEW.organization_id, NEW.name, NEW.permissions))
    EXECUTE FUNCTION access_version_bump_org();
-- Not last_used_at, which app_enter_pat itself writes once a minute.
CREATE TRIGGER api_tokens_access_version AFTER DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION access_version_bump_org();
CREATE TRIGGER api_tokens_access_version_changed AFTER UPDATE ON api_tokens
    FOR EACH ROW WHEN ((OLD.organization_id, OLD.user_id, OLD.name, OLD.token_hash, OLD.role, OLD.custom_role_id, OLD.expires_at, OLD.revoked_at)
        IS DISTINCT FROM (NEW.organization_id, NEW.user_id, NEW.name, NEW.token_hash, NEW.role, NEW.custom_role_id, NEW.expires_at, NEW.revoked_at))
    EXECUTE FUNCTION access_version_bump_org();
CREATE TRIGGER user_mfa_access_version AFTER INSERT OR DELETE ON user_mfa
    FOR EACH ROW EXECUTE FUNCTION access_version_bump_user();
CREATE TRIGGER user_mfa_access_version_changed AFTER UPDATE ON user_mfa
    FOR EACH ROW WHEN ((OLD.user_id, OLD.confirmed_at) IS DISTINCT FROM (NEW.user_id, NEW.confirmed_at))
    EXECUTE FUNCTION access_version_bump_user();

-- app_enter_pat as in 00115, also returning the two versions it read.
DROP FUNCTION app_enter_pat(uuid, bytea, text);
-- +goose StatementBegin
CREATE FUNCTION app_enter_pat(p_org uuid, p_hash bytea, p_slug text,
    OUT status text, OUT token_id uuid, OUT token_name text, OUT token_role text, OUT token_perms text[],
    OUT expires_at timestamptz, OUT user_id uuid, OUT user_email text, OUT user_name text,
    OUT user_platform_admin boolean, OUT user_suspended_at timestamptz, OUT user_session_version integer,
    OUT user_email_verified_at timestamptz, OUT user_mfa boolean, OUT org_slug text, OUT org_name text,
    OUT org_require_mfa boolean, OUT member_id uuid, OUT member_role text, OUT member_custom_role_id uuid,
    OUT member_custom_role_name text, OUT member_perms text[],
    OUT org_access_version bigint, OUT user_access_version bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_revoked timestamptz;
    v_last_used timestamptz;
    v_set text;
BEGIN
    v_set := set_config('app.organization_id', p_org::text, true);
    SELECT a.id, a.name, a.role, tr.permissions, a.expires_at, a.user_id, u.email, u.name, u.is_platform_admin,
           u.suspended_at, u.session_version, u.email_verified_at,
           EXISTS (SELECT 1 FROM user_mfa f WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL),
           o.slug, o.name, o.require_mfa, m.id, m.role, m.custom_role_id, coalesce(mr.name, ''),
           coalesce(mr.permissions, '{}'), a.revoked_at, a.last_used_at, o.access_version, u.access_version
    INTO token_id, token_name, token_role, token_perms, expires_at, user_id, user_email, user_name, user_platform_admin,
         user_suspended_at, user_session_version, user_email_verified_at, user_mfa, org_slug, org_name, org_require_mfa,
         member_id, member_role, member_custom_role_id, member_custom_role_name, member_perms, v_revoked, v_last_used,
         org_access_version, user_access_version
    FROM api_tokens a
    JOIN users u ON u.id = a.user_id
    JOIN organizations o ON o.id = a.organization_id
    LEFT JOIN roles tr ON tr.organization_id = a.organization_id AND tr.id = a.custom_role_id
    LEFT JOIN memberships m ON m.organization_id = a.organization_id AND m.user_id = a.user_id
    LEFT JOIN roles mr ON mr.organization_id = m.organization_id AND mr.id = m.custom_role_id
    WHERE a.organization_id = p_org AND a.token_hash = p_hash;
    IF token_id IS NULL THEN
        status := 'invalid';
    ELSIF v_revoked IS NOT NULL THEN
        status := 'revoked';
    ELSIF expires_at IS NOT NULL AND expires_at <= now() THEN
        status := 'expired';
    ELSIF member_id IS NULL THEN
        status := 'invalid';
    ELSIF p_slug <> '' AND p_slug IS DISTINCT FROM org_slug THEN
        status := 'wrong_org';
    ELSE
        status := 'ok';
    END IF;
    -- At most one write a minute per token: concurrent requests that raced
    -- past this test re-check the condition after the winner commits.
    IF status IN ('ok', 'wrong_org') AND (v_last_used IS NULL OR v_last_used < now() - interval '1 minute') THEN
        UPDATE api_tokens a SET last_used_at = now()
        WHERE a.organization_id = p_org AND a.id = token_id
          AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '1 minute');
    END IF;
    -- Only a valid token on its own organization's route (or on a route
    -- outside organizations, with no tenant context) keeps a context.
    v_set := set_config('app.organization_id', CASE WHEN status = 'ok' AND p_slug <> '' THEN p_org::text ELSE '' END, true);
    v_set := set_config('app.user_id', CASE WHEN status = 'ok' THEN user_id::text ELSE '' END, true);
END
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION app_enter_pat(uuid, bytea, text) TO accute_app;

-- app_enter_known opens the tenant context of a principal checked earlier
-- (by app_enter_pat) when nothing it was made of has changed since: both
-- access versions are still the ones read then. Otherwise it fails with
-- SQLSTATE AV001, which ends the transaction before any later statement in
-- the same round trip runs (the caller then checks the token again).
-- +goose StatementBegin
CREATE FUNCTION app_enter_known(p_org uuid, p_user uuid, p_org_version bigint, p_user_version bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_set text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM organizations o, users u
                   WHERE o.id = p_org AND u.id = p_user AND o.access_version = p_org_version AND u.access_version = p_user_version) THEN
        RAISE EXCEPTION 'the credential''s access changed; check it again' USING ERRCODE = 'AV001';
    END IF;
    v_set := set_config('app.organization_id', p_org::text, true);
    v_set := set_config('app.user_id', p_user::text, true);
END
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION app_enter_known(uuid, uuid, bigint, bigint) TO accute_app;

-- +goose Down
DROP FUNCTION app_enter_known(uuid, uuid, bigint, bigint);
DROP FUNCTION app_enter_pat(uuid, bytea, text);
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
    v_revoked timestamptz;
    v_last_used timestamptz;
    v_set text;
BEGIN
    v_set := set_config('app.organization_id', p_org::text, true);
    SELECT a.id, a.name, a.role, tr.permissions, a.expires_at, a.user_id, u.email, u.name, u.is_platform_admin,
           u.suspended_at, u.session_version, u.email_verified_at,
           EXISTS (SELECT 1 FROM user_mfa f WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL),
           o.slug, o.name, o.require_mfa, m.id, m.role, m.custom_role_id, coalesce(mr.name, ''),
           coalesce(mr.permissions, '{}'), a.revoked_at, a.last_used_at
    INTO token_id, token_name, token_role, token_perms, expires_at, user_id, user_email, user_name, user_platform_admin,
         user_suspended_at, user_session_version, user_email_verified_at, user_mfa, org_slug, org_name, org_require_mfa,
         member_id, member_role, member_custom_role_id, member_custom_role_name, member_perms, v_revoked, v_last_used
    FROM api_tokens a
    JOIN users u ON u.id = a.user_id
    JOIN organizations o ON o.id = a.organization_id
    LEFT JOIN roles tr ON tr.organization_id = a.organization_id AND tr.id = a.custom_role_id
    LEFT JOIN memberships m ON m.organization_id = a.organization_id AND m.user_id = a.user_id
    LEFT JOIN roles mr ON mr.organization_id = m.organization_id AND mr.id = m.custom_role_id
    WHERE a.organization_id = p_org AND a.token_hash = p_hash;
    IF token_id IS NULL THEN
        status := 'invalid';
    ELSIF v_revoked IS NOT NULL THEN
        status := 'revoked';
    ELSIF expires_at IS NOT NULL AND expires_at <= now() THEN
        status := 'expired';
    ELSIF member_id IS NULL THEN
        status := 'invalid';
    ELSIF p_slug <> '' AND p_slug IS DISTINCT FROM org_slug THEN
        status := 'wrong_org';
    ELSE
        status := 'ok';
    END IF;
    -- At most one write a minute per token: concurrent requests that raced
    -- past this test re-check the condition after the winner commits.
    IF status IN ('ok', 'wrong_org') AND (v_last_used IS NULL OR v_last_used < now() - interval '1 minute') THEN
        UPDATE api_tokens a SET last_used_at = now()
        WHERE a.organization_id = p_org AND a.id = token_id
          AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '1 minute');
    END IF;
    -- Only a valid token on its own organization's route (or on a route
    -- outside organizations, with no tenant context) keeps a context.
    v_set := set_config('app.organization_id', CASE WHEN status = 'ok' AND p_slug <> '' THEN p_org::text ELSE '' END, true);
    v_set := set_config('app.user_id', CASE WHEN status = 'ok' THEN user_id::text ELSE '' END, true);
END
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION app_enter_pat(uuid, bytea, text) TO accute_app;
DROP TRIGGER user_mfa_access_version_changed ON user_mfa;
DROP TRIGGER user_mfa_access_version ON user_mfa;
DROP TRIGGER api_tokens_access_version_changed ON api_tokens;
DROP TRIGGER api_tokens_access_version ON api_tokens;
DROP TRIGGER roles_access_version_changed ON roles;
DROP TRIGGER roles_access_version ON roles;
DROP TRIGGER memberships_access_version_changed ON memberships;
DROP TRIGGER memberships_access_version ON memberships;
DROP TRIGGER users_access_version ON users;
DROP TRIGGER organizations_access_version ON organizations;
DROP FUNCTION access_version_bump_user();
DROP FUNCTION access_version_bump_org();
DROP FUNCTION access_version_bump_self();
ALTER TABLE users DROP COLUMN access_version;
ALTER TABLE organizations DROP COLUMN access_version;
