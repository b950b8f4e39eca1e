-- name: GetIdentity :one
SELECT * FROM user_identities
WHERE provider = @provider AND issuer = @issuer AND subject = @subject;

-- name: CreateIdentity :one
INSERT INTO user_identities (user_id, provider, issuer, subject, email, last_used_at)
VALUES (@user_id, @provider, @issuer, @subject, @email, now())
RETURNING *;

-- name: TouchIdentity :exec
UPDATE user_identities SET last_used_at = now(), email = @email WHERE id = @id;

-- name: ListIdentitiesByUser :many
SELECT * FROM user_identities WHERE user_id = @user_id ORDER BY provider;

-- name: GetIdentityOfUser :one
SELECT * FROM user_identities WHERE id = @id AND user_id = @user_id;

-- name: DeleteIdentity :execrows
DELETE FROM user_identities WHERE id = @id AND user_id = @user_id;

-- name: CountIdentitiesByUser :one
SELECT count(*) FROM user_identities WHERE user_id = @user_id;

-- name: CreateUserWithoutPassword :one
-- An account created by an OAuth sign-in or SCIM: the hash is of a random
-- secret nobody knows, and password_set says so.
INSERT INTO users (email, name, password_hash, password_set, email_verified_at)
VALUES (lower(@email), @name, @password_hash, false, CASE WHEN @verified::boolean THEN now() END)
RETURNING *;

-- name: BumpSessionVersion :one
-- Ends every session of the user at their next request.
UPDATE users SET session_version = session_version + 1, updated_at = now()
WHERE id = @id
RETURNING session_version;
