package handlers

import (
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/handlers/api"
)

// mountAPI mounts the JSON API (handlers/api) with the application's
// services.
func (h *Handlers) mountAPI(e *echo.Echo) {
	a := &api.API{
		Store: h.Store, Tokens: h.APITokens, Login: h.Auth, Orgs: h.Orgs, Clients: h.Clients,
		Limiter: h.APILimiter, Logger: h.Logger, Debug: !h.Config.Production(),
		Documents: h.Documents, UploadMaxBytes: h.Config.Documents.UploadMaxBytes, Requests: h.Requests,
		ServeContent: func(c echo.Context, id uuid.UUID) error { return h.serveDocument(c, id, nil) },
		Approvals:    h.approvalsSvc(), Usage: h.usageSvc(),
		Runs: h.runsSvc(), Hub: h.Hub,
	}
	if h.MFA != nil {
		a.MFA = h.MFA
	}
	if h.SSO != nil {
		a.SSO = h.SSO
	}
	a.Mount(e)
}
