-- +goose Up

-- Exact places of extracted text beyond page / sheet+cell / lines: ref is
-- the place as people cite it ("page 3", "Summary!A1:D5", "paragraphs 4-9",
-- "table 1, rows 2-5"), locator the parser's full locator of the chunk's
-- start and end (internal/documents/parse Locator), for agents' citations.
ALTER TABLE document_chunks
    ADD COLUMN ref     text NOT NULL DEFAULT '',
    ADD COLUMN locator jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE document_chunks DROP COLUMN locator, DROP COLUMN ref;
