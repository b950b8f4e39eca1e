package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/form"
	"accute/views/components"
	auditview "accute/views/pages/audit"
)

// auditPerPage is the audit trail's page size.
const auditPerPage = 50

// AuditList shows the organization's audit trail, filtered by action,
// actor e-mail and start date, newest first.
func (h *Handlers) AuditList(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	base := orgURL(c, "/audit")
	v := auditview.AuditView{FormAction: base, ResetURL: base}

	// Unknown actions are ignored rather than refused: the list is fixed,
	// and an old bookmark should still open the page.
	v.Action = c.QueryParam("action")
	if !slices.Contains(audit.OrgActions, v.Action) {
		v.Action = ""
	}
	v.Actor = form.Clean(c.QueryParam("actor"))
	if len(v.Actor) > 254 {
		v.Actor = v.Actor[:254]
	}
	v.Since = strings.TrimSpace(c.QueryParam("since"))
	status := http.StatusOK
	var since *time.Time
	if v.Since != "" {
		t, err := time.Parse("2006-01-02", v.Since)
		if err != nil {
			v.SinceError = "Enter a date like 2025-01-31."
			status = http.StatusBadRequest
		} else {
			since = &t
		}
	}
	v.Filtered = v.Action != "" || v.Actor != "" || v.Since != ""
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = min(max(page, 1), 10000)
	v.Page = page

	v.Actions = append(v.Actions, components.Option{Value: "", Label: "All actions", Selected: v.Action == ""})
	for _, a := range audit.OrgActions {
		v.Actions = append(v.Actions, components.Option{Value: a, Label: a, Selected: a == v.Action})
	}

	var rows []db.AuditEvent
	if v.SinceError == "" {
		orgID := p.Org.ID
		err := h.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
			var err error
			// One row more than a page tells whether there is a next page
			// without counting the whole trail.
			rows, err = q.ListAuditEvents(ctx, db.ListAuditEventsParams{
				OrganizationID: &orgID, Action: v.Action, Actor: form.LikeEscape(v.Actor), Since: since,
				Skip: int32((page - 1) * auditPerPage), MaxRows: auditPerPage + 1,
			})
			return err
		})
		if err != nil {
			return err
		}
	}
	if len(rows) > auditPerPage {
		rows = rows[:auditPerPage]
		v.NextURL = auditPageURL(base, v, page+1)
	}
	if page > 1 {
		v.PrevURL = auditPageURL(base, v, page-1)
	}
	for _, e := range rows {
		v.Rows = append(v.Rows, auditview.Row{
			When: e.CreatedAt.UTC().Format("2 Jan 2006, 15:04:05"), Action: e.Action, Kind: auditKind(e.Action),
			Actor: e.ActorEmail, Summary: e.Summary, Target: e.TargetType, IP: e.Ip,
		})
	}
	return h.render(c, status, auditview.AuditPage(h.shell(c, "Audit trail", "audit"), v))
}

// auditPageURL keeps the filters on the pager's links.
func auditPageURL(base string, v auditview.AuditView, page int) string {
	q := url.Values{}
	if v.Action != "" {
		q.Set("action", v.Action)
	}
	if v.Actor != "" {
		q.Set("actor", v.Actor)
	}
	if v.Since != "" {
		q.Set("since", v.Since)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return base
	}
	return base + "?" + q.Encode()
}

// auditKind colours an action's badge: removals in amber, additions in
// green, the rest neutral blue.
func auditKind(action string) string {
	for _, w := range []string{"removed", "deleted", "revoked", "left", "archived", "failed"} {
		if strings.Contains(action, w) {
			return "warn"
		}
	}
	for _, w := range []string{"created", "joined", "invited", "added", "restored"} {
		if strings.Contains(action, w) {
			return "success"
		}
	}
	return "info"
}
