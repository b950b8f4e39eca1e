package scim

import (
	"context"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
)

func (s *Service) groupResource(g db.ScimGroup, members []db.ListMembersOfScimGroupsRow, withMembers bool) Group {
	out := Group{
		Schemas: []string{GroupSchema}, ID: g.ID.String(), ExternalID: g.ExternalID, DisplayName: g.DisplayName,
		Meta: Meta{ResourceType: "Group", Created: stamp(g.CreatedAt), LastModified: stamp(g.UpdatedAt), Location: s.location("Groups", g.ID.String())},
	}
	if withMembers {
		out.Members = []Ref{}
		for _, m := range members {
			if m.GroupID == g.ID {
				display := m.DisplayName
				if display == "" {
					display = m.UserName
				}
				out.Members = append(out.Members, Ref{Value: m.ID.String(), Ref: s.location("Users", m.ID.String()), Display: display})
			}
		}
	}
	return out
}

func (s *Service) membersOf(ctx context.Context, q *db.Queries, org uuid.UUID, ids ...uuid.UUID) ([]db.ListMembersOfScimGroupsRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return q.ListMembersOfScimGroups(ctx, db.ListMembersOfScimGroupsParams{OrganizationID: org, GroupIds: ids})
}

func (s *Service) getGroup(ctx context.Context, q *db.Queries, org, id uuid.UUID, lock bool) (db.ScimGroup, error) {
	var g db.ScimGroup
	var err error
	if lock {
		g, err = q.LockScimGroup(ctx, db.LockScimGroupParams{OrganizationID: org, ID: id})
	} else {
		g, err = q.GetScimGroup(ctx, db.GetScimGroupParams{OrganizationID: org, ID: id})
	}
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return g, ErrNotFound
	}
	return g, err
}

func validateGroup(name, externalID string) (string, string, error) {
	name, externalID = form.Clean(name), form.Clean(externalID)
	if name == "" || utf8.RuneCountInString(name) > 255 || utf8.RuneCountInString(externalID) > 255 {
		return "", "", badRequest("invalidValue", "displayName is required (at most 255 characters).")
	}
	return name, externalID, nil
}

// GetGroup answers GET /Groups/{id}.
func (s *Service) GetGroup(ctx context.Context, tok Token, id uuid.UUID, withMembers bool) (Group, error) {
	var out Group
	err := s.Store.InOrg(ctx, tok.OrgID, func(q *db.Queries) error {
		g, err := s.getGroup(ctx, q, tok.OrgID, id, false)
		if err != nil {
			return err
		}
		var members []db.ListMembersOfScimGroupsRow
		if withMembers {
			if members, err = s.membersOf(ctx, q, tok.OrgID, g.ID); err != nil {
				return err
			}
		}
		out = s.groupResource(g, members, withMembers)
		return nil
	})
	return out, err
}

// ListGroups answers GET /Groups, filtered by displayName or externalId.
func (s *Service) ListGroups(ctx context.Context, tok Token, lq ListQuery) (ListResponse[Group], error) {
	f, err := ParseFilter(lq.Filter, "displayname", "externalid")
	if err != nil {
		return ListResponse[Group]{}, err
	}
	skip, limit := lq.page()
	out := ListResponse[Group]{Schemas: []string{ListSchema}, StartIndex: skip + 1, Resources: []Group{}}
	if f.Attr != "" && f.Value == "" {
		return out, nil
	}
	p := db.ListScimGroupsParams{OrganizationID: tok.OrgID, MaxRows: int32(limit), Skip: int32(skip)}
	if f.Attr == "displayname" {
		p.DisplayName = f.Value
	} else {
		p.ExternalID = f.Value
	}
	err = s.Store.InOrg(ctx, tok.OrgID, func(q *db.Queries) error {
		total, err := q.CountScimGroups(ctx, db.CountScimGroupsParams{OrganizationID: tok.OrgID, DisplayName: p.DisplayName, ExternalID: p.ExternalID})
		if err != nil {
			return err
		}
		out.TotalResults = int(total)
		if limit == 0 {
			return nil
		}
		rows, err := q.ListScimGroups(ctx, p)
		if err != nil {
			return err
		}
		var members []db.ListMembersOfScimGroupsRow
		if !lq.ExcludeMembers {
			ids := make([]uuid.UUID, len(rows))
			for i, r := range rows {
				ids[i] = r.ID
			}
			if members, err = s.membersOf(ctx, q, tok.OrgID, ids...); err != nil {
				return err
			}
		}
		for _, r := range rows {
			out.Resources = append(out.Resources, s.groupResource(r, members, !lq.ExcludeMembers))
		}
		return nil
	})
	out.ItemsPerPage = len(out.Resources)
	return out, err
}

// checkMembers refuses ids that are not provisioned users of the
// organization (another organization's ids included).
func checkMembers(ctx context.Context, q *db.Queries, org uuid.UUID, ids map[uuid.UUID]bool) error {
	if len(ids) == 0 {
		return nil
	}
	list := make([]uuid.UUID, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	n, err := q.CountExistingScimUsers(ctx, db.CountExistingScimUsersParams{OrganizationID: org, Ids: list})
	if err != nil {
		return err
	}
	if int(n) != len(list) {
		return badRequest("invalidValue", "A member is not a provisioned user of this organization.")
	}
	return nil
}

func setOf(ids []uuid.UUID) map[uuid.UUID]bool {
	out := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// CreateGroup answers POST /Groups.
func (s *Service) CreateGroup(ctx context.Context, tok Token, in GroupAttrs) (Group, error) {
	name, ext, err := validateGroup(in.DisplayName, in.ExternalID)
	if err != nil {
		return Group{}, err
	}
	members := setOf(in.Members)
	var out Group
	err = s.Store.InOrg(ctx, tok.OrgID, func(q *db.Queries) error {
		if err := checkMembers(ctx, q, tok.OrgID, members); err != nil {
			return err
		}
		g, err := q.CreateScimGroup(ctx, db.CreateScimGroupParams{OrganizationID: tok.OrgID, DisplayName: name, ExternalID: ext})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return errUniqueness("displayName")
		}
		if err != nil {
			return err
		}
		changed := make([]uuid.UUID, 0, len(members))
		for id := range members {
			if _, err := q.AddScimGroupMember(ctx, db.AddScimGroupMemberParams{OrganizationID: tok.OrgID, GroupID: g.ID, ScimUserID: id}); err != nil {
				return err
			}
			changed = append(changed, id)
		}
		if err := audit.Record(ctx, q, audit.Event{OrgID: &tok.OrgID, ActorEmail: tok.actor(), Action: audit.SCIMGroupCreated,
			TargetType: "scim_group", TargetID: g.ID.String(), Summary: name}); err != nil {
			return err
		}
		if err := s.applyRoles(ctx, q, tok.OrgID, changed, tok.actor()); err != nil {
			return err
		}
		rows, err := s.membersOf(ctx, q, tok.OrgID, g.ID)
		out = s.groupResource(g, rows, true)
		return err
	})
	return out, err
}

// ReplaceGroup answers PUT /Groups/{id}.
func (s *Service) ReplaceGroup(ctx context.Context, tok Token, id uuid.UUID, in GroupAttrs) (Group, error) {
	return s.changeGroup(ctx, tok, id, func(g *groupState) error {
		g.DisplayName, g.ExternalID, g.Members = in.DisplayName, in.ExternalID, setOf(in.Members)
		return nil
	})
}

// PatchGroup answers PATCH /Groups/{id}.
func (s *Service) PatchGroup(ctx context.Context, tok Token, id uuid.UUID, ops []PatchOp) (Group, error) {
	return s.changeGroup(ctx, tok, id, func(g *groupState) error { return applyGroupPatch(g, ops) })
}

func (s *Service) changeGroup(ctx context.Context, tok Token, id uuid.UUID, change func(*groupState) error) (Group, error) {
	var out Group
	err := s.Store.InOrg(ctx, tok.OrgID, func(q *db.Queries) error {
		g, err := s.getGroup(ctx, q, tok.OrgID, id, true)
		if err != nil {
			return err
		}
		current, err := s.membersOf(ctx, q, tok.OrgID, g.ID)
		if err != nil {
			return err
		}
		before := map[uuid.UUID]bool{}
		for _, m := range current {
			before[m.ID] = true
		}
		st := &groupState{DisplayName: g.DisplayName, ExternalID: g.ExternalID, Members: map[uuid.UUID]bool{}}
		for id := range before {
			st.Members[id] = true
		}
		if err := change(st); err != nil {
			return err
		}
		name, ext, err := validateGroup(st.DisplayName, st.ExternalID)
		if err != nil {
			return err
		}
		added := map[uuid.UUID]bool{}
		for id := range st.Members {
			if !before[id] {
				added[id] = true
			}
		}
		if err := checkMembers(ctx, q, tok.OrgID, added); err != nil {
			return err
		}
		var affected []uuid.UUID
		for id := range added {
			if _, err := q.AddScimGroupMember(ctx, db.AddScimGroupMemberParams{OrganizationID: tok.OrgID, GroupID: g.ID, ScimUserID: id}); err != nil {
				return err
			}
			affected = append(affected, id)
		}
		for id := range before {
			if !st.Members[id] {
				if _, err := q.RemoveScimGroupMember(ctx, db.RemoveScimGroupMemberParams{OrganizationID: tok.OrgID, GroupID: g.ID, ScimUserID: id}); err != nil {
					return err
				}
				affected = append(affected, id)
			} else if name != g.DisplayName {
				affected = append(affected, id) // a rename can change which mapping applies
			}
		}
		if name != g.DisplayName || ext != g.ExternalID {
			g, err = q.UpdateScimGroup(ctx, db.UpdateScimGroupParams{OrganizationID: tok.OrgID, ID: g.ID, DisplayName: name, ExternalID: ext})
			if errors.Is(store.MapError(err), store.ErrConflict) {
				return errUniqueness("displayName")
			}
			if err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, q, audit.Event{OrgID: &tok.OrgID, ActorEmail: tok.actor(), Action: audit.SCIMGroupUpdated,
			TargetType: "scim_group", TargetID: g.ID.String(), Summary: groupSummary(name, len(added), len(affected)-len(added))}); err != nil {
			return err
		}
		if err := s.applyRoles(ctx, q, tok.OrgID, affected, tok.actor()); err != nil {
			return err
		}
		rows, err := s.membersOf(ctx, q, tok.OrgID, g.ID)
		out = s.groupResource(g, rows, true)
		return err
	})
	return out, err
}

func groupSummary(name string, added, others int) string {
	s := name
	if added > 0 || others > 0 {
		s += " (members added: " + strconv.Itoa(added) + ", others affected: " + strconv.Itoa(others) + ")"
	}
	return s
}

// DeleteGroup answers DELETE /Groups/{id}; its members' roles are
// re-applied without it.
func (s *Service) DeleteGroup(ctx context.Context, tok Token, id uuid.UUID) error {
	return s.Store.InOrg(ctx, tok.OrgID, func(q *db.Queries) error {
		g, err := s.getGroup(ctx, q, tok.OrgID, id, true)
		if err != nil {
			return err
		}
		members, err := q.ClearScimGroupMembers(ctx, db.ClearScimGroupMembersParams{OrganizationID: tok.OrgID, GroupID: g.ID})
		if err != nil {
			return err
		}
		if _, err := q.DeleteScimGroup(ctx, db.DeleteScimGroupParams{OrganizationID: tok.OrgID, ID: g.ID}); err != nil {
			return err
		}
		if err := audit.Record(ctx, q, audit.Event{OrgID: &tok.OrgID, ActorEmail: tok.actor(), Action: audit.SCIMGroupDeleted,
			TargetType: "scim_group", TargetID: g.ID.String(), Summary: g.DisplayName}); err != nil {
			return err
		}
		return s.applyRoles(ctx, q, tok.OrgID, members, tok.actor())
	})
}
