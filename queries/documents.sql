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
-- active documents, best first. The snippet marks matches with U+E000 and
-- U+E001 (removed from the text first), which the caller turns into
-- <mark> after escaping the text.
WITH q AS (SELECT websearch_to_tsquery('english', @query::text) AS tsq),
hits AS (
    SELECT ch.document_id, ch.seq, ch.page, ch.sheet, ch.cell, ch.line_start, ch.line_end, ch.ref, ch.content,
           d.name AS document_name, d.content_type, d.client_id, d.created_at AS document_created_at,
           ts_rank_cd(ch.tsv, q.tsq, 32)::float8 AS rank,
           count(*) OVER ()::int AS total
    FROM q, document_chunks ch
    JOIN documents d ON d.organization_id = ch.organization_id AND d.id = ch.document_id
        AND d.current_version_id = ch.version_id
    WHERE ch.organization_id = @organization_id AND ch.tsv @@ q.tsq
      AND d.archived_at IS NULL
      AND (sqlc.narg(client_id)::uuid IS NULL OR d.client_id = sqlc.narg(client_id))
      AND (@content_type::text = '' OR d.content_type = @content_type)
      AND (sqlc.narg(created_from)::timestamptz IS NULL OR d.created_at >= sqlc.narg(created_from))
      AND (sqlc.narg(created_before)::timestamptz IS NULL OR d.created_at < sqlc.narg(created_before))
    ORDER BY rank DESC, d.created_at DESC, ch.document_id, ch.seq
    LIMIT @max_rows OFFSET @skip
)
SELECT h.document_id, h.seq, h.page, h.sheet, h.cell, h.line_start, h.line_end, h.ref,
       h.document_name, h.content_type, h.client_id, h.document_created_at, h.rank, h.total,
       coalesce(c.name, '')::text AS client_name,
       ts_headline('english', translate(h.content, chr(57344) || chr(57345), ''), q.tsq,
           'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) ||
           ', MaxWords=35, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "')::text AS snippet
FROM hits h CROSS JOIN q
LEFT JOIN clients c ON c.organization_id = @organization_id AND c.id = h.client_id
ORDER BY h.rank DESC, h.document_created_at DESC, h.document_id, h.seq;
