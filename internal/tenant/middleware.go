package tenant

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/store"
)

// Sessions is what the middleware needs from the session manager.
type Sessions interface {
	// Identity returns the signed-in user's id and the session version
	// recorded at login.
	Identity(ctx context.Context) (uuid.UUID, int32, bool)
	// End destroys the session on the server.
	End(ctx context.Context) error
}

// Middleware admits requests for signed-in users and organization members.
type Middleware struct {
	Store    *store.Store
	Sessions Sessions
}

// LoginRedirect sends an anonymous browser to the login page, remembering
// where it was going; HTMX requests get HX-Redirect instead of a 303.
func LoginRedirect(c echo.Context) error {
	next := c.Request().URL.RequestURI()
	if c.Request().Method != http.MethodGet {
		next = ""
	}
	target := "/login"
	if next != "" && next != "/" {
		target += "?next=" + url.QueryEscape(next)
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", target)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// valid reports whether the session still belongs to an active user.
func (m *Middleware) valid(c echo.Context, p *Principal, version int32) bool {
	if p == nil || p.User == nil || p.User.SuspendedAt != nil || p.User.SessionVersion != version {
		_ = m.Sessions.End(c.Request().Context())
		return false
	}
	return true
}

// RequireUser admits signed-in users and loads their principal.
func (m *Middleware) RequireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		uid, version, ok := m.Sessions.Identity(ctx)
		if !ok {
			return LoginRedirect(c)
		}
		p, err := LoadUser(ctx, m.Store, uid)
		if errors.Is(err, ErrNoUser) {
			_ = m.Sessions.End(ctx)
			return LoginRedirect(c)
		}
		if err != nil {
			return err
		}
		if !m.valid(c, p, version) {
			return LoginRedirect(c)
		}
		ctx = store.WithUserID(WithPrincipal(ctx, p), uid)
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// RequireOrg admits members of the organization named by the :org path
// parameter. Anyone else gets 404, exactly like a missing organization, so
// organizations do not reveal that they exist. It opens the request
// transaction, with the tenant context set, in the same round trip.
func (m *Middleware) RequireOrg(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		uid, version, ok := m.Sessions.Identity(ctx)
		if !ok {
			return LoginRedirect(c)
		}
		p, rt, err := m.member(ctx, uid, c.Param("org"))
		if errors.Is(err, ErrNoUser) {
			_ = m.Sessions.End(ctx)
			return LoginRedirect(c)
		}
		if err != nil {
			return err
		}
		if !m.valid(c, p, version) {
			rt.Rollback(ctx)
			return LoginRedirect(c)
		}
		if rt == nil {
			return echo.ErrNotFound
		}
		defer rt.Rollback(ctx) // no-op once the response committed it
		ctx = store.WithRequestTx(store.WithUserID(WithPrincipal(ctx, p), uid), rt)
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// RequireMember lets through members whose role grants perm; others get
// 403. It runs after RequireOrg.
func RequireMember(perm Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := PrincipalFrom(c.Request().Context())
			if p == nil || p.Membership == nil {
				return echo.ErrNotFound
			}
			if perm != "" && !p.Membership.Permissions.Has(perm) {
				return echo.NewHTTPError(http.StatusForbidden, "Your role in this organization does not allow this.")
			}
			return next(c)
		}
	}
}

// RequirePlatformAdmin admits platform administrators only; it runs after
// RequireUser. Others get 404 so the console does not advertise itself.
func RequirePlatformAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := PrincipalFrom(c.Request().Context())
		if p == nil || p.User == nil || !p.User.IsPlatformAdmin {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// member takes the principal and request transaction the session store
// prefetched with the session (one round trip for both), or loads them.
func (m *Middleware) member(ctx context.Context, uid uuid.UUID, slug string) (*Principal, *store.RequestTx, error) {
	if pf := store.PrefetchFrom(ctx); pf != nil && pf.Tx != nil && pf.Slug == slug {
		rt := pf.Tx
		pf.Tx = nil
		p, err := decodePrincipal(pf.Principal)
		// The session the database read must be the one scs decoded.
		if err == nil && p.User.ID == uid {
			if p.Membership == nil || p.Org == nil {
				rt.Rollback(ctx)
				return p, nil, nil
			}
			rt.OrgID = p.Org.ID
			return p, rt, nil
		}
		rt.Rollback(ctx)
	}
	return LoadMember(ctx, m.Store, uid, slug)
}
