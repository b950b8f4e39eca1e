-- name: CommitSession :exec
-- scs's commit, with the device columns: who the session belongs to, from
-- where, since when. created_at restarts when the session changes hands
-- (a login renews the token, so in practice it is the sign-in time).
INSERT INTO sessions (token, data, expiry, user_id, session_version, user_agent, ip)
VALUES (@token, @data, @expiry, @user_id, @session_version, @user_agent, @ip)
ON CONFLICT (token) DO UPDATE SET
    data = EXCLUDED.data,
    expiry = EXCLUDED.expiry,
    created_at = CASE WHEN sessions.user_id IS DISTINCT FROM EXCLUDED.user_id THEN now() ELSE sessions.created_at END,
    user_id = EXCLUDED.user_id,
    session_version = EXCLUDED.session_version,
    user_agent = EXCLUDED.user_agent,
    ip = EXCLUDED.ip,
    last_seen_at = now();

-- name: DeleteSession :exec
DELETE FROM sessions WHERE token = @token;

-- name: ListUserSessions :many
-- The user's live sessions: not expired, and of the current session version
-- (a password reset ends the others).
SELECT s.id, s.user_agent, s.ip, s.created_at, s.last_seen_at, (s.token = @current_token::text)::bool AS current
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.user_id = @user_id AND s.expiry > now() AND s.session_version = u.session_version
ORDER BY (s.token = @current_token::text) DESC, s.last_seen_at DESC, s.id
LIMIT 200;

-- name: DeleteUserSession :execrows
-- Revokes one of the user's other sessions (never the current one: that is
-- logging out).
DELETE FROM sessions WHERE id = @id AND user_id = @user_id AND token <> @current_token::text;

-- name: DeleteOtherUserSessions :execrows
DELETE FROM sessions WHERE user_id = @user_id AND token <> @current_token::text;
