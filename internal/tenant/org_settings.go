package tenant

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
)

// RenameOrganization renames the actor's organization. The slug, which is
// in every address and bookmark, stays.
func (s *Service) RenameOrganization(ctx context.Context, a Actor, name string) (db.Organization, error) {
	name = form.Clean(name)
	errs := form.Errors{}
	errs.Required("name", name, 120)
	if errs.Any() {
		return db.Organization{}, errs
	}
	var org db.Organization
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if org, err = q.RenameOrganization(ctx, db.RenameOrganizationParams{OrganizationID: a.OrgID, Name: name}); err != nil {
			return err
		}
		if org.Name == a.OrgName {
			return nil
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.OrgRenamed,
			TargetType: "organization", TargetID: a.OrgID.String(), Summary: a.OrgName + " → " + org.Name,
		})
	})
	if err != nil {
		return db.Organization{}, fmt.Errorf("rename organization: %w", err)
	}
	return org, nil
}

// SettingsData is what the settings page shows.
type SettingsData struct {
	Roles  []db.ListRolesRow
	Owners int
}

// LoadSettings reads the custom roles and counts the owners.
func (s *Service) LoadSettings(ctx context.Context, orgID uuid.UUID) (SettingsData, error) {
	var d SettingsData
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		if d.Roles, err = q.ListRoles(ctx, orgID); err != nil {
			return err
		}
		members, err := q.ListMembers(ctx, orgID)
		for _, m := range members {
			if m.Role == RoleOwner {
				d.Owners++
			}
		}
		return err
	})
	if err != nil {
		return SettingsData{}, fmt.Errorf("load settings: %w", err)
	}
	return d, nil
}
