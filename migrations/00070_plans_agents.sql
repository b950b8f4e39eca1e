-- +goose Up

-- Plans: every organization is on one plan (internal/billing holds the plans'
-- gates and limits as data). New sign-ups start on free.
ALTER TABLE organizations ADD COLUMN plan text NOT NULL DEFAULT 'free'
    CHECK (plan IN ('free', 'starter', 'professional', 'enterprise'));

-- The agent registry: a platform table (agents belong to no organization).
-- Rows are written from the Go catalogue in internal/agents at start-up: a
-- row is replaced when the catalogue's version is higher than the stored
-- one. Platform administrators may edit description, minimum plan and the
-- enabled flag in the console; a later catalogue version overwrites those
-- edits except the enabled flag.
CREATE TABLE agents (
    slug             text PRIMARY KEY CHECK (slug ~ '^[a-z][a-z0-9-]{1,39}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    tagline          text NOT NULL DEFAULT '',
    description      text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    capabilities     text[] NOT NULL DEFAULT '{}',
    min_plan         text NOT NULL CHECK (min_plan IN ('free', 'starter', 'professional', 'enterprise')),
    system_prompt    text NOT NULL,
    tools            text[] NOT NULL DEFAULT '{}',
    default_settings jsonb NOT NULL DEFAULT '{}',
    version          integer NOT NULL CHECK (version > 0),
    -- Disabled agents are hidden from the marketplace and cannot be
    -- installed; existing installations stay but cannot be enabled.
    enabled          boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- An organization's installed agents with the firm's settings (model,
-- temperature, instructions added by the firm).
CREATE TABLE agent_installations (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    agent_slug      text NOT NULL REFERENCES agents (slug),
    enabled         boolean NOT NULL DEFAULT true,
    settings        jsonb NOT NULL DEFAULT '{}',
    installed_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, agent_slug)
);
ALTER TABLE agent_installations ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_installations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agent_installations USING (app_org_visible(organization_id));

GRANT SELECT, INSERT, UPDATE ON agents TO accute_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON agent_installations TO accute_app;

-- +goose Down
DROP TABLE agent_installations, agents;
ALTER TABLE organizations DROP COLUMN plan;
