package sso

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"sort"
	"strings"

	"github.com/crewjam/saml"
	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/auth"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Attribute names tried when the organization maps none: what Okta, Entra
// ID, Google Workspace and Shibboleth-style IdPs send by default.
var (
	defaultEmailAttrs = []string{"email", "mail", "emailaddress", "e-mail", "user.email",
		"urn:oid:0.9.2342.19200300.100.1.3", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}
	defaultFirstNameAttrs = []string{"firstname", "givenname", "given_name", "first_name", "user.firstname",
		"urn:oid:2.5.4.42", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"}
	defaultLastNameAttrs = []string{"lastname", "surname", "sn", "family_name", "last_name", "user.lastname",
		"urn:oid:2.5.4.4", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"}
	defaultDisplayNameAttrs = []string{"displayname", "name", "cn", "fullname", "urn:oid:2.16.840.1.113730.3.1.241",
		"urn:oid:2.5.4.3", "http://schemas.microsoft.com/identity/claims/displayname"}
	defaultGroupAttrs = []string{"groups", "group", "memberof", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"}
)

// identity is what an assertion says about the user.
type identity struct {
	NameID, NameIDFormat, SessionIndex string
	Email, Name                        string
	Groups                             []string
}

// extractIdentity applies the organization's attribute mapping. The e-mail
// comes from the mapped (or a usual) attribute; an emailAddress NameID, or
// an unspecified one that is an address, also serves. Persistent and
// transient NameIDs are opaque and never taken for an address.
func extractIdentity(a *saml.Assertion, conn db.SamlConnection) identity {
	var id identity
	if a.Subject != nil && a.Subject.NameID != nil {
		id.NameID, id.NameIDFormat = strings.TrimSpace(a.Subject.NameID.Value), a.Subject.NameID.Format
	}
	for _, st := range a.AuthnStatements {
		if st.SessionIndex != "" {
			id.SessionIndex = st.SessionIndex
			break
		}
	}
	var attrs []saml.Attribute
	for _, st := range a.AttributeStatements {
		attrs = append(attrs, st.Attributes...)
	}
	id.Email = strings.ToLower(firstValue(attrs, conn.AttrEmail, defaultEmailAttrs))
	if id.Email == "" {
		switch saml.NameIDFormat(id.NameIDFormat) {
		case saml.EmailAddressNameIDFormat, saml.UnspecifiedNameIDFormat, "":
			if form.ValidEmail(strings.ToLower(id.NameID)) {
				id.Email = strings.ToLower(id.NameID)
			}
		}
	}
	id.Name = firstValue(attrs, conn.AttrDisplayName, defaultDisplayNameAttrs)
	if id.Name == "" {
		id.Name = strings.TrimSpace(firstValue(attrs, conn.AttrFirstName, defaultFirstNameAttrs) + " " + firstValue(attrs, conn.AttrLastName, defaultLastNameAttrs))
	}
	id.Groups = allValues(attrs, conn.AttrGroups, defaultGroupAttrs)
	return id
}

// findAttr returns the attribute named (by Name or FriendlyName,
// case-insensitively) mapped, or else the first of the defaults present.
func findAttr(attrs []saml.Attribute, mapped string, defaults []string) *saml.Attribute {
	names := defaults
	if mapped != "" {
		names = []string{mapped}
	}
	for _, n := range names {
		for i := range attrs {
			if strings.EqualFold(attrs[i].Name, n) || (attrs[i].FriendlyName != "" && strings.EqualFold(attrs[i].FriendlyName, n)) {
				return &attrs[i]
			}
		}
	}
	return nil
}

func firstValue(attrs []saml.Attribute, mapped string, defaults []string) string {
	if a := findAttr(attrs, mapped, defaults); a != nil {
		for _, v := range a.Values {
			if s := strings.TrimSpace(v.Value); s != "" {
				return form.Clean(s)
			}
		}
	}
	return ""
}

func allValues(attrs []saml.Attribute, mapped string, defaults []string) []string {
	a := findAttr(attrs, mapped, defaults)
	if a == nil {
		return nil
	}
	out := make([]string, 0, len(a.Values))
	for _, v := range a.Values {
		if s := strings.TrimSpace(v.Value); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// roleChoice is the role an SSO login gives.
type roleChoice struct {
	Role     string
	CustomID *uuid.UUID
	Label    string
	Perms    tenant.PermissionSet
	Mapped   bool // decided by a group mapping (rather than the default)
}

// builtinRank orders built-in roles from most to least rights.
func builtinRank(role string) int {
	for i, b := range tenant.BuiltinRoles {
		if b.Key == role {
			return i
		}
	}
	return len(tenant.BuiltinRoles)
}

// chooseRole picks the role for the user's groups: among the mappings that
// match one of them (case-insensitively), the role with the most
// permissions, built-in roles first on a tie. No match: the default role.
// Owner is never given.
func chooseRole(conn db.SamlConnection, mappings []db.ListSAMLGroupRolesRow, groups []string, defaultCustom *db.Role) roleChoice {
	var cands []roleChoice
	for _, m := range mappings {
		for _, g := range groups {
			if !strings.EqualFold(m.GroupName, g) || m.Role == tenant.RoleOwner {
				continue
			}
			rc := roleChoice{Role: m.Role, CustomID: m.CustomRoleID, Mapped: true}
			if m.Role == tenant.RoleCustom {
				rc.Label, rc.Perms = m.CustomRoleName, tenant.PermissionsFor(tenant.RoleCustom, m.CustomPermissions)
			} else {
				b, _ := tenant.Builtin(m.Role)
				rc.Label, rc.Perms = b.Label, b.Permissions
			}
			cands = append(cands, rc)
		}
	}
	if len(cands) > 0 {
		sort.SliceStable(cands, func(i, j int) bool {
			if len(cands[i].Perms) != len(cands[j].Perms) {
				return len(cands[i].Perms) > len(cands[j].Perms)
			}
			return builtinRank(cands[i].Role) < builtinRank(cands[j].Role)
		})
		return cands[0]
	}
	switch {
	case conn.DefaultRole == tenant.RoleCustom && defaultCustom != nil:
		return roleChoice{Role: tenant.RoleCustom, CustomID: &defaultCustom.ID, Label: defaultCustom.Name, Perms: tenant.PermissionsFor(tenant.RoleCustom, defaultCustom.Permissions)}
	case conn.DefaultRole == tenant.RoleCustom || conn.DefaultRole == tenant.RoleOwner:
		// The default custom role was deleted: the role without rights.
		b, _ := tenant.Builtin(tenant.RoleClient)
		return roleChoice{Role: b.Key, Label: b.Label, Perms: b.Permissions}
	default:
		b, ok := tenant.Builtin(conn.DefaultRole)
		if !ok {
			b, _ = tenant.Builtin(tenant.RoleClient)
		}
		return roleChoice{Role: b.Key, Label: b.Label, Perms: b.Permissions}
	}
}

// provision links the assertion to a user of the organization, creating
// the user and the membership just in time, and records the sign-in.
func (s *Service) provision(ctx context.Context, q *db.Queries, org db.Organization, conn db.SamlConnection, id identity, res *LoginResult) (*LoginError, error) {
	if id.Email == "" || !form.ValidEmail(id.Email) {
		return &LoginError{Reason: "no e-mail address in the response", Detail: "NameID format " + id.NameIDFormat,
			Message: "Your identity provider did not send an e-mail address. Ask your administrator to map the e-mail attribute."}, nil
	}
	res.User.Email = id.Email
	domain := DomainOf(id.Email)
	ok, err := q.IsVerifiedSSODomain(ctx, db.IsVerifiedSSODomainParams{OrganizationID: org.ID, Domain: domain})
	if err != nil {
		return nil, err
	}
	if !ok {
		// Without this an administrator's IdP could sign in as anyone.
		return &LoginError{Reason: "e-mail domain " + domain + " is not verified for the organization",
			Message: "Your address " + id.Email + " is not on one of " + org.Name + "'s verified domains, so it cannot sign in through its identity provider."}, nil
	}

	user, err := q.GetUserByEmail(ctx, id.Email)
	created := false
	switch {
	case errors.Is(store.MapError(err), store.ErrNotFound):
		name := id.Name
		if name == "" {
			name = id.Email[:strings.IndexByte(id.Email, '@')]
		}
		if len([]rune(name)) > 100 {
			name = string([]rune(name)[:100])
		}
		hash, err := unusablePassword(s.BcryptCost)
		if err != nil {
			return nil, err
		}
		if user, err = q.CreateUser(ctx, db.CreateUserParams{Email: id.Email, Name: name, PasswordHash: hash}); err != nil {
			return nil, err
		}
		created = true
	case err != nil:
		return nil, err
	}
	res.User = user
	if user.SuspendedAt != nil {
		return &LoginError{Reason: "account suspended", Message: "This account is suspended. Contact your administrator."}, nil
	}
	if user.EmailVerifiedAt == nil {
		// The organization's IdP vouches for an address on its verified domain.
		if err := q.MarkEmailVerified(ctx, user.ID); err != nil {
			return nil, err
		}
	}

	mappings, err := q.ListSAMLGroupRoles(ctx, org.ID)
	if err != nil {
		return nil, err
	}
	var defaultCustom *db.Role
	if conn.DefaultRole == tenant.RoleCustom && conn.DefaultCustomRoleID != nil {
		r, err := q.GetRole(ctx, db.GetRoleParams{OrganizationID: org.ID, ID: *conn.DefaultCustomRoleID})
		if err == nil {
			defaultCustom = &r
		} else if !errors.Is(store.MapError(err), store.ErrNotFound) {
			return nil, err
		}
	}
	role := chooseRole(conn, mappings, id.Groups, defaultCustom)

	m, err := q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: org.ID, UserID: user.ID})
	switch {
	case errors.Is(store.MapError(err), store.ErrNotFound):
		if _, err := q.CreateMembership(ctx, db.CreateMembershipParams{OrganizationID: org.ID, UserID: user.ID, Role: role.Role, CustomRoleID: role.CustomID}); err != nil {
			return nil, err
		}
		how := "existing account"
		if created {
			how = "new account"
		}
		res.Provisioned = true
		if err := audit.Record(ctx, q, audit.Event{
			OrgID: &org.ID, ActorID: &user.ID, ActorEmail: user.Email, Action: audit.SSOUserProvisioned,
			TargetType: "user", TargetID: user.ID.String(), Summary: user.Email + " joined as " + role.Label + " (" + how + ")",
		}); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case role.Mapped && m.Role != tenant.RoleOwner && (m.Role != role.Role || !sameID(m.CustomRoleID, role.CustomID)):
		// The IdP's groups are the source of truth for mapped roles;
		// owners are never changed by it.
		if _, err := q.UpdateMemberRole(ctx, db.UpdateMemberRoleParams{OrganizationID: org.ID, ID: m.ID, Role: role.Role, CustomRoleID: role.CustomID}); err != nil {
			return nil, err
		}
		if err := audit.Record(ctx, q, audit.Event{
			OrgID: &org.ID, ActorID: &user.ID, ActorEmail: user.Email, Action: audit.MemberRoleChanged,
			TargetType: "membership", TargetID: m.ID.String(), Summary: user.Email + " → " + role.Label + " (from identity provider groups)",
		}); err != nil {
			return nil, err
		}
	}

	if id.NameID != "" {
		if err := q.UpsertSAMLIdentity(ctx, db.UpsertSAMLIdentityParams{OrganizationID: org.ID, UserID: user.ID, NameID: truncate(id.NameID, 1000), NameIDFormat: id.NameIDFormat}); err != nil {
			return nil, err
		}
	}
	if err := q.RecordSAMLLogin(ctx, org.ID); err != nil {
		return nil, err
	}
	if err := q.RecordLogin(ctx, user.ID); err != nil {
		return nil, err
	}
	summary := "signed in with SAML"
	if id.NameIDFormat != "" {
		summary += " (NameID format " + strings.TrimPrefix(strings.TrimPrefix(id.NameIDFormat, "urn:oasis:names:tc:SAML:1.1:nameid-format:"), "urn:oasis:names:tc:SAML:2.0:nameid-format:") + ")"
	}
	if err := audit.Record(ctx, q, audit.Event{
		OrgID: &org.ID, ActorID: &user.ID, ActorEmail: user.Email, Action: audit.SSOLogin,
		TargetType: "user", TargetID: user.ID.String(), Summary: summary,
	}); err != nil {
		return nil, err
	}
	return nil, nil
}

// unusablePassword is the bcrypt hash of 32 random bytes nobody ever sees:
// a provisioned user signs in through the IdP (or sets a password with
// "Forgot your password?", proving the mailbox). bcrypt keeps a password
// attempt against it as slow as any other.
func unusablePassword(cost int) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return auth.HashPassword(base64.RawStdEncoding.EncodeToString(b), cost)
}

// xmlBytes marshals v with the XML header.
func xmlBytes(v any) ([]byte, error) {
	buf, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), buf...), nil
}
