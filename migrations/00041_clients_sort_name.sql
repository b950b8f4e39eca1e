-- +goose Up

-- The JSON API pages through clients with a cursor on (lower(name), id).
-- Under row-level security PostgreSQL may only use leakproof conditions in
-- an index scan before the policy's check, and lower() is not leakproof, so
-- a cursor condition on lower(name) would be a filter: every page would
-- read all the rows before it. A stored copy of lower(name) compared as a
-- plain column is leakproof, so the cursor becomes an index bound and every
-- page costs the same.
ALTER TABLE clients ADD COLUMN sort_name text GENERATED ALWAYS AS (lower(name)) STORED;
CREATE INDEX clients_org_sort_idx ON clients (organization_id, sort_name, id);

-- +goose Down
DROP INDEX clients_org_sort_idx;
ALTER TABLE clients DROP COLUMN sort_name;
