package handlers

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"accute/internal/tenant"
	ssoview "accute/views/pages/sso"
)

// Platform console: organizations' e-mail domain claims for single sign-on
// (see internal/sso/domains.go for the verification rules).

// AdminSSODomains lists domain claims, pending first.
func (h *Handlers) AdminSSODomains(c echo.Context) error {
	status := c.QueryParam("status")
	if status != "pending" && status != "verified" {
		status = ""
	}
	page := adminPage(c, adminPerPage)
	d, err := h.SSO.ListDomainsForAdmin(c.Request().Context(), status, page.PerPage, (min(page.Number, 100000)-1)*page.PerPage)
	if err != nil {
		return err
	}
	const path = "/admin/sso-domains"
	v := ssoview.AdminDomainsView{
		Status: status, AllURL: path, Pending: path + "?status=pending", Verified: path + "?status=verified",
		Pager: pager(path, url.Values{"status": {status}}, page, d.Total),
	}
	for _, r := range d.Rows {
		base := path + "/" + r.OrganizationID.String() + "/" + r.ID.String()
		row := ssoview.AdminDomainRow{
			Domain: r.Domain, OrgName: r.OrgName, OrgSlug: r.Slug, ClaimedBy: r.ClaimedByEmail, Claimed: r.CreatedAt.UTC().Format("2 Jan 2006"),
			Verified: r.VerifiedAt != nil, SSORequired: r.SsoRequired, VerifyURL: base + "/verify", RevokeURL: base + "/unverify",
		}
		switch r.Verification {
		case "admin_email":
			row.Method = "by the owner's confirmed address"
		case "platform_admin":
			row.Method = "by a platform administrator"
		}
		v.Rows = append(v.Rows, row)
	}
	return h.render(c, http.StatusOK, ssoview.AdminDomainsPage(h.adminShell(c, "E-mail domains", "sso-domains"), v))
}

// AdminSSODomainVerify verifies an organization's domain claim.
func (h *Handlers) AdminSSODomainVerify(c echo.Context) error {
	orgID, id, err := adminDomainIDs(c)
	if err != nil {
		return err
	}
	p := principal(c)
	d, err := h.SSO.AdminVerifyDomain(c.Request().Context(), p.User.ID, p.User.Email, orgID, id)
	if err != nil {
		return adminDomainRefusal(err)
	}
	h.flash(c, "success", d.Domain+" is verified.")
	return h.redirect(c, "/admin/sso-domains")
}

// AdminSSODomainUnverify takes a domain verification back.
func (h *Handlers) AdminSSODomainUnverify(c echo.Context) error {
	orgID, id, err := adminDomainIDs(c)
	if err != nil {
		return err
	}
	p := principal(c)
	d, err := h.SSO.AdminUnverifyDomain(c.Request().Context(), p.User.ID, p.User.Email, orgID, id)
	if err != nil {
		return adminDomainRefusal(err)
	}
	h.flash(c, "success", d.Domain+" is no longer verified.")
	return h.redirect(c, "/admin/sso-domains")
}

func adminDomainIDs(c echo.Context) (uuid.UUID, uuid.UUID, error) {
	orgID, err := pathUUID(c, "org")
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	id, err := pathUUID(c, "id")
	return orgID, id, err
}

func adminDomainRefusal(err error) error {
	var re *tenant.RuleError
	if errors.As(err, &re) {
		return echo.NewHTTPError(ruleStatus(re.Kind), re.Message)
	}
	return err
}
