-- +goose Up

-- SAML 2.0 single sign-on: one identity provider connection per
-- organization (see internal/sso).
CREATE TABLE saml_connections (
    organization_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                     uuid NOT NULL DEFAULT gen_random_uuid(),
    enabled                boolean NOT NULL DEFAULT false,
    -- Where the IdP metadata came from: a URL fetched by the server, or
    -- pasted XML (metadata_url empty). metadata_xml is what was parsed.
    metadata_url           text NOT NULL DEFAULT '',
    metadata_xml           text NOT NULL DEFAULT '',
    metadata_fetched_at    timestamptz,
    idp_entity_id          text NOT NULL DEFAULT '',
    idp_sso_url            text NOT NULL DEFAULT '',
    -- Attribute mapping; empty means the usual names (see sso.Mapping).
    attr_email             text NOT NULL DEFAULT '',
    attr_first_name        text NOT NULL DEFAULT '',
    attr_last_name         text NOT NULL DEFAULT '',
    attr_display_name      text NOT NULL DEFAULT '',
    attr_groups            text NOT NULL DEFAULT '',
    -- Role of users provisioned just in time when no group maps to one.
    -- Never owner. A deleted custom role leaves 'custom' with no id, which
    -- the application reads as the role without permissions (client).
    default_role           text NOT NULL DEFAULT 'staff' CHECK (default_role IN ('admin', 'manager', 'staff', 'client', 'custom')),
    default_custom_role_id uuid,
    allow_idp_initiated    boolean NOT NULL DEFAULT true,
    -- Password login is refused for addresses on the organization's
    -- verified domains while this holds.
    sso_required           boolean NOT NULL DEFAULT false,
    -- The service provider's own key pair: a self-signed certificate (PEM)
    -- and the private key (PKCS#8) sealed by the key ring (internal/crypto).
    sp_certificate         text NOT NULL,
    sp_private_key         bytea NOT NULL,
    last_login_at          timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id),
    FOREIGN KEY (organization_id, default_custom_role_id) REFERENCES roles (organization_id, id)
        ON DELETE SET NULL (default_custom_role_id)
);

-- IdP groups mapped to roles; the mapping goes with a deleted custom role.
CREATE TABLE saml_group_roles (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    group_name      text NOT NULL CHECK (length(group_name) BETWEEN 1 AND 256),
    role            text NOT NULL CHECK (role IN ('admin', 'manager', 'staff', 'client', 'custom')),
    custom_role_id  uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, group_name),
    FOREIGN KEY (organization_id, custom_role_id) REFERENCES roles (organization_id, id) ON DELETE CASCADE,
    CHECK ((role = 'custom') = (custom_role_id IS NOT NULL))
);

-- E-mail domains an organization claims. A claim counts once verified:
-- automatically when the claiming owner's own verified address is on the
-- domain, or by a platform administrator in the console. A domain can be
-- verified by one organization only; unverified claims may coexist.
CREATE TABLE sso_domains (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    domain          text NOT NULL CHECK (domain = lower(domain) AND length(domain) <= 253
                        AND domain ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$'),
    claimed_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    verified_at     timestamptz,
    verification    text NOT NULL DEFAULT '' CHECK (verification IN ('', 'admin_email', 'platform_admin')),
    verified_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, domain),
    CHECK ((verified_at IS NULL) = (verification = ''))
);
CREATE UNIQUE INDEX sso_domains_verified_key ON sso_domains (domain) WHERE verified_at IS NOT NULL;

-- AuthnRequests this service provider sent, bound to the browser that
-- started them (browser_hash is the SHA-256 of a short-lived cookie), so
-- that a response answers a request of the same browser exactly once.
CREATE TABLE saml_requests (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              text NOT NULL,
    browser_hash    bytea NOT NULL,
    next_path       text NOT NULL DEFAULT '',
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id)
);
CREATE INDEX saml_requests_browser_idx ON saml_requests (organization_id, browser_hash);

-- Replay cache: ids of accepted assertions (and logout requests) until
-- they expire.
CREATE TABLE saml_assertions (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              text NOT NULL,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id)
);
CREATE INDEX saml_assertions_expiry_idx ON saml_assertions (organization_id, expires_at);

-- Which user a NameID signed in as, for IdP-initiated single logout.
CREATE TABLE saml_identities (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name_id         text NOT NULL,
    name_id_format  text NOT NULL DEFAULT '',
    last_login_at   timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, name_id)
);

ALTER TABLE saml_connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE saml_connections FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON saml_connections USING (app_org_visible(organization_id));

ALTER TABLE saml_group_roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE saml_group_roles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON saml_group_roles USING (app_org_visible(organization_id));

ALTER TABLE sso_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_domains FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON sso_domains USING (app_org_visible(organization_id));

ALTER TABLE saml_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE saml_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON saml_requests USING (app_org_visible(organization_id));

ALTER TABLE saml_assertions ENABLE ROW LEVEL SECURITY;
ALTER TABLE saml_assertions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON saml_assertions USING (app_org_visible(organization_id));

ALTER TABLE saml_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE saml_identities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON saml_identities USING (app_org_visible(organization_id));

GRANT SELECT, INSERT, UPDATE, DELETE ON saml_connections, saml_group_roles, sso_domains,
    saml_requests, saml_assertions, saml_identities TO accute_app;

-- +goose Down
DROP TABLE saml_identities, saml_assertions, saml_requests, sso_domains, saml_group_roles, saml_connections;
