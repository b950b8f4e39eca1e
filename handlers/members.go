package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"accute/internal/form"
	"accute/internal/store"
	"accute/internal/tenant"
	"accute/views/components"
	membersview "accute/views/pages/members"
)

// MembersList shows the team, pending invitations and, for those who may
// manage members, the invite form and per-member controls.
func (h *Handlers) MembersList(c echo.Context) error {
	comp, err := h.membersPage(c, membersview.InviteForm{})
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, comp)
}

// MembersUpdateRole changes a member's role.
func (h *Handlers) MembersUpdateRole(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	a := tenant.ActorOf(principal(c))
	m, err := h.Orgs.ChangeRole(c.Request().Context(), a, id, c.FormValue("role"))
	if err != nil {
		return h.orgRefusal(c, err, "Role not changed", membersBack(c))
	}
	h.flash(c, "success", m.Name+"’s role was updated.")
	return h.redirect(c, orgURL(c, "/members"))
}

// MembersRemove removes a member from the organization.
func (h *Handlers) MembersRemove(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	a := tenant.ActorOf(principal(c))
	m, err := h.Orgs.RemoveMember(c.Request().Context(), a, id)
	if err != nil {
		return h.orgRefusal(c, err, "Member not removed", membersBack(c))
	}
	h.flash(c, "success", m.Name+" was removed from "+a.OrgName+".")
	return h.redirect(c, orgURL(c, "/members"))
}

// MembersLeave takes the signed-in member out of the organization.
func (h *Handlers) MembersLeave(c echo.Context) error {
	a := tenant.ActorOf(principal(c))
	if err := h.Orgs.Leave(c.Request().Context(), a); err != nil {
		back := membersBack(c)
		if !principal(c).Membership.Permissions.Has(tenant.MembersRead) {
			back = orgBackLink{URL: orgURL(c, ""), Label: "Back to the dashboard"}
		}
		return h.orgRefusal(c, err, "You are still a member", back)
	}
	h.flash(c, "success", "You left "+a.OrgName+".")
	return h.redirect(c, "/orgs?all=1")
}

// orgBackLink is where a refusal page sends the user back to.
type orgBackLink struct{ URL, Label string }

func membersBack(c echo.Context) orgBackLink {
	return orgBackLink{URL: orgURL(c, "/members"), Label: "Back to the team"}
}

// orgURL builds a path inside the request's organization.
func orgURL(c echo.Context, rest string) string { return "/o/" + principal(c).Org.Slug + rest }

// orgRefusal answers a business-rule refusal from the tenant service: a
// toast for HTMX, a page that says what happened otherwise, both with a 4xx
// status. The request transaction is rolled back first, so a refusal never
// saves half a change. Other errors go to the error handler.
func (h *Handlers) orgRefusal(c echo.Context, err error, title string, back orgBackLink) error {
	var re *tenant.RuleError
	if !errors.As(err, &re) {
		return err
	}
	store.RollbackRequest(c.Request().Context())
	status := ruleStatus(re.Kind)
	if isHTMX(c) {
		return echo.NewHTTPError(status, re.Message)
	}
	return h.render(c, status, membersview.RefusedPage(h.shell(c, title, ""), membersview.RefusedView{
		Title: title, Message: re.Message, BackURL: back.URL, BackLabel: back.Label,
	}))
}

func ruleStatus(k tenant.RuleKind) int {
	switch k {
	case tenant.RuleForbidden:
		return http.StatusForbidden
	case tenant.RuleConflict:
		return http.StatusConflict
	default:
		return http.StatusBadRequest
	}
}

// membersPage builds the team page; invite carries the invite form's
// values and errors when it is shown again.
func (h *Handlers) membersPage(c echo.Context, invite membersview.InviteForm) (templComponent, error) {
	p := principal(c)
	a := tenant.ActorOf(p)
	d, err := h.Orgs.LoadMembers(c.Request().Context(), p.Org.ID)
	if err != nil {
		return nil, err
	}
	choices := tenant.RoleChoices(d.Roles)
	byValue := make(map[string]tenant.RoleChoice, len(choices))
	for _, rc := range choices {
		byValue[rc.Value] = rc
	}
	canManage := p.Membership.Permissions.Has(tenant.MembersManage)
	v := membersview.MembersView{CanManage: canManage}
	owners := 0
	for _, m := range d.Members {
		cur, ok := byValue[tenant.RoleValue(m.Role, m.CustomRoleID)]
		if !ok {
			cur = tenant.RoleChoice{Value: m.Role, Role: m.Role, Label: m.CustomRoleName}
		}
		if m.Role == tenant.RoleOwner {
			owners++
		}
		row := membersview.MemberRow{
			ID: m.ID.String(), Name: m.Name, Email: m.Email, Initials: initials(m.Name), RoleLabel: cur.Label,
			IsOwner: m.Role == tenant.RoleOwner, Joined: m.CreatedAt.UTC().Format("2 Jan 2006"), LastLogin: "Never",
			You: m.UserID == a.UserID, Suspended: m.SuspendedAt != nil,
			RoleURL: orgURL(c, "/members/"+m.ID.String()+"/role"), RemoveURL: orgURL(c, "/members/"+m.ID.String()+"/remove"),
		}
		if m.LastLoginAt != nil {
			row.LastLogin = m.LastLoginAt.UTC().Format("2 Jan 2006, 15:04")
		}
		if canManage {
			row.CanChangeRole = a.CheckChangeRole(m.UserID, cur.Role, cur.Permissions) == nil
			row.CanRemove = a.CheckRemove(m.UserID, cur.Role, cur.Permissions) == nil
			if row.CanChangeRole {
				row.RoleOptions = roleOptions(a, choices, cur.Value)
			}
		}
		v.Members = append(v.Members, row)
	}
	now := time.Now()
	for _, inv := range d.Invitations {
		label := inv.Role
		if rc, ok := byValue[tenant.RoleValue(inv.Role, inv.CustomRoleID)]; ok {
			label = rc.Label
		}
		v.Invitations = append(v.Invitations, membersview.InvitationRow{
			ID: inv.ID.String(), Email: inv.Email, RoleLabel: label, InvitedBy: inv.InvitedByName,
			Sent: inv.CreatedAt.UTC().Format("2 Jan 2006"), Expires: inv.ExpiresAt.UTC().Format("2 Jan 2006, 15:04 UTC"),
			Expired: !now.Before(inv.ExpiresAt), RevokeURL: orgURL(c, "/invitations/"+inv.ID.String()+"/revoke"),
		})
	}
	if canManage {
		v.Invite = inviteForm(c, a, choices, invite)
	}
	v.Leave = membersview.LeaveView{OrgName: p.Org.Name, URL: orgURL(c, "/leave"), LastOwner: a.IsOwner() && owners <= 1}
	return membersview.MembersPage(h.shell(c, "Team", "members"), v), nil
}

// roleOptions lists the roles the actor may hand out, with selected chosen.
func roleOptions(a tenant.Actor, choices []tenant.RoleChoice, selected string) []components.Option {
	var opts []components.Option
	for _, rc := range choices {
		if rc.Value != selected && a.CheckGrant(rc.Role, rc.Permissions) != nil {
			continue
		}
		label := rc.Label
		if rc.CustomID != nil {
			label += " (custom)"
		}
		opts = append(opts, components.Option{Value: rc.Value, Label: label, Selected: rc.Value == selected})
	}
	return opts
}

// inviteForm completes the invite form's view model.
func inviteForm(c echo.Context, a tenant.Actor, choices []tenant.RoleChoice, f membersview.InviteForm) membersview.InviteForm {
	f.Action = orgURL(c, "/invitations")
	role := c.FormValue("role")
	if _, _, ok := tenant.ParseRoleValue(role); !ok || c.Request().Method == http.MethodGet {
		role = tenant.RoleStaff
	}
	f.Options = roleOptions(a, choices, role)
	return f
}

// InvitationsCreate invites someone by e-mail.
func (h *Handlers) InvitationsCreate(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	a := tenant.ActorOf(p)
	in := tenant.InviteInput{Email: c.FormValue("email"), Role: c.FormValue("role")}
	_, err := h.Orgs.Invite(ctx, a, in)
	var fe form.Errors
	if errors.As(err, &fe) {
		// Nothing of a refused invitation is kept; the page below is read
		// in a fresh transaction.
		store.RollbackRequest(ctx)
		f := membersview.InviteForm{Email: form.Clean(in.Email), Errors: fe}
		if isHTMX(c) {
			roles, err := h.Orgs.ListRoles(ctx, p.Org.ID)
			if err != nil {
				return err
			}
			return h.render(c, http.StatusUnprocessableEntity, membersview.InviteFormFragment(inviteForm(c, a, tenant.RoleChoices(roles), f)))
		}
		comp, err := h.membersPage(c, f)
		if err != nil {
			return err
		}
		return h.render(c, http.StatusUnprocessableEntity, comp)
	}
	if err != nil {
		return h.orgRefusal(c, err, "Invitation not sent", membersBack(c))
	}
	h.flash(c, "success", "Invitation sent to "+form.Clean(in.Email)+". The link expires in 7 days.")
	return h.redirect(c, orgURL(c, "/members"))
}

// InvitationsRevoke withdraws a pending invitation.
func (h *Handlers) InvitationsRevoke(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	inv, err := h.Orgs.RevokeInvitation(c.Request().Context(), tenant.ActorOf(principal(c)), id)
	if err != nil {
		return h.orgRefusal(c, err, "Invitation not revoked", membersBack(c))
	}
	h.flash(c, "success", "The invitation of "+inv.Email+" was revoked.")
	return h.redirect(c, orgURL(c, "/members"))
}
