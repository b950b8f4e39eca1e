-- Plans and what an organization uses of its limits (internal/billing).

-- name: GetOrganizationPlan :one
SELECT plan FROM organizations WHERE id = @organization_id;

-- name: SetOrganizationPlan :one
UPDATE organizations SET plan = @plan, updated_at = now() WHERE id = @organization_id RETURNING *;

-- name: CountSeats :one
-- Seats are members other than clients, plus pending invitations other
-- than clients' (an invitation holds its seat until it is accepted,
-- revoked or expires).
SELECT (
    (SELECT count(*) FROM memberships m WHERE m.organization_id = @organization_id AND m.role <> 'client') +
    (SELECT count(*) FROM invitations i WHERE i.organization_id = @organization_id AND i.role <> 'client'
        AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now())
)::bigint;

-- name: SumStorageBytes :one
SELECT coalesce(sum(size), 0)::bigint FROM blobs WHERE organization_id = @organization_id;

-- name: GetOrganizationByID :one
-- tenant: platform (the console reads any organization; runs in platform mode)
SELECT * FROM organizations WHERE id = @organization_id;
