package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"accute/internal/admin"
	"accute/internal/db"
	"accute/views/components"
	"accute/views/layouts"
	adminview "accute/views/pages/admin"
)

// Rows per page in the console's lists.
const (
	adminPerPage      = 25
	adminAuditPerPage = 50
)

// The console's service is stateless over the store, so it is built per
// request rather than wired through Deps.
func (h *Handlers) adminSvc() *admin.Service { return admin.NewService(h.Store) }

// adminShell is the frame of console pages: the admin navigation.
func (h *Handlers) adminShell(c echo.Context, title, active string) layouts.Shell {
	s := h.shell(c, title, active)
	s.Admin = true
	return s
}

// adminPage reads ?page= (anything invalid is page 1).
func adminPage(c echo.Context, perPage int) admin.Page {
	n, _ := strconv.Atoi(c.QueryParam("page"))
	return admin.NewPage(n, perPage)
}

// pager builds the pagination model; filters are kept in every link.
func pager(path string, filters url.Values, p admin.Page, total int) components.Pager {
	return components.Pager{Page: p.Number, PerPage: p.PerPage, Total: total, URL: func(n int) string {
		v := url.Values{}
		for k, vals := range filters {
			if len(vals) > 0 && vals[0] != "" {
				v.Set(k, vals[0])
			}
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}}
}

func adminTime(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

func adminDate(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

// AdminDashboard is the console's overview.
func (h *Handlers) AdminDashboard(c echo.Context) error {
	o, err := h.adminSvc().Overview(c.Request().Context())
	if err != nil {
		return err
	}
	v := adminview.OverviewView{
		Organizations:  int(o.Stats.Organizations),
		Users:          int(o.Stats.Users),
		SuspendedUsers: int(o.Stats.SuspendedUsers),
		OutboxEmails:   int(o.Stats.OutboxEmails),
		AuditEvents24h: int(o.Stats.AuditEvents24h),
		Recent:         auditRows(o.Recent),
	}
	return h.render(c, http.StatusOK, adminview.OverviewPage(h.adminShell(c, "Platform overview", "overview"), v))
}

// AdminOrganizations lists every organization, with search.
func (h *Handlers) AdminOrganizations(c echo.Context) error {
	q := c.QueryParam("q")
	p := adminPage(c, adminPerPage)
	rows, total, err := h.adminSvc().Organizations(c.Request().Context(), q, p)
	if err != nil {
		return err
	}
	v := adminview.OrgsView{Query: q, Pager: pager("/admin/organizations", url.Values{"q": {q}}, p, total)}
	for _, r := range rows {
		v.Rows = append(v.Rows, adminview.OrgRow{
			Name: r.Name, Slug: r.Slug, Members: int(r.Members), Clients: int(r.Clients), Created: adminDate(r.CreatedAt),
			AuditURL: "/admin/audit?" + url.Values{"org": {r.Slug}}.Encode(),
			Plan:     r.Plan, PlanURL: "/admin/organizations/" + r.ID.String() + "/plan", Plans: planOptions(r.Plan),
		})
	}
	return h.render(c, http.StatusOK, adminview.OrgsPage(h.adminShell(c, "Organizations", "organizations"), v))
}

// AdminUsers lists every user, with search and suspend/reactivate buttons.
func (h *Handlers) AdminUsers(c echo.Context) error {
	q := c.QueryParam("q")
	p := adminPage(c, adminPerPage)
	rows, total, err := h.adminSvc().Users(c.Request().Context(), q, p)
	if err != nil {
		return err
	}
	me := principal(c).User.ID
	pg := pager("/admin/users", url.Values{"q": {q}}, p, total)
	v := adminview.UsersView{Query: q, Pager: pg, Back: pg.URL(p.Number)}
	for _, r := range rows {
		last := "Never"
		if r.LastLoginAt != nil {
			last = adminTime(*r.LastLoginAt)
		}
		id := r.ID.String()
		v.Rows = append(v.Rows, adminview.UserRow{
			ID: id, Name: r.Name, Email: r.Email, Verified: r.EmailVerifiedAt != nil, PlatformAdmin: r.IsPlatformAdmin,
			Suspended: r.SuspendedAt != nil, Self: r.ID == me, Orgs: int(r.Organizations), LastLogin: last,
			SuspendURL: "/admin/users/" + id + "/suspend", ReactivateURL: "/admin/users/" + id + "/reactivate",
		})
	}
	return h.render(c, http.StatusOK, adminview.UsersPage(h.adminShell(c, "Users", "users"), v))
}

// AdminSuspendUser suspends a user and ends their sessions at once.
func (h *Handlers) AdminSuspendUser(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	u, err := h.adminSvc().SuspendUser(c.Request().Context(), admin.Actor{ID: p.User.ID, Email: p.User.Email}, id)
	if errors.Is(err, admin.ErrSelf) {
		return echo.NewHTTPError(http.StatusForbidden, "You cannot suspend your own account.")
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", u.Email+" is suspended and was signed out everywhere.")
	return h.redirect(c, backTo(c, "/admin/users"))
}

// AdminReactivateUser lifts a suspension.
func (h *Handlers) AdminReactivateUser(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	p := principal(c)
	u, err := h.adminSvc().ReactivateUser(c.Request().Context(), admin.Actor{ID: p.User.ID, Email: p.User.Email}, id)
	if err != nil {
		return err
	}
	h.flash(c, "success", u.Email+" is active again and can log in.")
	return h.redirect(c, backTo(c, "/admin/users"))
}

// backTo is where a console action returns: the form's "back" address
// when it is a page of list (search and page kept), list itself otherwise;
// never anywhere else.
func backTo(c echo.Context, list string) string {
	back := c.FormValue("back")
	if back != list && !strings.HasPrefix(back, list+"?") {
		return list
	}
	return back
}

// AdminMailbox is the development mailbox: the outbox, newest first.
func (h *Handlers) AdminMailbox(c echo.Context) error {
	to := c.QueryParam("to")
	p := adminPage(c, adminPerPage)
	rows, total, err := h.adminSvc().Mailbox(c.Request().Context(), to, p)
	if err != nil {
		return err
	}
	v := adminview.MailboxView{To: to, Pager: pager("/admin/mailbox", url.Values{"to": {to}}, p, total)}
	for _, r := range rows {
		v.Rows = append(v.Rows, adminview.MailRow{
			URL: "/admin/mailbox/" + r.ID.String(), To: r.ToEmail, Subject: r.Subject,
			Status: mailStatusLabel(r.Status), StatusKind: mailStatusKind(r.Status), Created: adminTime(r.CreatedAt),
		})
	}
	return h.render(c, http.StatusOK, adminview.MailboxPage(h.adminShell(c, "Mailbox", "mailbox"), v))
}

// AdminMailShow shows one e-mail: headers and text body.
func (h *Handlers) AdminMailShow(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.adminSvc().Mail(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := adminview.MailView{
		To: m.ToEmail, Subject: m.Subject, Status: mailStatusLabel(m.Status), StatusKind: mailStatusKind(m.Status),
		Created: adminTime(m.CreatedAt), Body: m.TextBody,
	}
	if m.SentAt != nil {
		v.Sent = adminTime(*m.SentAt)
	}
	return h.render(c, http.StatusOK, adminview.MailPage(h.adminShell(c, m.Subject, "mailbox"), v))
}

func mailStatusLabel(s string) string {
	switch s {
	case "sent":
		return "Sent"
	case "failed":
		return "Failed"
	default:
		return "Pending"
	}
}

func mailStatusKind(s string) string {
	switch s {
	case "sent":
		return "success"
	case "failed":
		return "error"
	default:
		return "warn"
	}
}

// AdminAudit is the audit trail of every organization and the platform.
func (h *Handlers) AdminAudit(c echo.Context) error {
	f := admin.AuditFilter{Action: c.QueryParam("action"), Actor: c.QueryParam("actor"), OrgSlug: c.QueryParam("org")}
	p := adminPage(c, adminAuditPerPage)
	rows, total, err := h.adminSvc().Audit(c.Request().Context(), f, p)
	if err != nil {
		return err
	}
	v := adminview.AuditView{
		Action: f.Action, Actor: f.Actor, Org: f.OrgSlug, Rows: auditRows(rows),
		Filtered: f.Action != "" || f.Actor != "" || f.OrgSlug != "",
		Pager:    pager("/admin/audit", url.Values{"action": {f.Action}, "actor": {f.Actor}, "org": {f.OrgSlug}}, p, total),
	}
	for _, a := range admin.AuditActions() {
		v.Actions = append(v.Actions, components.Option{Value: a, Label: a, Selected: a == f.Action})
	}
	return h.render(c, http.StatusOK, adminview.AuditPage(h.adminShell(c, "Audit trail", "audit"), v))
}

func auditRows(rows []db.ListAllAuditEventsRow) []adminview.AuditRow {
	out := make([]adminview.AuditRow, 0, len(rows))
	for _, r := range rows {
		row := adminview.AuditRow{
			Time: adminTime(r.CreatedAt), OrgSlug: r.OrganizationSlug, Actor: r.ActorEmail, Action: r.Action,
			Summary: r.Summary, IP: r.Ip,
		}
		if r.OrganizationSlug != "" {
			row.OrgURL = "/admin/audit?" + url.Values{"org": {r.OrganizationSlug}}.Encode()
		}
		if r.TargetType != "" {
			row.Target = r.TargetType + " " + r.TargetID
		}
		out = append(out, row)
	}
	return out
}
