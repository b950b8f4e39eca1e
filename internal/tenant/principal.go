package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"

	"accute/internal/store"
)

// User is the signed-in user as every page needs it.
type User struct {
	ID              uuid.UUID  `json:"id"`
	Email           string     `json:"email"`
	Name            string     `json:"name"`
	IsPlatformAdmin bool       `json:"is_platform_admin"`
	SuspendedAt     *time.Time `json:"suspended_at"`
	SessionVersion  int32      `json:"session_version"`
	EmailVerifiedAt *time.Time `json:"email_verified_at"`
}

// OrgRef is an organization in the switcher.
type OrgRef struct {
	ID   uuid.UUID `json:"id"`
	Slug string    `json:"slug"`
	Name string    `json:"name"`
	Role string    `json:"role"`
}

// Membership is the signed-in user's place in the current organization.
type Membership struct {
	ID             uuid.UUID     `json:"id"`
	Role           string        `json:"role"`
	CustomRoleID   *uuid.UUID    `json:"custom_role_id"`
	CustomRoleName string        `json:"custom_role_name"`
	CustomPerms    []string      `json:"permissions"`
	Permissions    PermissionSet `json:"-"`
}

// RoleLabel is the role's display name.
func (m *Membership) RoleLabel() string {
	if m.Role == RoleCustom {
		return m.CustomRoleName
	}
	r, _ := Builtin(m.Role)
	return r.Label
}

// Principal is everything known about the request's user: who they are,
// their organizations, and (on organization pages) the current one.
type Principal struct {
	User       *User       `json:"user"`
	Org        *OrgRef     `json:"org"`
	Membership *Membership `json:"membership"`
	Orgs       []OrgRef    `json:"orgs"`
}

// ErrNoUser means the session's user no longer exists.
var ErrNoUser = errors.New("user not found")

// slugPattern is the same rule as the organizations.slug CHECK constraint;
// only strings matching it are ever interpolated into SQL below.
var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$`)

// ValidSlug reports whether s can be an organization slug.
func ValidSlug(s string) bool { return slugPattern.MatchString(s) }

// principalSQL builds one JSON document with the user, their organizations
// and (when app.organization_id is set) the current organization and
// membership. Statements before it set the context it reads.
const principalSQL = `SELECT json_build_object(
  'user', (SELECT row_to_json(u) FROM (SELECT id, email, name, is_platform_admin, suspended_at, session_version, email_verified_at FROM users WHERE id = app_current_user()) u),
  'org', (SELECT row_to_json(o) FROM (SELECT id, slug, name, '' AS role FROM organizations WHERE id = app_current_org()) o),
  'membership', (SELECT row_to_json(x) FROM (
      SELECT m.id, m.role, m.custom_role_id, coalesce(r.name, '') AS custom_role_name, coalesce(r.permissions, '{}') AS permissions
      FROM memberships m LEFT JOIN roles r ON r.organization_id = m.organization_id AND r.id = m.custom_role_id
      WHERE m.organization_id = app_current_org() AND m.user_id = app_current_user()) x),
  'orgs', (SELECT coalesce(json_agg(y ORDER BY lower(y.name), y.id), '[]') FROM (
      SELECT o.id, o.slug, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id
      WHERE m.user_id = app_current_user()) y)
)::text`

// LoadUser loads the principal without an organization, in one round trip
// and without holding a transaction open.
func LoadUser(ctx context.Context, s *store.Store, userID uuid.UUID) (*Principal, error) {
	sql := fmt.Sprintf("SELECT set_config('app.user_id', '%s', true); %s", userID, principalSQL)
	res, err := s.ExecMulti(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	return decodePrincipal(res[len(res)-1].Rows)
}

// LoadMember opens the request transaction for an organization page and
// loads the principal in the same round trip. When the user is not a member
// (or the organization does not exist) it returns a principal with a nil
// Membership and no transaction.
func LoadMember(ctx context.Context, s *store.Store, userID uuid.UUID, slug string) (*Principal, *store.RequestTx, error) {
	if !ValidSlug(slug) {
		p, err := LoadUser(ctx, s, userID)
		return p, nil, err
	}
	// userID is a parsed UUID and slug matched slugPattern: both are safe
	// to interpolate.
	sql := fmt.Sprintf(`BEGIN;
SELECT set_config('app.user_id', '%[1]s', true);
SELECT set_config('app.organization_id', coalesce((SELECT m.organization_id::text FROM memberships m JOIN organizations o ON o.id = m.organization_id WHERE o.slug = '%[2]s' AND m.user_id = '%[1]s'), ''), true);
%[3]s`, userID, slug, principalSQL)
	rt, res, err := s.BeginRequestTx(ctx, sql)
	if err != nil {
		return nil, nil, fmt.Errorf("load member: %w", err)
	}
	p, err := decodePrincipal(res[len(res)-1].Rows)
	if err != nil || p.Membership == nil || p.Org == nil {
		rt.Rollback(ctx)
		return p, nil, err
	}
	rt.OrgID = p.Org.ID
	return p, rt, nil
}

func decodePrincipal(rows [][][]byte) (*Principal, error) {
	if len(rows) != 1 || len(rows[0]) != 1 {
		return nil, errors.New("load principal: unexpected result shape")
	}
	var p Principal
	if err := json.Unmarshal(rows[0][0], &p); err != nil {
		return nil, fmt.Errorf("decode principal: %w", err)
	}
	if p.User == nil {
		return nil, ErrNoUser
	}
	if p.Membership != nil {
		p.Membership.Permissions = PermissionsFor(p.Membership.Role, p.Membership.CustomPerms)
	}
	return &p, nil
}

type principalKey struct{}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the request's principal, or nil when anonymous.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
