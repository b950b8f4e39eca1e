-- name: StartMFAEnrolment :one
-- A new secret for an enrolment in progress; an active (confirmed) factor
-- is never replaced here (the WHERE leaves it alone and nothing returns).
INSERT INTO user_mfa (user_id, totp_secret) VALUES (@user_id, @totp_secret)
ON CONFLICT (user_id) DO UPDATE SET totp_secret = EXCLUDED.totp_secret, last_used_step = 0,
    remember_id = gen_random_uuid(), created_at = now(), updated_at = now()
WHERE user_mfa.confirmed_at IS NULL
RETURNING *;

-- name: GetUserMFA :one
SELECT * FROM user_mfa WHERE user_id = @user_id;

-- name: ConfirmMFA :execrows
UPDATE user_mfa SET confirmed_at = now(), last_used_step = @step, remember_id = gen_random_uuid(), updated_at = now()
WHERE user_id = @user_id AND confirmed_at IS NULL AND last_used_step < @step;

-- name: UseTOTPStep :execrows
-- Accepts a time step once: a replayed code finds last_used_step already there.
UPDATE user_mfa SET last_used_step = @step, updated_at = now()
WHERE user_id = @user_id AND confirmed_at IS NOT NULL AND last_used_step < @step;

-- name: DeleteUserMFA :execrows
DELETE FROM user_mfa WHERE user_id = @user_id;

-- name: DeleteBackupCodes :exec
DELETE FROM mfa_backup_codes WHERE user_id = @user_id;

-- name: InsertBackupCodes :exec
INSERT INTO mfa_backup_codes (user_id, code_hash)
SELECT @user_id, h FROM unnest(@code_hashes::bytea[]) AS h;

-- name: UseBackupCode :execrows
UPDATE mfa_backup_codes SET used_at = now()
WHERE user_id = @user_id AND code_hash = @code_hash AND used_at IS NULL;

-- name: CountUnusedBackupCodes :one
SELECT count(*)::int FROM mfa_backup_codes WHERE user_id = @user_id AND used_at IS NULL;

-- name: ListOrganizationsRequiringMFA :many
-- tenant: user (the user's own memberships in every organization, to keep their last factor; RLS allows own rows)
SELECT o.id, o.name FROM memberships m JOIN organizations o ON o.id = m.organization_id
WHERE m.user_id = @user_id AND o.require_mfa
ORDER BY lower(o.name), o.id;

-- name: SetOrganizationRequireMFA :one
UPDATE organizations SET require_mfa = @require_mfa, updated_at = now()
WHERE id = @organization_id
RETURNING *;

-- name: CountMembersWithoutMFA :one
SELECT count(*)::int FROM memberships m
WHERE m.organization_id = @organization_id
  AND NOT EXISTS (SELECT 1 FROM user_mfa f WHERE f.user_id = m.user_id AND f.confirmed_at IS NOT NULL);
