package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
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

// ValidSlug reports whether s can be an organization slug: the rule of the
// organizations.slug CHECK constraint, ^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$
// (1 to 48 characters; lower-case letters, digits and inner hyphens). It
// runs on every organization page, so it is a loop rather than the regular
// expression (a test holds the two equal).
func ValidSlug(s string) bool {
	if len(s) == 0 || len(s) > 48 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

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
	if p, ok := decoded.get(raw); ok {
		return p, nil
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
	decoded.put(raw, &p)
	return p.clone(), nil
}

// decoded memoizes decodePrincipal by the exact JSON app_enter returned.
// The principal is still read from the database on every request (the
// user's suspension, session version, role and memberships are as fresh
// as ever); only the decoding of identical bytes is saved, which was a few
// percent of an organization page's CPU. Callers get their own copy.
var decoded = principalMemo{entries: map[string]*Principal{}}

// principalMemo is a bounded map from JSON to decoded principals: when it
// is full it starts over (a few thousand users active at once is its
// working set).
type principalMemo struct {
	mu      sync.RWMutex
	entries map[string]*Principal
}

const principalMemoSize = 2048

func (m *principalMemo) get(raw []byte) (*Principal, bool) {
	m.mu.RLock()
	p, ok := m.entries[string(raw)]
	m.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return p.clone(), true
}

func (m *principalMemo) put(raw []byte, p *Principal) {
	m.mu.Lock()
	if len(m.entries) >= principalMemoSize {
		clear(m.entries)
	}
	m.entries[string(raw)] = p
	m.mu.Unlock()
}

// clone is a deep copy of p: requests may change their principal without
// touching another's.
func (p *Principal) clone() *Principal {
	c := *p
	if p.User != nil {
		u := *p.User
		u.SuspendedAt, u.EmailVerifiedAt = clonePtr(u.SuspendedAt), clonePtr(u.EmailVerifiedAt)
		c.User = &u
	}
	if p.Org != nil {
		o := *p.Org
		c.Org = &o
	}
	if p.Membership != nil {
		m := *p.Membership
		m.CustomRoleID = clonePtr(m.CustomRoleID)
		m.CustomPerms = slices.Clone(m.CustomPerms)
		m.Permissions = slices.Clone(m.Permissions)
		c.Membership = &m
	}
	c.Orgs = slices.Clone(p.Orgs)
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
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
