package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"accute/handlers/api"
	"accute/internal/billing"
	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/views/components"
	errorsview "accute/views/pages/errors"
)

// APIEnvelope is the JSON API's answer shape (defined in handlers/api).
type APIEnvelope = api.Envelope

// HTTPErrorHandler is the one place that decides what a failure looks
// like: an error page for browsers, a toast for htmx, the envelope for the
// API. It never answers 200.
func (h *Handlers) HTTPErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ctx := c.Request().Context()
	store.RollbackRequest(ctx)

	status := http.StatusInternalServerError
	message := "Something went wrong on our side. It has been logged; please try again."
	title := "Something went wrong"
	var details map[string]string
	var he *echo.HTTPError
	var fe form.Errors
	var le *billing.LimitError
	apiStatus, isAPIError := api.StatusOf(err)
	switch {
	case isAPIError:
		status = apiStatus
	case errors.As(err, &le):
		// A plan limit or a plan too low: 402, with what to do.
		status, message = http.StatusPaymentRequired, le.Message
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok && status != http.StatusNotFound {
			message = m
		}
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.As(err, &fe):
		status = http.StatusBadRequest
		message = "Some fields need attention."
		details = fe
	case errors.Is(err, store.ErrConflict):
		status = http.StatusConflict
		message = "That conflicts with something that already exists."
	}
	switch status {
	case http.StatusNotFound:
		title, message = "Page not found", "The page you asked for does not exist, or you do not have access to it."
	case http.StatusForbidden:
		title = "Not allowed"
		if message == "" || strings.HasPrefix(message, "Something") {
			message = "You do not have permission to do this."
		}
	case http.StatusMethodNotAllowed:
		title, message = "Not allowed", "This address does not accept that kind of request."
	case http.StatusTooManyRequests:
		title = "Too many requests"
	case http.StatusPaymentRequired:
		title = "Plan limit reached"
	case http.StatusBadRequest:
		title = "Check your input"
	case http.StatusRequestEntityTooLarge:
		title, message = "Too large", "The request is larger than allowed."
	}
	if status < 400 {
		status = http.StatusInternalServerError
	}
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	if status >= 500 {
		h.Logger.ErrorContext(ctx, "request failed", slog.String("request_id", reqID), slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path), slog.Int("status", status), slog.String("error", err.Error()))
		title = "Something went wrong"
		message = "Something went wrong on our side. It has been logged; please try again."
	}

	var werr error
	switch {
	case strings.HasPrefix(c.Request().URL.Path, "/api/"):
		werr = api.WriteError(c, err, status, message, details)
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(status)
	case isHTMX(c):
		hdr := c.Response().Header()
		hdr.Set("HX-Retarget", "#toasts")
		hdr.Set("HX-Reswap", "beforeend")
		if status >= 500 {
			message += " (reference " + reqID + ")"
			reqID = ""
		}
		werr = components.Toast("error", message, "").Render(ctx, htmlWriter(c, status))
	default:
		v := errorsview.ErrorView{Status: status, Title: title, Message: message, SignedIn: tenant.PrincipalFrom(ctx) != nil}
		if status >= 500 {
			v.RequestID = reqID
			if !h.Config.Production() {
				v.Details = err.Error()
			}
		}
		werr = errorsview.ErrorPage(v).Render(ctx, htmlWriter(c, status))
	}
	if werr != nil {
		h.Logger.ErrorContext(ctx, "writing error response", slog.String("error", fmt.Sprint(werr)))
	}
}

func htmlWriter(c echo.Context, status int) *echo.Response {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return c.Response()
}
