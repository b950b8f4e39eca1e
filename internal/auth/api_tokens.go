package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"accute/internal/audit"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Personal access tokens (PATs) for the JSON API.
//
// A PAT is "acc_pat_" followed by base64url(organization id || 24 random
// bytes). It is shown once; only its SHA-256 is stored. Carrying the
// organization id lets the lookup run inside that organization's
// row-level-security context (as invitation tokens do), in the same
// statement that opens the request's transaction (app_enter_pat).
const (
	PATPrefix      = "acc_pat_"
	patRandomBytes = 24
	// MaxPATLifetime is the longest expiry a token may be given.
	MaxPATLifetime = 366 * 24 * time.Hour
	// MaxActivePATs per member and organization.
	MaxActivePATs = 50
)

// PAT statuses from app_enter_pat.
const (
	PATOK       = "ok"
	PATInvalid  = "invalid"
	PATRevoked  = "revoked"
	PATExpired  = "expired"
	PATWrongOrg = "wrong_org"
)

// APITokens issues and checks API credentials: personal access tokens,
// JWT access tokens and their rotating refresh tokens.
type APITokens struct {
	Store      *store.Store
	Secret     []byte        // JWT_SECRET
	AccessTTL  time.Duration // JWT lifetime
	RefreshTTL time.Duration // refresh token lifetime

	// rejected remembers when this instance last audited the use of a
	// revoked or expired token, so a script stuck on one writes one audit
	// event a minute, not one per request.
	rejectedMu sync.Mutex
	rejected   map[uuid.UUID]time.Time

	// known holds the principals of tokens checked recently (pat_cache.go).
	known patKnown
}

// NewAPITokens returns the API token service.
func NewAPITokens(s *store.Store, jwtSecret string) *APITokens {
	return &APITokens{Store: s, Secret: []byte(jwtSecret), AccessTTL: 15 * time.Minute, RefreshTTL: 30 * 24 * time.Hour,
		rejected: map[uuid.UUID]time.Time{}}
}

// NewPAT returns a new token for an organization, its hash and its hint.
func NewPAT(orgID uuid.UUID) (token string, hash []byte, hint string) {
	b := make([]byte, 16+patRandomBytes)
	copy(b, orgID[:])
	_, _ = rand.Read(b[16:])
	token = PATPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, crypto.HashToken(token), token[len(token)-4:]
}

// ParsePAT extracts the organization id from a token and hashes it; ok is
// false for anything that is not shaped like a PAT.
func ParsePAT(token string) (orgID uuid.UUID, hash []byte, ok bool) {
	rest, found := strings.CutPrefix(token, PATPrefix)
	if !found || len(rest) != base64.RawURLEncoding.EncodedLen(16+patRandomBytes) {
		return uuid.Nil, nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return uuid.Nil, nil, false
	}
	orgID, err = uuid.FromBytes(b[:16])
	if err != nil || orgID == uuid.Nil {
		return uuid.Nil, nil, false
	}
	return orgID, crypto.HashToken(token), true
}

// PATInput is the create-token form.
type PATInput struct {
	OrgID     uuid.UUID // from the user's own memberships, never trusted from input alone
	Name      string
	Role      string     // a role value: "staff" or "custom:<uuid>"
	ExpiresAt *time.Time // nil: never
}

// Validate normalizes the input and reports every problem of its fields
// (the rules that need the database are checked by CreatePAT).
func (in *PATInput) Validate() form.Errors {
	in.Name = form.Clean(in.Name)
	errs := form.Errors{}
	errs.Required("name", in.Name, 100)
	if _, _, ok := tenant.ParseRoleValue(in.Role); !ok {
		errs.Add("role", "Choose a role.")
	}
	if in.ExpiresAt != nil {
		if !in.ExpiresAt.After(time.Now()) {
			errs.Add("expires_at", "Choose an expiry in the future.")
		} else if in.ExpiresAt.After(time.Now().Add(MaxPATLifetime)) {
			errs.Add("expires_at", "A token can live at most one year.")
		}
	}
	if in.OrgID == uuid.Nil {
		errs.Add("organization", "Choose an organization.")
	}
	return errs
}

// CreatePAT creates a token for the user in an organization they belong to,
// with a role no higher than their own, and returns the token text (shown
// once).
func (a *APITokens) CreatePAT(ctx context.Context, user tenant.User, in PATInput) (string, db.ApiToken, error) {
	if errs := in.Validate(); errs.Any() {
		return "", db.ApiToken{}, errs
	}
	role, customID, _ := tenant.ParseRoleValue(in.Role)
	var token string
	var row db.ApiToken
	err := a.Store.InOrg(ctx, in.OrgID, func(q *db.Queries) error {
		m, err := q.GetMembershipByUser(ctx, db.GetMembershipByUserParams{OrganizationID: in.OrgID, UserID: user.ID})
		if errors.Is(store.MapError(err), store.ErrNotFound) {
			return form.Errors{"organization": "You are not a member of this organization."}
		}
		if err != nil {
			return err
		}
		own, err := rolePermissions(ctx, q, in.OrgID, m.Role, m.CustomRoleID)
		if err != nil {
			return err
		}
		want, err := rolePermissions(ctx, q, in.OrgID, role, customID)
		if errors.Is(err, store.ErrNotFound) {
			return form.Errors{"role": "Choose one of the organization's roles."}
		}
		if err != nil {
			return err
		}
		actor := tenant.Actor{OrgID: in.OrgID, UserID: user.ID, Email: user.Email, Role: m.Role, Permissions: own}
		if err := actor.CheckGrant(role, want); err != nil {
			return form.Errors{"role": "A token cannot have more rights than your own role."}
		}
		n, err := q.CountActiveAPITokens(ctx, db.CountActiveAPITokensParams{OrganizationID: in.OrgID, UserID: user.ID})
		if err != nil {
			return err
		}
		if n >= MaxActivePATs {
			return form.Errors{"name": fmt.Sprintf("You already have %d active tokens in this organization. Revoke one first.", MaxActivePATs)}
		}
		var hash []byte
		var hint string
		token, hash, hint = NewPAT(in.OrgID)
		row, err = q.CreateAPIToken(ctx, db.CreateAPITokenParams{
			OrganizationID: in.OrgID, UserID: user.ID, Name: in.Name, TokenHash: hash, TokenHint: hint,
			Role: role, CustomRoleID: customID, ExpiresAt: in.ExpiresAt,
		})
		if err != nil {
			return err
		}
		expiry := "no expiry"
		if in.ExpiresAt != nil {
			expiry = "expires " + in.ExpiresAt.UTC().Format("2 Jan 2006")
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &in.OrgID, ActorID: &user.ID, ActorEmail: user.Email, Action: audit.APITokenCreated,
			TargetType: "api_token", TargetID: row.ID.String(),
			Summary: fmt.Sprintf("personal access token “%s” (%s, %s)", row.Name, role, expiry),
		})
	})
	if err != nil {
		var fe form.Errors
		if errors.As(err, &fe) {
			return "", db.ApiToken{}, fe
		}
		return "", db.ApiToken{}, fmt.Errorf("create token: %w", err)
	}
	return token, row, nil
}

// rolePermissions resolves a role (built-in, or a custom role of the
// organization) to its permissions; an unknown custom role is
// store.ErrNotFound.
func rolePermissions(ctx context.Context, q *db.Queries, orgID uuid.UUID, role string, customID *uuid.UUID) (tenant.PermissionSet, error) {
	if role != tenant.RoleCustom {
		return tenant.PermissionsFor(role, nil), nil
	}
	if customID == nil {
		return nil, store.ErrNotFound
	}
	r, err := q.GetRole(ctx, db.GetRoleParams{OrganizationID: orgID, ID: *customID})
	if err != nil {
		return nil, store.MapError(err)
	}
	return tenant.PermissionsFor(tenant.RoleCustom, r.Permissions), nil
}

// ListPATs returns the user's tokens in every organization, active first.
func (a *APITokens) ListPATs(ctx context.Context, userID uuid.UUID) ([]db.ListAPITokensByUserRow, error) {
	var rows []db.ListAPITokensByUserRow
	err := a.Store.AsUser(ctx, userID, func(q *db.Queries) error {
		var err error
		rows, err = q.ListAPITokensByUser(ctx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return rows, nil
}

// RevokePAT revokes one of the user's own tokens. Revoking a revoked token
// changes nothing; another user's token is store.ErrNotFound.
func (a *APITokens) RevokePAT(ctx context.Context, user tenant.User, tokenID uuid.UUID) (db.ApiToken, error) {
	var tok db.ApiToken
	err := a.Store.AsUser(ctx, user.ID, func(q *db.Queries) error {
		var err error
		tok, err = q.GetAPITokenOfUser(ctx, db.GetAPITokenOfUserParams{ID: tokenID, UserID: user.ID})
		return err
	})
	if err != nil {
		return db.ApiToken{}, fmt.Errorf("revoke token: %w", err)
	}
	err = a.Store.InOrg(ctx, tok.OrganizationID, func(q *db.Queries) error {
		n, err := q.RevokeAPIToken(ctx, db.RevokeAPITokenParams{OrganizationID: tok.OrganizationID, ID: tok.ID})
		if err != nil || n == 0 {
			return err
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &tok.OrganizationID, ActorID: &user.ID, ActorEmail: user.Email, Action: audit.APITokenRevoked,
			TargetType: "api_token", TargetID: tok.ID.String(), Summary: fmt.Sprintf("personal access token “%s”", tok.Name),
		})
	})
	if err != nil {
		return db.ApiToken{}, fmt.Errorf("revoke token: %w", err)
	}
	return tok, nil
}

// PATAuth is what app_enter_pat found for a token.
type PATAuth struct {
	Status    string
	OrgID     uuid.UUID
	TokenID   uuid.UUID
	TokenName string
	UserID    uuid.UUID
	Role      string
	ExpiresAt *time.Time
	Principal *tenant.Principal // when Status is PATOK
}

// patQuery checks the token and returns its principal in one statement.
const patQuery = `SELECT status, token_id, token_name, token_role, token_perms, expires_at, user_id, user_email, user_name,
	user_platform_admin, user_suspended_at, user_session_version, user_email_verified_at, user_mfa, org_slug, org_name,
	org_require_mfa, member_id, member_role, member_custom_role_id, member_custom_role_name, member_perms,
	org_access_version, user_access_version
	FROM app_enter_pat($1, $2, $3)`

// patRow scans app_enter_pat's columns (NULL unless the status is ok).
// The nullable columns are pgtype values rather than pointers: pgx plans
// the scan of every column on every request, and a pointer to a pointer
// takes it through its reflection-based wrappers, which cost as much as
// scanning the whole client list.
type patRow struct {
	status, tokenName, tokenRole            pgtype.Text
	tokenID, userID, memberID, memberCustom pgtype.UUID
	tokenPerms, memberPerms                 []string
	expires, suspended, verified            pgtype.Timestamptz
	email, name, orgSlug, orgName           pgtype.Text
	memberRole, memberCustomName            pgtype.Text
	platformAdmin, mfa, requireMFA          pgtype.Bool
	sessionVersion                          pgtype.Int4
	orgVersion, userVersion                 pgtype.Int8
}

func (r *patRow) dest() []any {
	return []any{&r.status, &r.tokenID, &r.tokenName, &r.tokenRole, &r.tokenPerms, &r.expires, &r.userID, &r.email, &r.name,
		&r.platformAdmin, &r.suspended, &r.sessionVersion, &r.verified, &r.mfa, &r.orgSlug, &r.orgName,
		&r.requireMFA, &r.memberID, &r.memberRole, &r.memberCustom, &r.memberCustomName, &r.memberPerms,
		&r.orgVersion, &r.userVersion}
}

// timePtr is a nullable timestamp as the rest of the code holds it.
func timePtr(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}

func uuidPtr(u pgtype.UUID) *uuid.UUID {
	if !u.Valid {
		return nil
	}
	v := uuid.UUID(u.Bytes)
	return &v
}

// AuthenticatePAT checks a token outside any organization (for routes such
// as /api/v1/me): one statement, no transaction kept.
func (a *APITokens) AuthenticatePAT(ctx context.Context, token string) (PATAuth, error) {
	orgID, hash, ok := ParsePAT(token)
	if !ok {
		return PATAuth{Status: PATInvalid}, nil
	}
	var r patRow
	if err := a.Store.Pool.QueryRow(ctx, patQuery, orgID, hash, "").Scan(r.dest()...); err != nil {
		return PATAuth{}, fmt.Errorf("authenticate token: %w", err)
	}
	res, err := r.result(orgID)
	if res.Principal != nil {
		// Outside an organization route there is no current organization
		// (only the token's, in Orgs).
		res.Principal.Org, res.Principal.Membership = nil, nil
	}
	return res, err
}

// EnterPAT checks a token for a route of the organization named by slug and
// opens the request's transaction in that organization, in one round trip
// (BEGIN and app_enter_pat pipelined). The transaction is returned only
// when the status is PATOK.
func (a *APITokens) EnterPAT(ctx context.Context, token, slug string) (PATAuth, *store.RequestTx, error) {
	orgID, hash, ok := ParsePAT(token)
	if !ok {
		return PATAuth{Status: PATInvalid}, nil, nil
	}
	// (A slug that is not the token's organization's, valid or not, is
	// answered wrong_org by app_enter_pat.)
	var r patRow
	rt, err := a.Store.BeginRequestTx(ctx, patQuery, []any{orgID, hash, slug}, r.dest()...)
	if err != nil {
		return PATAuth{}, nil, fmt.Errorf("authenticate token: %w", err)
	}
	res, err := r.result(orgID)
	if err != nil || res.Status != PATOK {
		rt.Rollback(ctx)
		return res, nil, err
	}
	rt.OrgID = orgID
	// (A suspended user's principal is refused by the caller every time: not
	// worth keeping.)
	if r.orgVersion.Valid && r.userVersion.Valid && res.Principal.User.SuspendedAt == nil {
		a.known.put(hash, knownPAT{res: res, orgVersion: r.orgVersion.Int64, userVersion: r.userVersion.Int64, at: time.Now()})
	}
	return res, rt, nil
}

func (r *patRow) result(orgID uuid.UUID) (PATAuth, error) {
	res := PATAuth{OrgID: orgID, Status: PATInvalid, TokenName: r.tokenName.String, Role: r.tokenRole.String, ExpiresAt: timePtr(r.expires)}
	if r.status.Valid {
		res.Status = r.status.String
	}
	if r.tokenID.Valid {
		res.TokenID = r.tokenID.Bytes
	}
	if r.userID.Valid {
		res.UserID = r.userID.Bytes
	}
	if res.Status != PATOK {
		return res, nil
	}
	if !r.memberID.Valid || !r.sessionVersion.Valid {
		return PATAuth{}, errors.New("authenticate token: incomplete principal")
	}
	// A token sees only its own organization, with the rights of its role
	// cut down to the member's current ones (a demoted member's tokens
	// lose what the member lost).
	member := &tenant.Membership{ID: r.memberID.Bytes, Role: r.memberRole.String, CustomRoleID: uuidPtr(r.memberCustom),
		CustomRoleName: r.memberCustomName.String, CustomPerms: r.memberPerms}
	member.Permissions = intersect(tenant.PermissionsFor(member.Role, member.CustomPerms), tenant.PermissionsFor(res.Role, r.tokenPerms))
	if member.Role == tenant.RoleOwner && res.Role != tenant.RoleOwner {
		// The owner-only rules (granting the owner role, touching owners)
		// need an owner's token with the owner role, not just an owner.
		member.Role, member.CustomRoleID, member.CustomRoleName = res.Role, nil, ""
	}
	org := tenant.OrgRef{ID: orgID, Slug: r.orgSlug.String, Name: r.orgName.String, Role: member.Role, RequireMFA: r.requireMFA.Valid && r.requireMFA.Bool}
	res.Principal = &tenant.Principal{
		User: &tenant.User{ID: res.UserID, Email: r.email.String, Name: r.name.String, IsPlatformAdmin: r.platformAdmin.Valid && r.platformAdmin.Bool,
			SuspendedAt: timePtr(r.suspended), SessionVersion: r.sessionVersion.Int32, EmailVerifiedAt: timePtr(r.verified), MFA: r.mfa.Valid && r.mfa.Bool},
		Orgs: []tenant.OrgRef{org},
	}
	res.Principal.Org, res.Principal.Membership = &org, member
	return res, nil
}

func intersect(a, b tenant.PermissionSet) tenant.PermissionSet {
	out := make(tenant.PermissionSet, 0, len(a))
	for _, p := range a {
		if b.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

// RecordRejectedPAT audits the use of a revoked or expired token, at most
// once a minute per token and instance.
func (a *APITokens) RecordRejectedPAT(ctx context.Context, r PATAuth) {
	action := audit.APITokenRevokedUsed
	switch r.Status {
	case PATRevoked:
	case PATExpired:
		action = audit.APITokenExpiredUsed
	default:
		return
	}
	now := time.Now()
	a.rejectedMu.Lock()
	last, seen := a.rejected[r.TokenID]
	if seen && now.Sub(last) < time.Minute {
		a.rejectedMu.Unlock()
		return
	}
	a.rejected[r.TokenID] = now
	if len(a.rejected) > 10000 { // bounded: forget the oldest minute's worth
		for id, t := range a.rejected {
			if now.Sub(t) >= time.Minute {
				delete(a.rejected, id)
			}
		}
	}
	a.rejectedMu.Unlock()
	orgID, userID := r.OrgID, r.UserID
	_ = a.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		email := ""
		if u, err := q.GetUser(ctx, userID); err == nil {
			email = u.Email
		}
		return audit.Record(ctx, q, audit.Event{
			OrgID: &orgID, ActorID: &userID, ActorEmail: email, Action: action,
			TargetType: "api_token", TargetID: r.TokenID.String(), Summary: fmt.Sprintf("personal access token “%s” refused (%s)", r.TokenName, r.Status),
		})
	})
}
