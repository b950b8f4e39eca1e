package tenant

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"accute/internal/crypto"
)

func TestInvitationTokenCarriesOrganization(t *testing.T) {
	org := uuid.New()
	token, hash := newInvitationToken(org)
	if len(token) != 64 {
		t.Fatalf("token length %d, want 64 (48 bytes, base64url)", len(token))
	}
	got, ok := invitationOrg(token)
	if !ok || got != org {
		t.Fatalf("org = %v %v, want %v", got, ok, org)
	}
	if string(crypto.HashToken(token)) != string(hash) {
		t.Fatal("hash mismatch")
	}
	other, _ := newInvitationToken(org)
	if other == token {
		t.Fatal("tokens repeat")
	}
	for _, bad := range []string{"", "garbage", token[:63], token + "A", "!!" + token[2:]} {
		if _, ok := invitationOrg(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestParseRoleValue(t *testing.T) {
	id := uuid.New()
	for _, tc := range []struct {
		in   string
		role string
		ok   bool
	}{
		{"owner", RoleOwner, true}, {"staff", RoleStaff, true}, {"client", RoleClient, true},
		{"custom:" + id.String(), RoleCustom, true},
		{"custom", "", false}, {"custom:nope", "", false}, {"Owner", "", false}, {"", "", false},
	} {
		role, custom, ok := ParseRoleValue(tc.in)
		if role != tc.role || ok != tc.ok || (role == RoleCustom) != (custom != nil) {
			t.Errorf("ParseRoleValue(%q) = %q %v %v", tc.in, role, custom, ok)
		}
		if ok && RoleValue(role, custom) != tc.in {
			t.Errorf("RoleValue round trip of %q", tc.in)
		}
	}
}

func TestActorRules(t *testing.T) {
	owner := Actor{UserID: uuid.New(), Role: RoleOwner, Permissions: PermissionsFor(RoleOwner, nil)}
	admin := Actor{UserID: uuid.New(), Role: RoleAdmin, Permissions: PermissionsFor(RoleAdmin, nil)}
	hr := Actor{UserID: uuid.New(), Role: RoleCustom, Permissions: PermissionsFor(RoleCustom, []string{"members.read", "members.manage"})}
	all := PermissionsFor(RoleAdmin, nil)
	staff := PermissionsFor(RoleStaff, nil)
	someone := uuid.New()

	check := func(name string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	check("owner grants owner", owner.CheckGrant(RoleOwner, all), nil)
	check("admin grants owner", admin.CheckGrant(RoleOwner, all), ErrOwnersOnly)
	check("admin grants admin", admin.CheckGrant(RoleAdmin, all), nil)
	check("hr grants admin", hr.CheckGrant(RoleAdmin, all), ErrBeyondOwnRight)
	check("hr grants client", hr.CheckGrant(RoleClient, nil), nil)
	check("owner changes own role", owner.CheckChangeRole(owner.UserID, RoleOwner, all), nil)
	check("admin changes own role", admin.CheckChangeRole(admin.UserID, RoleAdmin, all), ErrOwnRole)
	check("admin changes an owner", admin.CheckChangeRole(someone, RoleOwner, all), ErrOwnersOnly)
	check("admin changes staff", admin.CheckChangeRole(someone, RoleStaff, staff), nil)
	check("hr changes staff", hr.CheckChangeRole(someone, RoleStaff, staff), ErrBeyondOwnRight)
	check("admin removes owner", admin.CheckRemove(someone, RoleOwner, all), ErrOwnersOnly)
	check("owner removes self", owner.CheckRemove(owner.UserID, RoleOwner, all), ErrRemoveSelf)
	check("owner removes owner", owner.CheckRemove(someone, RoleOwner, all), nil)
}
