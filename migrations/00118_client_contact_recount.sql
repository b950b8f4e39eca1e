-- +goose Up

-- 00116 first ran its backfill without platform mode: under a schema owner
-- that is not a superuser (row security is forced on clients and
-- client_contacts) it counted nothing, leaving every existing client at 0
-- contacts and making the removal of an existing contact fail the
-- contact_count >= 0 check. Count again, seeing every organization.
SELECT set_config('app.platform', 'on', true);
UPDATE clients c SET contact_count = coalesce(cc.n, 0)
FROM clients c2
LEFT JOIN (SELECT organization_id, client_id, count(*)::int AS n FROM client_contacts GROUP BY organization_id, client_id) cc
    ON cc.organization_id = c2.organization_id AND cc.client_id = c2.id
WHERE c.organization_id = c2.organization_id AND c.id = c2.id AND c.contact_count IS DISTINCT FROM coalesce(cc.n, 0);

-- +goose Down
SELECT 1;
