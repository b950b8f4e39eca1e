-- Data keys ------------------------------------------------------------------

-- name: GetActiveDataKey :one
SELECT * FROM org_data_keys WHERE organization_id = @organization_id AND active;

-- name: GetDataKey :one
SELECT * FROM org_data_keys WHERE organization_id = @organization_id AND id = @id;

-- name: CreateDataKey :one
INSERT INTO org_data_keys (organization_id, id, wrapped_key)
VALUES (@organization_id, @id, @wrapped_key)
ON CONFLICT (organization_id) WHERE active DO NOTHING
RETURNING *;

-- Blobs ----------------------------------------------------------------------

-- name: GetBlobBySHA :one
SELECT * FROM blobs WHERE organization_id = @organization_id AND sha256 = @sha256;

-- name: InsertBlob :one
INSERT INTO blobs (organization_id, id, sha256, size, content_type, storage_key, data_key_id)
VALUES (@organization_id, @id, @sha256, @size, @content_type, @storage_key, @data_key_id)
ON CONFLICT (organization_id, sha256) DO NOTHING
RETURNING *;

-- Folders --------------------------------------------------------------------

-- name: ListDocumentFolders :many
SELECT f.*,
       (SELECT count(*) FROM documents d
        WHERE d.organization_id = f.organization_id AND d.folder_id = f.id AND d.archived_at IS NULL)::int AS documents
FROM document_folders f
WHERE f.organization_id = @organization_id
ORDER BY lower(f.name), f.id;

-- name: GetDocumentFolder :one
SELECT * FROM document_folders WHERE organization_id = @organization_id AND id = @id;

-- name: CreateDocumentFolder :one
-- No row when the name is taken at that level.
INSERT INTO document_folders (organization_id, parent_id, name, created_by)
VALUES (@organization_id, sqlc.narg(parent_id), @name, @created_by)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: DocumentFolderNameTaken :one
SELECT EXISTS (
    SELECT 1 FROM document_folders
    WHERE organization_id = @organization_id AND parent_id IS NOT DISTINCT FROM sqlc.narg(parent_id)
      AND lower(name) = lower(@name) AND id <> @exclude_id
)::boolean AS taken;

-- name: RenameDocumentFolder :one
UPDATE document_folders SET name = @name, updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: DocumentFolderInUse :one
SELECT (EXISTS (SELECT 1 FROM documents d WHERE d.organization_id = @organization_id AND d.folder_id = @id)
     OR EXISTS (SELECT 1 FROM document_folders s WHERE s.organization_id = @organization_id AND s.parent_id = @id))::boolean AS in_use;

-- name: DeleteDocumentFolder :one
DELETE FROM document_folders WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- Documents ------------------------------------------------------------------

-- name: ListDocuments :many
SELECT d.id, d.name, d.tags, d.version, d.content_type, d.size, d.parse_status, d.parse_error,
       d.archived_at, d.updated_at, d.client_id, d.folder_id,
       coalesce(c.name, '')::text AS client_name, coalesce(f.name, '')::text AS folder_name,
       count(*) OVER ()::int AS total
FROM documents d
LEFT JOIN clients c ON c.organization_id = d.organization_id AND c.id = d.client_id
LEFT JOIN document_folders f ON f.organization_id = d.organization_id AND f.id = d.folder_id
WHERE d.organization_id = @organization_id
  AND (CASE WHEN @archived::boolean THEN d.archived_at IS NOT NULL ELSE d.archived_at IS NULL END)
  AND (sqlc.narg(folder_id)::uuid IS NULL OR d.folder_id = sqlc.narg(folder_id))
  AND (NOT @unfiled::boolean OR d.folder_id IS NULL)
  AND (sqlc.narg(client_id)::uuid IS NULL OR d.client_id = sqlc.narg(client_id))
  AND (@tag::text = '' OR d.tags @> ARRAY[@tag::text])
  AND (@status::text = '' OR d.parse_status = @status)
  AND (@query::text = '' OR d.name ILIKE '%' || @query || '%')
ORDER BY d.updated_at DESC, d.id
LIMIT @max_rows OFFSET @skip;

-- name: ListDocumentTags :many
SELECT DISTINCT t::text AS tag
FROM documents d, unnest(d.tags) t
WHERE d.organization_id = @organization_id AND d.archived_at IS NULL
ORDER BY 1
LIMIT 200;

-- name: GetDocument :one
SELECT d.*, coalesce(c.name, '')::text AS client_name, coalesce(f.name, '')::text AS folder_name,
       coalesce(u.name, '')::text AS created_by_name
FROM documents d
LEFT JOIN clients c ON c.organization_id = d.organization_id AND c.id = d.client_id
LEFT JOIN document_folders f ON f.organization_id = d.organization_id AND f.id = d.folder_id
LEFT JOIN users u ON u.id = d.created_by
WHERE d.organization_id = @organization_id AND d.id = @id;

-- name: LockDocument :one
SELECT * FROM documents WHERE organization_id = @organization_id AND id = @id FOR UPDATE;

-- name: CreateDocument :one
INSERT INTO documents (organization_id, client_id, folder_id, name, tags, created_by)
VALUES (@organization_id, sqlc.narg(client_id), sqlc.narg(folder_id), @name, @tags, @created_by)
RETURNING *;

-- name: InsertDocumentVersion :one
INSERT INTO document_versions (organization_id, document_id, version, blob_id, filename, size, content_type, uploaded_by)
VALUES (@organization_id, @document_id, @version, @blob_id, @filename, @size, @content_type, @uploaded_by)
RETURNING *;

-- name: SetDocumentCurrentVersion :one
UPDATE documents SET current_version_id = @version_id, version = @version, content_type = @content_type, size = @size,
    parse_status = 'queued', parse_error = '', parsed_at = NULL, updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: UpdateDocumentDetails :one
UPDATE documents SET name = @name, folder_id = sqlc.narg(folder_id), client_id = sqlc.narg(client_id), tags = @tags,
    updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: SetDocumentArchived :one
UPDATE documents SET archived_at = CASE WHEN @archived::boolean THEN coalesce(archived_at, now()) ELSE NULL END,
    updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: ListDocumentVersions :many
SELECT v.*, encode(b.sha256, 'hex')::text AS sha256_hex, coalesce(u.name, '')::text AS uploaded_by_name
FROM document_versions v
JOIN blobs b ON b.organization_id = v.organization_id AND b.id = v.blob_id
LEFT JOIN users u ON u.id = v.uploaded_by
WHERE v.organization_id = @organization_id AND v.document_id = @document_id
ORDER BY v.version DESC;

-- name: GetDocumentVersionContent :one
-- What a download needs: the version, its document's name and the blob.
SELECT v.id, v.version, v.filename, v.size, v.content_type, v.created_at, d.name AS document_name,
       b.id AS blob_id, b.sha256, b.storage_key, b.data_key_id, b.size AS blob_size
FROM document_versions v
JOIN documents d ON d.organization_id = v.organization_id AND d.id = v.document_id
JOIN blobs b ON b.organization_id = v.organization_id AND b.id = v.blob_id
WHERE v.organization_id = @organization_id AND v.document_id = @document_id
  AND (sqlc.narg(version_id)::uuid IS NULL AND v.id = d.current_version_id OR v.id = sqlc.narg(version_id));

-- name: ListClientDocuments :many
SELECT d.id, d.name, d.version, d.content_type, d.size, d.parse_status, d.updated_at,
       count(*) OVER ()::int AS total
FROM documents d
WHERE d.organization_id = @organization_id AND d.client_id = @client_id AND d.archived_at IS NULL
ORDER BY d.updated_at DESC, d.id
LIMIT @max_rows;

-- Parsing --------------------------------------------------------------------

-- name: SetDocumentParseStatus :one
-- Only while version_id is still the current version: a newer upload has
-- its own job.
UPDATE documents SET parse_status = @parse_status, parse_error = @parse_error,
    parsed_at = CASE WHEN @parse_status IN ('parsed', 'no_text', 'failed') THEN now() END
WHERE organization_id = @organization_id AND id = @id AND current_version_id = @version_id
RETURNING *;

-- name: DeleteDocumentChunks :exec
DELETE FROM document_chunks WHERE organization_id = @organization_id AND version_id = @version_id;

-- name: InsertDocumentChunks :batchexec
INSERT INTO document_chunks (organization_id, document_id, version_id, seq, page, sheet, cell, line_start, line_end, content, ref, locator)
VALUES (@organization_id, @document_id, @version_id, @seq, sqlc.narg(page), sqlc.narg(sheet), sqlc.narg(cell),
        sqlc.narg(line_start), sqlc.narg(line_end), @content, @ref, coalesce(sqlc.narg(locator)::jsonb, '{}'));

-- name: ListClientChoices :many
-- Active clients for the document forms' client menus.
SELECT id, name FROM clients
WHERE organization_id = @organization_id AND archived_at IS NULL
ORDER BY lower(name), id
LIMIT 1000;

-- Search ---------------------------------------------------------------------

-- name: SearchDocumentChunks :many
-- Full-text search over the current versions' chunks of the organization's
-- active documents, best first. How many chunks match changes only the
-- index's bitmap, not how many rows are read, ranked, counted or sorted.
-- The GIN index on (tsv, facets) intersects the words with
-- the facet query (the organization, and the client, type and upload
-- months the filters ask for; migration 00111), so only chunks that can
-- pass the filters leave the index. The pool is the first pool_limit of
-- them that do pass (the filters are checked on the document itself), in
-- the index's order (the table's, roughly upload order); only the pool is
-- ranked and counted: the caller asks for one more than it shows, so a
-- full pool means "more than that". The fences (OFFSET 0) keep this shape
-- under the app role's generic plans, whose estimates for the optional
-- filters are far too low: the index scan drives, each candidate's
-- document is looked up by its key, and the scan stops when the pool is
-- full. The tsquery is written inline (not taken from a CTE) so that it
-- is an index condition, which under row-level security needs the
-- leakproof mark of migration 00110. No b-tree can serve the organization
-- condition (IS TRUE), on purpose: a generic plan cannot tell a large firm
-- from a small one, and testing the words on every chunk of a large firm
-- is the cost this query avoids; the facets carry the organization into
-- the GIN index instead. The text is read for the page's rows only, for
-- their snippets (migration 00112), which mark matches with U+E000 and
-- U+E001 (removed from the text first); the caller turns them into <mark>
-- after escaping the text.
WITH pool AS MATERIALIZED (
    SELECT ch.id, ch.document_id, ch.seq, ch.page, ch.sheet, ch.cell, ch.line_start, ch.line_end, ch.ref,
           d.name AS document_name, d.content_type, d.client_id, d.created_at AS document_created_at,
           ts_rank_cd(ch.tsv, websearch_to_tsquery('english', @query::text), 32)::float8 AS rank
    FROM (
        SELECT c.id, c.document_id, c.version_id, c.seq, c.page, c.sheet, c.cell, c.line_start, c.line_end, c.ref, c.tsv
        FROM document_chunks c
        WHERE (c.organization_id = @organization_id) IS TRUE
          AND c.tsv @@ websearch_to_tsquery('english', @query::text)
          AND c.facets @@ CAST(@facets::text AS tsquery)
        OFFSET 0
    ) ch
    CROSS JOIN LATERAL (
        SELECT d.name, d.content_type, d.client_id, d.created_at
        FROM documents d
        WHERE d.organization_id = @organization_id AND d.id = ch.document_id AND d.current_version_id = ch.version_id
          AND d.archived_at IS NULL
          AND (sqlc.narg(client_id)::uuid IS NULL OR d.client_id = sqlc.narg(client_id)::uuid)
          AND (@content_type::text = '' OR d.content_type = @content_type::text)
          AND (sqlc.narg(created_from)::timestamptz IS NULL OR d.created_at >= sqlc.narg(created_from)::timestamptz)
          AND (sqlc.narg(created_before)::timestamptz IS NULL OR d.created_at < sqlc.narg(created_before)::timestamptz)
        OFFSET 0
    ) d
    LIMIT @pool_limit
),
hits AS (
    SELECT p.*, count(*) OVER ()::int AS total
    FROM pool p
    ORDER BY p.rank DESC, p.document_created_at DESC, p.document_id, p.seq
    LIMIT @max_rows OFFSET @skip
)
SELECT h.document_id, h.seq, h.page, h.sheet, h.cell, h.line_start, h.line_end, h.ref,
       h.document_name, h.content_type, h.client_id, h.document_created_at, h.rank, h.total,
       coalesce(c.name, '')::text AS client_name,
       search_snippet(ch.content, @query::text)::text AS snippet
FROM hits h
JOIN document_chunks ch ON ch.organization_id = @organization_id AND ch.id = h.id
LEFT JOIN clients c ON c.organization_id = @organization_id AND c.id = h.client_id
ORDER BY h.rank DESC, h.document_created_at DESC, h.document_id, h.seq;

-- name: SearchMatchIsLeakproof :one
-- Whether tsvector @@ tsquery may use the search index under row-level
-- security (migration 00110).
SELECT coalesce((SELECT p.proleakproof FROM pg_catalog.pg_proc p WHERE p.oid = 'pg_catalog.ts_match_vq(tsvector, tsquery)'::regprocedure), false)::boolean AS leakproof;
