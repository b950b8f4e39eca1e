package api

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/db"
	"accute/internal/form"
)

// AuditEvent is one entry of the organization's audit trail.
type AuditEvent struct {
	ID          uuid.UUID  `json:"id"`
	Action      string     `json:"action"`
	ActorUserID *uuid.UUID `json:"actor_user_id"`
	ActorEmail  string     `json:"actor_email"`
	TargetType  string     `json:"target_type"`
	TargetID    string     `json:"target_id"`
	Summary     string     `json:"summary"`
	IP          string     `json:"ip"`
	CreatedAt   time.Time  `json:"created_at"`
}

// The cursor of an empty position: before every event.
var maxUUID = uuid.Must(uuid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff"))

// AuditList lists the organization's audit trail, newest first, filtered by
// action, actor (part of the e-mail address) and since (RFC 3339 time or a
// date), a page at a time.
func (a *API) AuditList(c echo.Context) error {
	ctx := c.Request().Context()
	orgID := principal(c).Org.ID
	errs := form.Errors{}
	params := db.ListAuditEventsPageParams{
		OrganizationID: &orgID, Action: c.QueryParam("action"), Actor: form.Clean(c.QueryParam("actor")),
		BeforeTime: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), BeforeID: maxUUID,
	}
	limit := limitParam(c, errs)
	params.MaxRows = int32(limit + 1)
	if len(params.Action) > 100 {
		errs.Add("action", "Use at most 100 characters.")
	}
	if len(params.Actor) > 254 {
		errs.Add("actor", "Use at most 254 characters.")
	}
	params.Actor = form.LikeEscape(params.Actor)
	if v := c.QueryParam("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t, err = time.Parse("2006-01-02", v)
		}
		if err != nil {
			errs.Add("since", "Use a date (2025-01-31) or an RFC 3339 time (2025-01-31T09:00:00Z).")
		} else {
			params.Since = &t
		}
	}
	if cur := c.QueryParam("cursor"); cur != "" {
		parts, ok := decodeCursor(cur, 2)
		var t time.Time
		var id uuid.UUID
		var err error = errBadCursor
		if ok {
			if t, err = time.Parse(time.RFC3339Nano, parts[0]); err == nil {
				id, err = uuid.Parse(parts[1])
			}
		}
		if err != nil {
			errs.Add("cursor", "Not a cursor from this list: pass next_cursor back unchanged.")
		} else {
			params.BeforeTime, params.BeforeID = t, id
		}
	}
	if errs.Any() {
		return mapError(errs)
	}
	var rows []db.AuditEvent
	err := a.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		rows, err = q.ListAuditEventsPage(ctx, params)
		return err
	})
	if err != nil {
		return err
	}
	out := Page[AuditEvent]{Items: make([]AuditEvent, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		out.NextCursor = encodeCursor(last.CreatedAt.UTC().Format(time.RFC3339Nano), last.ID.String())
	}
	for _, e := range rows {
		out.Items = append(out.Items, AuditEvent{ID: e.ID, Action: e.Action, ActorUserID: e.ActorUserID, ActorEmail: e.ActorEmail,
			TargetType: e.TargetType, TargetID: e.TargetID, Summary: e.Summary, IP: e.Ip, CreatedAt: e.CreatedAt})
	}
	return respond(c, http.StatusOK, out)
}

var errBadCursor = &Error{Status: http.StatusBadRequest, Message: "bad cursor"}
