-- +goose Up

-- AI agents' actions (internal/agents/tools): what an agent proposes to do
-- (create a document request, e-mail a client contact, add a note to a
-- client) waits in an approval queue until a person approves it (as
-- proposed or edited) or rejects it with a reason; the organization's
-- policy may let an action run without approval, which still records the
-- proposal, as executed.

CREATE TABLE agent_proposals (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    -- The agent run that proposed it, and the model's tool call id. No
    -- foreign key: runs have their own table and retention.
    run_id          uuid NOT NULL,
    tool_call_id    text NOT NULL DEFAULT '',
    agent_slug      text NOT NULL REFERENCES agents (slug),
    action          text NOT NULL
                    CHECK (action IN ('create_document_request', 'draft_client_email', 'create_task_note')),
    -- The member whose conversation it came from.
    requested_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    client_id       uuid NOT NULL,
    summary         text NOT NULL CHECK (length(summary) BETWEEN 1 AND 300),
    -- As the agent proposed them (already validated), and as executed
    -- (different from arguments when a person edited them).
    arguments       jsonb NOT NULL,
    final_arguments jsonb,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'executed', 'rejected')),
    auto_run        boolean NOT NULL DEFAULT false,
    edited          boolean NOT NULL DEFAULT false,
    decided_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_at      timestamptz,
    reject_reason   text NOT NULL DEFAULT '' CHECK (length(reject_reason) <= 1000),
    -- What execution did, in words, and what it created.
    result          text NOT NULL DEFAULT '',
    result_type     text NOT NULL DEFAULT '',
    result_id       uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK (status <> 'rejected' OR reject_reason <> ''),
    CHECK (status <> 'executed' OR final_arguments IS NOT NULL)
);
CREATE INDEX agent_proposals_queue_idx ON agent_proposals (organization_id, status, created_at DESC, id);
CREATE INDEX agent_proposals_run_idx ON agent_proposals (organization_id, run_id);

-- Which actions may run without approval (no row: approval required).
CREATE TABLE agent_action_policies (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    action          text NOT NULL
                    CHECK (action IN ('create_document_request', 'draft_client_email', 'create_task_note')),
    auto_run        boolean NOT NULL DEFAULT false,
    updated_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, action)
);

-- Notes on a client, written by people or by an approved agent action
-- (create_task_note).
CREATE TABLE client_notes (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    client_id       uuid NOT NULL,
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    proposal_id     uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, proposal_id) REFERENCES agent_proposals (organization_id, id)
);
CREATE INDEX client_notes_client_idx ON client_notes (organization_id, client_id, created_at DESC);

ALTER TABLE agent_proposals ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_proposals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agent_proposals USING (app_org_visible(organization_id));

ALTER TABLE agent_action_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_action_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON agent_action_policies USING (app_org_visible(organization_id));

ALTER TABLE client_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE client_notes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON client_notes USING (app_org_visible(organization_id));

GRANT SELECT, INSERT, UPDATE, DELETE ON agent_proposals, agent_action_policies, client_notes TO accute_app;
-- A decided proposal is history: the application only inserts and decides.
REVOKE DELETE ON agent_proposals FROM accute_app;

-- +goose Down
DROP TABLE client_notes, agent_action_policies, agent_proposals;
