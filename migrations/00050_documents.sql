-- +goose Up

-- Documents: encrypted content-addressed blobs per organization, documents
-- in folders with tags and versions, and the text chunks extraction writes.
-- River's job tables are not here: River's own migrator creates them (see
-- internal/store/river.go).

-- One data key per organization (more after a rotation, one active), stored
-- only wrapped (sealed) by the key ring. Blobs name the key that encrypted
-- them.
CREATE TABLE org_data_keys (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    wrapped_key     bytea NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id)
);
CREATE UNIQUE INDEX org_data_keys_active_idx ON org_data_keys (organization_id) WHERE active;

-- Content-addressed: one blob per distinct content (SHA-256 of the
-- plaintext) per organization, whoever uploads it and however often.
CREATE TABLE blobs (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    sha256          bytea NOT NULL CHECK (length(sha256) = 32),
    size            bigint NOT NULL CHECK (size >= 0),
    content_type    text NOT NULL,
    storage_key     text NOT NULL,
    data_key_id     uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, sha256),
    FOREIGN KEY (organization_id, data_key_id) REFERENCES org_data_keys (organization_id, id)
);

CREATE TABLE document_folders (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    parent_id       uuid,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    -- A folder with subfolders cannot be deleted.
    FOREIGN KEY (organization_id, parent_id) REFERENCES document_folders (organization_id, id),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX document_folders_name_idx ON document_folders
    (organization_id, coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name));

CREATE TABLE documents (
    organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                 uuid NOT NULL DEFAULT gen_random_uuid(),
    client_id          uuid,
    folder_id          uuid,
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    tags               text[] NOT NULL DEFAULT '{}',
    -- The current version, denormalized for lists.
    current_version_id uuid,
    version            integer NOT NULL DEFAULT 0,
    content_type       text NOT NULL DEFAULT '',
    size               bigint NOT NULL DEFAULT 0,
    -- Text extraction of the current version (the documents.parse job).
    parse_status       text NOT NULL DEFAULT 'queued'
                       CHECK (parse_status IN ('queued', 'parsing', 'parsed', 'failed', 'no_text')),
    parse_error        text NOT NULL DEFAULT '',
    parsed_at          timestamptz,
    archived_at        timestamptz,
    created_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, client_id) REFERENCES clients (organization_id, id),
    FOREIGN KEY (organization_id, folder_id) REFERENCES document_folders (organization_id, id)
);
CREATE INDEX documents_org_updated_idx ON documents (organization_id, updated_at DESC, id);
CREATE INDEX documents_client_idx ON documents (organization_id, client_id, updated_at DESC) WHERE client_id IS NOT NULL;
CREATE INDEX documents_folder_idx ON documents (organization_id, folder_id) WHERE folder_id IS NOT NULL;
CREATE INDEX documents_tags_idx ON documents USING gin (tags);

CREATE TABLE document_versions (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    document_id     uuid NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    blob_id         uuid NOT NULL,
    -- The name the file had on the uploader's machine.
    filename        text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    size            bigint NOT NULL CHECK (size >= 0),
    content_type    text NOT NULL,
    uploaded_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, document_id, version),
    FOREIGN KEY (organization_id, document_id) REFERENCES documents (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, blob_id) REFERENCES blobs (organization_id, id)
);
ALTER TABLE documents ADD FOREIGN KEY (organization_id, current_version_id)
    REFERENCES document_versions (organization_id, id) DEFERRABLE INITIALLY DEFERRED;

-- Extracted text, in chunks that keep where they came from, so search
-- results and agents' citations point at the exact place: a PDF page, a
-- spreadsheet's sheet and cell (or range), or lines of a text file.
CREATE TABLE document_chunks (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    document_id     uuid NOT NULL,
    version_id      uuid NOT NULL,
    seq             integer NOT NULL CHECK (seq >= 0),
    page            integer CHECK (page >= 1),
    sheet           text,
    cell            text,
    line_start      integer CHECK (line_start >= 1),
    line_end        integer CHECK (line_end >= line_start),
    content         text NOT NULL,
    tsv             tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, version_id, seq),
    FOREIGN KEY (organization_id, document_id) REFERENCES documents (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, version_id) REFERENCES document_versions (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX document_chunks_document_idx ON document_chunks (organization_id, document_id);
CREATE INDEX document_chunks_tsv_idx ON document_chunks USING gin (tsv);

ALTER TABLE org_data_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE org_data_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON org_data_keys USING (app_org_visible(organization_id));

ALTER TABLE blobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE blobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON blobs USING (app_org_visible(organization_id));

ALTER TABLE document_folders ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_folders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON document_folders USING (app_org_visible(organization_id));

ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON documents USING (app_org_visible(organization_id));

ALTER TABLE document_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON document_versions USING (app_org_visible(organization_id));

ALTER TABLE document_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON document_chunks USING (app_org_visible(organization_id));

GRANT SELECT, INSERT, UPDATE, DELETE ON org_data_keys, blobs, document_folders, documents,
    document_versions, document_chunks TO accute_app;
-- Data keys and blobs are never changed in place by the application.
REVOKE UPDATE ON blobs FROM accute_app;

-- +goose Down
DROP TABLE document_chunks;
ALTER TABLE documents DROP COLUMN current_version_id;
DROP TABLE document_versions, documents, document_folders, blobs, org_data_keys;
