-- +goose Up

-- Search filters in the index. A search takes a bounded pool of matching
-- chunks from the GIN index (queries/documents.sql SearchDocumentChunks);
-- when its filters were checked only on the rows the index returned, a
-- common word with a narrow filter (one client, one type, recent months)
-- read every chunk carrying the word before the pool filled, and in a
-- database of many firms the index returned every firm's matches. So each
-- chunk also carries its facets as lexemes no text can produce (they hold
-- a space): its organization, its document's client, its version's type,
-- and the year and month its document was uploaded (UTC), e.g.
--   'org 5b0c…' 'client 9e1f…' 'type application/pdf' 'year 2026' 'month 2026-03'
-- and the GIN index covers (tsv, facets), so the words and the facet query
-- the search builds (internal/documents/search.go searchFacets) intersect
-- inside the index. The facets only narrow: the search still checks every
-- filter on the document itself.
--
-- Facets are kept by triggers: set when a chunk is stored, and rewritten
-- when its document moves to another client (the type and upload date of
-- a version never change).
--
-- The tsvector is also kept in the row (STORAGE MAIN, rows up to 4 KB in
-- the page) instead of out of line, so ranking the pool reads it from the
-- heap page instead of the TOAST table: about a quarter of a search's CPU.
-- Rows stored before this keep their layout until re-parsed.

-- The backfill below must see every organization's rows.
SELECT set_config('app.platform', 'on', true);

-- +goose StatementBegin
CREATE FUNCTION document_chunk_facets(org uuid, client uuid, content_type text, uploaded timestamptz)
    RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
    SELECT array_to_tsvector(array_remove(ARRAY[
        'org ' || org::text,
        'client ' || client::text,
        'type ' || content_type,
        'year ' || to_char(uploaded AT TIME ZONE 'UTC', 'YYYY'),
        'month ' || to_char(uploaded AT TIME ZONE 'UTC', 'YYYY-MM')
    ], NULL))
$$;
-- +goose StatementEnd

ALTER TABLE document_chunks
    ADD COLUMN facets tsvector NOT NULL DEFAULT '',
    ALTER COLUMN tsv SET STORAGE MAIN,
    SET (toast_tuple_target = 4096);

UPDATE document_chunks ch
SET facets = document_chunk_facets(ch.organization_id, d.client_id, v.content_type, d.created_at)
FROM documents d, document_versions v
WHERE d.organization_id = ch.organization_id AND d.id = ch.document_id
  AND v.organization_id = ch.organization_id AND v.id = ch.version_id;

-- +goose StatementBegin
CREATE FUNCTION document_chunks_set_facets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT document_chunk_facets(NEW.organization_id, d.client_id, v.content_type, d.created_at)
    INTO NEW.facets
    FROM documents d
    JOIN document_versions v ON v.organization_id = d.organization_id AND v.id = NEW.version_id
    WHERE d.organization_id = NEW.organization_id AND d.id = NEW.document_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'document_chunks: no document % version % in organization %',
            NEW.document_id, NEW.version_id, NEW.organization_id;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER document_chunks_facets BEFORE INSERT OR UPDATE OF document_id, version_id ON document_chunks
    FOR EACH ROW EXECUTE FUNCTION document_chunks_set_facets();

-- +goose StatementBegin
CREATE FUNCTION documents_refacet_chunks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE document_chunks ch
    SET facets = document_chunk_facets(ch.organization_id, NEW.client_id, v.content_type, NEW.created_at)
    FROM document_versions v
    WHERE ch.organization_id = NEW.organization_id AND ch.document_id = NEW.id
      AND v.organization_id = ch.organization_id AND v.id = ch.version_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER documents_refacet_chunks AFTER UPDATE OF client_id, created_at ON documents
    FOR EACH ROW WHEN (NEW.client_id IS DISTINCT FROM OLD.client_id OR NEW.created_at IS DISTINCT FROM OLD.created_at)
    EXECUTE FUNCTION documents_refacet_chunks();

CREATE INDEX document_chunks_search_idx ON document_chunks USING gin (tsv, facets);
DROP INDEX document_chunks_tsv_idx;

-- +goose Down
CREATE INDEX document_chunks_tsv_idx ON document_chunks USING gin (tsv);
DROP INDEX document_chunks_search_idx;
DROP TRIGGER documents_refacet_chunks ON documents;
DROP FUNCTION documents_refacet_chunks();
DROP TRIGGER document_chunks_facets ON document_chunks;
DROP FUNCTION document_chunks_set_facets();
ALTER TABLE document_chunks
    DROP COLUMN facets,
    ALTER COLUMN tsv SET STORAGE EXTENDED,
    RESET (toast_tuple_target);
DROP FUNCTION document_chunk_facets(uuid, uuid, text, timestamptz);
