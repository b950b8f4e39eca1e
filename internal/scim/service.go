package scim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/auth"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Service provisions an organization's members through SCIM and manages
// its tokens and group-to-role mappings.
type Service struct {
	Store   *store.Store
	BaseURL string
	// Cost is the bcrypt cost of the random password hash given to
	// accounts SCIM creates.
	Cost int

	hashOnce sync.Once
	hash     string
	hashErr  error
}

// unusableHash is the password hash of accounts SCIM creates: bcrypt of a
// random secret that is dropped at once, so nobody can sign in with a
// password, and a password attempt takes as long as for anyone else. One
// hash serves every such account (computing one per account would cost a
// bcrypt run per provisioned person, 0.3 s at production cost).
func (s *Service) unusableHash() (string, error) {
	s.hashOnce.Do(func() { s.hash, s.hashErr = auth.HashPassword(randomSecret(), s.Cost) })
	return s.hash, s.hashErr
}

// TokenPrefix starts every SCIM token.
const TokenPrefix = "scim_"

// Token is an authenticated SCIM client.
type Token struct {
	OrgID uuid.UUID
	ID    uuid.UUID
	Name  string
}

func (t Token) actor() string { return "SCIM: " + t.Name }

// newToken returns a token naming the organization and the hash to store.
// The organization id in the token lets the lookup run inside that
// organization's row-level security context; it is not a secret.
func newToken(org uuid.UUID) (string, []byte) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	raw := TokenPrefix + hex.EncodeToString(org[:]) + "_" + base64.RawURLEncoding.EncodeToString(secret)
	return raw, crypto.HashToken(raw)
}

// parseToken takes the organization id out of a token.
func parseToken(raw string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(raw, TokenPrefix)
	if !ok || len(raw) > 200 {
		return uuid.Nil, false
	}
	orgPart, secret, ok := strings.Cut(rest, "_")
	if !ok || len(secret) < 40 {
		return uuid.Nil, false
	}
	b, err := hex.DecodeString(orgPart)
	if err != nil || len(b) != 16 {
		return uuid.Nil, false
	}
	id, err := uuid.FromBytes(b)
	return id, err == nil
}

// Authenticate checks an Authorization header's bearer token. A revoked
// token's use is recorded in its organization's audit trail.
func (s *Service) Authenticate(ctx context.Context, header string) (Token, error) {
	scheme, raw, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Token{}, ErrUnauthorized
	}
	raw = strings.TrimSpace(raw)
	org, ok := parseToken(raw)
	if !ok {
		return Token{}, ErrUnauthorized
	}
	hash := crypto.HashToken(raw)
	var tok Token
	err := s.Store.InOrg(ctx, org, func(q *db.Queries) error {
		row, err := q.UseScimToken(ctx, db.UseScimTokenParams{OrganizationID: org, TokenHash: hash})
		if err == nil {
			tok = Token{OrgID: org, ID: row.ID, Name: row.Name}
			return nil
		}
		if !errors.Is(store.MapError(err), store.ErrNotFound) {
			return err
		}
		old, err := q.GetScimTokenByHash(ctx, db.GetScimTokenByHashParams{OrganizationID: org, TokenHash: hash})
		if err != nil {
			return nil // unknown token: nothing to record
		}
		return audit.Record(ctx, q, audit.Event{OrgID: &org, ActorEmail: "SCIM: " + old.Name, Action: audit.SCIMTokenRejected,
			TargetType: "scim_token", TargetID: old.ID.String(), Summary: "use of a revoked token"})
	})
	if err != nil {
		return Token{}, fmt.Errorf("scim authenticate: %w", err)
	}
	if tok.ID == uuid.Nil {
		return Token{}, ErrUnauthorized
	}
	return tok, nil
}

// CreateToken makes a token for the actor's organization and returns it
// in clear, once; only its hash is kept.
func (s *Service) CreateToken(ctx context.Context, a tenant.Actor, name string) (string, error) {
	name = form.Clean(name)
	errs := form.Errors{}
	errs.Required("name", name, 80)
	if errs.Any() {
		return "", errs
	}
	raw, hash := newToken(a.OrgID)
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		t, err := q.CreateScimToken(ctx, db.CreateScimTokenParams{OrganizationID: a.OrgID, Name: name, TokenHash: hash, Hint: raw[len(raw)-4:], CreatedBy: &a.UserID})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SCIMTokenCreated,
			TargetType: "scim_token", TargetID: t.ID.String(), Summary: name})
	})
	if err != nil {
		return "", fmt.Errorf("create scim token: %w", err)
	}
	return raw, nil
}

// RevokeToken revokes a token at once.
func (s *Service) RevokeToken(ctx context.Context, a tenant.Actor, id uuid.UUID) (db.ScimToken, error) {
	var t db.ScimToken
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if t, err = q.RevokeScimToken(ctx, db.RevokeScimTokenParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return err
		}
		return audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SCIMTokenRevoked,
			TargetType: "scim_token", TargetID: t.ID.String(), Summary: t.Name})
	})
	return t, err
}

// Settings is what the provisioning settings page shows.
type Settings struct {
	Tokens   []db.ListScimTokensRow
	Mappings []db.ListScimRoleMappingsRow
	Roles    []db.ListRolesRow
	Groups   []string
	Summary  db.ScimSummaryRow
	// VerifiedDomains counts the organization's verified e-mail domains:
	// without one, SCIM can only link existing members.
	VerifiedDomains int
}

// LoadSettings reads the settings page's data in one transaction.
func (s *Service) LoadSettings(ctx context.Context, orgID uuid.UUID) (Settings, error) {
	var d Settings
	err := s.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		if d.Tokens, err = q.ListScimTokens(ctx, orgID); err != nil {
			return err
		}
		if d.Mappings, err = q.ListScimRoleMappings(ctx, orgID); err != nil {
			return err
		}
		if d.Roles, err = q.ListRoles(ctx, orgID); err != nil {
			return err
		}
		if d.Groups, err = q.ListScimGroupNames(ctx, orgID); err != nil {
			return err
		}
		if d.Summary, err = q.ScimSummary(ctx, orgID); err != nil {
			return err
		}
		n, err := q.CountVerifiedSSODomains(ctx, orgID)
		d.VerifiedDomains = int(n)
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("load scim settings: %w", err)
	}
	return d, nil
}

// MappingInput is the add-mapping form.
type MappingInput struct {
	GroupName string
	Role      string // a role value: "manager" or "custom:<uuid>"
}

// CreateMapping maps a group name to a role and applies it to the group's
// current members. The actor must be able to grant the role themself;
// owner cannot be mapped.
func (s *Service) CreateMapping(ctx context.Context, a tenant.Actor, in MappingInput) error {
	in.GroupName = form.Clean(in.GroupName)
	errs := form.Errors{}
	errs.Required("group_name", in.GroupName, 255)
	role, customID, ok := tenant.ParseRoleValue(in.Role)
	if !ok || role == tenant.RoleOwner {
		errs.Add("role", "Choose a role other than Owner: owners are managed in Accute only.")
	}
	if errs.Any() {
		return errs
	}
	return s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var perms tenant.PermissionSet
		label := ""
		if customID != nil {
			r, err := q.GetRole(ctx, db.GetRoleParams{OrganizationID: a.OrgID, ID: *customID})
			if errors.Is(store.MapError(err), store.ErrNotFound) {
				return form.Errors{"role": "Choose one of the organization's roles."}
			}
			if err != nil {
				return err
			}
			perms, label = tenant.PermissionsFor(tenant.RoleCustom, r.Permissions), r.Name
		} else {
			b, _ := tenant.Builtin(role)
			perms, label = b.Permissions, b.Label
		}
		if err := a.CheckGrant(role, perms); err != nil {
			return form.Errors{"role": err.Error()}
		}
		m, err := q.CreateScimRoleMapping(ctx, db.CreateScimRoleMappingParams{OrganizationID: a.OrgID, GroupName: in.GroupName, Role: role, CustomRoleID: customID})
		if errors.Is(store.MapError(err), store.ErrConflict) {
			return form.Errors{"group_name": "This group already has a role. Remove that mapping first."}
		}
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SCIMMappingCreated,
			TargetType: "scim_mapping", TargetID: m.ID.String(), Summary: in.GroupName + " → " + label}); err != nil {
			return err
		}
		return s.reapplyGroupName(ctx, q, a.OrgID, in.GroupName, a.Email)
	})
}

// DeleteMapping removes a mapping and re-applies roles to the group's
// members.
func (s *Service) DeleteMapping(ctx context.Context, a tenant.Actor, id uuid.UUID) (db.ScimRoleMapping, error) {
	var m db.ScimRoleMapping
	err := s.Store.InOrg(ctx, a.OrgID, func(q *db.Queries) error {
		var err error
		if m, err = q.DeleteScimRoleMapping(ctx, db.DeleteScimRoleMappingParams{OrganizationID: a.OrgID, ID: id}); err != nil {
			return err
		}
		if err := audit.Record(ctx, q, audit.Event{OrgID: &a.OrgID, ActorID: &a.UserID, ActorEmail: a.Email, Action: audit.SCIMMappingDeleted,
			TargetType: "scim_mapping", TargetID: m.ID.String(), Summary: m.GroupName}); err != nil {
			return err
		}
		return s.reapplyGroupName(ctx, q, a.OrgID, m.GroupName, a.Email)
	})
	return m, err
}

func (s *Service) reapplyGroupName(ctx context.Context, q *db.Queries, org uuid.UUID, name, actor string) error {
	ids, err := q.ScimUsersInGroupsNamed(ctx, db.ScimUsersInGroupsNamedParams{OrganizationID: org, GroupName: name})
	if err != nil {
		return err
	}
	return s.applyRoles(ctx, q, org, ids, actor)
}

// roleRank orders built-in roles for "highest role wins"; custom roles
// rank below every built-in one.
var roleRank = map[string]int{tenant.RoleAdmin: 4, tenant.RoleManager: 3, tenant.RoleStaff: 2, tenant.RoleClient: 1}

// applyRoles brings the role of each provisioned member in ids in line
// with their groups (see the package comment for the rule).
func (s *Service) applyRoles(ctx context.Context, q *db.Queries, org uuid.UUID, ids []uuid.UUID, actor string) error {
	for _, id := range ids {
		su, err := q.GetScimUser(ctx, db.GetScimUserParams{OrganizationID: org, ID: id})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if !su.Active {
			continue
		}
		m, err := q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: org, UserID: su.UserID})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if m.Role == tenant.RoleOwner {
			continue // owners are managed in Accute only
		}
		rows, err := q.MappedRolesForScimUser(ctx, db.MappedRolesForScimUserParams{OrganizationID: org, ScimUserID: su.ID})
		if err != nil {
			return err
		}
		role, customID, managed := pickRole(rows)
		if !managed {
			if !su.RoleManaged {
				continue // the role was set by hand: leave it
			}
			role, customID = tenant.RoleStaff, nil
		}
		if managed != su.RoleManaged {
			if err := q.SetScimUserRoleManaged(ctx, db.SetScimUserRoleManagedParams{OrganizationID: org, ID: su.ID, RoleManaged: managed}); err != nil {
				return err
			}
		}
		if m.Role == role && sameID(m.CustomRoleID, customID) {
			continue
		}
		if _, err := q.UpdateMemberRole(ctx, db.UpdateMemberRoleParams{OrganizationID: org, ID: m.ID, Role: role, CustomRoleID: customID}); err != nil {
			return err
		}
		if err := audit.Record(ctx, q, audit.Event{OrgID: &org, ActorEmail: actor, Action: audit.SCIMMemberRoleChanged,
			TargetType: "member", TargetID: su.UserID.String(), Summary: fmt.Sprintf("%s: %s → %s", su.UserName, roleName(m.Role), roleName(role))}); err != nil {
			return err
		}
	}
	return nil
}

// pickRole chooses among mapped roles: the highest built-in role, else
// the first custom role (rows come ordered by group name).
func pickRole(rows []db.MappedRolesForScimUserRow) (string, *uuid.UUID, bool) {
	if len(rows) == 0 {
		return "", nil, false
	}
	best := -1
	for i, r := range rows {
		if roleRank[r.Role] > 0 && (best < 0 || roleRank[r.Role] > roleRank[rows[best].Role]) {
			best = i
		}
	}
	if best >= 0 {
		return rows[best].Role, nil, true
	}
	return tenant.RoleCustom, rows[0].CustomRoleID, true
}

func sameID(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func roleName(role string) string {
	if b, ok := tenant.Builtin(role); ok {
		return b.Label
	}
	return "Custom role"
}
