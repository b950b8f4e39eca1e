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
	// MFA: the user has confirmed two-factor authentication.
	MFA bool `json:"mfa"`
}

// OrgRef is an organization in the switcher.
type OrgRef struct {
	ID   uuid.UUID `json:"id"`
	Slug string    `json:"slug"`
	Name string    `json:"name"`
	Role string    `json:"role"`
	// RequireMFA: the organization requires two-factor authentication of
	// its members (set for the current organization only).
	RequireMFA bool `json:"require_mfa"`
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

// slugPattern is the same rule as the organizations.slug CHECK constraint.
var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$`)

// ValidSlug reports whether s can be an organization slug.
func ValidSlug(s string) bool { return slugPattern.MatchString(s) }

// LoadUser loads the principal without an organization, in one round trip
// and without holding a transaction open (app_enter's settings last only
// for its own statement's implicit transaction).
func LoadUser(ctx context.Context, s *store.Store, userID uuid.UUID) (*Principal, error) {
	var raw []byte
	if err := s.Pool.QueryRow(ctx, "SELECT app_enter($1, '')", userID).Scan(&raw); err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	return decodePrincipal(raw)
}

// LoadMember opens the request transaction for an organization page and
// loads the principal in the same round trip (BEGIN and app_enter sent as
// one pipelined batch). When the user is not a member, or the organization
// does not exist, it returns a principal with a nil Membership and no
// transaction.
func LoadMember(ctx context.Context, s *store.Store, userID uuid.UUID, slug string) (*Principal, *store.RequestTx, error) {
	if !ValidSlug(slug) {
		p, err := LoadUser(ctx, s, userID)
		return p, nil, err
	}
	var raw []byte
	rt, err := s.BeginRequestTx(ctx, "SELECT app_enter($1, $2)", []any{userID, slug}, &raw)
	if err != nil {
		return nil, nil, fmt.Errorf("load member: %w", err)
	}
	p, err := decodePrincipal(raw)
	if err != nil || p.Membership == nil || p.Org == nil {
		rt.Rollback(ctx)
		return p, nil, err
	}
	rt.OrgID = p.Org.ID
	return p, rt, nil
}

func decodePrincipal(raw []byte) (*Principal, error) {
	if len(raw) == 0 {
		return nil, ErrNoUser // app_enter returns NULL for a missing user
	}
	var p Principal
	if err := json.Unmarshal(raw, &p); err != nil {
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
