-- name: CreateAPIToken :one
INSERT INTO api_tokens (organization_id, user_id, name, token_hash, token_hint, role, custom_role_id, expires_at)
VALUES (@organization_id, @user_id, @name, @token_hash, @token_hint, @role, @custom_role_id, @expires_at)
RETURNING *;

-- name: ListAPITokensByUser :many
-- tenant: user (the own tokens of a user across organizations, for the account page; RLS allows own rows)
SELECT t.id, t.organization_id, t.name, t.token_hint, t.role, t.custom_role_id, t.expires_at,
       t.last_used_at, t.revoked_at, t.created_at, o.slug AS organization_slug, o.name AS organization_name
FROM api_tokens t
JOIN organizations o ON o.id = t.organization_id
WHERE t.user_id = @user_id
ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id
LIMIT 200;

-- name: GetAPITokenOfUser :one
-- tenant: user (the owner finds their own token before revoking it in its organization)
SELECT * FROM api_tokens WHERE id = @id AND user_id = @user_id;

-- name: RevokeAPIToken :execrows
UPDATE api_tokens SET revoked_at = now()
WHERE organization_id = @organization_id AND id = @id AND revoked_at IS NULL;

-- name: CountActiveAPITokens :one
SELECT count(*) FROM api_tokens
WHERE organization_id = @organization_id AND user_id = @user_id AND revoked_at IS NULL
  AND (expires_at IS NULL OR expires_at > now());

-- name: CreateRefreshToken :exec
INSERT INTO api_refresh_tokens (family_id, user_id, token_hash, session_version, expires_at)
VALUES (@family_id, @user_id, @token_hash, @session_version, @expires_at);

-- name: GetRefreshTokenForUpdate :one
SELECT * FROM api_refresh_tokens WHERE token_hash = @token_hash FOR UPDATE;

-- name: MarkRefreshTokenUsed :exec
UPDATE api_refresh_tokens SET used_at = now() WHERE id = @id;

-- name: RevokeRefreshFamily :execrows
UPDATE api_refresh_tokens SET revoked_at = now() WHERE family_id = @family_id AND revoked_at IS NULL;

-- name: DeleteExpiredRefreshTokens :execrows
DELETE FROM api_refresh_tokens WHERE expires_at < now() - interval '1 day';

-- name: HitRateLimitBatch :many
-- HitRateLimit (queries/ratelimit.sql) for several keys in one statement,
-- each with its own cost: the API's limiter counts locally and flushes its
-- counts here in batches (internal/ratelimit/batched.go). Same windows and
-- clock as HitRateLimit.
INSERT INTO rate_limits AS r (key, count, window_start, expires_at)
SELECT unnest(@keys::text[]), unnest(@costs::int[]), now(), now() + make_interval(secs => @window_seconds::float8)
WHERE true
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN r.expires_at <= now() THEN EXCLUDED.count ELSE r.count + EXCLUDED.count END,
    window_start = CASE WHEN r.expires_at <= now() THEN EXCLUDED.window_start ELSE r.window_start END,
    expires_at = CASE WHEN r.expires_at <= now() THEN EXCLUDED.expires_at ELSE r.expires_at END
RETURNING key, count, expires_at, now()::timestamptz AS db_now;
