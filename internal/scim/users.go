package scim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/auth"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
)

func (s *Service) userResource(su db.ScimUser, groups []db.ListGroupsOfScimUsersRow) User {
	u := User{
		Schemas: []string{UserSchema}, ID: su.ID.String(), ExternalID: su.ExternalID, UserName: su.UserName,
		DisplayName: su.DisplayName, Active: su.Active, Groups: []Ref{},
		Meta: Meta{ResourceType: "User", Created: stamp(su.CreatedAt), LastModified: stamp(su.UpdatedAt), Location: s.location("Users", su.ID.String())},
	}
	if su.GivenName != "" || su.FamilyName != "" {
		u.Name = &Name{GivenName: su.GivenName, FamilyName: su.FamilyName, Formatted: strings.TrimSpace(su.GivenName + " " + su.FamilyName)}
	}
	if su.Email != "" {
		u.Emails = []Email{{Value: su.Email, Type: "work", Primary: true}}
	}
	for _, g := range groups {
		if g.ScimUserID == su.ID {
			u.Groups = append(u.Groups, Ref{Value: g.ID.String(), Ref: s.location("Groups", g.ID.String()), Display: g.DisplayName})
		}
	}
	return u
}

func attrsOf(su db.ScimUser) UserAttrs {
	return UserAttrs{UserName: su.UserName, ExternalID: su.ExternalID, GivenName: su.GivenName, FamilyName: su.FamilyName,
		DisplayName: su.DisplayName, Email: su.Email, Active: su.Active}
}

// validate checks attributes and returns the address of the Accute
// account: the given e-mail, or the userName when it is an address.
func (a *UserAttrs) validate() (string, error) {
	if a.UserName == "" || utf8.RuneCountInString(a.UserName) > 320 {
		return "", badRequest("invalidValue", "userName is required (at most 320 characters).")
	}
	for _, f := range []*string{&a.ExternalID, &a.GivenName, &a.FamilyName, &a.DisplayName, &a.Email} {
		*f = form.Clean(*f)
		if utf8.RuneCountInString(*f) > 255 {
			return "", badRequest("invalidValue", "An attribute is longer than 255 characters.")
		}
	}
	email := auth.NormalizeEmail(a.Email)
	if email == "" {
		email = auth.NormalizeEmail(a.UserName)
	}
	if !form.ValidEmail(email) {
		return "", badRequest("invalidValue", "A user needs an e-mail address: in emails, or as the userName.")
	}
	a.Email = email
	return email, nil
}

func (a UserAttrs) personName() string {
	name := a.DisplayName
	if name == "" {
		name = strings.TrimSpace(a.GivenName + " " + a.FamilyName)
	}
	if name == "" {
		name, _, _ = strings.Cut(a.Email, "@")
	}
	if utf8.RuneCountInString(name) > 100 {
		name = string([]rune(name)[:100])
	}
	return name
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) getUser(ctx context.Context, q *db.Queries, org, id uuid.UUID, lock bool) (db.ScimUser, error) {
	var su db.ScimUser
	var err error
	if lock {
		su, err = q.LockScimUser(ctx, db.LockScimUserParams{OrganizationID: org, ID: id})
	} else {
		su, err = q.GetScimUser(ctx, db.GetScimUserParams{OrganizationID: org, ID: id})
	}
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return su, ErrNotFound
	}
	return su, err
}

func (s *Service) groupsOf(ctx context.Context, q *db.Queries, org uuid.UUID, ids ...uuid.UUID) ([]db.ListGroupsOfScimUsersRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return q.ListGroupsOfScimUsers(ctx, db.ListGroupsOfScimUsersParams{OrganizationID: org, ScimUserIds: ids})
}

// GetUser answers GET /Users/{id}.
func (s *Service) GetUser(ctx context.Context, tok Token, id uuid.UUID) (User, error) {
	var out User
	err := s.Store.InOrg(ctx, tok.OrgID, func(q *db.Queries) error {
		su, err := s.getUser(ctx, q, tok.OrgID, id, false)
		if err != nil {
			return err
		}
		groups, err := s.groupsOf(ctx, q, tok.OrgID, su.ID)
		out = s.userResource(su, groups)
		return err
	})
	return out, err
}

// ListUsers answers GET /Users, filtered by userName, externalId or
// emails.value.
func (s *Service) ListUsers(ctx context.Context, tok Token, lq ListQuery) (ListResponse[User], error) {
	f, err := ParseFilter(lq.Filter, "username", "externalid", "emails.value", "emails")
	if err != nil {
		return ListResponse[User]{}, err
	}
	skip, limit := lq.page()
	out := ListResponse[User]{Schemas: []string{ListSchema}, StartIndex: skip + 1, Resources: []User{}}
	if f.Attr != "" && f.Value == "" {
		return out, nil // `userName eq ""` matches nobody
	}
	p := db.ListScimUsersParams{OrganizationID: tok.OrgID, MaxRows: int32(limit), Skip: int32(skip)}
	switch f.Attr {
	case "username":
		p.UserName = f.Value
	case "externalid":
		p.ExternalID = f.Value
	case "emails.value", "emails":
		p.Email = f.Value
	}
	err = s.Store.InOrg(ctx, tok.OrgID, func(q *db.Queries) error {
		total, err := q.CountScimUsers(ctx, db.CountScimUsersParams{OrganizationID: p.OrganizationID, UserName: p.UserName, ExternalID: p.ExternalID, Email: p.Email})
		if err != nil {
			return err
		}
		out.TotalResults = int(total)
		if limit == 0 {
			return nil
		}
		rows, err := q.ListScimUsers(ctx, p)
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		groups, err := s.groupsOf(ctx, q, tok.OrgID, ids...)
		if err != nil {
			return err
		}
		for _, r := range rows {
			out.Resources = append(out.Resources, s.userResource(r, groups))
		}
		return nil
	})
	out.ItemsPerPage = len(out.Resources)
	return out, err
}

// CreateUser answers POST /Users: it finds the Accute account with the
// user's address or creates one (no password, address not confirmed: the
// person signs in through SSO or sets a password by e-mail), and, when
// active, makes them a member (Staff until their groups say otherwise). An
// existing member is linked with their role unchanged.
func (s *Service) CreateUser(ctx context.Context, tok Token, in UserAttrs) (User, error) {
	email, err := in.validate()
	if err != nil {
		return User{}, err
	}
	hash, err := s.unusableHash()
	if err != nil {
		return User{}, err
	}
	var out User
	err = s.Store.InOrg(ctx, tok.OrgID, func(q *db.Queries) error {
		created := false
		u, err := q.GetUserByEmail(ctx, email)
		switch {
		case errors.Is(store.MapError(err), store.ErrNotFound):
			if err := s.checkDomain(ctx, q, tok.OrgID, email); err != nil {
				return err
			}
			if u, err = q.CreateUserWithoutPassword(ctx, db.CreateUserWithoutPasswordParams{Email: email, Name: in.personName(), PasswordHash: hash}); err != nil {
				return err
			}
			created = true
		case err != nil:
			return err
		default:
			if _, err := q.GetScimUserByUserID(ctx, db.GetScimUserByUserIDParams{OrganizationID: tok.OrgID, UserID: u.ID}); err == nil {
				return errUniqueness("A user with this e-mail address")
			} else if !errors.Is(store.MapError(err), store.ErrNotFound) {
				return err
			}
			member, err := isMember(ctx, q, tok.OrgID, u.ID)
			if err != nil {
				return err
			}
			if !member {
				if err := s.checkDomain(ctx, q, tok.OrgID, email); err != nil {
					return err
				}
			}
		}
		su, err := q.CreateScimUser(ctx, db.CreateScimUserParams{
			OrganizationID: tok.OrgID, UserID: u.ID, UserName: in.UserName, ExternalID: in.ExternalID, GivenName: in.GivenName,
			FamilyName: in.FamilyName, DisplayName: in.DisplayName, Email: in.Email, Active: in.Active, CreatedUser: created,
		})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return errUniqueness("userName")
		}
		if err != nil {
			return err
		}
		if in.Active {
			if err := s.grantAccess(ctx, q, tok, su); err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, q, audit.Event{OrgID: &tok.OrgID, ActorEmail: tok.actor(), Action: audit.SCIMUserCreated,
			TargetType: "member", TargetID: u.ID.String(), Summary: summary(su, created)}); err != nil {
			return err
		}
		out = s.userResource(su, nil)
		return nil
	})
	return out, err
}

// errDomain refuses to make someone a member whose address is not on a
// domain the organization verified.
var errDomain = &Error{Status: http.StatusForbidden, Detail: "This organization can provision only people who are already " +
	"members or whose address is on one of its verified domains (Settings -> Single sign-on -> Domains). Invite others from Accute."}

// checkDomain decides whether SCIM may make the person with email a member
// (creating their account if need be): only when the address is on a
// domain the organization has verified. Accounts are shared by every
// organization, and a membership lets the organization sign the person
// out everywhere (deactivation); without this rule any organization could
// pull anyone in, or pre-create an account for an address it does not own.
func (s *Service) checkDomain(ctx context.Context, q *db.Queries, org uuid.UUID, email string) error {
	_, domain, _ := strings.Cut(email, "@")
	ok, err := q.IsVerifiedSSODomain(ctx, db.IsVerifiedSSODomainParams{OrganizationID: org, Domain: strings.ToLower(domain)})
	if err != nil {
		return err
	}
	if !ok {
		return errDomain
	}
	return nil
}

func isMember(ctx context.Context, q *db.Queries, org, userID uuid.UUID) (bool, error) {
	_, err := q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: org, UserID: userID})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(store.MapError(err), store.ErrNotFound):
		return false, nil
	}
	return false, err
}

func summary(su db.ScimUser, created bool) string {
	s := su.UserName
	if su.Email != "" && !strings.EqualFold(su.Email, su.UserName) {
		s += " <" + su.Email + ">"
	}
	if created {
		s += " (new account)"
	}
	if !su.Active {
		s += " (inactive)"
	}
	return s
}

// grantAccess makes the provisioned person a member, unless they are one:
// only on the organization's verified domains (see checkDomain), so that
// someone who left cannot be pulled back in.
func (s *Service) grantAccess(ctx context.Context, q *db.Queries, tok Token, su db.ScimUser) error {
	member, err := isMember(ctx, q, tok.OrgID, su.UserID)
	if err != nil || member {
		return err
	}
	u, err := q.GetUser(ctx, su.UserID)
	if err != nil {
		return err
	}
	if err := s.checkDomain(ctx, q, tok.OrgID, u.Email); err != nil {
		return err
	}
	rows, err := q.MappedRolesForScimUser(ctx, db.MappedRolesForScimUserParams{OrganizationID: tok.OrgID, ScimUserID: su.ID})
	if err != nil {
		return err
	}
	role, customID, managed := pickRole(rows)
	if !managed {
		role, customID = tenant.RoleStaff, nil
	}
	if _, err := q.CreateMembership(ctx, db.CreateMembershipParams{OrganizationID: tok.OrgID, UserID: su.UserID, Role: role, CustomRoleID: customID}); err != nil {
		return err
	}
	return q.SetScimUserRoleManaged(ctx, db.SetScimUserRoleManagedParams{OrganizationID: tok.OrgID, ID: su.ID, RoleManaged: managed})
}

// revokeAccess removes the membership (never the last owner's) and ends
// every session of the person at once. Someone who is no longer a member
// (they left, or were removed in Accute) is not the organization's to sign
// out.
func (s *Service) revokeAccess(ctx context.Context, q *db.Queries, tok Token, su db.ScimUser) error {
	m, err := q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: tok.OrgID, UserID: su.UserID})
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if m.Role == tenant.RoleOwner {
		owners, err := q.CountOwnersForUpdate(ctx, tok.OrgID)
		if err != nil {
			return err
		}
		if owners <= 1 {
			return errLastOwner
		}
	}
	if _, err := q.DeleteMember(ctx, db.DeleteMemberParams{OrganizationID: tok.OrgID, ID: m.ID}); err != nil {
		return err
	}
	// The tenant middleware compares the session's version with the
	// user's on every request: bumping it signs them out everywhere now.
	_, err = q.BumpSessionVersion(ctx, su.UserID)
	return err
}

// ReplaceUser answers PUT /Users/{id}.
func (s *Service) ReplaceUser(ctx context.Context, tok Token, id uuid.UUID, in UserAttrs) (User, error) {
	return s.changeUser(ctx, tok, id, func(UserAttrs) (UserAttrs, error) { return in, nil })
}

// PatchUser answers PATCH /Users/{id}.
func (s *Service) PatchUser(ctx context.Context, tok Token, id uuid.UUID, ops []PatchOp) (User, error) {
	return s.changeUser(ctx, tok, id, func(cur UserAttrs) (UserAttrs, error) {
		err := ApplyUserPatch(&cur, ops)
		return cur, err
	})
}

func (s *Service) changeUser(ctx context.Context, tok Token, id uuid.UUID, change func(UserAttrs) (UserAttrs, error)) (User, error) {
	var out User
	err := s.Store.InOrg(ctx, tok.OrgID, func(q *db.Queries) error {
		su, err := s.getUser(ctx, q, tok.OrgID, id, true)
		if err != nil {
			return err
		}
		next, err := change(attrsOf(su))
		if err != nil {
			return err
		}
		if _, err := next.validate(); err != nil {
			return err
		}
		updated, err := q.UpdateScimUser(ctx, db.UpdateScimUserParams{
			OrganizationID: tok.OrgID, ID: su.ID, UserName: next.UserName, ExternalID: next.ExternalID, GivenName: next.GivenName,
			FamilyName: next.FamilyName, DisplayName: next.DisplayName, Email: next.Email, Active: next.Active,
		})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return errUniqueness("userName")
		}
		if err != nil {
			return err
		}
		action := audit.SCIMUserUpdated
		switch {
		case su.Active && !next.Active:
			action = audit.SCIMUserDeactivated
			if err := s.revokeAccess(ctx, q, tok, updated); err != nil {
				return err
			}
		case !su.Active && next.Active:
			action = audit.SCIMUserReactivated
			if err := s.grantAccess(ctx, q, tok, updated); err != nil {
				return err
			}
		}
		// The account's name follows the directory only for accounts this
		// provisioning created: others are shared with other organizations.
		if su.CreatedUser && next.personName() != attrsOf(su).personName() {
			if err := q.UpdateUserName(ctx, db.UpdateUserNameParams{ID: su.UserID, Name: next.personName()}); err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, q, audit.Event{OrgID: &tok.OrgID, ActorEmail: tok.actor(), Action: action,
			TargetType: "member", TargetID: su.UserID.String(), Summary: summary(updated, false)}); err != nil {
			return err
		}
		groups, err := s.groupsOf(ctx, q, tok.OrgID, su.ID)
		out = s.userResource(updated, groups)
		return err
	})
	return out, err
}

// DeleteUser answers DELETE /Users/{id}: the membership goes, the
// person's sessions end, and the SCIM record is removed. The Accute
// account itself stays (it may belong to other organizations).
func (s *Service) DeleteUser(ctx context.Context, tok Token, id uuid.UUID) error {
	return s.Store.InOrg(ctx, tok.OrgID, func(q *db.Queries) error {
		su, err := s.getUser(ctx, q, tok.OrgID, id, true)
		if err != nil {
			return err
		}
		if err := s.revokeAccess(ctx, q, tok, su); err != nil {
			return err
		}
		if _, err := q.DeleteScimUser(ctx, db.DeleteScimUserParams{OrganizationID: tok.OrgID, ID: su.ID}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{OrgID: &tok.OrgID, ActorEmail: tok.actor(), Action: audit.SCIMUserDeleted,
			TargetType: "member", TargetID: su.UserID.String(), Summary: su.UserName})
	})
}
