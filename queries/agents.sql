-- The agent registry (a platform table: agents belong to no organization)
-- and each organization's installations (a tenant table).

-- name: UpsertAgent :execrows
-- Writes one catalogue entry; an existing row is replaced only when the
-- catalogue's version is higher. The enabled flag is the console's.
INSERT INTO agents (slug, name, tagline, description, capabilities, min_plan, system_prompt, tools, default_settings, version)
VALUES (@slug, @name, @tagline, @description, @capabilities, @min_plan, @system_prompt, @tools, @default_settings, @version)
ON CONFLICT (slug) DO UPDATE SET
    name = EXCLUDED.name, tagline = EXCLUDED.tagline, description = EXCLUDED.description,
    capabilities = EXCLUDED.capabilities, min_plan = EXCLUDED.min_plan, system_prompt = EXCLUDED.system_prompt,
    tools = EXCLUDED.tools, default_settings = EXCLUDED.default_settings, version = EXCLUDED.version, updated_at = now()
WHERE agents.version < EXCLUDED.version;

-- name: ListAgents :many
SELECT * FROM agents ORDER BY CASE min_plan WHEN 'free' THEN 0 WHEN 'starter' THEN 1 WHEN 'professional' THEN 2 ELSE 3 END, name;

-- name: GetAgent :one
SELECT * FROM agents WHERE slug = @slug;

-- name: UpdateAgentListing :one
UPDATE agents SET description = @description, min_plan = @min_plan, enabled = @enabled, updated_at = now()
WHERE slug = @slug RETURNING *;

-- name: ListAgentInstallations :many
SELECT * FROM agent_installations WHERE organization_id = @organization_id ORDER BY created_at, id;

-- name: GetAgentInstallation :one
SELECT * FROM agent_installations WHERE organization_id = @organization_id AND agent_slug = @agent_slug;

-- name: InstallAgent :one
INSERT INTO agent_installations (organization_id, agent_slug, settings, installed_by)
VALUES (@organization_id, @agent_slug, @settings, @installed_by)
RETURNING *;

-- name: InstallDefaultAgent :execrows
-- Installs a registry agent with its default settings when the registry
-- has it (new organizations get Luca this way).
INSERT INTO agent_installations (organization_id, agent_slug, settings, installed_by)
SELECT @organization_id, a.slug, a.default_settings, sqlc.narg(installed_by)::uuid FROM agents a WHERE a.slug = @agent_slug
ON CONFLICT (organization_id, agent_slug) DO NOTHING;

-- name: SetAgentInstallationEnabled :one
UPDATE agent_installations SET enabled = @enabled, updated_at = now()
WHERE organization_id = @organization_id AND agent_slug = @agent_slug RETURNING *;

-- name: UpdateAgentInstallationSettings :one
UPDATE agent_installations SET settings = @settings, updated_at = now()
WHERE organization_id = @organization_id AND agent_slug = @agent_slug RETURNING *;

-- name: CountAgentInstallations :one
SELECT count(*)::bigint FROM agent_installations WHERE organization_id = @organization_id;
