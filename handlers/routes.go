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

	"accute/internal/agents"
	"accute/internal/auth"
	"accute/internal/auth/oauth"
	"accute/internal/clients"
	"accute/internal/config"
	"accute/internal/crypto"
	"accute/internal/documents"
	"accute/internal/portal"
	"accute/internal/queue"
	"accute/internal/ratelimit"
	"accute/internal/realtime"
	"accute/internal/requests"
	"accute/internal/scim"
	"accute/internal/sso"
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
	// Keys seals stored secrets (internal/crypto); MFA is two-factor
	// authentication; Limiter counts rate limits in PostgreSQL.
	Keys    *crypto.KeyRing
	MFA     *auth.MFA
	Limiter *ratelimit.Limiter
	// SSO is SAML single sign-on (internal/sso).
	SSO *sso.Service
	// APITokens issues and checks the JSON API's tokens; APILimiter is its
	// per-token rate limit (counted locally, shared in batches).
	APITokens  *auth.APITokens
	APILimiter *ratelimit.Batched
	// Documents is the document library (internal/documents); Jobs the job
	// queue (internal/queue), for the console's Jobs page.
	Documents *documents.Service
	Jobs      *queue.Queue
	// OAuth is sign-in with Google, Microsoft, GitHub and OpenID Connect
	// (internal/auth/oauth); SCIM provisions members (internal/scim).
	OAuth *oauth.Service
	SCIM  *scim.Service
	// Requests is document requests (internal/requests).
	Requests *requests.Service
	// Portal is the client portal (internal/portal): client users' access
	// to their clients, their documents and identity checks.
	Portal *portal.Service
	// AI resolves each organization's AI provider and keeps its settings
	// (internal/agents/providers.go).
	AI *agents.Providers
	// Hub streams events (agent runs' answers) to browsers and API
	// clients over SSE (internal/realtime); nil: streams answer 503.
	Hub *realtime.Hub
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
	// requireMFA: an organization that requires two-factor authentication
	// sends members without it to set it up first.
	// portalGate: a client user opening the firm's pages is sent to the
	// client portal (handlers/portal.go).
	org := e.Group("/o/:org", h.mw.RequireOrg, h.requireMFA, h.portalGate)
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

	// SAML single sign-on (internal/sso): settings per organization, the
	// public SP endpoints per organization, and domain reviews in the console.
	org.GET("/settings/sso", h.SSOSettingsShow, can(tenant.OrganizationManage))
	org.POST("/settings/sso", h.SSOSettingsUpdate, can(tenant.OrganizationManage))
	org.POST("/settings/sso/refresh", h.SSOMetadataRefresh, can(tenant.OrganizationManage))
	org.POST("/settings/sso/required", h.SSORequiredUpdate, can(tenant.OrganizationManage))
	org.POST("/settings/sso/groups", h.SSOGroupsCreate, can(tenant.OrganizationManage))
	org.POST("/settings/sso/groups/:id/delete", h.SSOGroupsDelete, can(tenant.OrganizationManage))
	org.POST("/settings/sso/domains", h.SSODomainsCreate, can(tenant.OrganizationManage))
	org.POST("/settings/sso/domains/:id/delete", h.SSODomainsDelete, can(tenant.OrganizationManage))
	e.GET("/sso", h.SSOStartForm)
	e.POST("/sso", h.SSOStart)
	e.GET("/sso/saml/:slug/metadata", h.SAMLMetadata)
	e.GET("/sso/saml/:slug/login", h.SAMLLogin)
	e.POST("/sso/saml/:slug/acs", h.SAMLACS)
	e.GET("/sso/saml/:slug/slo", h.SAMLSLO)
	e.POST("/sso/saml/:slug/slo", h.SAMLSLO)
	ssoAdmin := e.Group("/admin/sso-domains", h.mw.RequireUser, tenant.RequirePlatformAdmin)
	ssoAdmin.GET("", h.AdminSSODomains)
	ssoAdmin.POST("/:org/:id/verify", h.AdminSSODomainVerify)
	ssoAdmin.POST("/:org/:id/unverify", h.AdminSSODomainUnverify)

	// Two-factor authentication, login throttling's second step, sessions
	// and devices (handlers/mfa.go, mfa_login.go, devices.go).
	e.GET("/login/mfa", h.LoginMFAForm)
	e.POST("/login/mfa", h.LoginMFA)
	e.GET("/account/security", h.SecurityShow, signedIn)
	e.POST("/account/security/mfa", h.MFASetupStart, signedIn)
	e.GET("/account/security/mfa", h.MFASetupShow, signedIn)
	e.POST("/account/security/mfa/confirm", h.MFASetupConfirm, signedIn)
	e.POST("/account/security/mfa/backup-codes", h.MFABackupCodes, signedIn)
	e.POST("/account/security/mfa/disable", h.MFADisable, signedIn)
	e.GET("/account/sessions", h.SessionsList, signedIn)
	e.POST("/account/sessions/revoke-others", h.SessionsRevokeOthers, signedIn)
	e.POST("/account/sessions/:id/revoke", h.SessionsRevoke, signedIn)
	org.POST("/settings/mfa", h.SettingsMFAPolicy, can(tenant.OrganizationManage))

	// JSON API (handlers/api, its own route tree under /api/v1) and the
	// account's personal access tokens (handlers/tokens.go).
	h.mountAPI(e)
	e.GET("/account/tokens", h.TokensList, signedIn)
	e.POST("/account/tokens", h.TokensCreate, signedIn)
	e.POST("/account/tokens/:id/revoke", h.TokensRevoke, signedIn)

	// OAuth/OIDC sign-in (handlers/oauth.go), the account's linked
	// identities (handlers/identities.go), and SCIM provisioning: its
	// settings page per organization and the API, whose bearer token names
	// the organization (handlers/scim.go, scim_settings.go).
	e.GET("/auth/oauth/:provider", h.OAuthStart)
	e.GET("/auth/oauth/:provider/callback", h.OAuthCallback)
	e.GET("/account/identities", h.IdentitiesList, signedIn)
	e.POST("/account/identities/link/:provider", h.IdentitiesLink, signedIn)
	e.POST("/account/identities/:id/unlink", h.IdentitiesUnlink, signedIn)
	org.GET("/settings/scim", h.SCIMSettingsShow, can(tenant.MembersManage))
	org.POST("/settings/scim/tokens", h.SCIMTokensCreate, can(tenant.MembersManage))
	org.POST("/settings/scim/tokens/:id/revoke", h.SCIMTokensRevoke, can(tenant.MembersManage))
	org.POST("/settings/scim/mappings", h.SCIMMappingsCreate, can(tenant.MembersManage))
	org.POST("/settings/scim/mappings/:id/delete", h.SCIMMappingsDelete, can(tenant.MembersManage))
	scimAPI := e.Group("/scim/v2", h.scimAPI)
	scimAPI.GET("/ServiceProviderConfig", h.SCIMServiceProviderConfig)
	scimAPI.GET("/ResourceTypes", h.SCIMResourceTypes)
	scimAPI.GET("/Schemas", h.SCIMSchemas)
	scimAPI.GET("/Users", h.SCIMUsersList)
	scimAPI.POST("/Users", h.SCIMUsersCreate)
	scimAPI.GET("/Users/:id", h.SCIMUsersShow)
	scimAPI.PUT("/Users/:id", h.SCIMUsersReplace)
	scimAPI.PATCH("/Users/:id", h.SCIMUsersPatch)
	scimAPI.DELETE("/Users/:id", h.SCIMUsersDelete)
	scimAPI.GET("/Groups", h.SCIMGroupsList)
	scimAPI.POST("/Groups", h.SCIMGroupsCreate)
	scimAPI.GET("/Groups/:id", h.SCIMGroupsShow)
	scimAPI.PUT("/Groups/:id", h.SCIMGroupsReplace)
	scimAPI.PATCH("/Groups/:id", h.SCIMGroupsPatch)
	scimAPI.DELETE("/Groups/:id", h.SCIMGroupsDelete)

	// Documents (handlers/documents.go): the library, uploads, downloads,
	// versions and folders; and the job queue's page in the console
	// (handlers/admin_jobs.go).
	org.GET("/documents", h.DocumentsList, can(tenant.DocumentsRead))
	org.POST("/documents", h.DocumentsUpload, can(tenant.DocumentsWrite))
	org.POST("/documents/folders", h.FoldersCreate, can(tenant.DocumentsWrite))
	org.POST("/documents/folders/:folder", h.FoldersRename, can(tenant.DocumentsWrite))
	org.POST("/documents/folders/:folder/delete", h.FoldersDelete, can(tenant.DocumentsWrite))
	org.GET("/documents/:id", h.DocumentsShow, can(tenant.DocumentsRead))
	org.POST("/documents/:id", h.DocumentsUpdate, can(tenant.DocumentsWrite))
	org.GET("/documents/:id/status", h.DocumentsStatus, can(tenant.DocumentsRead))
	org.GET("/documents/:id/download", h.DocumentsDownload, can(tenant.DocumentsRead))
	org.GET("/documents/:id/versions/:version/download", h.DocumentsDownloadVersion, can(tenant.DocumentsRead))
	org.POST("/documents/:id/versions", h.DocumentsAddVersion, can(tenant.DocumentsWrite))
	org.POST("/documents/:id/archive", h.DocumentsArchive, can(tenant.DocumentsWrite))
	org.POST("/documents/:id/restore", h.DocumentsRestore, can(tenant.DocumentsWrite))
	jobsAdmin := e.Group("/admin/jobs", h.mw.RequireUser, tenant.RequirePlatformAdmin)
	jobsAdmin.GET("", h.AdminJobs)
	jobsAdmin.POST("/:id/retry", h.AdminJobRetry)
	jobsAdmin.POST("/:id/cancel", h.AdminJobCancel)

	// Document search (handlers/search.go): full-text search of the
	// documents' extracted text.
	org.GET("/documents/search", h.DocumentsSearch, can(tenant.DocumentsRead))

	// Document requests (handlers/requests.go): the firm's side; clients
	// upload against them in the portal.
	org.GET("/requests", h.RequestsList, can(tenant.DocumentsRead))
	org.GET("/requests/new", h.RequestsNew, can(tenant.DocumentsWrite))
	org.POST("/requests", h.RequestsCreate, can(tenant.DocumentsWrite))
	org.GET("/requests/:id", h.RequestsShow, can(tenant.DocumentsRead))
	org.POST("/requests/:id/accept", h.RequestsAccept, can(tenant.DocumentsWrite))
	org.POST("/requests/:id/reject", h.RequestsReject, can(tenant.DocumentsWrite))
	org.POST("/requests/:id/cancel", h.RequestsCancel, can(tenant.DocumentsWrite))
	org.POST("/requests/:id/uploads", h.RequestsUpload, can(tenant.DocumentsWrite))

	// The client portal (handlers/portal.go, portal_requests.go): client
	// users only, and only what their clients' links reach; and the Portal
	// access card of a client's page (handlers/portal_access.go).
	client := h.requireClientUser
	org.GET("/portal", h.PortalHome, client)
	org.GET("/portal/documents", h.PortalDocuments, client)
	org.POST("/portal/documents", h.PortalUpload, client)
	org.GET("/portal/documents/:id/download", h.PortalDownload, client)
	org.GET("/portal/documents/:id/status", h.PortalDocumentStatus, client)
	org.GET("/portal/kyc", h.PortalKYC, client)
	org.POST("/portal/kyc/:id/documents", h.PortalKYCUpload, client)
	org.POST("/portal/kyc/:id/documents/:kycdoc/delete", h.PortalKYCRemove, client)
	org.POST("/portal/kyc/:id/submit", h.PortalKYCSubmit, client)
	org.GET("/portal/requests", h.PortalRequests, client)
	org.GET("/portal/requests/:id", h.PortalRequestShow, client)
	org.POST("/portal/requests/:id/uploads", h.PortalRequestUpload, client)
	org.POST("/clients/:id/portal/invitations", h.ClientPortalInvite, can(tenant.ClientsWrite))
	org.POST("/clients/:id/portal/invitations/:invitation/revoke", h.ClientPortalRevoke, can(tenant.ClientsWrite))
	org.POST("/clients/:id/portal/links", h.ClientPortalLink, can(tenant.ClientsWrite))
	org.POST("/clients/:id/portal/links/:link/delete", h.ClientPortalUnlink, can(tenant.ClientsWrite))
	org.POST("/clients/:id/portal/links/:link/kyc/verify", h.ClientKYCVerify, can(tenant.ClientsWrite))
	org.POST("/clients/:id/portal/links/:link/kyc/reject", h.ClientKYCReject, can(tenant.ClientsWrite))

	// AI agents (handlers/agents.go, admin_agents.go): the marketplace per
	// organization, the registry and plans in the console.
	org.GET("/agents", h.AgentsList, can(tenant.AgentsUse))
	org.POST("/agents/:agent/install", h.AgentsInstall, can(tenant.AgentsManage))
	org.POST("/agents/:agent/enable", h.AgentsEnable, can(tenant.AgentsManage))
	org.POST("/agents/:agent/disable", h.AgentsDisable, can(tenant.AgentsManage))
	org.GET("/agents/:agent/settings", h.AgentsSettings, can(tenant.AgentsManage))
	org.POST("/agents/:agent/settings", h.AgentsConfigure, can(tenant.AgentsManage))
	// Conversations with an agent (handlers/agent_chat.go): its page, a
	// conversation, messages, and each answer's cancel and event stream.
	org.GET("/agents/:agent", h.AgentChat, can(tenant.AgentsUse))
	org.POST("/agents/:agent/conversations", h.ConversationsCreate, can(tenant.AgentsUse))
	org.GET("/agents/:agent/conversations/:id", h.ConversationShow, can(tenant.AgentsUse))
	org.POST("/agents/:agent/conversations/:id/messages", h.MessagesCreate, can(tenant.AgentsUse))
	org.POST("/agents/:agent/runs/:id/cancel", h.RunsCancel, can(tenant.AgentsUse))
	org.GET("/agents/:agent/runs/:id/stream", h.RunsStream, can(tenant.AgentsUse))
	// Agents' proposed actions and the policy of which need approval
	// (handlers/approvals.go); the AI usage ledger and budget
	// (handlers/usage.go).
	org.GET("/approvals", h.ApprovalsList, can(tenant.AgentsApprove))
	org.GET("/approvals/policy", h.ApprovalsPolicy, can(tenant.AgentsManage))
	org.POST("/approvals/policy", h.ApprovalsPolicyUpdate, can(tenant.AgentsManage))
	org.GET("/approvals/:id", h.ApprovalsShow, can(tenant.AgentsApprove))
	org.POST("/approvals/:id/approve", h.ApprovalsApprove, can(tenant.AgentsApprove))
	org.POST("/approvals/:id/reject", h.ApprovalsReject, can(tenant.AgentsApprove))
	org.GET("/usage", h.UsageShow, can(tenant.AgentsManage))
	org.GET("/usage.csv", h.UsageCSV, can(tenant.AgentsManage))
	org.GET("/usage/budget", h.UsageBudget, can(tenant.AgentsManage))
	org.POST("/usage/budget", h.UsageBudgetUpdate, can(tenant.AgentsManage))
	// The organization's AI provider (handlers/ai_settings.go).
	org.GET("/settings/ai", h.AISettingsShow, can(tenant.OrganizationManage))
	org.POST("/settings/ai", h.AISettingsUpdate, can(tenant.OrganizationManage))
	org.POST("/settings/ai/test", h.AISettingsTest, can(tenant.OrganizationManage))
	agentsAdmin := e.Group("/admin", h.mw.RequireUser, tenant.RequirePlatformAdmin)
	agentsAdmin.GET("/agents", h.AdminAgents)
	agentsAdmin.GET("/agents/:agent", h.AdminAgentEdit)
	agentsAdmin.POST("/agents/:agent", h.AdminAgentUpdate)
	agentsAdmin.POST("/organizations/:id/plan", h.AdminOrgPlan)

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
