-- The client portal (internal/portal). Every query a client user's page
-- runs joins client_portal_links on that user: what is not linked to them
-- does not exist for them.

-- Links, as the client user sees them ----------------------------------------

-- name: ListPortalClients :many
-- The active clients the user is linked to, with each link's KYC.
SELECT l.id AS link_id, l.kyc_status, l.kyc_reject_reason, l.kyc_submitted_at, l.kyc_reviewed_at,
       c.id AS client_id, c.name AS client_name, c.kind AS client_kind
FROM client_portal_links l
JOIN clients c ON c.organization_id = l.organization_id AND c.id = l.client_id
WHERE l.organization_id = @organization_id AND l.user_id = @user_id AND c.archived_at IS NULL
ORDER BY lower(c.name), c.id;

-- name: GetPortalLink :one
-- The user's link to one active client; no row when there is none.
SELECT l.*, c.name AS client_name
FROM client_portal_links l
JOIN clients c ON c.organization_id = l.organization_id AND c.id = l.client_id
WHERE l.organization_id = @organization_id AND l.user_id = @user_id AND l.client_id = @client_id
  AND c.archived_at IS NULL;

-- name: LockPortalLink :one
-- GetPortalLink, locking the link for a KYC change.
SELECT l.*, c.name AS client_name
FROM client_portal_links l
JOIN clients c ON c.organization_id = l.organization_id AND c.id = l.client_id
WHERE l.organization_id = @organization_id AND l.user_id = @user_id AND l.client_id = @client_id
  AND c.archived_at IS NULL
FOR UPDATE OF l;

-- Documents, as the client user sees them -----------------------------------

-- name: ListPortalDocuments :many
-- The active documents of the user's active clients, newest first, without
-- identity documents (the KYC page shows a user their own).
SELECT d.id, d.name, d.content_type, d.size, d.version, d.parse_status, d.parse_error,
       d.created_at, d.updated_at, c.id AS client_id, c.name AS client_name,
       coalesce(d.created_by = @user_id::uuid, false)::boolean AS uploaded_by_me,
       count(*) OVER ()::int AS total
FROM documents d
JOIN client_portal_links l ON l.organization_id = d.organization_id AND l.client_id = d.client_id AND l.user_id = @user_id
JOIN clients c ON c.organization_id = d.organization_id AND c.id = d.client_id
WHERE d.organization_id = @organization_id AND d.archived_at IS NULL AND c.archived_at IS NULL
  AND (sqlc.narg(client_id)::uuid IS NULL OR d.client_id = sqlc.narg(client_id))
  AND NOT d.identity -- (identity documents are on the identity check page)
ORDER BY d.updated_at DESC, d.id
LIMIT @max_rows OFFSET @skip;

-- name: GetPortalDocument :one
-- One document the user may see: an active document of one of their
-- active clients that is not someone else's identity document.
SELECT d.id, d.name, d.content_type, d.size, d.version, d.parse_status, d.parse_error,
       d.created_at, d.updated_at, c.id AS client_id, c.name AS client_name
FROM documents d
JOIN client_portal_links l ON l.organization_id = d.organization_id AND l.client_id = d.client_id AND l.user_id = @user_id
JOIN clients c ON c.organization_id = d.organization_id AND c.id = d.client_id
WHERE d.organization_id = @organization_id AND d.id = @id AND d.archived_at IS NULL AND c.archived_at IS NULL
  AND (NOT d.identity OR d.created_by = @user_id::uuid);

-- KYC -----------------------------------------------------------------------

-- name: ListLinkKYCDocuments :many
SELECT k.id, k.kind, k.created_at, k.link_id, d.id AS document_id, d.name, d.content_type, d.size,
       d.parse_status, d.parse_error
FROM kyc_documents k
JOIN documents d ON d.organization_id = k.organization_id AND d.id = k.document_id
WHERE k.organization_id = @organization_id AND k.link_id = @link_id
ORDER BY k.created_at, k.id;

-- name: ListClientKYCDocuments :many
-- Every link's identity documents of one client, for the firm's review.
SELECT k.id, k.kind, k.created_at, k.link_id, d.id AS document_id, d.name, d.content_type, d.size,
       d.parse_status, d.parse_error
FROM kyc_documents k
JOIN client_portal_links l ON l.organization_id = k.organization_id AND l.id = k.link_id
JOIN documents d ON d.organization_id = k.organization_id AND d.id = k.document_id
WHERE k.organization_id = @organization_id AND l.client_id = @client_id
ORDER BY k.created_at, k.id;

-- name: InsertKYCDocument :one
INSERT INTO kyc_documents (organization_id, link_id, document_id, kind)
VALUES (@organization_id, @link_id, @document_id, @kind)
RETURNING *;

-- name: DeleteKYCDocument :one
DELETE FROM kyc_documents
WHERE organization_id = @organization_id AND link_id = @link_id AND id = @id
RETURNING *;

-- name: SubmitKYC :one
-- pending or rejected -> submitted; no row from any other state.
UPDATE client_portal_links
SET kyc_status = 'submitted', kyc_submitted_at = now(), updated_at = now()
WHERE organization_id = @organization_id AND id = @id AND kyc_status IN ('pending', 'rejected')
RETURNING *;

-- name: DecideKYC :one
-- submitted -> verified | rejected; no row from any other state.
UPDATE client_portal_links
SET kyc_status = @status, kyc_reject_reason = @reason, kyc_reviewed_at = now(),
    kyc_reviewed_by = @reviewed_by, updated_at = now()
WHERE organization_id = @organization_id AND client_id = @client_id AND id = @id AND kyc_status = 'submitted'
RETURNING *;

-- name: ListKYCReviewerEmails :many
-- Who hears of a submitted KYC: the firm's owners and admins, and the
-- member who gave the client user access.
SELECT DISTINCT u.email
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.organization_id = @organization_id AND u.suspended_at IS NULL
  AND (m.role IN ('owner', 'admin') OR m.user_id = sqlc.narg(linked_by))
ORDER BY u.email;

-- Portal access, as the firm manages it -------------------------------------

-- name: ListClientPortalLinks :many
SELECT l.*, u.email, u.name, m.role AS member_role,
       coalesce(r.name, '')::text AS reviewed_by_name
FROM client_portal_links l
JOIN memberships m ON m.organization_id = l.organization_id AND m.user_id = l.user_id
JOIN users u ON u.id = l.user_id
LEFT JOIN users r ON r.id = l.kyc_reviewed_by
WHERE l.organization_id = @organization_id AND l.client_id = @client_id
ORDER BY lower(u.name), u.id;

-- name: GetClientPortalLink :one
SELECT l.*, u.email, u.name
FROM client_portal_links l
JOIN users u ON u.id = l.user_id
WHERE l.organization_id = @organization_id AND l.client_id = @client_id AND l.id = @id;

-- name: CreateClientPortalLink :one
-- No row when the user is already linked to the client.
INSERT INTO client_portal_links (organization_id, client_id, user_id, created_by)
VALUES (@organization_id, @client_id, @user_id, @created_by)
ON CONFLICT (organization_id, client_id, user_id) DO NOTHING
RETURNING *;

-- name: DeleteClientPortalLink :one
DELETE FROM client_portal_links
WHERE organization_id = @organization_id AND client_id = @client_id AND id = @id
RETURNING *;

-- name: ListPortalUserCandidates :many
-- The organization's client users not yet linked to this client.
SELECT m.user_id, u.email, u.name
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.organization_id = @organization_id AND m.role = 'client' AND u.suspended_at IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM client_portal_links l
      WHERE l.organization_id = m.organization_id AND l.client_id = @client_id AND l.user_id = m.user_id
  )
ORDER BY lower(u.name), u.id;

-- name: GetMemberByEmail :one
SELECT m.id, m.user_id, m.role, u.email, u.name
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.organization_id = @organization_id AND u.email = lower(@email);

-- name: GetMemberByUserID :one
SELECT m.id, m.user_id, m.role, u.email, u.name
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.organization_id = @organization_id AND m.user_id = @user_id;

-- Invitations of client users -----------------------------------------------

-- name: AddPortalInvitationClient :exec
INSERT INTO client_portal_invitations (organization_id, invitation_id, client_id)
VALUES (@organization_id, @invitation_id, @client_id)
ON CONFLICT (organization_id, invitation_id, client_id) DO NOTHING;

-- name: GetPendingInvitationByEmail :one
-- The address's invitation that can still be accepted, if any.
SELECT * FROM invitations
WHERE organization_id = @organization_id AND email = lower(@email)
  AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now();

-- name: ListClientPortalInvitations :many
-- Invitations not yet accepted or withdrawn that link to this client.
SELECT i.id, i.email, i.expires_at, i.created_at
FROM client_portal_invitations pi
JOIN invitations i ON i.organization_id = pi.organization_id AND i.id = pi.invitation_id
WHERE pi.organization_id = @organization_id AND pi.client_id = @client_id
  AND i.accepted_at IS NULL AND i.revoked_at IS NULL
ORDER BY i.created_at DESC, i.id;

-- name: GetClientPortalInvitation :one
SELECT i.*
FROM client_portal_invitations pi
JOIN invitations i ON i.organization_id = pi.organization_id AND i.id = pi.invitation_id
WHERE pi.organization_id = @organization_id AND pi.client_id = @client_id AND pi.invitation_id = @invitation_id;

-- name: LinkInvitedClients :many
-- On accepting an invitation: link the new member to the invitation's
-- active clients, as if by whoever invited them.
INSERT INTO client_portal_links (organization_id, client_id, user_id, created_by)
SELECT pi.organization_id, pi.client_id, @user_id, i.invited_by
FROM client_portal_invitations pi
JOIN invitations i ON i.organization_id = pi.organization_id AND i.id = pi.invitation_id
JOIN clients c ON c.organization_id = pi.organization_id AND c.id = pi.client_id
WHERE pi.organization_id = @organization_id AND pi.invitation_id = @invitation_id AND c.archived_at IS NULL
ON CONFLICT (organization_id, client_id, user_id) DO NOTHING
RETURNING client_id;
