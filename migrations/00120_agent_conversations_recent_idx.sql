-- +goose Up

-- A member's conversations, newest first (ListAgentConversations). The
-- index of 00093 put agent_slug before updated_at, but under the app's
-- generic plans the optional agent filter is never an index condition, so
-- that index could neither bound the keyset scan nor give its order: every
-- page read and sorted all of the member's conversations. The agent is now
-- checked on the rows this index returns in order.
CREATE INDEX agent_conversations_user_recent_idx ON agent_conversations (organization_id, user_id, updated_at DESC, id DESC);
DROP INDEX agent_conversations_user_idx;

-- +goose Down
CREATE INDEX agent_conversations_user_idx ON agent_conversations (organization_id, user_id, agent_slug, updated_at DESC, id);
DROP INDEX agent_conversations_user_recent_idx;
