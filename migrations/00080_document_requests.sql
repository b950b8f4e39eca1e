-- +goose Up

-- Document requests: a firm asks a client for documents (a title,
-- instructions, a due date and optionally a list of expected items); the
-- client uploads against the request in the portal, each upload a real
-- document (internal/documents); staff accept or reject (with a reason,
-- which sends it back to the client). See internal/requests.
--
-- status: open (waiting for the client) -> submitted (the client uploaded
-- something) -> accepted | rejected (back to the client, who uploads again:
-- submitted); cancelled by staff from any state but accepted.
CREATE TABLE document_requests (
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    client_id        uuid NOT NULL,
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    instructions     text NOT NULL DEFAULT '' CHECK (length(instructions) <= 5000),
    due_on           date NOT NULL,
    status           text NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'submitted', 'accepted', 'rejected', 'cancelled')),
    -- Automatic reminders to the client before and after the due date.
    reminders        boolean NOT NULL DEFAULT true,
    -- The last rejection's reason (shown to the client while rejected),
    -- and the cancellation's, if any.
    rejection_reason text NOT NULL DEFAULT '' CHECK (length(rejection_reason) <= 2000),
    cancel_reason    text NOT NULL DEFAULT '' CHECK (length(cancel_reason) <= 2000),
    created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    submitted_at     timestamptz,
    reviewed_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    reviewed_at      timestamptz,
    closed_at        timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id)
);
-- The lists: by due date, optionally by status or client.
CREATE INDEX document_requests_due_idx ON document_requests (organization_id, due_on, id);
CREATE INDEX document_requests_client_idx ON document_requests (organization_id, client_id, due_on);
-- The reminder sweep: requests waiting for their client, across
-- organizations (platform mode), by due date.
CREATE INDEX document_requests_remind_idx ON document_requests (due_on, organization_id)
    WHERE status IN ('open', 'rejected') AND reminders;

-- The expected items ("Bank statement - January"), in order.
CREATE TABLE document_request_items (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    request_id      uuid NOT NULL,
    position        integer NOT NULL CHECK (position >= 0),
    label           text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, request_id, position),
    -- The target of document_request_uploads' item key, which pins an
    -- upload's item to the upload's own request.
    UNIQUE (organization_id, request_id, id),
    FOREIGN KEY (organization_id, request_id) REFERENCES document_requests (organization_id, id) ON DELETE CASCADE
);

-- Each file uploaded against a request is a document of its own; this
-- links it to the request and, optionally, to one of its items.
CREATE TABLE document_request_uploads (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    request_id      uuid NOT NULL,
    item_id         uuid,
    document_id     uuid NOT NULL,
    uploaded_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, document_id),
    FOREIGN KEY (organization_id, request_id) REFERENCES document_requests (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, request_id, item_id) REFERENCES document_request_items (organization_id, request_id, id),
    FOREIGN KEY (organization_id, document_id) REFERENCES documents (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX document_request_uploads_request_idx ON document_request_uploads (organization_id, request_id, created_at);

-- Reminders sent, one row per request and step (due_soon, overdue_1,
-- overdue_2, ...): the unique key is what makes the reminder job
-- idempotent across retries and instances.
CREATE TABLE document_request_reminders (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    request_id      uuid NOT NULL,
    step            text NOT NULL CHECK (step ~ '^(due_soon|overdue_[1-9][0-9]*)$'),
    recipients      integer NOT NULL CHECK (recipients >= 0),
    sent_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, request_id, step),
    FOREIGN KEY (organization_id, request_id) REFERENCES document_requests (organization_id, id) ON DELETE CASCADE
);

-- The request's history as staff and the client see it (the audit trail
-- keeps the firm's own record).
CREATE TABLE document_request_events (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    request_id      uuid NOT NULL,
    kind            text NOT NULL
                    CHECK (kind IN ('created', 'uploaded', 'submitted', 'accepted', 'rejected', 'cancelled', 'reminded')),
    actor_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    -- The actor's name when it happened (empty for the reminder job).
    actor_name      text NOT NULL DEFAULT '',
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, request_id) REFERENCES document_requests (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX document_request_events_request_idx ON document_request_events (organization_id, request_id, created_at);

ALTER TABLE document_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON document_requests USING (app_org_visible(organization_id));

ALTER TABLE document_request_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_request_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON document_request_items USING (app_org_visible(organization_id));

ALTER TABLE document_request_uploads ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_request_uploads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON document_request_uploads USING (app_org_visible(organization_id));

ALTER TABLE document_request_reminders ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_request_reminders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON document_request_reminders USING (app_org_visible(organization_id));

ALTER TABLE document_request_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_request_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON document_request_events USING (app_org_visible(organization_id));

GRANT SELECT, INSERT, UPDATE, DELETE ON document_requests, document_request_items, document_request_uploads,
    document_request_reminders, document_request_events TO accute_app;
-- History is append-only for the application.
REVOKE UPDATE, DELETE ON document_request_events, document_request_reminders FROM accute_app;

-- +goose Down
DROP TABLE document_request_events, document_request_reminders, document_request_uploads,
    document_request_items, document_requests;
