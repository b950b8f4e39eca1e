-- +goose Up

-- app_enter_pat (00040), same contract, less PL/pgSQL work per call: one
-- SELECT fills the OUT columns directly (no record copied field by field)
-- and the settings are made in one statement. It runs on every API request.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION app_enter_pat(p_org uuid, p_hash bytea, p_slug text,
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
BEGIN
    PERFORM set_config('app.organization_id', p_org::text, true);
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
    PERFORM set_config('app.organization_id', CASE WHEN status = 'ok' AND p_slug <> '' THEN p_org::text ELSE '' END, true),
            set_config('app.user_id', CASE WHEN status = 'ok' THEN user_id::text ELSE '' END, true);
END
$$;
-- +goose StatementEnd

-- +goose Down
-- (00040's body is the same contract; keeping this one is harmless.)
SELECT 1;
