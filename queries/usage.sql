-- The AI usage ledger and budgets (internal/agents/usage). Months are
-- calendar months in UTC: callers pass [@starts_at, @ends_at).

-- name: InsertAIUsageEntry :one
INSERT INTO ai_usage_entries (organization_id, run_id, user_id, agent_slug, client_id, provider, model,
    input_tokens, output_tokens, cost_nanos, priced)
VALUES (@organization_id, @run_id, sqlc.narg(user_id), @agent_slug, sqlc.narg(client_id), @provider, @model,
    @input_tokens, @output_tokens, @cost_nanos, @priced)
RETURNING *;

-- name: SumAIUsage :one
SELECT coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
       coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
       coalesce(sum(cost_nanos), 0)::bigint AS cost_nanos,
       count(*)::bigint AS entries
FROM ai_usage_entries
WHERE organization_id = @organization_id AND created_at >= @starts_at AND created_at < @ends_at;

-- name: SumAITokensBetween :one
-- The plan's AI-token limit counts input and output tokens alike
-- (internal/billing).
SELECT coalesce(sum(input_tokens::bigint + output_tokens), 0)::bigint
FROM ai_usage_entries
WHERE organization_id = @organization_id AND created_at >= @starts_at AND created_at < @ends_at;

-- name: AIUsageByDay :many
SELECT extract(day FROM created_at AT TIME ZONE 'UTC')::int AS day,
       sum(input_tokens::bigint + output_tokens)::bigint AS tokens,
       sum(cost_nanos)::bigint AS cost_nanos
FROM ai_usage_entries
WHERE organization_id = @organization_id AND created_at >= @starts_at AND created_at < @ends_at
GROUP BY 1
ORDER BY 1;

-- name: AIUsageByAgent :many
SELECT e.agent_slug AS key, coalesce(a.name, e.agent_slug)::text AS label,
       sum(e.input_tokens::bigint + e.output_tokens)::bigint AS tokens,
       sum(e.cost_nanos)::bigint AS cost_nanos,
       count(DISTINCT e.run_id)::bigint AS runs
FROM ai_usage_entries e
LEFT JOIN agents a ON a.slug = e.agent_slug
WHERE e.organization_id = @organization_id AND e.created_at >= @starts_at AND e.created_at < @ends_at
GROUP BY e.agent_slug, a.name
ORDER BY tokens DESC, key;

-- name: AIUsageByUser :many
SELECT coalesce(e.user_id::text, '')::text AS key, coalesce(u.name, u.email, '')::text AS label,
       sum(e.input_tokens::bigint + e.output_tokens)::bigint AS tokens,
       sum(e.cost_nanos)::bigint AS cost_nanos,
       count(DISTINCT e.run_id)::bigint AS runs
FROM ai_usage_entries e
LEFT JOIN users u ON u.id = e.user_id
WHERE e.organization_id = @organization_id AND e.created_at >= @starts_at AND e.created_at < @ends_at
GROUP BY e.user_id, u.name, u.email
ORDER BY tokens DESC, key;

-- name: AIUsageByClient :many
SELECT coalesce(e.client_id::text, '')::text AS key, coalesce(c.name, '')::text AS label,
       sum(e.input_tokens::bigint + e.output_tokens)::bigint AS tokens,
       sum(e.cost_nanos)::bigint AS cost_nanos,
       count(DISTINCT e.run_id)::bigint AS runs
FROM ai_usage_entries e
LEFT JOIN clients c ON c.organization_id = e.organization_id AND c.id = e.client_id
WHERE e.organization_id = @organization_id AND e.created_at >= @starts_at AND e.created_at < @ends_at
GROUP BY e.client_id, c.name
ORDER BY tokens DESC, key;

-- name: AIUsageUnpricedModels :many
-- Models of the month that the price table does not know (counted as 0).
SELECT provider, model, sum(input_tokens::bigint + output_tokens)::bigint AS tokens
FROM ai_usage_entries
WHERE organization_id = @organization_id AND created_at >= @starts_at AND created_at < @ends_at AND NOT priced
GROUP BY provider, model
ORDER BY tokens DESC, provider, model;

-- name: ListAIUsageEntries :many
-- The month's entries, oldest first, in pages after (created_at, id), for
-- the CSV export.
SELECT e.id, e.created_at, e.run_id, e.agent_slug, e.provider, e.model, e.input_tokens, e.output_tokens,
       e.cost_nanos, e.priced, e.client_id,
       coalesce(u.email, '')::text AS user_email,
       coalesce(c.name, '')::text AS client_name
FROM ai_usage_entries e
LEFT JOIN users u ON u.id = e.user_id
LEFT JOIN clients c ON c.organization_id = e.organization_id AND c.id = e.client_id
WHERE e.organization_id = @organization_id AND e.created_at >= @starts_at AND e.created_at < @ends_at
  AND (e.created_at, e.id) > (@after_time::timestamptz, @after_id::uuid)
ORDER BY e.created_at, e.id
LIMIT @max_rows;

-- name: ListAIUsageMonths :many
-- Months (UTC, 'YYYY-MM') with usage since @since, newest first: one index
-- probe per month (ai_usage_entries_time_idx), not a read of every entry.
SELECT to_char(m, 'YYYY-MM')::text AS month
FROM generate_series(date_trunc('month', (sqlc.arg(since)::timestamptz) AT TIME ZONE 'UTC'),
                     now() AT TIME ZONE 'UTC', interval '1 month') AS m
WHERE EXISTS (
    SELECT 1 FROM ai_usage_entries e
    WHERE e.organization_id = @organization_id
      AND e.created_at >= (m AT TIME ZONE 'UTC') AND e.created_at < ((m + interval '1 month') AT TIME ZONE 'UTC')
)
ORDER BY m DESC;

-- name: GetAIBudget :one
SELECT * FROM ai_budgets WHERE organization_id = @organization_id;

-- name: UpsertAIBudget :one
INSERT INTO ai_budgets (organization_id, warn_percent, cap_tokens, cap_cost_nanos, updated_by)
VALUES (@organization_id, @warn_percent, sqlc.narg(cap_tokens), sqlc.narg(cap_cost_nanos), @updated_by)
ON CONFLICT (organization_id) DO UPDATE
SET warn_percent = EXCLUDED.warn_percent, cap_tokens = EXCLUDED.cap_tokens,
    cap_cost_nanos = EXCLUDED.cap_cost_nanos, updated_by = EXCLUDED.updated_by, updated_at = now()
RETURNING *;

-- name: InsertAIBudgetWarning :one
-- Claims the month's warning: a row comes back only for the first claim.
INSERT INTO ai_budget_warnings (organization_id, month, limit_kind, used, limit_value, recipients)
VALUES (@organization_id, @month, @limit_kind, @used, @limit_value, @recipients)
ON CONFLICT (organization_id, month) DO NOTHING
RETURNING *;

-- name: GetAIBudgetWarning :one
SELECT * FROM ai_budget_warnings WHERE organization_id = @organization_id AND month = @month;

-- name: ListAIBudgetRecipients :many
-- Who is told about the budget: owners and admins, and members of custom
-- roles that may manage agents.
SELECT u.email, u.name
FROM memberships m
JOIN users u ON u.id = m.user_id
LEFT JOIN roles r ON r.organization_id = m.organization_id AND r.id = m.custom_role_id
WHERE m.organization_id = @organization_id AND u.suspended_at IS NULL
  AND (m.role IN ('owner', 'admin') OR (m.role = 'custom' AND 'agents.manage' = ANY (r.permissions)))
ORDER BY u.email;
