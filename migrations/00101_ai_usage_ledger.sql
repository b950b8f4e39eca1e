-- +goose Up

-- The AI usage ledger (internal/agents/usage): one row per completed model
-- call of a run, with its tokens and its cost at the price of the day, per
-- organization, member, agent and client. Append-only for the application.
CREATE TABLE ai_usage_entries (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    -- The run (no foreign key: runs have their own table and retention).
    run_id          uuid NOT NULL,
    user_id         uuid REFERENCES users (id) ON DELETE SET NULL,
    agent_slug      text NOT NULL CHECK (length(agent_slug) BETWEEN 1 AND 40),
    client_id       uuid,
    provider        text NOT NULL CHECK (length(provider) BETWEEN 1 AND 40),
    model           text NOT NULL CHECK (length(model) <= 200),
    input_tokens    integer NOT NULL CHECK (input_tokens >= 0),
    output_tokens   integer NOT NULL CHECK (output_tokens >= 0),
    -- Cost in billionths of a US dollar (integer arithmetic, no rounding
    -- drift over many small calls).
    cost_nanos      bigint NOT NULL CHECK (cost_nanos >= 0),
    -- false: the model is not in the price table, so its cost counts as 0
    -- and the usage page says so.
    priced          boolean NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id)
);
-- Month totals (budget checks on every run) are index-only scans.
CREATE INDEX ai_usage_entries_time_idx ON ai_usage_entries (organization_id, created_at)
    INCLUDE (input_tokens, output_tokens, cost_nanos);
CREATE INDEX ai_usage_entries_run_idx ON ai_usage_entries (organization_id, run_id);

-- The organization's monthly AI budget: a warning at warn_percent of a cap
-- (or of the plan's token limit), and hard caps in tokens and/or cost.
CREATE TABLE ai_budgets (
    organization_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    warn_percent    integer NOT NULL DEFAULT 80 CHECK (warn_percent BETWEEN 1 AND 100),
    cap_tokens      bigint CHECK (cap_tokens > 0),
    cap_cost_nanos  bigint CHECK (cap_cost_nanos > 0),
    updated_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One budget warning per organization and month (UTC): the row is the
-- proof the notification was sent, so concurrent runs send it once.
CREATE TABLE ai_budget_warnings (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    month           text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    limit_kind      text NOT NULL CHECK (limit_kind IN ('tokens', 'cost', 'plan')),
    used            bigint NOT NULL,
    limit_value     bigint NOT NULL,
    recipients      integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, month)
);

ALTER TABLE ai_usage_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_usage_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON ai_usage_entries USING (app_org_visible(organization_id));

ALTER TABLE ai_budgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_budgets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON ai_budgets USING (app_org_visible(organization_id));

ALTER TABLE ai_budget_warnings ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_budget_warnings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON ai_budget_warnings USING (app_org_visible(organization_id));

GRANT SELECT, INSERT ON ai_usage_entries, ai_budget_warnings TO accute_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ai_budgets TO accute_app;

-- +goose Down
DROP TABLE ai_budget_warnings, ai_budgets, ai_usage_entries;
