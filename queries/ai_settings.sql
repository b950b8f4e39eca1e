-- An organization's AI provider settings (internal/agents/providers.go).

-- name: GetOrgAISettings :one
SELECT * FROM org_ai_settings WHERE organization_id = @organization_id;

-- name: UpsertOrgAISettings :one
-- Saves everything but the key; a new row gets its id here, so the key can
-- be sealed to it afterwards (SetOrgAIKey).
INSERT INTO org_ai_settings (organization_id, provider, base_url, model, azure_api_version, azure_deployment, updated_by)
VALUES (@organization_id, @provider, @base_url, @model, @azure_api_version, @azure_deployment, @updated_by)
ON CONFLICT (organization_id) DO UPDATE SET
    provider = EXCLUDED.provider, base_url = EXCLUDED.base_url, model = EXCLUDED.model,
    azure_api_version = EXCLUDED.azure_api_version, azure_deployment = EXCLUDED.azure_deployment,
    updated_by = EXCLUDED.updated_by, updated_at = now()
RETURNING *;

-- name: SetOrgAIKey :execrows
-- Sets (sealed) or removes (NULL) the API key.
UPDATE org_ai_settings
SET api_key = sqlc.narg(api_key)::bytea,
    api_key_set_at = CASE WHEN sqlc.narg(api_key)::bytea IS NULL THEN NULL ELSE now() END,
    updated_by = @updated_by, updated_at = now()
WHERE organization_id = @organization_id AND id = @id;

-- name: DeleteOrgAISettings :one
DELETE FROM org_ai_settings WHERE organization_id = @organization_id RETURNING *;
