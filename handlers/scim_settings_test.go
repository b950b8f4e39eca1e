package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/tenant"
	"accute/internal/testutil"
)

func TestSCIMSettingsTokensAreShownOnceAndStoredHashed(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/settings/scim"
	page := c.Get(base).AssertStatus(http.StatusOK)
	if page.Text("[data-testid=scim-endpoint]") != app.Srv.URL+"/scim/v2" || page.Count("[data-testid=scim-tokens] [data-testid=empty-state]") != 1 {
		t.Fatalf("page: %s", page.Text("main"))
	}
	if page.Count("[data-testid=scim-mappings-empty]") != 1 || page.Count("[data-testid=scim-no-domains]") != 1 {
		t.Fatal("no empty state for mappings, or no hint about verified domains")
	}

	// Validation: inline for HTMX, the page otherwise.
	res := c.HTMX(http.MethodPost, base+"/tokens", url.Values{"name": {"  "}}).AssertStatus(http.StatusUnprocessableEntity)
	if res.Count("[data-testid=error-name]") != 1 || strings.Contains(res.Body, "<html") {
		t.Fatalf("htmx validation: %s", res.Body)
	}
	c.PostForm(base+"/tokens", url.Values{"name": {strings.Repeat("n", 81)}}).AssertStatus(http.StatusUnprocessableEntity)

	res = c.HTMX(http.MethodPost, base+"/tokens", url.Values{"name": {"Entra"}}).AssertStatus(http.StatusCreated)
	token := res.Attr("[data-testid=scim-token-value]", "value")
	if !strings.HasPrefix(token, "scim_") || strings.Contains(res.Body, "<html") || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("created fragment: %s", res.Body)
	}
	// Only the hash is kept, and the token is never shown again.
	err := app.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		row, err := q.GetScimTokenByHash(context.Background(), db.GetScimTokenByHashParams{OrganizationID: org.ID, TokenHash: crypto.HashToken(token)})
		if err == nil && (row.Name != "Entra" || row.Hint != token[len(token)-4:]) {
			t.Errorf("stored %+v", row)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	page = c.Get(base).AssertStatus(http.StatusOK)
	if strings.Contains(page.Body, token) || page.Count("[data-testid=scim-token-row]") != 1 {
		t.Fatalf("token shown again or not listed: %s", page.Text("[data-testid=scim-tokens]"))
	}
	c.PostForm(base+"/tokens/not-a-uuid/revoke", nil).AssertStatus(http.StatusNotFound)
}

func TestSCIMSettingsMappings(t *testing.T) {
	app := newTestApp(t)
	c, _, org := app.owner()
	base := "/o/" + org.Slug + "/settings/scim"
	reviewer := app.F.CustomRole(org, "Reviewer", "clients.read")

	res := c.HTMX(http.MethodPost, base+"/mappings", url.Values{"group_name": {"Owners"}, "role": {"owner"}}).AssertStatus(http.StatusUnprocessableEntity)
	if res.Count("[data-testid=error-role]") != 1 || strings.Contains(res.Body, "<html") {
		t.Fatalf("owner mapping: %s", res.Body)
	}
	c.PostForm(base+"/mappings", url.Values{"group_name": {""}, "role": {"staff"}}).AssertStatus(http.StatusUnprocessableEntity)
	c.PostForm(base+"/mappings", url.Values{"group_name": {"Reviewers"}, "role": {"custom:" + reviewer.ID.String()}}).AssertStatus(http.StatusSeeOther)
	c.PostForm(base+"/mappings", url.Values{"group_name": {"Tax Team"}, "role": {"manager"}}).AssertStatus(http.StatusSeeOther)
	// Group names are not case-sensitive.
	res = c.HTMX(http.MethodPost, base+"/mappings", url.Values{"group_name": {"TAX TEAM"}, "role": {"staff"}}).AssertStatus(http.StatusUnprocessableEntity)
	if !strings.Contains(res.Text("[data-testid=error-group_name]"), "already has a role") {
		t.Fatalf("duplicate: %s", res.Body)
	}
	// Someone who manages members without every permission cannot map a
	// group to a role with more than they have.
	limited := app.F.CustomRole(org, "People ops", string(tenant.MembersRead), string(tenant.MembersManage))
	hr := app.F.User("")
	if err := app.Store.InOrg(context.Background(), org.ID, func(q *db.Queries) error {
		_, err := q.CreateMembership(context.Background(), db.CreateMembershipParams{OrganizationID: org.ID, UserID: hr.ID, Role: "custom", CustomRoleID: &limited.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	hrc := app.client()
	app.login(hrc, hr.Email)
	hrc.Get(base).AssertStatus(http.StatusOK)
	res = hrc.PostForm(base+"/mappings", url.Values{"group_name": {"Admins"}, "role": {"admin"}}).AssertStatus(http.StatusUnprocessableEntity)
	if !strings.Contains(res.Text("[data-testid=error-role]"), "permissions you do not have") {
		t.Fatalf("escalation: %s", res.Text("[data-testid=error-role]"))
	}

	page := c.Get(base).AssertStatus(http.StatusOK)
	if page.Count("[data-testid=scim-mapping-row]") != 2 || !strings.Contains(page.Text("[data-testid=scim-mappings]"), "Reviewer") {
		t.Fatalf("mappings: %s", page.Text("[data-testid=scim-mappings]"))
	}
	if page.Count("#f-role option[value=owner]") != 0 || page.Count("#f-role option[value='custom:"+reviewer.ID.String()+"']") != 1 {
		t.Fatal("role choices")
	}
	del := page.Attr("[data-testid=scim-mapping-row] form", "action")
	c.PostForm(del, nil).AssertStatus(http.StatusSeeOther)
	c.PostForm(del, nil).AssertStatus(http.StatusNotFound)
	if c.Get(base).Count("[data-testid=scim-mapping-row]") != 1 {
		t.Fatal("mapping not removed")
	}
}

// scimFixtures makes a SCIM token and a group mapping in org for the
// route matrix.
func scimFixtures(t *testing.T, app *testApp, org db.Organization, owner db.User) (token, mapping string) {
	t.Helper()
	ctx := context.Background()
	err := app.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		_, hash := crypto.NewToken()
		tok, err := q.CreateScimToken(ctx, db.CreateScimTokenParams{OrganizationID: org.ID, Name: "Fixture token", TokenHash: hash, Hint: "abcd", CreatedBy: &owner.ID})
		if err != nil {
			return err
		}
		m, err := q.CreateScimRoleMapping(ctx, db.CreateScimRoleMappingParams{OrganizationID: org.ID, GroupName: testutil.Unique("Fixture SCIM group "), Role: tenant.RoleStaff})
		token, mapping = tok.ID.String(), m.ID.String()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return token, mapping
}
