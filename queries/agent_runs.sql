-- Conversations with AI agents, their runs, messages and run events
-- (internal/agents/runs.go, executor.go). Conversations are private to the
-- member who holds them: reads by id take the user id too.

-- name: CreateAgentConversation :one
INSERT INTO agent_conversations (organization_id, user_id, agent_slug, client_id, title)
VALUES (@organization_id, @user_id, @agent_slug, sqlc.narg(client_id)::uuid, @title)
RETURNING *;

-- name: GetAgentConversation :one
SELECT v.*, coalesce(cl.name, '')::text AS client_name
FROM agent_conversations v
LEFT JOIN clients cl ON cl.organization_id = v.organization_id AND cl.id = v.client_id
WHERE v.organization_id = @organization_id AND v.id = @id AND v.user_id = @user_id;

-- name: ListAgentConversations :many
-- A member's conversations, most recent first, optionally of one agent.
-- Keyset pagination: the rows that come after the cursor's updated_at and
-- id in that order; the first page passes a far future time.
SELECT v.*, coalesce(cl.name, '')::text AS client_name
FROM agent_conversations v
LEFT JOIN clients cl ON cl.organization_id = v.organization_id AND cl.id = v.client_id
WHERE v.organization_id = @organization_id AND v.user_id = @user_id
  AND (@agent_slug::text = '' OR v.agent_slug = @agent_slug)
  AND (v.updated_at, v.id) < (@before_updated::timestamptz, @before_id::uuid)
ORDER BY v.updated_at DESC, v.id DESC
LIMIT @max_rows;

-- name: TouchAgentConversation :exec
UPDATE agent_conversations SET updated_at = now()
WHERE organization_id = @organization_id AND id = @id;

-- name: CreateAgentRun :one
INSERT INTO agent_runs (organization_id, conversation_id, user_id, agent_slug, client_id)
VALUES (@organization_id, @conversation_id, @user_id, @agent_slug, sqlc.narg(client_id)::uuid)
RETURNING *;

-- name: GetAgentRun :one
SELECT * FROM agent_runs WHERE organization_id = @organization_id AND id = @id;

-- name: ListAgentConversationRuns :many
-- The newest max_rows runs of a conversation, oldest first (the same
-- window as ListAgentMessages, whose messages they pair with).
SELECT * FROM (
    SELECT * FROM agent_runs
    WHERE organization_id = @organization_id AND conversation_id = @conversation_id
    ORDER BY created_at DESC, id DESC
    LIMIT @max_rows
) r ORDER BY created_at, id;

-- name: StartAgentRun :one
-- queued -> running, unless a cancel was asked first.
UPDATE agent_runs SET status = 'running', started_at = now(), provider = @provider, model = @model
WHERE organization_id = @organization_id AND id = @id AND status = 'queued' AND cancel_requested_at IS NULL
RETURNING *;

-- name: FinishAgentRun :one
UPDATE agent_runs SET status = @status, error = @error, error_detail = @error_detail,
    input_tokens = @input_tokens, output_tokens = @output_tokens, tool_calls = @tool_calls, finished_at = now()
WHERE organization_id = @organization_id AND id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: RequestAgentRunCancel :one
UPDATE agent_runs SET cancel_requested_at = coalesce(cancel_requested_at, now())
WHERE organization_id = @organization_id AND id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: CreateAgentMessage :one
INSERT INTO agent_messages (organization_id, conversation_id, run_id, role, content, citations)
VALUES (@organization_id, @conversation_id, @run_id, @role, @content, @citations)
RETURNING *;

-- name: ListAgentMessages :many
-- The newest max_rows messages of a conversation, oldest first.
SELECT * FROM (
    SELECT * FROM agent_messages
    WHERE organization_id = @organization_id AND conversation_id = @conversation_id
    ORDER BY created_at DESC, id DESC
    LIMIT @max_rows
) m ORDER BY created_at, id;

-- name: AppendAgentRunEvents :one
-- Appends events (seq, type, data as parallel arrays) and publishes payload
-- (the run and its newest seq) on channel in the same transaction: NOTIFY
-- is delivered at commit, when the rows are visible to every instance. It
-- answers whether a cancel was asked meanwhile (the worker's backstop to
-- the cancel NOTIFY).
WITH ins AS (
    INSERT INTO agent_run_events (organization_id, run_id, seq, type, data)
    -- Set-returning functions of equal length in one select list zip.
    SELECT @organization_id, @run_id, unnest(@seqs::bigint[]), unnest(@types::text[]), unnest(@datas::jsonb[])
    RETURNING seq
)
SELECT (SELECT count(*) FROM ins)::int AS appended,
       pg_notify(@channel::text, @payload::text)::text AS notified,
       coalesce((SELECT r.cancel_requested_at IS NOT NULL FROM agent_runs r
                 WHERE r.organization_id = @organization_id AND r.id = @run_id), false)::boolean AS cancel_requested;

-- name: ListAgentRunEvents :many
SELECT seq, type, data FROM agent_run_events
WHERE organization_id = @organization_id AND run_id = @run_id AND seq > @after_seq
ORDER BY seq
LIMIT @max_rows;

-- name: LastAgentRunEventSeq :one
SELECT coalesce(max(seq), 0)::bigint FROM agent_run_events
WHERE organization_id = @organization_id AND run_id = @run_id;

-- name: ListAgentRunDeltas :many
-- The text a run streamed, for a run whose worker was interrupted.
SELECT data FROM agent_run_events
WHERE organization_id = @organization_id AND run_id = @run_id AND type = 'delta'
ORDER BY seq;

-- name: ListDocumentPassage :many
-- The chunks of a document's current version at a cited place (ref, as
-- search and citations word it: "page 3", "Summary!A1:D5"), for the
-- document page that opens a citation.
SELECT ch.seq, ch.ref, ch.content
FROM document_chunks ch
JOIN documents d ON d.organization_id = ch.organization_id AND d.id = ch.document_id
    AND d.current_version_id = ch.version_id
WHERE ch.organization_id = @organization_id AND ch.document_id = @document_id AND ch.ref = @ref
ORDER BY ch.seq
LIMIT 5;

-- name: ListAgentRunMessages :many
SELECT * FROM agent_messages
WHERE organization_id = @organization_id AND run_id = @run_id
ORDER BY created_at, id;

-- name: NotifyChannel :exec
-- Publishes payload on channel when the transaction commits.
SELECT pg_notify(@channel::text, @payload::text);
