-- AI agents' tools and the approval queue (internal/agents/tools).

-- name: CreateAgentProposal :one
INSERT INTO agent_proposals (organization_id, run_id, tool_call_id, agent_slug, action, requested_by, client_id, summary, arguments)
VALUES (@organization_id, @run_id, @tool_call_id, @agent_slug, @action, @requested_by, @client_id, @summary, @arguments)
RETURNING *;

-- name: GetAgentProposal :one
SELECT p.*,
       coalesce(c.name, '')::text AS client_name,
       coalesce(a.name, p.agent_slug)::text AS agent_name,
       coalesce(ru.email, '')::text AS requested_by_email,
       coalesce(ru.name, '')::text AS requested_by_name,
       coalesce(du.email, '')::text AS decided_by_email,
       coalesce(du.name, '')::text AS decided_by_name
FROM agent_proposals p
LEFT JOIN clients c ON c.organization_id = p.organization_id AND c.id = p.client_id
LEFT JOIN agents a ON a.slug = p.agent_slug
LEFT JOIN users ru ON ru.id = p.requested_by
LEFT JOIN users du ON du.id = p.decided_by
WHERE p.organization_id = @organization_id AND p.id = @id;

-- name: LockAgentProposal :one
-- Locks the proposal while it is decided, so two people approving at once
-- cannot both execute it.
SELECT * FROM agent_proposals WHERE organization_id = @organization_id AND id = @id FOR UPDATE;

-- name: ListAgentProposals :many
SELECT p.id, p.run_id, p.agent_slug, p.action, p.client_id, p.summary, p.status, p.auto_run, p.edited,
       p.decided_at, p.reject_reason, p.result, p.result_type, p.result_id, p.created_at,
       p.arguments, p.final_arguments, p.requested_by, p.decided_by,
       coalesce(c.name, '')::text AS client_name,
       coalesce(a.name, p.agent_slug)::text AS agent_name,
       coalesce(ru.email, '')::text AS requested_by_email,
       coalesce(du.email, '')::text AS decided_by_email,
       count(*) OVER ()::int AS total
FROM agent_proposals p
LEFT JOIN clients c ON c.organization_id = p.organization_id AND c.id = p.client_id
LEFT JOIN agents a ON a.slug = p.agent_slug
LEFT JOIN users ru ON ru.id = p.requested_by
LEFT JOIN users du ON du.id = p.decided_by
WHERE p.organization_id = @organization_id
  AND (@status::text = '' OR p.status = @status)
  AND (@agent_slug::text = '' OR p.agent_slug = @agent_slug)
  AND (@action::text = '' OR p.action = @action)
  AND (sqlc.narg(client_id)::uuid IS NULL OR p.client_id = sqlc.narg(client_id))
ORDER BY p.created_at DESC, p.id
LIMIT @max_rows OFFSET @skip;

-- name: CountPendingAgentProposals :one
SELECT count(*)::int FROM agent_proposals WHERE organization_id = @organization_id AND status = 'pending';

-- name: MarkAgentProposalExecuted :one
UPDATE agent_proposals
SET status = 'executed', final_arguments = @final_arguments, edited = @edited, auto_run = @auto_run,
    decided_by = sqlc.narg(decided_by), decided_at = now(), result = @result, result_type = @result_type,
    result_id = sqlc.narg(result_id), updated_at = now()
WHERE organization_id = @organization_id AND id = @id AND status = 'pending'
RETURNING *;

-- name: RejectAgentProposal :one
UPDATE agent_proposals
SET status = 'rejected', decided_by = @decided_by, decided_at = now(), reject_reason = @reject_reason, updated_at = now()
WHERE organization_id = @organization_id AND id = @id AND status = 'pending'
RETURNING *;

-- name: ListAgentActionPolicies :many
SELECT * FROM agent_action_policies WHERE organization_id = @organization_id ORDER BY action;

-- name: GetAgentActionAutoRun :one
SELECT coalesce((SELECT auto_run FROM agent_action_policies
                 WHERE organization_id = @organization_id AND action = @action), false)::boolean;

-- name: UpsertAgentActionPolicy :one
INSERT INTO agent_action_policies (organization_id, action, auto_run, updated_by)
VALUES (@organization_id, @action, @auto_run, @updated_by)
ON CONFLICT (organization_id, action) DO UPDATE
SET auto_run = EXCLUDED.auto_run, updated_by = EXCLUDED.updated_by, updated_at = now()
RETURNING *;

-- name: CreateClientNote :one
INSERT INTO client_notes (organization_id, client_id, body, created_by, proposal_id)
VALUES (@organization_id, @client_id, @body, @created_by, sqlc.narg(proposal_id))
RETURNING *;

-- name: ListClientNotes :many
SELECT n.*, coalesce(u.name, '')::text AS author_name
FROM client_notes n
LEFT JOIN users u ON u.id = n.created_by
WHERE n.organization_id = @organization_id AND n.client_id = @client_id
ORDER BY n.created_at DESC, n.id
LIMIT @max_rows;

-- name: MatchClientsForAgent :many
-- Active clients whose name the query mentions (any significant word of
-- it, English stemming) or contains, best first: the client passages of
-- the search_documents tool.
WITH q AS (
    SELECT replace(plainto_tsquery('english', @query::text)::text, ' & ', ' | ') AS words
)
SELECT c.id, c.name, c.kind, c.email, c.phone, c.tax_id, c.address, c.notes,
       (ts_rank(to_tsvector('english', c.name), CASE WHEN q.words = '' THEN ''::tsquery ELSE q.words::tsquery END)
         + CASE WHEN position(lower(@query::text) IN lower(c.name)) > 0 THEN 1 ELSE 0 END
         + CASE WHEN position(lower(c.name) IN lower(@query::text)) > 0 THEN 1 ELSE 0 END)::float8 AS rank
FROM clients c, q
WHERE c.organization_id = @organization_id AND c.archived_at IS NULL
  AND ((q.words <> '' AND to_tsvector('english', c.name) @@ q.words::tsquery)
       OR position(lower(@query::text) IN lower(c.name)) > 0
       OR position(lower(c.name) IN lower(@query::text)) > 0)
ORDER BY rank DESC, lower(c.name), c.id
LIMIT @max_rows;

-- name: FindClientsByName :many
-- Clients (active first) whose name contains the text, for read_client.
SELECT * FROM clients
WHERE organization_id = @organization_id AND position(lower(@name::text) IN lower(name)) > 0
ORDER BY (archived_at IS NOT NULL), (lower(name) = lower(@name::text)) DESC, lower(name), id
LIMIT @max_rows;

-- name: GetClientContact :one
SELECT * FROM client_contacts WHERE organization_id = @organization_id AND client_id = @client_id AND id = @id;
