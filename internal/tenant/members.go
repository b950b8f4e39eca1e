package tenant

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/store"
)

// RuleKind says how a business-rule refusal should be answered.
type RuleKind int

// Kinds of refusal.
const (
	// RuleForbidden: the actor may not do this (403).
	RuleForbidden RuleKind = iota + 1
	// RuleConflict: the organization's current state does not allow it (409).
	RuleConflict
	// RuleInvalid: the request itself cannot be honoured, such as a dead
	// invitation link (400).
	RuleInvalid
)

// RuleError is a refusal by a business rule. Its message is written for the
// person who asked and is safe to show.
type RuleError struct {
	Kind    RuleKind
	Message string
}

func (e *RuleError) Error() string { return e.Message }

// Refusals shared by members, invitations and roles.
var (
	ErrLastOwner      = &RuleError{RuleConflict, "An organization needs at least one owner. Make another member an owner first."}
	ErrOwnersOnly     = &RuleError{RuleForbidden, "Only owners can grant or revoke the owner role, or remove an owner."}
	ErrOwnRole        = &RuleError{RuleForbidden, "You cannot change your own role. Ask an owner to do it."}
	ErrBeyondOwnRight = &RuleError{RuleForbidden, "You cannot give or take away permissions you do not have yourself."}
	ErrRemoveSelf     = &RuleError{RuleConflict, "You cannot remove yourself. Use “Leave organization” instead."}
)

// Actor is the member making an administrative change, as the rules need
// them. Build it with ActorOf.
type Actor struct {
	OrgID       uuid.UUID
	OrgName     string
	OrgSlug     string
	UserID      uuid.UUID
	Email       string
	Name        string
	Role        string
	Permissions PermissionSet
}

// ActorOf turns the request's principal (on an organization page) into an
// Actor.
func ActorOf(p *Principal) Actor {
	a := Actor{UserID: p.User.ID, Email: p.User.Email, Name: p.User.Name}
	if p.Org != nil {
		a.OrgID, a.OrgName, a.OrgSlug = p.Org.ID, p.Org.Name, p.Org.Slug
	}
	if p.Membership != nil {
		a.Role, a.Permissions = p.Membership.Role, p.Membership.Permissions
	}
	return a
}

// IsOwner reports whether the actor is an owner.
func (a Actor) IsOwner() bool { return a.Role == RoleOwner }

// covers reports whether the actor holds every permission in perms.
// Owners always do.
func (a Actor) covers(perms PermissionSet) bool {
	if a.IsOwner() {
		return true
	}
	for _, p := range perms {
		if !a.Permissions.Has(p) {
			return false
		}
	}
	return true
}

// CheckGrant decides whether the actor may hand out a role: the owner role
// only by owners, and nobody hands out permissions they do not hold (so a
// custom role with members.manage cannot mint admins).
func (a Actor) CheckGrant(role string, perms PermissionSet) error {
	if role == RoleOwner && !a.IsOwner() {
		return ErrOwnersOnly
	}
	if !a.covers(perms) {
		return ErrBeyondOwnRight
	}
	return nil
}

// CheckChangeRole decides whether the actor may change the role of the
// member with userID whose current role and permissions are given. Only
// owners may change their own role (an admin cannot promote or demote
// themself); only owners may touch an owner.
func (a Actor) CheckChangeRole(userID uuid.UUID, role string, perms PermissionSet) error {
	if userID == a.UserID && !a.IsOwner() {
		return ErrOwnRole
	}
	return a.checkTouch(role, perms)
}

// CheckRemove decides whether the actor may remove the member.
func (a Actor) CheckRemove(userID uuid.UUID, role string, perms PermissionSet) error {
	if userID == a.UserID {
		return ErrRemoveSelf
	}
	return a.checkTouch(role, perms)
}

func (a Actor) checkTouch(role string, perms PermissionSet) error {
	if role == RoleOwner && !a.IsOwner() {
		return ErrOwnersOnly
	}
	if !a.covers(perms) {
		return ErrBeyondOwnRight
	}
	return nil
}

// RoleChoice is a role a member can hold: a built-in role or one of the
// organization's custom roles. Value is how forms carry it.
type RoleChoice struct {
	Value       string // "staff", or "custom:<uuid>"
	Role        string // memberships.role
	CustomID    *uuid.UUID
	Label       string
	Permissions PermissionSet
}

const customPrefix = "custom:"

// RoleValue is the form value of a membership's role.
func RoleValue(role string, customID *uuid.UUID) string {
	if role == RoleCustom && customID != nil {
		return customPrefix + customID.String()
	}
	return role
}

// ParseRoleValue splits a form value into a membership role and, for custom
// roles, the role's id. ok is false for anything else.
func ParseRoleValue(v string) (role string, customID *uuid.UUID, ok bool) {
	if rest, found := strings.CutPrefix(v, customPrefix); found {
		id, err := uuid.Parse(rest)
		if err != nil {
			return "", nil, false
		}
		return RoleCustom, &id, true
	}
	if _, isBuiltin := Builtin(v); !isBuiltin {
		return "", nil, false
	}
	return v, nil, true
}

// errUnknownRole means a role value names no role of the organization.
var errUnknownRole = errors.New("unknown role")

// resolveRole looks a form value up; custom roles must belong to the
// organization.
func resolveRole(ctx context.Context, q *db.Queries, orgID uuid.UUID, value string) (RoleChoice, error) {
	role, customID, ok := ParseRoleValue(value)
	if !ok {
		return RoleChoice{}, errUnknownRole
	}
	if customID == nil {
		b, _ := Builtin(role)
		return RoleChoice{Value: role, Role: role, Label: b.Label, Permissions: b.Permissions}, nil
	}
	r, err := q.GetRole(ctx, db.GetRoleParams{OrganizationID: orgID, ID: *customID})
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return RoleChoice{}, errUnknownRole
	}
	if err != nil {
		return RoleChoice{}, err
	}
	return RoleChoice{Value: value, Role: RoleCustom, CustomID: &r.ID, Label: r.Name, Permissions: PermissionsFor(RoleCustom, r.Permissions)}, nil
}

// currentRole resolves a membership's role (for rules and audit lines).
func currentRole(ctx context.Context, q *db.Queries, orgID uuid.UUID, role string, customID *uuid.UUID) (RoleChoice, error) {
	c, err := resolveRole(ctx, q, orgID, RoleValue(role, customID))
	if errors.Is(err, errUnknownRole) {
		return RoleChoice{}, fmt.Errorf("membership has an unknown role %q", role)
	}
	return c, err
}

// MembersData is what the members page shows.
type MembersData struct {
	Members     []db.ListMembersRow
	Invitations []db.ListPendingInvitationsRow
	Roles       []db.ListRolesRow
}

// LoadMembers reads members, pending invitations and custom roles in one
// transaction.
func (s *Service) LoadMembers(ctx context.Context, orgID uuid.UUID) (MembersData, error) {
	var d MembersData
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		if d.Members, err = q.ListMembers(ctx, orgID); err != nil {
			return err
		}
		if d.Invitations, err = q.ListPendingInvitations(ctx, orgID); err != nil {
			return err
		}
		d.Roles, err = q.ListRoles(ctx, orgID)
		return err
	})
	if err != nil {
		return MembersData{}, fmt.Errorf("load members: %w", err)
	}
	return d, nil
}

// RoleChoices lists every role of the organization (built-in first, then
// custom roles in the order given).
func RoleChoices(custom []db.ListRolesRow) []RoleChoice {
	out := make([]RoleChoice, 0, len(BuiltinRoles)+len(custom))
	for _, b := range BuiltinRoles {
		out = append(out, RoleChoice{Value: b.Key, Role: b.Key, Label: b.Label, Permissions: b.Permissions})
	}
	for _, r := range custom {
		id := r.ID
		out = append(out, RoleChoice{Value: RoleValue(RoleCustom, &id), Role: RoleCustom, CustomID: &id, Label: r.Name, Permissions: PermissionsFor(RoleCustom, r.Permissions)})
	}
	return out
}

// ChangeRole gives the member memberID the role named by value.
func (s *Service) ChangeRole(ctx context.Context, a Actor, memberID uuid.UUID, value string) (db.GetMemberRow, error) {
	var m db.GetMemberRow
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		// Lock the owners first: two concurrent demotions of the last two
		// owners must not both succeed.
		owners, err := q.CountOwnersForUpdate(ctx, a.OrgID)
		if err != nil {
			return err
		}
		if m, err = q.GetMember(ctx, db.GetMemberParams{OrganizationID: a.OrgID, ID: memberID}); err != nil {
			return err
		}
		from, err := currentRole(ctx, q, a.OrgID, m.Role, m.CustomRoleID)
		if err != nil {
			return err
		}
		if err := a.CheckChangeRole(m.UserID, from.Role, from.Permissions); err != nil {
			return err
		}
		to, err := resolveRole(ctx, q, a.OrgID, value)
		if errors.Is(err, errUnknownRole) {
			return &RuleError{RuleInvalid, "Choose one of the organization's roles."}
		}
		if err != nil {
			return err
		}
		if err := a.CheckGrant(to.Role, to.Permissions); err != nil {
			return err
		}
		if to.Value == from.Value {
			return nil
		}
		if from.Role == RoleOwner && owners <= 1 {
			return ErrLastOwner
		}
		if _, err := q.UpdateMemberRole(ctx, db.UpdateMemberRoleParams{OrganizationID: a.OrgID, ID: m.ID, Role: to.Role, CustomRoleID: to.CustomID}); err != nil {
			return err
		}
		m.Role, m.CustomRoleID = to.Role, to.CustomID
		// Permissions are read on every request, so the change applies to
		// the member's next page without touching their sessions.
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.MemberRoleChanged,
			TargetType: "member", TargetID: m.UserID.String(),
			Summary: fmt.Sprintf("%s: %s → %s", m.Email, from.Label, to.Label),
		})
	})
	if err != nil {
		return db.GetMemberRow{}, fmt.Errorf("change role: %w", err)
	}
	return m, nil
}

// RemoveMember removes the member memberID from the organization.
func (s *Service) RemoveMember(ctx context.Context, a Actor, memberID uuid.UUID) (db.GetMemberRow, error) {
	var m db.GetMemberRow
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		owners, err := q.CountOwnersForUpdate(ctx, a.OrgID)
		if err != nil {
			return err
		}
		if m, err = q.GetMember(ctx, db.GetMemberParams{OrganizationID: a.OrgID, ID: memberID}); err != nil {
			return err
		}
		from, err := currentRole(ctx, q, a.OrgID, m.Role, m.CustomRoleID)
		if err != nil {
			return err
		}
		if err := a.CheckRemove(m.UserID, from.Role, from.Permissions); err != nil {
			return err
		}
		if from.Role == RoleOwner && owners <= 1 {
			return ErrLastOwner
		}
		if n, err := q.DeleteMember(ctx, db.DeleteMemberParams{OrganizationID: a.OrgID, ID: m.ID}); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.MemberRemoved,
			TargetType: "member", TargetID: m.UserID.String(),
			Summary: fmt.Sprintf("%s (%s) removed", m.Email, from.Label),
		})
	})
	if err != nil {
		return db.GetMemberRow{}, fmt.Errorf("remove member: %w", err)
	}
	return m, nil
}

// Leave takes the actor out of the organization. The last owner cannot
// leave: the organization would have nobody able to run it.
func (s *Service) Leave(ctx context.Context, a Actor) error {
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		owners, err := q.CountOwnersForUpdate(ctx, a.OrgID)
		if err != nil {
			return err
		}
		m, err := q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: a.OrgID, UserID: a.UserID})
		if err != nil {
			return err
		}
		if m.Role == RoleOwner && owners <= 1 {
			return &RuleError{RuleConflict, "You are the last owner of " + a.OrgName + ". Make another member an owner before you leave."}
		}
		if _, err := q.DeleteMember(ctx, db.DeleteMemberParams{OrganizationID: a.OrgID, ID: m.ID}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.MemberLeft,
			TargetType: "member", TargetID: a.UserID.String(), Summary: a.Email + " left",
		})
	})
	if err != nil {
		return fmt.Errorf("leave organization: %w", err)
	}
	return nil
}
