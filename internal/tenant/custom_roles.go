package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

// RoleInput is the custom-role form.
type RoleInput struct {
	Name        string
	Description string
	Permissions []string
}

// Validate cleans the input and checks it; the permission list keeps the
// order of AllPermissions and drops duplicates.
func (in *RoleInput) Validate() form.Errors {
	in.Name, in.Description = form.Clean(in.Name), form.Clean(in.Description)
	errs := form.Errors{}
	errs.Required("name", in.Name, 60)
	errs.MaxLen("description", in.Description, 300)
	for _, b := range BuiltinRoles {
		if strings.EqualFold(in.Name, b.Label) || strings.EqualFold(in.Name, b.Key) {
			errs.Add("name", "“"+b.Label+"” is a built-in role. Choose another name.")
		}
	}
	perms := make([]string, 0, len(in.Permissions))
	for _, info := range AllPermissions {
		if slices.Contains(in.Permissions, string(info.Key)) {
			perms = append(perms, string(info.Key))
		}
	}
	for _, p := range in.Permissions {
		if !ValidPermission(p) {
			errs.Add("permissions", "Unknown permission “"+p+"”.")
		}
	}
	in.Permissions = perms
	return errs
}

func (in RoleInput) permissionSet() PermissionSet { return PermissionsFor(RoleCustom, in.Permissions) }

// errRoleNameTaken is a fresh error each time: form.Errors is a map.
func errRoleNameTaken() form.Errors {
	return form.Errors{"name": "A role with this name already exists."}
}

// CreateRole adds a custom role. Nobody defines a role with permissions
// they do not hold themselves.
func (s *Service) CreateRole(ctx context.Context, a Actor, in RoleInput) (db.Role, error) {
	if errs := in.Validate(); errs.Any() {
		return db.Role{}, errs
	}
	if err := a.CheckGrant(RoleCustom, in.permissionSet()); err != nil {
		return db.Role{}, form.Errors{"permissions": err.Error()}
	}
	var r db.Role
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		taken, err := q.RoleNameTaken(ctx, db.RoleNameTakenParams{OrganizationID: a.OrgID, Name: in.Name, ExcludeID: uuid.Nil})
		if err != nil {
			return err
		}
		if taken {
			return errRoleNameTaken()
		}
		r, err = q.CreateRole(ctx, db.CreateRoleParams{OrganizationID: a.OrgID, Name: in.Name, Description: in.Description, Permissions: in.Permissions})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return errRoleNameTaken()
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.RoleCreated,
			TargetType: "role", TargetID: r.ID.String(), Summary: fmt.Sprintf("%s: %s", r.Name, permissionList(r.Permissions)),
		})
	})
	if err != nil {
		return db.Role{}, fmt.Errorf("create role: %w", err)
	}
	return r, nil
}

// RoleDetails reads one custom role and how many members hold it.
func (s *Service) RoleDetails(ctx context.Context, orgID, id uuid.UUID) (db.Role, int, error) {
	var r db.Role
	var members int
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		if r, err = q.GetRole(ctx, db.GetRoleParams{OrganizationID: orgID, ID: id}); err != nil {
			return err
		}
		use, err := q.RoleUsage(ctx, db.RoleUsageParams{OrganizationID: orgID, ID: id})
		members = int(use.Members)
		return err
	})
	if err != nil {
		return db.Role{}, 0, fmt.Errorf("get role: %w", err)
	}
	return r, members, nil
}

// UpdateRole changes a custom role. Its members get the new permissions
// on their next request. The actor must hold both the permissions taken
// away and those granted.
func (s *Service) UpdateRole(ctx context.Context, a Actor, id uuid.UUID, in RoleInput) (db.Role, error) {
	errs := in.Validate()
	var r db.Role
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		old, err := q.LockRole(ctx, db.LockRoleParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		if errs.Any() {
			return errs
		}
		if err := a.CheckGrant(RoleCustom, append(in.permissionSet(), PermissionsFor(RoleCustom, old.Permissions)...)); err != nil {
			return form.Errors{"permissions": err.Error()}
		}
		taken, err := q.RoleNameTaken(ctx, db.RoleNameTakenParams{OrganizationID: a.OrgID, Name: in.Name, ExcludeID: id})
		if err != nil {
			return err
		}
		if taken {
			return errRoleNameTaken()
		}
		r, err = q.UpdateRole(ctx, db.UpdateRoleParams{OrganizationID: a.OrgID, ID: id, Name: in.Name, Description: in.Description, Permissions: in.Permissions})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return errRoleNameTaken()
		}
		if err != nil {
			return err
		}
		summary := r.Name + ": " + permissionList(r.Permissions)
		if old.Name != r.Name {
			summary = old.Name + " → " + summary
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.RoleUpdated,
			TargetType: "role", TargetID: r.ID.String(), Summary: summary,
		})
	})
	if err != nil {
		return db.Role{}, fmt.Errorf("update role: %w", err)
	}
	return r, nil
}

// DeleteRole deletes a custom role nobody holds and no pending invitation
// offers.
func (s *Service) DeleteRole(ctx context.Context, a Actor, id uuid.UUID) (db.Role, error) {
	var r db.Role
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		// The lock keeps new members and invitations off the role until
		// this transaction ends, so the usage count below stays true.
		if r, err = q.LockRole(ctx, db.LockRoleParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return err
		}
		if err := a.CheckGrant(RoleCustom, PermissionsFor(RoleCustom, r.Permissions)); err != nil {
			return err
		}
		use, err := q.RoleUsage(ctx, db.RoleUsageParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		switch {
		case use.Members > 0:
			return &RuleError{RuleConflict, fmt.Sprintf("“%s” is the role of %s. Give them another role before deleting it.", r.Name, plural(int(use.Members), "member"))}
		case use.Invitations > 0:
			return &RuleError{RuleConflict, fmt.Sprintf("“%s” is offered in %s. Revoke them before deleting the role.", r.Name, plural(int(use.Invitations), "pending invitation"))}
		}
		if err := q.DeleteSettledInvitationsForRole(ctx, db.DeleteSettledInvitationsForRoleParams{OrganizationID: a.OrgID, CustomRoleID: &id}); err != nil {
			return err
		}
		n, err := q.DeleteRole(ctx, db.DeleteRoleParams{OrganizationID: a.OrgID, ID: id})
		if err != nil {
			return err
		}
		if n == 0 {
			return &RuleError{RuleConflict, "“" + r.Name + "” is in use and cannot be deleted."}
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.RoleDeleted,
			TargetType: "role", TargetID: r.ID.String(), Summary: r.Name,
		})
	})
	if err != nil {
		return db.Role{}, fmt.Errorf("delete role: %w", err)
	}
	return r, nil
}

// ListRoles lists the organization's custom roles with their member counts.
func (s *Service) ListRoles(ctx context.Context, orgID uuid.UUID) ([]db.ListRolesRow, error) {
	var roles []db.ListRolesRow
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		roles, err = q.ListRoles(ctx, orgID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return roles, nil
}

func permissionList(perms []string) string {
	if len(perms) == 0 {
		return "no permissions"
	}
	return strings.Join(perms, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
