-- name: ListClients :many
-- A page of the client list with the total and each client's number of
-- contacts (kept by a trigger, migrations/00116), in name order: sort_name
-- is lower(name) stored (migrations/00041), so the page does not compute
-- lower() for every row.
SELECT id, name, kind, email, phone, archived_at, updated_at,
       contact_count AS contacts,
       count(*) OVER ()::int AS total
FROM clients c
WHERE c.organization_id = @organization_id
  AND (CASE WHEN @archived::boolean THEN c.archived_at IS NOT NULL ELSE c.archived_at IS NULL END)
  AND (@query::text = '' OR c.name ILIKE '%' || @query || '%' OR c.email ILIKE '%' || @query || '%')
ORDER BY c.sort_name, c.id
LIMIT @max_rows OFFSET @skip;

-- name: GetClient :one
SELECT * FROM clients WHERE organization_id = @organization_id AND id = @id;

-- name: CreateClient :one
INSERT INTO clients (organization_id, name, kind, email, phone, tax_id, address, notes, created_by)
VALUES (@organization_id, @name, @kind, @email, @phone, @tax_id, @address, @notes, @created_by)
RETURNING *;

-- name: UpdateClient :one
UPDATE clients SET name = @name, kind = @kind, email = @email, phone = @phone, tax_id = @tax_id,
    address = @address, notes = @notes, updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: SetClientArchived :one
UPDATE clients SET archived_at = CASE WHEN @archived::boolean THEN coalesce(archived_at, now()) ELSE NULL END,
    updated_at = now()
WHERE organization_id = @organization_id AND id = @id
RETURNING *;

-- name: ListClientContacts :many
SELECT * FROM client_contacts
WHERE organization_id = @organization_id AND client_id = @client_id
ORDER BY is_primary DESC, lower(name), id;

-- name: CreateClientContact :one
INSERT INTO client_contacts (organization_id, client_id, name, email, phone, title, is_primary)
VALUES (@organization_id, @client_id, @name, @email, @phone, @title, @is_primary)
RETURNING *;

-- name: DeleteClientContact :one
DELETE FROM client_contacts WHERE organization_id = @organization_id AND client_id = @client_id AND id = @id
RETURNING *;

-- name: ListClientsPage :many
-- Keyset pagination for the API: the rows after (after_name, after_id) in
-- (sort_name, id) order, sort_name being lower(name) stored (see
-- migrations/00041), which clients_org_sort_idx serves directly. Only the
-- columns the API shows (it is the API's hot path).
SELECT c.id, c.name, c.kind, c.email, c.phone, c.tax_id, c.address, c.notes, c.archived_at, c.created_at, c.updated_at,
       c.sort_name::text AS sort_name
FROM clients c
WHERE c.organization_id = @organization_id
  AND (c.sort_name, c.id) > (@after_name::text, @after_id::uuid)
  AND (CASE @status::text WHEN 'archived' THEN c.archived_at IS NOT NULL WHEN 'active' THEN c.archived_at IS NULL ELSE true END)
  AND (@query::text = '' OR c.name ILIKE '%' || @query || '%' OR c.email ILIKE '%' || @query || '%')
ORDER BY c.sort_name, c.id
LIMIT @max_rows;

-- name: GetClientForUpdate :one
SELECT * FROM clients WHERE organization_id = @organization_id AND id = @id FOR UPDATE;
