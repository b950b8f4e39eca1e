package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/scim"
	"accute/internal/store"
)

// SCIM 2.0 (RFC 7644) under /scim/v2. The bearer token names the
// organization, so no slug appears in these routes; every answer, errors
// included, is application/scim+json.

const scimContentType = "application/scim+json; charset=utf-8"

const scimTokenKey = "scim_token"

// scimAPI authenticates the token and turns every error into a SCIM error
// body (so a SCIM client never sees an HTML page).
func (h *Handlers) scimAPI(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := func() error {
			tok, err := h.SCIM.Authenticate(c.Request().Context(), c.Request().Header.Get("Authorization"))
			if err != nil {
				return err
			}
			c.Set(scimTokenKey, tok)
			return next(c)
		}()
		if err == nil {
			return nil
		}
		return h.scimError(c, err)
	}
}

func (h *Handlers) scimError(c echo.Context, err error) error {
	var se *scim.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &se):
	case errors.Is(err, store.ErrConflict):
		se = &scim.Error{Status: http.StatusConflict, ScimType: "uniqueness", Detail: "That conflicts with an existing resource."}
	case errors.Is(err, store.ErrNotFound):
		se = scim.ErrNotFound
	case errors.As(err, &he) && he.Code < 500:
		se = &scim.Error{Status: he.Code, Detail: http.StatusText(he.Code)}
		if he.Code == http.StatusNotFound {
			se = scim.ErrNotFound
		}
	default:
		reqID := c.Response().Header().Get(echo.HeaderXRequestID)
		h.Logger.ErrorContext(c.Request().Context(), "scim request failed", slog.String("request_id", reqID),
			slog.String("method", c.Request().Method), slog.String("path", c.Request().URL.Path), slog.String("error", err.Error()))
		se = &scim.Error{Status: http.StatusInternalServerError, Detail: "Internal error (reference " + reqID + ")."}
	}
	if se.Status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="Accute SCIM"`)
	}
	return scimJSON(c, se.Status, se.Body())
}

func scimJSON(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, scimContentType, b)
}

func scimToken(c echo.Context) scim.Token {
	tok, _ := c.Get(scimTokenKey).(scim.Token)
	return tok
}

// scimBody reads the request body, at most scim.MaxBody bytes.
func scimBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, scim.MaxBody+1))
	if err != nil {
		return nil, &scim.Error{Status: http.StatusBadRequest, ScimType: "invalidSyntax", Detail: "The request body could not be read."}
	}
	if len(b) > scim.MaxBody {
		return nil, scim.ErrTooLarge
	}
	return b, nil
}

func scimID(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return uuid.Nil, scim.ErrNotFound
	}
	return id, nil
}

// scimUpdate answers a PUT or PATCH on /Users/{id} or /Groups/{id}: it
// decodes the body and applies it to the resource named in the path.
func scimUpdate[In, Out any](c echo.Context, decode func([]byte) (In, error),
	apply func(context.Context, scim.Token, uuid.UUID, In) (Out, error)) error {
	id, err := scimID(c)
	if err != nil {
		return err
	}
	body, err := scimBody(c)
	if err != nil {
		return err
	}
	in, err := decode(body)
	if err != nil {
		return err
	}
	out, err := apply(c.Request().Context(), scimToken(c), id, in)
	if err != nil {
		return err
	}
	return scimJSON(c, http.StatusOK, out)
}

func scimListQuery(c echo.Context) scim.ListQuery {
	q := scim.ListQuery{Filter: c.QueryParam("filter"), StartIndex: 1, Count: scim.DefaultCount}
	if n, err := strconv.Atoi(c.QueryParam("startIndex")); err == nil {
		q.StartIndex = n
	}
	if n, err := strconv.Atoi(c.QueryParam("count")); err == nil {
		q.Count = n
	}
	excluded := strings.ToLower(c.QueryParam("excludedAttributes"))
	attrs := strings.ToLower(c.QueryParam("attributes"))
	q.ExcludeMembers = strings.Contains(excluded, "members") || (attrs != "" && !strings.Contains(attrs, "members"))
	return q
}

// SCIMServiceProviderConfig describes the service.
func (h *Handlers) SCIMServiceProviderConfig(c echo.Context) error {
	return scimJSON(c, http.StatusOK, h.SCIM.ServiceProviderConfig())
}

// SCIMResourceTypes lists User and Group.
func (h *Handlers) SCIMResourceTypes(c echo.Context) error {
	return scimJSON(c, http.StatusOK, h.SCIM.ResourceTypes())
}

// SCIMSchemas describes the attributes kept.
func (h *Handlers) SCIMSchemas(c echo.Context) error {
	return scimJSON(c, http.StatusOK, h.SCIM.Schemas())
}

// SCIMUsersList answers GET /Users.
func (h *Handlers) SCIMUsersList(c echo.Context) error {
	out, err := h.SCIM.ListUsers(c.Request().Context(), scimToken(c), scimListQuery(c))
	if err != nil {
		return err
	}
	return scimJSON(c, http.StatusOK, out)
}

// SCIMUsersShow answers GET /Users/{id}.
func (h *Handlers) SCIMUsersShow(c echo.Context) error {
	id, err := scimID(c)
	if err != nil {
		return err
	}
	u, err := h.SCIM.GetUser(c.Request().Context(), scimToken(c), id)
	if err != nil {
		return err
	}
	return scimJSON(c, http.StatusOK, u)
}

// SCIMUsersCreate answers POST /Users.
func (h *Handlers) SCIMUsersCreate(c echo.Context) error {
	body, err := scimBody(c)
	if err != nil {
		return err
	}
	in, err := scim.DecodeUser(body)
	if err != nil {
		return err
	}
	u, err := h.SCIM.CreateUser(c.Request().Context(), scimToken(c), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", u.Meta.Location)
	return scimJSON(c, http.StatusCreated, u)
}

// SCIMUsersReplace answers PUT /Users/{id}.
func (h *Handlers) SCIMUsersReplace(c echo.Context) error {
	return scimUpdate(c, scim.DecodeUser, h.SCIM.ReplaceUser)
}

// SCIMUsersPatch answers PATCH /Users/{id}.
func (h *Handlers) SCIMUsersPatch(c echo.Context) error {
	return scimUpdate(c, scim.DecodePatch, h.SCIM.PatchUser)
}

// SCIMUsersDelete answers DELETE /Users/{id}.
func (h *Handlers) SCIMUsersDelete(c echo.Context) error {
	id, err := scimID(c)
	if err != nil {
		return err
	}
	if err := h.SCIM.DeleteUser(c.Request().Context(), scimToken(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// SCIMGroupsList answers GET /Groups.
func (h *Handlers) SCIMGroupsList(c echo.Context) error {
	out, err := h.SCIM.ListGroups(c.Request().Context(), scimToken(c), scimListQuery(c))
	if err != nil {
		return err
	}
	return scimJSON(c, http.StatusOK, out)
}

// SCIMGroupsShow answers GET /Groups/{id}.
func (h *Handlers) SCIMGroupsShow(c echo.Context) error {
	id, err := scimID(c)
	if err != nil {
		return err
	}
	g, err := h.SCIM.GetGroup(c.Request().Context(), scimToken(c), id, !scimListQuery(c).ExcludeMembers)
	if err != nil {
		return err
	}
	return scimJSON(c, http.StatusOK, g)
}

// SCIMGroupsCreate answers POST /Groups.
func (h *Handlers) SCIMGroupsCreate(c echo.Context) error {
	body, err := scimBody(c)
	if err != nil {
		return err
	}
	in, err := scim.DecodeGroup(body)
	if err != nil {
		return err
	}
	g, err := h.SCIM.CreateGroup(c.Request().Context(), scimToken(c), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", g.Meta.Location)
	return scimJSON(c, http.StatusCreated, g)
}

// SCIMGroupsReplace answers PUT /Groups/{id}.
func (h *Handlers) SCIMGroupsReplace(c echo.Context) error {
	return scimUpdate(c, scim.DecodeGroup, h.SCIM.ReplaceGroup)
}

// SCIMGroupsPatch answers PATCH /Groups/{id}.
func (h *Handlers) SCIMGroupsPatch(c echo.Context) error {
	return scimUpdate(c, scim.DecodePatch, h.SCIM.PatchGroup)
}

// SCIMGroupsDelete answers DELETE /Groups/{id}.
func (h *Handlers) SCIMGroupsDelete(c echo.Context) error {
	id, err := scimID(c)
	if err != nil {
		return err
	}
	if err := h.SCIM.DeleteGroup(c.Request().Context(), scimToken(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
