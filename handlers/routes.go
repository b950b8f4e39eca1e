// Package handlers is the web layer: one file per resource, this file the
// whole route tree.
package handlers

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"accute/internal/auth"
	"accute/internal/clients"
	"accute/internal/config"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/static"
)

// Deps are the handlers' collaborators, built in main.go.
type Deps struct {
	Config   *config.Config
	Store    *store.Store
	Sessions *auth.Sessions
	Auth     *auth.Service
	Orgs     *tenant.Service
	Clients  *clients.Service
	Logger   *slog.Logger
	Registry *prometheus.Registry
}

// Handlers holds the dependencies every handler method uses.
type Handlers struct {
	Deps
	mw      *tenant.Middleware
	metrics *metrics
}

// New builds the Echo server with every route and middleware.
func New(d Deps) *echo.Echo {
	h := &Handlers{Deps: d, mw: &tenant.Middleware{Store: d.Store, Sessions: d.Sessions}}
	h.metrics = newMetrics(d.Registry)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.HTTPErrorHandler
	e.IPExtractor = ipExtractor(d.Config)

	// Middleware, in the order of ARCHITECTURE.md.
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: h.logPanic}))
	e.Use(middleware.RequestID())
	e.Use(h.accessLog)
	e.Use(h.securityHeaders)
	e.Use(h.requireHTTPS)
	e.Use(h.crossOrigin)
	e.Use(h.requestContext)
	e.Use(h.prefetch)
	e.Use(h.sessions)

	// Probes, metrics and assets.
	e.GET("/healthz", h.Healthz)
	e.GET("/readyz", h.Readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})))
	e.GET("/static/*", echo.WrapHandler(staticHandler(http.FileServerFS(static.FS))))

	// Accounts.
	e.GET("/signup", h.SignupForm)
	e.POST("/signup", h.Signup)
	e.GET("/login", h.LoginForm)
	e.POST("/login", h.Login)
	e.POST("/logout", h.Logout)
	e.GET("/verify-email", h.VerifyEmail)
	e.GET("/forgot-password", h.ForgotPasswordForm)
	e.POST("/forgot-password", h.ForgotPassword)
	e.GET("/reset-password", h.ResetPasswordForm)
	e.POST("/reset-password", h.ResetPassword)
	e.GET("/invitations/accept", h.InvitationsShow)
	e.POST("/invitations/accept", h.InvitationsAccept)

	// Signed-in pages outside any organization.
	signedIn := h.mw.RequireUser
	e.GET("/", h.Home, signedIn)
	e.POST("/verify-email/resend", h.ResendVerification, signedIn)
	e.GET("/orgs", h.OrgsList, signedIn)
	e.GET("/orgs/new", h.OrgsNew, signedIn)
	e.POST("/orgs", h.OrgsCreate, signedIn)
	e.GET("/account", h.AccountShow, signedIn)
	e.POST("/account", h.AccountUpdate, signedIn)

	// Organization pages: members only (others get 404), then a permission
	// per route (403 when the role lacks it).
	org := e.Group("/o/:org", h.mw.RequireOrg)
	member := tenant.RequireMember("")
	can := tenant.RequireMember
	org.GET("", h.Dashboard, member)
	org.POST("/leave", h.MembersLeave, member)

	org.GET("/clients", h.ClientsList, can(tenant.ClientsRead))
	org.GET("/clients/new", h.ClientsNew, can(tenant.ClientsWrite))
	org.POST("/clients", h.ClientsCreate, can(tenant.ClientsWrite))
	org.GET("/clients/:id", h.ClientsShow, can(tenant.ClientsRead))
	org.GET("/clients/:id/edit", h.ClientsEdit, can(tenant.ClientsWrite))
	org.POST("/clients/:id", h.ClientsUpdate, can(tenant.ClientsWrite))
	org.POST("/clients/:id/archive", h.ClientsArchive, can(tenant.ClientsWrite))
	org.POST("/clients/:id/restore", h.ClientsRestore, can(tenant.ClientsWrite))
	org.POST("/clients/:id/contacts", h.ContactsCreate, can(tenant.ClientsWrite))
	org.POST("/clients/:id/contacts/:contact/delete", h.ContactsDelete, can(tenant.ClientsWrite))

	org.GET("/members", h.MembersList, can(tenant.MembersRead))
	org.POST("/members/:id/role", h.MembersUpdateRole, can(tenant.MembersManage))
	org.POST("/members/:id/remove", h.MembersRemove, can(tenant.MembersManage))
	org.POST("/invitations", h.InvitationsCreate, can(tenant.MembersManage))
	org.POST("/invitations/:id/revoke", h.InvitationsRevoke, can(tenant.MembersManage))

	org.GET("/settings", h.SettingsShow, can(tenant.OrganizationManage))
	org.POST("/settings", h.SettingsUpdate, can(tenant.OrganizationManage))
	org.GET("/roles/new", h.RolesNew, can(tenant.OrganizationManage))
	org.POST("/roles", h.RolesCreate, can(tenant.OrganizationManage))
	org.GET("/roles/:id/edit", h.RolesEdit, can(tenant.OrganizationManage))
	org.POST("/roles/:id", h.RolesUpdate, can(tenant.OrganizationManage))
	org.POST("/roles/:id/delete", h.RolesDelete, can(tenant.OrganizationManage))

	org.GET("/audit", h.AuditList, can(tenant.AuditRead))

	// Platform console.
	admin := e.Group("/admin", h.mw.RequireUser, tenant.RequirePlatformAdmin)
	admin.GET("", h.AdminDashboard)
	admin.GET("/organizations", h.AdminOrganizations)
	admin.GET("/users", h.AdminUsers)
	admin.POST("/users/:id/suspend", h.AdminSuspendUser)
	admin.POST("/users/:id/reactivate", h.AdminReactivateUser)
	admin.GET("/mailbox", h.AdminMailbox)
	admin.GET("/mailbox/:id", h.AdminMailShow)
	admin.GET("/audit", h.AdminAudit)

	return e
}

func (h *Handlers) logPanic(c echo.Context, err error, stack []byte) error {
	h.Logger.Error("panic", slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)), slog.String("error", err.Error()), slog.String("stack", string(stack)))
	return err
}

// staticHandler serves embedded assets with a day of caching.
func staticHandler(fs http.Handler) http.Handler {
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fs.ServeHTTP(w, r)
	}))
}

// ipExtractor takes the client address from the TCP peer, unless the peer
// is a configured trusted proxy; a forged X-Forwarded-For changes nothing.
func ipExtractor(cfg *config.Config) echo.IPExtractor {
	if len(cfg.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range cfg.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
