-- name: CreateUser :one
INSERT INTO users (email, name, password_hash)
VALUES (lower(@email), @name, @password_hash)
RETURNING *;

-- name: GetUserByEmail :one
SELECT * FROM users WHERE email = lower(@email);

-- name: GetUser :one
SELECT * FROM users WHERE id = @id;

-- name: RecordLogin :exec
UPDATE users SET last_login_at = now() WHERE id = @id;

-- name: SetUserPassword :one
-- Also bumps session_version, which ends every other session of the user.
UPDATE users SET password_hash = @password_hash, session_version = session_version + 1, updated_at = now()
WHERE id = @id
RETURNING session_version;

-- name: MarkEmailVerified :exec
UPDATE users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = @id;

-- name: UpdateUserName :exec
UPDATE users SET name = @name, updated_at = now() WHERE id = @id;

-- name: SetPlatformAdmin :one
UPDATE users SET is_platform_admin = @is_platform_admin, session_version = session_version + 1, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: SuspendUser :one
UPDATE users SET suspended_at = now(), session_version = session_version + 1, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: ReactivateUser :one
UPDATE users SET suspended_at = NULL, updated_at = now() WHERE id = @id
RETURNING *;

-- name: CountUsers :one
SELECT count(*) FROM users;
