-- +goose Up

-- Document search runs as accute_app, under row-level security. PostgreSQL
-- may evaluate a query's own condition before the policy's check only when
-- the condition is leakproof, and an index condition is evaluated before
-- it; `tsvector @@ tsquery` (ts_match_vq) is not marked leakproof, so under
-- RLS the GIN index on document_chunks.tsv is never used: every search
-- reads and decompresses every chunk of the organization (about a second
-- at 10,000 documents; see BENCHMARKS.md). Compare 00041, where a stored
-- column made a cursor condition leakproof; a tsvector match has no such
-- rewrite.
--
-- ts_match_vq is leakproof in substance: it has no side effects and raises
-- no error that depends on the rows it is given (only on the query, which
-- is the caller's own), so evaluating it in the index before the policy
-- reveals nothing about other organizations' rows; the policy still
-- filters every row returned. Only a superuser may mark a function
-- leakproof: when migrations run as one (the default set-up, the embedded
-- database and tests) this does it; otherwise it says so, search stays
-- correct but scans, and a superuser can run the statement below once.
-- `accute serve` logs a warning while the mark is missing (it is per
-- database and does not survive a dump and restore into a new cluster).
-- +goose StatementBegin
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;
    ELSE
        RAISE NOTICE 'document search: not a superuser, so the full-text index cannot be used under row-level security; as a superuser run: ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) NOT LEAKPROOF;
    END IF;
END
$$;
-- +goose StatementEnd
