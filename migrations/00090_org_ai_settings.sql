-- +goose Up

-- An organization's own AI provider (internal/agents/providers.go). No row
-- means the platform default (AI_PROVIDER and friends in the environment).
-- The API key is sealed with the key ring (internal/crypto), bound to its
-- row by the associated data "org_ai_settings.api_key:<org>:<id>"; it is
-- never shown again, only set, replaced or removed.
CREATE TABLE org_ai_settings (
    organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    provider          text NOT NULL CHECK (provider IN ('offline', 'openai', 'azure', 'compatible')),
    -- Empty: the provider's default (api.openai.com for openai).
    base_url          text NOT NULL DEFAULT '' CHECK (length(base_url) <= 500),
    -- Empty: the platform's AI_MODEL, else the agents' own models.
    model             text NOT NULL DEFAULT '' CHECK (length(model) <= 100),
    azure_api_version text NOT NULL DEFAULT '' CHECK (length(azure_api_version) <= 40),
    azure_deployment  text NOT NULL DEFAULT '' CHECK (length(azure_deployment) <= 100),
    api_key           bytea,
    api_key_set_at    timestamptz,
    updated_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id),
    CHECK ((api_key IS NULL) = (api_key_set_at IS NULL))
);
ALTER TABLE org_ai_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE org_ai_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON org_ai_settings USING (app_org_visible(organization_id));
GRANT SELECT, INSERT, UPDATE, DELETE ON org_ai_settings TO accute_app;

-- +goose Down
DROP TABLE org_ai_settings;
