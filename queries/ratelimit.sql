-- name: HitRateLimit :one
-- Counts cost against key in a fixed window that starts at the first hit
-- and lasts window_seconds; an expired window starts afresh. One atomic upsert,
-- so concurrent instances count together. db_now is the database's clock,
-- which every instance shares.
INSERT INTO rate_limits AS r (key, count, window_start, expires_at)
VALUES (@key, @cost, now(), now() + make_interval(secs => @window_seconds::float8))
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN r.expires_at <= now() THEN EXCLUDED.count ELSE r.count + EXCLUDED.count END,
    window_start = CASE WHEN r.expires_at <= now() THEN EXCLUDED.window_start ELSE r.window_start END,
    expires_at = CASE WHEN r.expires_at <= now() THEN EXCLUDED.expires_at ELSE r.expires_at END
RETURNING count, expires_at, now()::timestamptz AS db_now;

-- name: PeekRateLimit :one
SELECT count, expires_at, now()::timestamptz AS db_now FROM rate_limits WHERE key = @key AND expires_at > now();

-- name: RefundRateLimit :exec
UPDATE rate_limits SET count = greatest(count - 1, 0) WHERE key = @key AND expires_at > now();

-- name: ResetRateLimit :exec
DELETE FROM rate_limits WHERE key = @key;

-- name: DeleteExpiredRateLimits :execrows
DELETE FROM rate_limits WHERE expires_at < now();
