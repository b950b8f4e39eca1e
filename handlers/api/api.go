// Package api is the JSON API under /api/v1: personal access tokens and JWT
// access tokens, organization-scoped resources, the envelope, per-token rate
// limits and the OpenAPI document. handlers/routes.go mounts it; failures
// are rendered by the application's one error handler (handlers/errors.go),
// which calls WriteError for /api/ paths.
//
// A request to an organization route costs three SQL round trips, like an
// organization page: the token check and the tenant context together with
// BEGIN (app_enter_pat, or app_enter for a JWT), the handler's query, and
// COMMIT; the client list two, its one query being sent together with the
// COMMIT (store.InOrgRead). The rate limit is counted in memory and shared
// through PostgreSQL in batches (ratelimit.Batched).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/agents/runs"
	"accute/internal/agents/tools"
	"accute/internal/agents/usage"
	"accute/internal/auth"
	"accute/internal/clients"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/ratelimit"
	"accute/internal/realtime"
	"accute/internal/requests"
	"accute/internal/store"
	"accute/internal/tenant"
)

// Authenticator checks e-mail and password with the web login's throttling
// (auth.Service).
type Authenticator interface {
	Authenticate(ctx context.Context, email, password string) (db.User, error)
}

// SecondFactor checks a login's second factor (auth.MFA).
type SecondFactor interface {
	Enabled(ctx context.Context, userID uuid.UUID) (bool, error)
	Verify(ctx context.Context, userID uuid.UUID, email, code string) (auth.VerifyResult, error)
}

// PasswordPolicy refuses password sign-in for addresses whose organization
// requires single sign-on (sso.Service), with a message for the user.
type PasswordPolicy interface {
	RefusePassword(ctx context.Context, email string) (string, bool)
}

// Limiter decides, without I/O, whether a key may make one more request
// (ratelimit.Batched).
type Limiter interface {
	Allow(key string) ratelimit.Decision
}

// API holds the JSON API's collaborators.
type API struct {
	Store   *store.Store
	Tokens  *auth.APITokens
	Login   Authenticator
	MFA     SecondFactor   // nil: no second factor is checked
	SSO     PasswordPolicy // nil: password sign-in is always allowed
	Orgs    *tenant.Service
	Clients *clients.Service
	Limiter Limiter
	Logger  *slog.Logger
	// Documents is the document library; ServeContent sends a document's
	// current file as the web download does; UploadMaxBytes bounds an
	// upload.
	Documents      *documents.Service
	ServeContent   func(c echo.Context, id uuid.UUID) error
	UploadMaxBytes int64
	// Requests is document requests (internal/requests).
	Requests *requests.Service
	// Approvals is the queue of AI agents' proposed actions
	// (internal/agents/tools); Usage the AI usage ledger
	// (internal/agents/usage).
	Approvals *tools.Service
	Usage     *usage.Service
	// Runs is conversations with AI agents (internal/agents/runs); Hub
	// streams runs' events (internal/realtime).
	Runs *runs.Service
	Hub  *realtime.Hub
	// Debug adds X-Debug-SQL-Roundtrips to answers (outside production),
	// for tests and the load test.
	Debug bool
}

// Mount registers every /api/v1 route on e. Route-level middleware: rate
// limit and authentication for everything but the document and the token
// endpoints (which are limited per client address), then the permission.
func (a *API) Mount(e *echo.Echo) {
	v1 := e.Group("/api/v1", a.noStore)
	v1.GET("/openapi.json", a.OpenAPI, a.limitByAddress)

	v1.POST("/auth/token", a.TokenCreate, a.limitByAddress)
	v1.POST("/auth/refresh", a.TokenRefresh, a.limitByAddress)
	v1.POST("/auth/revoke", a.TokenRevoke, a.limitByAddress)

	user := a.authenticate(false)
	v1.GET("/me", a.Me, user)
	v1.GET("/orgs", a.OrgsList, user)

	org := v1.Group("/orgs/:org", a.authenticate(true))
	can := requirePermission
	org.GET("", a.OrgShow, can(""))
	org.GET("/members", a.MembersList, can(tenant.MembersRead))
	org.GET("/invitations", a.InvitationsList, can(tenant.MembersRead))
	org.POST("/invitations", a.InvitationsCreate, can(tenant.MembersManage))
	org.DELETE("/invitations/:id", a.InvitationsRevoke, can(tenant.MembersManage))
	org.GET("/clients", a.ClientsList, can(tenant.ClientsRead))
	org.POST("/clients", a.ClientsCreate, can(tenant.ClientsWrite))
	org.GET("/clients/:id", a.ClientsShow, can(tenant.ClientsRead))
	org.PATCH("/clients/:id", a.ClientsUpdate, can(tenant.ClientsWrite))
	org.DELETE("/clients/:id", a.ClientsArchive, can(tenant.ClientsWrite))
	org.POST("/clients/:id/restore", a.ClientsRestore, can(tenant.ClientsWrite))
	org.POST("/clients/:id/contacts", a.ContactsCreate, can(tenant.ClientsWrite))
	org.DELETE("/clients/:id/contacts/:contact", a.ContactsDelete, can(tenant.ClientsWrite))
	org.GET("/audit-events", a.AuditList, can(tenant.AuditRead))
	org.POST("/documents", a.DocumentsCreate, can(tenant.DocumentsWrite))
	org.GET("/documents/:id", a.DocumentsShow, can(tenant.DocumentsRead))
	org.GET("/documents/:id/content", a.DocumentsContent, can(tenant.DocumentsRead))
	org.GET("/search", a.Search, can(tenant.DocumentsRead))
	org.GET("/requests", a.RequestsList, can(tenant.DocumentsRead))
	org.POST("/requests", a.RequestsCreate, can(tenant.DocumentsWrite))
	org.GET("/requests/:id", a.RequestsShow, can(tenant.DocumentsRead))
	org.POST("/requests/:id/accept", a.RequestsAccept, can(tenant.DocumentsWrite))
	org.POST("/requests/:id/reject", a.RequestsReject, can(tenant.DocumentsWrite))
	org.POST("/requests/:id/cancel", a.RequestsCancel, can(tenant.DocumentsWrite))
	org.GET("/usage", a.UsageShow, can(tenant.AgentsManage))
	org.GET("/approvals", a.ApprovalsList, can(tenant.AgentsApprove))
	org.GET("/approvals/:id", a.ApprovalsShow, can(tenant.AgentsApprove))
	org.POST("/approvals/:id/approve", a.ApprovalsApprove, can(tenant.AgentsApprove))
	org.POST("/approvals/:id/reject", a.ApprovalsReject, can(tenant.AgentsApprove))
	org.POST("/agents/:slug/runs", a.RunsCreate, can(tenant.AgentsUse))
	org.GET("/runs/:id", a.RunsShow, can(tenant.AgentsUse))
	org.POST("/runs/:id/cancel", a.RunsCancel, can(tenant.AgentsUse))
	org.GET("/runs/:id/stream", a.RunsStream, can(tenant.AgentsUse))
	org.GET("/conversations", a.ConversationsList, can(tenant.AgentsUse))
	org.GET("/conversations/:id/runs", a.ConversationRuns, can(tenant.AgentsUse))
}

// noStore keeps API answers (tokens, personal data) out of caches.
func (a *API) noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		if a.Debug {
			c.Set(debugKey, true)
		}
		return next(c)
	}
}

// Envelope is every API answer's shape.
type Envelope struct {
	Success   bool              `json:"success"`
	Data      any               `json:"data,omitempty"`
	Error     string            `json:"error,omitempty"`
	Message   string            `json:"message,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
	Timestamp string            `json:"timestamp"`
}

// Page is a page of a list with its cursor: pass next_cursor back as
// ?cursor= for the next page; null means this was the last.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// respond commits the request transaction, then writes data in the
// envelope: a change the client is told about has been saved.
func respond(c echo.Context, status int, data any) error {
	if err := store.CommitRequest(c.Request().Context()); err != nil {
		return err
	}
	if debug, _ := c.Get(debugKey).(bool); debug {
		if n, ok := c.Get("roundtrips").(*atomic.Int64); ok {
			c.Response().Header().Set("X-Debug-SQL-Roundtrips", strconv.FormatInt(n.Load(), 10))
		}
	}
	if fast, ok := data.(jsonAppender); ok {
		buf := bufPool.Get().(*[]byte)
		b := append((*buf)[:0], `{"success":true,"data":`...)
		b = fast.appendJSON(b)
		b = append(b, `,"timestamp":"`...)
		b = time.Now().UTC().AppendFormat(b, time.RFC3339)
		b = append(b, "\"}\n"...)
		// With a length, net/http sends the body as is instead of in
		// chunks (fewer writes for a large list).
		c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(b)))
		err := c.Blob(status, echo.MIMEApplicationJSON, b)
		if cap(b) <= 1<<20 {
			*buf = b
			bufPool.Put(buf)
		}
		return err
	}
	return c.JSON(status, Envelope{Success: true, Data: data, Timestamp: now()})
}

// bufPool recycles the buffers of fast-encoded answers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

const debugKey = "api.debug"

func now() string { return time.Now().UTC().Format(time.RFC3339) }

// Error is an API failure with a message (and per-field details) that is
// safe to show. Handlers return it; the error handler writes it.
type Error struct {
	Status  int
	Message string
	Details map[string]string
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, msg string) *Error { return &Error{Status: status, Message: msg} }

// WriteError writes a failure in the envelope. status and message are the
// error handler's; an *Error's own message and details win, and a bare 404
// gets the API's wording.
func WriteError(c echo.Context, err error, status int, message string, details map[string]string) error {
	var ae *Error
	switch {
	case asError(err, &ae):
		message, details = ae.Message, ae.Details
	case status == http.StatusNotFound:
		message = "Not found: it does not exist, or you do not have access to it."
	case status == http.StatusMethodNotAllowed:
		message = "This endpoint does not accept that method."
	case status == http.StatusBadRequest && details != nil:
		message = "Validation failed: see details."
	}
	return c.JSON(status, Envelope{Success: false, Error: http.StatusText(status), Message: message, Details: details, Timestamp: now()})
}

// StatusOf reports the HTTP status of an *Error, for the error handler.
func StatusOf(err error) (int, bool) {
	var ae *Error
	if asError(err, &ae) {
		return ae.Status, true
	}
	return 0, false
}
