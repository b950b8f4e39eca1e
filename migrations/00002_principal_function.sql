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
    v_out text;
BEGIN
    -- The user's own memberships are visible once app.user_id is set.
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
GRANT EXECUTE ON FUNCTION app_enter(uuid, text) TO accute_app;

-- +goose Down
DROP FUNCTION app_enter(uuid, text);
