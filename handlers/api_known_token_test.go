package handlers

import (
	"net/http"
	"strings"
	"testing"

	"accute/internal/tenant"
)

// A token this instance checked moments ago is reused for reads in one
// round trip, yet every change to what it may do applies on the very next
// request: app_enter_known (migrations/00117) refuses the reuse and the
// request is served after a full check.
func TestAPIKnownTokenFollowsEveryChange(t *testing.T) {
	app := newTestApp(t)
	owner := app.F.User("")
	org := app.F.Org(owner, "")
	app.F.Client(org, "Acme Ltd")
	list := "/api/v1/orgs/" + org.Slug + "/clients"
	exec := app.platformExec
	// warm checks the token in full, then reuses it in one round trip.
	warm := func(t *testing.T, c *apiClient) {
		t.Helper()
		if r := c.get(list).expect(http.StatusOK); r.Header.Get("X-Debug-SQL-Roundtrips") != "2" {
			t.Fatalf("first request: %q round trips", r.Header.Get("X-Debug-SQL-Roundtrips"))
		}
		if r := c.get(list).expect(http.StatusOK); r.Header.Get("X-Debug-SQL-Roundtrips") != "1" {
			t.Fatalf("known token: %q round trips", r.Header.Get("X-Debug-SQL-Roundtrips"))
		}
	}
	member := func(role string) (*apiClient, string) {
		u := app.F.User("")
		app.F.Member(org, u, role)
		token, _ := app.pat(u, org, tenant.RoleStaff, nil)
		return app.api(token), u.ID.String()
	}

	t.Run("revoked", func(t *testing.T) {
		c, uid := member(tenant.RoleAdmin)
		warm(t, c)
		exec(`UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1`, uid)
		if r := c.get(list).expect(http.StatusUnauthorized); !strings.Contains(r.Env.Message, "revoked") {
			t.Fatalf("revoked: %s", r.Body)
		}
	})
	t.Run("demoted", func(t *testing.T) {
		c, uid := member(tenant.RoleAdmin)
		warm(t, c)
		exec(`UPDATE memberships SET role = 'client' WHERE organization_id = $1 AND user_id = $2`, org.ID, uid)
		c.get(list).expect(http.StatusForbidden)
		// And back: the next request sees the change the other way too.
		exec(`UPDATE memberships SET role = 'staff' WHERE organization_id = $1 AND user_id = $2`, org.ID, uid)
		c.get(list).expect(http.StatusOK)
	})
	t.Run("removed from the organization", func(t *testing.T) {
		c, uid := member(tenant.RoleAdmin)
		warm(t, c)
		exec(`DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2`, org.ID, uid)
		c.get(list).expect(http.StatusUnauthorized)
	})
	t.Run("custom role loses the permission", func(t *testing.T) {
		u := app.F.User("")
		role := app.F.CustomRole(org, "Bookkeeper", string(tenant.ClientsRead))
		app.F.Member(org, u, tenant.RoleStaff)
		token, _ := app.pat(u, org, tenant.RoleStaff, nil)
		exec(`UPDATE memberships SET role = 'custom', custom_role_id = $1 WHERE organization_id = $2 AND user_id = $3`, role.ID, org.ID, u.ID)
		c := app.api(token)
		warm(t, c)
		exec(`UPDATE roles SET permissions = '{}' WHERE organization_id = $1 AND id = $2`, org.ID, role.ID)
		if r := c.get(list).expect(http.StatusForbidden); !strings.Contains(r.Env.Message, "clients.read") {
			t.Fatalf("403: %s", r.Body)
		}
	})
	t.Run("suspended", func(t *testing.T) {
		c, uid := member(tenant.RoleAdmin)
		warm(t, c)
		exec(`UPDATE users SET suspended_at = now() WHERE id = $1`, uid)
		if r := c.get(list).expect(http.StatusUnauthorized); !strings.Contains(r.Env.Message, "suspended") {
			t.Fatalf("suspended: %s", r.Body)
		}
	})
	t.Run("organization requires two-factor authentication", func(t *testing.T) {
		c, _ := member(tenant.RoleAdmin)
		warm(t, c)
		exec(`UPDATE organizations SET require_mfa = true WHERE id = $1`, org.ID)
		defer exec(`UPDATE organizations SET require_mfa = false WHERE id = $1`, org.ID)
		if r := c.get(list).expect(http.StatusForbidden); !strings.Contains(r.Env.Message, "two-factor") {
			t.Fatalf("require MFA: %s", r.Body)
		}
	})
	t.Run("writes are always checked in full", func(t *testing.T) {
		c, uid := member(tenant.RoleAdmin)
		warm(t, c)
		exec(`UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1`, uid)
		c.do(http.MethodPost, list, map[string]any{"name": "Beta LLP", "kind": "business"}).expect(http.StatusUnauthorized)
	})
}
