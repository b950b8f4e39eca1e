-- +goose Up

-- app_enter sets the request's tenant context (user, and organization when
-- the user is a member of the one named by slug) for the current
-- transaction and returns everything a page needs to know about the user,
-- as JSON: one round trip, and, being PL/pgSQL, its plans are cached per
-- connection. It runs as the caller, so row-level security applies.
-- +goose StatementBegin
CREATE FUNCTION app_enter(p_user uuid, p_slug text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_org uuid;
BEGIN
    PERFORM set_config('app.user_id', p_user::text, true);
    PERFORM set_config('app.organization_id', '', true);
    IF p_slug <> '' THEN
        SELECT m.organization_id INTO v_org
        FROM memberships m JOIN organizations o ON o.id = m.organization_id
        WHERE o.slug = p_slug AND m.user_id = p_user;
        IF v_org IS NOT NULL THEN
            PERFORM set_config('app.organization_id', v_org::text, true);
        END IF;
    END IF;
    RETURN json_build_object(
        'user', (SELECT row_to_json(u) FROM (
            SELECT id, email, name, is_platform_admin, suspended_at, session_version, email_verified_at
            FROM users WHERE id = p_user) u),
        'org', (SELECT row_to_json(o) FROM (
            SELECT id, slug, name, '' AS role FROM organizations WHERE id = v_org) o),
        'membership', (SELECT row_to_json(x) FROM (
            SELECT m.id, m.role, m.custom_role_id, coalesce(r.name, '') AS custom_role_name,
                   coalesce(r.permissions, '{}') AS permissions
            FROM memberships m
            LEFT JOIN roles r ON r.organization_id = m.organization_id AND r.id = m.custom_role_id
            WHERE m.organization_id = v_org AND m.user_id = p_user) x),
        'orgs', (SELECT coalesce(json_agg(y ORDER BY lower(y.name), y.id), '[]') FROM (
            SELECT o.id, o.slug, o.name, m.role
            FROM memberships m JOIN organizations o ON o.id = m.organization_id
            WHERE m.user_id = p_user) y)
    )::text;
END
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION app_enter(uuid, text) TO accute_app;

-- +goose Down
DROP FUNCTION app_enter(uuid, text);
