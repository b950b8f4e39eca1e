-- +goose Up

-- The client portal (internal/portal): client users, who are members with
-- the role 'client', linked to the client records they may see; the clients
-- an invitation links on acceptance; and each link's KYC (identity check)
-- with the identity documents the client user uploaded.
--
-- A client user sees exactly the clients they are linked to: every portal
-- query joins client_portal_links on the user (see queries/portal.sql).

-- KYC is kept per link (a person linked to two clients is checked for
-- each): pending (nothing submitted yet) -> submitted (under review) ->
-- verified | rejected (with a reason; the client uploads again and
-- resubmits: submitted).
CREATE TABLE client_portal_links (
    organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    client_id         uuid NOT NULL,
    user_id           uuid NOT NULL,
    created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    kyc_status        text NOT NULL DEFAULT 'pending'
                      CHECK (kyc_status IN ('pending', 'submitted', 'verified', 'rejected')),
    kyc_submitted_at  timestamptz,
    kyc_reviewed_at   timestamptz,
    kyc_reviewed_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    kyc_reject_reason text NOT NULL DEFAULT '' CHECK (length(kyc_reject_reason) <= 1000),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, client_id, user_id),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id) ON DELETE CASCADE,
    -- Access ends with the membership: removing the member (or the member
    -- leaving) removes their links.
    FOREIGN KEY (organization_id, user_id) REFERENCES memberships (organization_id, user_id) ON DELETE CASCADE
);
CREATE INDEX client_portal_links_user_idx ON client_portal_links (organization_id, user_id);

-- The clients a pending invitation (role client) links its invitee to when
-- it is accepted.
CREATE TABLE client_portal_invitations (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    invitation_id   uuid NOT NULL,
    client_id       uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, invitation_id, client_id),
    FOREIGN KEY (organization_id, invitation_id) REFERENCES invitations (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX client_portal_invitations_client_idx ON client_portal_invitations (organization_id, client_id);

-- Identity documents of a link's KYC. Each is a document of the link's
-- client (stored, encrypted and parsed like every document); the portal
-- shows it to its own uploader only, never to the client's other users.
CREATE TABLE kyc_documents (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    link_id         uuid NOT NULL,
    document_id     uuid NOT NULL,
    kind            text NOT NULL
                    CHECK (kind IN ('passport', 'national_id', 'driving_licence', 'proof_of_address', 'other')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, document_id),
    FOREIGN KEY (organization_id, link_id) REFERENCES client_portal_links (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, document_id) REFERENCES documents (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX kyc_documents_link_idx ON kyc_documents (organization_id, link_id, created_at);

ALTER TABLE client_portal_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE client_portal_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON client_portal_links USING (app_org_visible(organization_id));

ALTER TABLE client_portal_invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE client_portal_invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON client_portal_invitations USING (app_org_visible(organization_id));

ALTER TABLE kyc_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE kyc_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON kyc_documents USING (app_org_visible(organization_id));

GRANT SELECT, INSERT, UPDATE, DELETE ON client_portal_links, client_portal_invitations, kyc_documents TO accute_app;
-- Invitation targets and identity documents are added and removed, never
-- changed in place.
REVOKE UPDATE ON client_portal_invitations, kyc_documents FROM accute_app;

-- +goose Down
DROP TABLE kyc_documents, client_portal_invitations, client_portal_links;
