-- +goose Up

-- Tenant policies read the request's organization once per query instead of
-- once per row: `(SELECT app_current_org())` is an init plan, evaluated when
-- the statement starts, where `app_org_visible(organization_id)` called
-- current_setting() twice and parsed a uuid for every row it looked at (a
-- client list reads every client of the organization for its total). The
-- comparison is then also an ordinary `organization_id = $value`, which an
-- index can serve. Same rows visible, same rows writable: the settings
-- cannot change while a statement runs. New tenant tables use this form
-- (internal/store/isolation_test.go checks).
-- +goose StatementBegin
DO $$
DECLARE
    p record;
    org_only constant text := 'organization_id = (SELECT app_current_org()) OR (SELECT app_is_platform())';
    org_or_user constant text := org_only || ' OR user_id = (SELECT app_current_user())';
BEGIN
    FOR p IN SELECT tablename, policyname FROM pg_policies
             WHERE schemaname = 'public' AND qual = 'app_org_visible(organization_id)' AND with_check IS NULL
    LOOP
        EXECUTE format('ALTER POLICY %I ON public.%I USING (%s)', p.policyname, p.tablename, org_only);
    END LOOP;
    FOR p IN SELECT tablename, policyname FROM pg_policies
             WHERE schemaname = 'public'
               AND qual = '(app_org_visible(organization_id) OR (user_id = app_current_user()))'
               AND with_check = qual
    LOOP
        EXECUTE format('ALTER POLICY %I ON public.%I USING (%s) WITH CHECK (%s)', p.policyname, p.tablename, org_or_user, org_or_user);
    END LOOP;
    FOR p IN SELECT tablename, policyname FROM pg_policies
             WHERE schemaname = 'public' AND qual IS NULL
               AND with_check = '((organization_id IS NULL) OR app_org_visible(organization_id))'
    LOOP
        EXECUTE format('ALTER POLICY %I ON public.%I WITH CHECK (organization_id IS NULL OR %s)', p.policyname, p.tablename, org_only);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT tablename, policyname, qual, with_check FROM pg_policies
             WHERE schemaname = 'public' AND (qual LIKE '%( SELECT app_current_org()%' OR with_check LIKE '%( SELECT app_current_org()%')
    LOOP
        IF p.qual IS NULL THEN
            EXECUTE format('ALTER POLICY %I ON public.%I WITH CHECK (organization_id IS NULL OR app_org_visible(organization_id))', p.policyname, p.tablename);
        ELSIF p.qual LIKE '%app_current_user%' THEN
            EXECUTE format('ALTER POLICY %I ON public.%I USING (app_org_visible(organization_id) OR user_id = app_current_user()) WITH CHECK (app_org_visible(organization_id) OR user_id = app_current_user())', p.policyname, p.tablename);
        ELSE
            EXECUTE format('ALTER POLICY %I ON public.%I USING (app_org_visible(organization_id))', p.policyname, p.tablename);
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd
