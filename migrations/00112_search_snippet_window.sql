-- +goose Up

-- Search snippets (queries/documents.sql SearchDocumentChunks). ts_headline
-- parses all the text it is given, as to_tsvector does: on whole chunks the
-- snippets of a page of results were a third of a search's cost. A snippet
-- is at most two fragments of 35 words, so ts_headline first gets a window
-- of the text: from 250 characters before the first place where one of the
-- query's lexemes occurs (a stem is nearly always a prefix of the words it
-- stems) to 350 after the last lexeme's first place, when that is short.
-- When the window holds no match the query accepts (a phrase further on, a
-- stem that is not a prefix), the snippet comes from all the text, as
-- before. Matches are marked with U+E000 and U+E001 (internal/documents
-- MarkStart, MarkEnd), removed from the text first.
-- +goose StatementBegin
CREATE FUNCTION search_snippet(content text, query text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    tsq   tsquery := websearch_to_tsquery('english', query);
    opts  text := 'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) ||
                  ', MaxWords=35, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "';
    clean text := translate(content, chr(57344) || chr(57345), '');
    first integer;
    last  integer;
    start integer;
    snippet text;
BEGIN
    SELECT min(at), max(at) INTO first, last
    FROM (SELECT nullif(strpos(lower(clean), l), 0) AS at
          FROM unnest(tsvector_to_array(to_tsvector('english', query))) AS l) w;
    IF first IS NOT NULL AND last - first <= 1000 THEN
        start := greatest(1, first - 250);
        snippet := ts_headline('english', substr(clean, start, last - start + 350), tsq, opts);
        IF strpos(snippet, chr(57344)) > 0 THEN
            RETURN snippet;
        END IF;
    END IF;
    RETURN ts_headline('english', clean, tsq, opts);
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION search_snippet(text, text);
