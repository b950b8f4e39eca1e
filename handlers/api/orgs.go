package api

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/db"
	"accute/internal/form"
	"accute/internal/tenant"
)

// User is the signed-in user.
type User struct {
	ID            uuid.UUID `json:"id"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	EmailVerified bool      `json:"email_verified"`
	MFAEnabled    bool      `json:"mfa_enabled"`
}

// TokenInfo describes the credential of the request.
type TokenInfo struct {
	Type         string     `json:"type"` // personal_access_token or access_token
	ID           *uuid.UUID `json:"id,omitempty"`
	Name         string     `json:"name,omitempty"`
	Organization string     `json:"organization,omitempty"` // slug, for a personal access token
	Role         string     `json:"role,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at"`
}

// Me is GET /me's data.
type Me struct {
	User  User      `json:"user"`
	Token TokenInfo `json:"token"`
}

// Organization is an organization the user belongs to, with their role.
type Organization struct {
	ID          uuid.UUID `json:"id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Permissions []string  `json:"permissions,omitempty"`
}

// Me describes the user and the token the request came with.
func (a *API) Me(c echo.Context) error {
	p := principal(c)
	cred := credentialFrom(c.Request().Context())
	out := Me{
		User:  User{ID: p.User.ID, Email: p.User.Email, Name: p.User.Name, EmailVerified: p.User.EmailVerifiedAt != nil, MFAEnabled: p.User.MFA},
		Token: TokenInfo{Type: cred.Kind, ExpiresAt: cred.ExpiresAt},
	}
	if cred.Kind == KindPAT {
		id := cred.TokenID
		out.Token.ID, out.Token.Name, out.Token.Role = &id, cred.TokenName, cred.Role
		if len(p.Orgs) == 1 {
			out.Token.Organization = p.Orgs[0].Slug
		}
	}
	return respond(c, http.StatusOK, out)
}

// OrgsList lists the user's organizations (for a personal access token,
// only the token's own).
func (a *API) OrgsList(c echo.Context) error {
	p := principal(c)
	items := make([]Organization, 0, len(p.Orgs))
	for _, o := range p.Orgs {
		items = append(items, Organization{ID: o.ID, Slug: o.Slug, Name: o.Name, Role: o.Role})
	}
	return respond(c, http.StatusOK, Page[Organization]{Items: items})
}

// OrgShow describes one organization and what the request may do in it.
func (a *API) OrgShow(c echo.Context) error {
	p := principal(c)
	perms := make([]string, 0, len(p.Membership.Permissions))
	for _, perm := range p.Membership.Permissions {
		perms = append(perms, string(perm))
	}
	return respond(c, http.StatusOK, Organization{ID: p.Org.ID, Slug: p.Org.Slug, Name: p.Org.Name,
		Role: tenant.RoleValue(p.Membership.Role, p.Membership.CustomRoleID), Permissions: perms})
}

// Member is a member of the organization.
type Member struct {
	ID          uuid.UUID  `json:"id"`
	UserID      uuid.UUID  `json:"user_id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	RoleName    string     `json:"role_name"`
	Suspended   bool       `json:"suspended"`
	JoinedAt    time.Time  `json:"joined_at"`
	LastLoginAt *time.Time `json:"last_login_at"`
}

func roleName(role, custom string) string {
	if role == tenant.RoleCustom {
		return custom
	}
	r, _ := tenant.Builtin(role)
	return r.Label
}

// MembersList lists the organization's members.
func (a *API) MembersList(c echo.Context) error {
	ctx := c.Request().Context()
	orgID := principal(c).Org.ID
	var rows []db.ListMembersRow
	err := a.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		rows, err = q.ListMembers(ctx, orgID)
		return err
	})
	if err != nil {
		return err
	}
	items := make([]Member, 0, len(rows))
	for _, m := range rows {
		items = append(items, Member{ID: m.ID, UserID: m.UserID, Email: m.Email, Name: m.Name, Role: tenant.RoleValue(m.Role, m.CustomRoleID),
			RoleName: roleName(m.Role, m.CustomRoleName), Suspended: m.SuspendedAt != nil, JoinedAt: m.CreatedAt, LastLoginAt: m.LastLoginAt})
	}
	return respond(c, http.StatusOK, Page[Member]{Items: items})
}

// Invitation is an invitation to join the organization.
type Invitation struct {
	ID            uuid.UUID `json:"id"`
	Email         string    `json:"email"`
	Role          string    `json:"role"`
	Status        string    `json:"status"` // pending, accepted, revoked or expired
	InvitedByName string    `json:"invited_by_name,omitempty"`
	ExpiresAt     time.Time `json:"expires_at"`
	CreatedAt     time.Time `json:"created_at"`
}

func invitationStatus(accepted, revoked *time.Time, expires time.Time) string {
	switch {
	case accepted != nil:
		return "accepted"
	case revoked != nil:
		return "revoked"
	case !time.Now().Before(expires):
		return "expired"
	}
	return "pending"
}

func invitationOut(i db.Invitation) Invitation {
	return Invitation{ID: i.ID, Email: i.Email, Role: tenant.RoleValue(i.Role, i.CustomRoleID),
		Status: invitationStatus(i.AcceptedAt, i.RevokedAt, i.ExpiresAt), ExpiresAt: i.ExpiresAt, CreatedAt: i.CreatedAt}
}

// InvitationsList lists pending invitations.
func (a *API) InvitationsList(c echo.Context) error {
	ctx := c.Request().Context()
	orgID := principal(c).Org.ID
	var rows []db.ListPendingInvitationsRow
	err := a.Store.InOrg(ctx, orgID, func(q *db.Queries) error {
		var err error
		rows, err = q.ListPendingInvitations(ctx, orgID)
		return err
	})
	if err != nil {
		return err
	}
	items := make([]Invitation, 0, len(rows))
	for _, i := range rows {
		items = append(items, Invitation{ID: i.ID, Email: i.Email, Role: tenant.RoleValue(i.Role, i.CustomRoleID),
			Status: invitationStatus(i.AcceptedAt, i.RevokedAt, i.ExpiresAt), InvitedByName: i.InvitedByName, ExpiresAt: i.ExpiresAt, CreatedAt: i.CreatedAt})
	}
	return respond(c, http.StatusOK, Page[Invitation]{Items: items})
}

// InvitationInput is the body of POST /invitations.
type InvitationInput struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// InvitationsCreate invites someone (and e-mails them the link), with the
// same rules as the members page: nobody grants more than they hold.
func (a *API) InvitationsCreate(c echo.Context) error {
	var in InvitationInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if in.Role == "" {
		return mapError(form.Errors{"role": "This field is required."})
	}
	inv, err := a.Orgs.Invite(c.Request().Context(), tenant.ActorOf(principal(c)), tenant.InviteInput{Email: in.Email, Role: in.Role})
	if err != nil {
		return mapError(err)
	}
	return respond(c, http.StatusCreated, invitationOut(inv))
}

// InvitationsRevoke withdraws a pending invitation.
func (a *API) InvitationsRevoke(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	inv, err := a.Orgs.RevokeInvitation(c.Request().Context(), tenant.ActorOf(principal(c)), id)
	if err != nil {
		return mapError(err)
	}
	inv.RevokedAt = new(time.Time)
	*inv.RevokedAt = time.Now()
	return respond(c, http.StatusOK, invitationOut(inv))
}
