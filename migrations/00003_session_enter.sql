-- +goose Up

-- Sessions are stored as JSON (see internal/auth/codec.go) so that the
-- session lookup and the tenant context of an organization page happen in
-- one statement: app_enter_session finds the session by its token, takes
-- the user id out of it and calls app_enter. Old (gob) session data is
-- returned untouched with no principal.
-- +goose StatementBegin
CREATE FUNCTION app_enter_session(p_token text, p_slug text, OUT data bytea, OUT principal text)
LANGUAGE plpgsql AS $$
DECLARE
    v_uid text;
BEGIN
    SELECT s.data INTO data FROM sessions s WHERE s.token = p_token AND now() < s.expiry;
    IF data IS NULL OR length(data) < 2 OR get_byte(data, 0) <> 123 THEN -- 123 is '{'
        RETURN;
    END IF;
    -- A pattern rather than a JSON parse: nothing a session holds can make
    -- it fail (PostgreSQL's json rejects \u0000, which Go may write). Inside
    -- JSON strings quotes are escaped, so only the real key matches.
    v_uid := substring(convert_from(data, 'UTF8') from '"uid":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"');
    IF v_uid IS NULL THEN
        RETURN;
    END IF;
    principal := app_enter(v_uid::uuid, p_slug);
END
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION app_enter_session(text, text) TO accute_app;

-- +goose Down
DROP FUNCTION app_enter_session(text, text);
