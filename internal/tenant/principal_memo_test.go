package tenant

import (
	"reflect"
	"testing"
)

// The same JSON decodes to equal principals that share nothing, from the
// memo or not; other JSON decodes to its own principal.
func TestDecodePrincipalMemo(t *testing.T) {
	raw := []byte(`{"user":{"id":"11111111-1111-1111-1111-111111111111","email":"a@b.test","name":"A B","is_platform_admin":false,
		"suspended_at":null,"session_version":3,"email_verified_at":"2026-01-02T03:04:05Z","mfa":true},
		"org":{"id":"22222222-2222-2222-2222-222222222222","slug":"demo","name":"Demo","role":"","require_mfa":false},
		"membership":{"id":"33333333-3333-3333-3333-333333333333","role":"custom","custom_role_id":"44444444-4444-4444-4444-444444444444",
		"custom_role_name":"Reviewer","permissions":["clients.read"]},
		"orgs":[{"id":"22222222-2222-2222-2222-222222222222","slug":"demo","name":"Demo","role":"custom"}]}`)
	a, err := decodePrincipal(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := decodePrincipal(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) || !b.Membership.Permissions.Has(ClientsRead) || b.Membership.Permissions.Has(ClientsWrite) || b.User.SessionVersion != 3 {
		t.Fatalf("decoded differently: %+v %+v", a, b)
	}
	// Changing one request's principal changes no other.
	a.User.Name, a.Org.Slug, a.Membership.Permissions[0], a.Orgs[0].Name = "X", "x", ClientsWrite, "X"
	*a.User.EmailVerifiedAt = a.User.EmailVerifiedAt.AddDate(1, 0, 0)
	*a.Membership.CustomRoleID = a.User.ID
	c, err := decodePrincipal(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, c) || c.User.Name != "A B" || c.Membership.Permissions.Has(ClientsWrite) {
		t.Fatalf("a change leaked into the memo: %+v", c)
	}
	other := []byte(`{"user":{"id":"11111111-1111-1111-1111-111111111111","email":"a@b.test","name":"A B","session_version":4},"orgs":[]}`)
	d, err := decodePrincipal(other)
	if err != nil || d.User.SessionVersion != 4 || d.Membership != nil || d.Org != nil {
		t.Fatalf("other JSON: %+v %v", d, err)
	}
	if _, err := decodePrincipal([]byte(`{"user":null}`)); err != ErrNoUser {
		t.Fatalf("no user: %v", err)
	}
}
