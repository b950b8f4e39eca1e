package api

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/auth"
	"accute/internal/crypto"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Credential is how the request authenticated.
type Credential struct {
	Kind      string // "personal_access_token" or "access_token"
	TokenID   uuid.UUID
	TokenName string
	Role      string
	ExpiresAt *time.Time
}

// Credential kinds.
const (
	KindPAT = "personal_access_token"
	KindJWT = "access_token"
)

type credentialKey struct{}

func credentialFrom(ctx context.Context) *Credential {
	c, _ := ctx.Value(credentialKey{}).(*Credential)
	return c
}

func principal(c echo.Context) *tenant.Principal { return tenant.PrincipalFrom(c.Request().Context()) }

// bearer returns the request's bearer token.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != "" && len(token) <= 4096
}

// unauthorized answers 401 with the WWW-Authenticate challenge of RFC 6750
// and counts the failure against the client address (so a flood of bad
// tokens from one address ends in 429 before it reaches the database).
func (a *API) unauthorized(c echo.Context, hasToken bool, msg string) error {
	challenge := `Bearer realm="accute"`
	if hasToken {
		challenge += `, error="invalid_token"`
	}
	c.Response().Header().Set("WWW-Authenticate", challenge)
	if err := a.limit(c, addressKey(c)); err != nil {
		return err
	}
	return errorf(http.StatusUnauthorized, msg)
}

func addressKey(c echo.Context) string { return "api:ip:" + c.RealIP() }

// limit counts one request for key, writes the RateLimit-* headers and
// refuses with 429 and Retry-After past the limit.
func (a *API) limit(c echo.Context, key string) error {
	d := a.Limiter.Allow(key)
	d.SetHeaders(c.Response().Header())
	if !d.Allowed {
		return errorf(http.StatusTooManyRequests, "Too many requests: wait for the rate limit window to reset (see Retry-After).")
	}
	return nil
}

// limitByAddress rate-limits the unauthenticated endpoints per client
// address (taken from the TCP peer unless TRUSTED_PROXIES is set).
func (a *API) limitByAddress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := a.limit(c, addressKey(c)); err != nil {
			return err
		}
		return next(c)
	}
}

// authenticate admits requests with a valid personal access token or JWT
// access token. The rate limit is decided first, from the token alone,
// without I/O. On organization routes (orgRoute) the organization named by
// :org must be the token's (for a PAT) or one the user belongs to (for a
// JWT), else 404, and the request transaction is opened with the tenant
// context set, in the same round trip as the token check.
func (a *API) authenticate(orgRoute bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token, ok := bearer(c.Request())
			if !ok {
				return a.unauthorized(c, false, "Authentication required: send a token in the Authorization header (Bearer).")
			}
			slug := ""
			if orgRoute {
				slug = c.Param("org")
			}
			if strings.HasPrefix(token, auth.PATPrefix) {
				return a.enterPAT(c, next, token, slug, orgRoute)
			}
			if auth.LooksLikeJWT(token) {
				return a.enterJWT(c, next, token, slug, orgRoute)
			}
			return a.unauthorized(c, true, "The token is not valid.")
		}
	}
}

func (a *API) enterPAT(c echo.Context, next echo.HandlerFunc, token, slug string, orgRoute bool) error {
	if err := a.limit(c, "api:pat:"+hex.EncodeToString(crypto.HashToken(token)[:12])); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if orgRoute && c.Request().Method == http.MethodGet {
		if done, err := a.enterKnownPAT(c, next, token, slug); done {
			return err
		}
	}
	var res auth.PATAuth
	var rt *store.RequestTx
	var err error
	if orgRoute {
		res, rt, err = a.Tokens.EnterPAT(ctx, token, slug)
	} else {
		res, err = a.Tokens.AuthenticatePAT(ctx, token)
	}
	if err != nil {
		return err
	}
	switch res.Status {
	case auth.PATOK:
	case auth.PATRevoked:
		a.Tokens.RecordRejectedPAT(ctx, res)
		return a.unauthorized(c, true, "This token was revoked.")
	case auth.PATExpired:
		a.Tokens.RecordRejectedPAT(ctx, res)
		return a.unauthorized(c, true, "This token has expired.")
	case auth.PATWrongOrg:
		return echo.ErrNotFound
	default:
		return a.unauthorized(c, true, "The token is not valid.")
	}
	p := res.Principal
	if p.User.SuspendedAt != nil {
		rt.Rollback(ctx)
		return a.unauthorized(c, true, "This account is suspended.")
	}
	return a.admit(c, next, p, rt, patCredential(res))
}

func patCredential(res auth.PATAuth) *Credential {
	return &Credential{Kind: KindPAT, TokenID: res.TokenID, TokenName: res.TokenName, Role: res.Role, ExpiresAt: res.ExpiresAt}
}

// enterKnownPAT serves a read request with the principal of a token this
// instance checked moments ago, confirmed by the database in the same round
// trip as the request's first statement (auth.EnterKnownPAT). When the
// confirmation fails before anything was answered — or the request failed
// without reaching the database, perhaps because of what changed — the
// token is forgotten and done is false: the caller checks it in full and
// serves the request again (a GET, so running it twice is harmless).
func (a *API) enterKnownPAT(c echo.Context, next echo.HandlerFunc, token, slug string) (done bool, err error) {
	res, rt, ok, err := a.Tokens.EnterKnownPAT(c.Request().Context(), token, slug)
	if err != nil || !ok {
		return err != nil, err
	}
	req := c.Request()
	err = a.admit(c, next, res.Principal, rt, patCredential(res))
	// Once the principal is confirmed (or the answer is out) the outcome
	// stands; store.ErrAccessChanged only ever comes before confirmation.
	if c.Response().Committed || rt.Opened() {
		return true, err
	}
	a.Tokens.ForgetPAT(token)
	c.SetRequest(req) // the context without this attempt's transaction and principal
	return false, nil
}

func (a *API) enterJWT(c echo.Context, next echo.HandlerFunc, token, slug string, orgRoute bool) error {
	uid, claims, err := a.Tokens.VerifyAccess(token)
	if err != nil {
		return a.unauthorized(c, true, "The access token is not valid or has expired.")
	}
	// JWTs are limited per user: every access token of a user shares one
	// budget, so signing in again does not reset it.
	if err := a.limit(c, "api:user:"+uid.String()); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var p *tenant.Principal
	var rt *store.RequestTx
	if orgRoute {
		p, rt, err = tenant.LoadMember(ctx, a.Store, uid, slug)
	} else {
		p, err = tenant.LoadUser(ctx, a.Store, uid)
	}
	if errors.Is(err, tenant.ErrNoUser) {
		return a.unauthorized(c, true, "The access token is not valid.")
	}
	if err != nil {
		return err
	}
	// A password reset or a suspension bumps the session version, which
	// ends access tokens at once, like browser sessions.
	if p.User.SuspendedAt != nil || p.User.SessionVersion != claims.Ver {
		rt.Rollback(ctx)
		return a.unauthorized(c, true, "The access token is no longer valid: sign in again.")
	}
	if orgRoute && rt == nil {
		return echo.ErrNotFound
	}
	cred := &Credential{Kind: KindJWT}
	if claims.ExpiresAt != nil {
		exp := claims.ExpiresAt.Time
		cred.ExpiresAt = &exp
	}
	return a.admit(c, next, p, rt, cred)
}

// admit puts the principal (and the request transaction) into the
// request's context and runs the handler.
func (a *API) admit(c echo.Context, next echo.HandlerFunc, p *tenant.Principal, rt *store.RequestTx, cred *Credential) error {
	ctx := c.Request().Context()
	if rt != nil {
		defer rt.Rollback(ctx) // a no-op once the answer committed it
		ctx = store.WithRequestTx(ctx, rt)
	}
	ctx = context.WithValue(store.WithUserID(tenant.WithPrincipal(ctx, p), p.User.ID), credentialKey{}, cred)
	c.SetRequest(c.Request().WithContext(ctx))
	return next(c)
}

// requirePermission lets through members whose effective permissions (the
// member's role, cut down to the token's role for a PAT) include perm; the
// organization's MFA policy applies to the API as to the web.
func requirePermission(perm tenant.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principal(c)
			if p == nil || p.Membership == nil || p.Org == nil {
				return echo.ErrNotFound
			}
			if p.Org.RequireMFA && !p.User.MFA {
				return errorf(http.StatusForbidden, "This organization requires two-factor authentication: turn it on in your account first.")
			}
			if perm != "" && !p.Membership.Permissions.Has(perm) {
				who := "Your role"
				if cred := credentialFrom(c.Request().Context()); cred != nil && cred.Kind == KindPAT {
					who = "This token's role"
				}
				return errorf(http.StatusForbidden, who+" does not grant the "+string(perm)+" permission, which this needs.")
			}
			return next(c)
		}
	}
}
