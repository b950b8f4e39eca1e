-- +goose Up

-- Conversations with AI agents and their runs (internal/agents/runs.go).
--
-- A conversation belongs to one member and one agent, optionally about one
-- client. Every message a member sends starts a run: the run is persisted
-- (queued) together with the member's message and the job that executes it,
-- in one transaction. The worker appends what it produces to
-- agent_run_events, numbered by seq; the SSE streams read those rows, so a
-- browser that reconnects with Last-Event-ID resumes exactly where it was, on
-- any instance. The finished answer is stored as an assistant message with
-- its citations; the events stay as the run's record.

CREATE TABLE agent_conversations (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    -- Conversations are private to the member who holds them.
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    agent_slug      text NOT NULL REFERENCES agents (slug),
    client_id       uuid,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Bumped by every run, for "most recent first" lists.
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id)
);
CREATE INDEX agent_conversations_user_idx ON agent_conversations (organization_id, user_id, agent_slug, updated_at DESC, id);

CREATE TABLE agent_runs (
    organization_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                  uuid NOT NULL DEFAULT gen_random_uuid(),
    conversation_id     uuid NOT NULL,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    agent_slug          text NOT NULL REFERENCES agents (slug),
    client_id           uuid,
    status              text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    -- What the member is told when the run failed (provider.UserMessage);
    -- error_detail is the provider's own words, for operators only.
    error               text NOT NULL DEFAULT '',
    error_detail        text NOT NULL DEFAULT '',
    provider            text NOT NULL DEFAULT '',
    model               text NOT NULL DEFAULT '',
    input_tokens        integer NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens       integer NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    tool_calls          integer NOT NULL DEFAULT 0 CHECK (tool_calls >= 0),
    -- Set by "cancel" (any instance); the worker, told by NOTIFY, stops.
    cancel_requested_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, conversation_id) REFERENCES agent_conversations (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id),
    CHECK ((status IN ('queued', 'running')) = (finished_at IS NULL))
);
CREATE INDEX agent_runs_conversation_idx ON agent_runs (organization_id, conversation_id, created_at, id);
-- One run at a time per conversation: a second message while an answer is
-- being written is refused (409), across instances and without a lock.
CREATE UNIQUE INDEX agent_runs_active_idx ON agent_runs (organization_id, conversation_id)
    WHERE status IN ('queued', 'running');

CREATE TABLE agent_messages (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    conversation_id uuid NOT NULL,
    -- The run the message started (user) or the run that wrote it
    -- (assistant).
    run_id          uuid NOT NULL,
    role            text NOT NULL CHECK (role IN ('user', 'assistant')),
    -- Markdown as written; rendered (sanitized) when shown.
    content         text NOT NULL CHECK (length(content) <= 200000),
    -- provider.Passage objects: the sources the answer cites.
    citations       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(citations) = 'array'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, conversation_id) REFERENCES agent_conversations (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, run_id) REFERENCES agent_runs (organization_id, id) ON DELETE CASCADE,
    UNIQUE (organization_id, run_id, role)
);
CREATE INDEX agent_messages_conversation_idx ON agent_messages (organization_id, conversation_id, created_at, id);

-- What a run produced, in order. seq is the SSE event id (1, 2, ...), per
-- run; the primary key is tenant-first like every other key. Only the run's
-- worker appends (or, for a run cancelled before it started, the cancel
-- itself), so rows become visible in seq order.
CREATE TABLE agent_run_events (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    run_id          uuid NOT NULL,
    seq             bigint NOT NULL CHECK (seq >= 1),
    type            text NOT NULL CHECK (type IN ('delta', 'status', 'done')),
    data            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, run_id, seq),
    FOREIGN KEY (organization_id, run_id) REFERENCES agent_runs (organization_id, id) ON DELETE CASCADE
);

ALTER TABLE agent_conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agent_conversations USING (app_org_visible(organization_id));

ALTER TABLE agent_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agent_runs USING (app_org_visible(organization_id));

ALTER TABLE agent_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agent_messages USING (app_org_visible(organization_id));

ALTER TABLE agent_run_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_run_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agent_run_events USING (app_org_visible(organization_id));

GRANT SELECT, INSERT, UPDATE, DELETE ON agent_conversations, agent_runs, agent_messages TO accute_app;
-- Events are an append-only record.
GRANT SELECT, INSERT ON agent_run_events TO accute_app;

-- +goose Down
DROP TABLE agent_run_events, agent_messages, agent_runs, agent_conversations;
