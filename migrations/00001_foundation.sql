-- +goose Up

-- The application connects (or SETs ROLE) as accute_app: a role that owns no
-- table and has no BYPASSRLS, so row-level security always applies to it.
-- Roles are cluster-wide, hence the guard.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'accute_app') THEN
        CREATE ROLE accute_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;
-- +goose StatementEnd

-- Request context, set with set_config(..., true) inside each transaction.
CREATE FUNCTION app_current_org() RETURNS uuid
    LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.organization_id', true), '')::uuid $$;
CREATE FUNCTION app_current_user() RETURNS uuid
    LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;
-- Platform mode: used only by the admin console and background maintenance.
CREATE FUNCTION app_is_platform() RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('app.platform', true), '') = 'on' $$;
CREATE FUNCTION app_org_visible(org uuid) RETURNS boolean
    LANGUAGE sql STABLE AS $$ SELECT org = app_current_org() OR app_is_platform() $$;

CREATE TABLE users (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text NOT NULL,
    name              text NOT NULL,
    password_hash     text NOT NULL,
    email_verified_at timestamptz,
    is_platform_admin boolean NOT NULL DEFAULT false,
    suspended_at      timestamptz,
    -- Bumped on password reset, suspension and privilege change: sessions
    -- carrying an older version are refused.
    session_version   integer NOT NULL DEFAULT 1,
    last_login_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_lower CHECK (email = lower(email))
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE organizations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE roles (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    description     text NOT NULL DEFAULT '',
    permissions     text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, name)
);

CREATE TABLE memberships (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A built-in role key, or 'custom' with custom_role_id set.
    role            text NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'staff', 'client', 'custom')),
    custom_role_id  uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, user_id),
    FOREIGN KEY (organization_id, custom_role_id) REFERENCES roles (organization_id, id),
    CHECK ((role = 'custom') = (custom_role_id IS NOT NULL))
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE invitations (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    email           text NOT NULL CHECK (email = lower(email)),
    role            text NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'staff', 'client', 'custom')),
    custom_role_id  uuid,
    token_hash      bytea NOT NULL UNIQUE,
    invited_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    expires_at      timestamptz NOT NULL,
    accepted_at     timestamptz,
    revoked_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, custom_role_id) REFERENCES roles (organization_id, id),
    CHECK ((role = 'custom') = (custom_role_id IS NOT NULL))
);
CREATE UNIQUE INDEX invitations_pending_email ON invitations (organization_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE clients (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind            text NOT NULL DEFAULT 'business' CHECK (kind IN ('individual', 'business')),
    email           text NOT NULL DEFAULT '',
    phone           text NOT NULL DEFAULT '',
    tax_id          text NOT NULL DEFAULT '',
    address         text NOT NULL DEFAULT '',
    notes           text NOT NULL DEFAULT '',
    archived_at     timestamptz,
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id)
);
CREATE INDEX clients_org_name_idx ON clients (organization_id, lower(name), id);

CREATE TABLE client_contacts (
    organization_id uuid NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    client_id       uuid NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email           text NOT NULL DEFAULT '',
    phone           text NOT NULL DEFAULT '',
    title           text NOT NULL DEFAULT '',
    is_primary      boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX client_contacts_client_idx ON client_contacts (organization_id, client_id);

-- Audit trail: append-only. organization_id is NULL for platform events
-- (a failed login for an unknown address, an admin suspending a user).
CREATE TABLE audit_events (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
    actor_user_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_email     text NOT NULL DEFAULT '',
    action          text NOT NULL,
    target_type     text NOT NULL DEFAULT '',
    target_id       text NOT NULL DEFAULT '',
    summary         text NOT NULL DEFAULT '',
    ip              text NOT NULL DEFAULT '',
    user_agent      text NOT NULL DEFAULT '',
    request_id      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_org_time_idx ON audit_events (organization_id, created_at DESC);
CREATE INDEX audit_events_time_idx ON audit_events (created_at DESC);

-- Single-use tokens for e-mail verification and password reset; only the
-- SHA-256 of the token is stored.
CREATE TABLE email_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose);

-- Outgoing e-mail. Until real providers exist, the development mailbox in
-- the admin console reads it.
CREATE TABLE outbox_emails (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    to_email   text NOT NULL,
    subject    text NOT NULL,
    text_body  text NOT NULL,
    html_body  text NOT NULL DEFAULT '',
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX outbox_emails_time_idx ON outbox_emails (created_at DESC);

-- scs session store (github.com/alexedwards/scs/pgxstore).
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Row-level security on every table that carries organization_id.
ALTER TABLE roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE roles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON roles USING (app_org_visible(organization_id));

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
-- A user also sees their own memberships in every organization (the switcher).
CREATE POLICY tenant ON memberships
    USING (app_org_visible(organization_id) OR user_id = app_current_user())
    WITH CHECK (app_org_visible(organization_id) OR user_id = app_current_user());

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON invitations USING (app_org_visible(organization_id));

ALTER TABLE clients ENABLE ROW LEVEL SECURITY;
ALTER TABLE clients FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON clients USING (app_org_visible(organization_id));

ALTER TABLE client_contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE client_contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON client_contacts USING (app_org_visible(organization_id));

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON audit_events FOR SELECT USING (app_org_visible(organization_id));
-- Anyone may append; an event for an organization only from inside it.
CREATE POLICY append ON audit_events FOR INSERT
    WITH CHECK (organization_id IS NULL OR app_org_visible(organization_id));

GRANT USAGE ON SCHEMA public TO accute_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO accute_app;
-- The audit trail is append-only for the application.
REVOKE UPDATE, DELETE ON audit_events FROM accute_app;
GRANT SELECT ON goose_db_version TO accute_app;

-- +goose Down
DROP TABLE sessions, outbox_emails, email_tokens, audit_events, client_contacts, clients,
    invitations, memberships, roles, organizations, users;
DROP FUNCTION app_org_visible(uuid), app_is_platform(), app_current_user(), app_current_org();
