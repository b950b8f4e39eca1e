-- +goose Up

-- SCIM 2.0 provisioning. The identity provider (Okta, Microsoft Entra ID,
-- ...) authenticates with a bearer token that names the organization; only
-- the SHA-256 of the token is stored.
CREATE TABLE scim_tokens (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    token_hash      bytea NOT NULL UNIQUE,
    -- The token's last characters, so admins can tell tokens apart.
    hint            text NOT NULL DEFAULT '',
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    revoked_at      timestamptz,
    PRIMARY KEY (organization_id, id)
);

-- A provisioned person. Its id is the SCIM id the provider uses. The row
-- outlives deactivation (active = false, no membership), as Okta and Entra
-- expect to find deactivated users again; DELETE removes it.
CREATE TABLE scim_users (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_name       text NOT NULL CHECK (length(user_name) BETWEEN 1 AND 320),
    external_id     text NOT NULL DEFAULT '',
    given_name      text NOT NULL DEFAULT '',
    family_name     text NOT NULL DEFAULT '',
    display_name    text NOT NULL DEFAULT '',
    email           text NOT NULL DEFAULT '',
    active          boolean NOT NULL DEFAULT true,
    -- The Accute account was created by this provisioning (not linked).
    created_user    boolean NOT NULL DEFAULT false,
    -- The membership's role was last set from a group-to-role mapping, so
    -- leaving the mapped groups takes it back.
    role_managed    boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, user_id)
);
-- userName is case-insensitive (RFC 7643 section 4.1.1).
CREATE UNIQUE INDEX scim_users_user_name_key ON scim_users (organization_id, lower(user_name));
CREATE INDEX scim_users_external_id_idx ON scim_users (organization_id, external_id);

CREATE TABLE scim_groups (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    display_name    text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 255),
    external_id     text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX scim_groups_display_name_key ON scim_groups (organization_id, lower(display_name));

CREATE TABLE scim_group_members (
    organization_id uuid NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    group_id        uuid NOT NULL,
    scim_user_id    uuid NOT NULL,
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, group_id, scim_user_id),
    FOREIGN KEY (organization_id, group_id) REFERENCES scim_groups (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, scim_user_id) REFERENCES scim_users (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_group_members_user_idx ON scim_group_members (organization_id, scim_user_id);

-- Group-to-role mapping, by group name, so an admin can set it up before
-- the provider pushes the group. Owners are never granted through SCIM.
CREATE TABLE scim_role_mappings (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    group_name      text NOT NULL CHECK (length(group_name) BETWEEN 1 AND 255),
    role            text NOT NULL CHECK (role IN ('admin', 'manager', 'staff', 'client', 'custom')),
    custom_role_id  uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, custom_role_id) REFERENCES roles (organization_id, id) ON DELETE CASCADE,
    CHECK ((role = 'custom') = (custom_role_id IS NOT NULL))
);
CREATE UNIQUE INDEX scim_role_mappings_group_key ON scim_role_mappings (organization_id, lower(group_name));

ALTER TABLE scim_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON scim_tokens USING (app_org_visible(organization_id));

ALTER TABLE scim_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim_users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON scim_users USING (app_org_visible(organization_id));

ALTER TABLE scim_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim_groups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON scim_groups USING (app_org_visible(organization_id));

ALTER TABLE scim_group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim_group_members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON scim_group_members USING (app_org_visible(organization_id));

ALTER TABLE scim_role_mappings ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim_role_mappings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON scim_role_mappings USING (app_org_visible(organization_id));

GRANT SELECT, INSERT, UPDATE, DELETE ON scim_tokens, scim_users, scim_groups, scim_group_members, scim_role_mappings TO accute_app;

-- +goose Down
DROP TABLE scim_role_mappings, scim_group_members, scim_groups, scim_users, scim_tokens;
