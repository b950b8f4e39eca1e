package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"accute/internal/clients"
	"accute/internal/db"
	"accute/internal/documents"
	"accute/internal/form"
	"accute/internal/portal"
	"accute/internal/tenant"
	"accute/views/components"
	portalview "accute/views/pages/portal"
)

// The Portal access card of a client's page (internal/portal): who of the
// client uses the portal, their identity checks with verify and reject,
// invitations, and linking and unlinking client users. Every form of the
// card answers htmx with the card itself (200 with a notice, 422 with the
// errors), and a browser without JavaScript with a redirect back to the
// client or the whole page with the errors.

// clientPortalCard builds the card for members who may see clients.
func (h *Handlers) clientPortalCard(c echo.Context, cl db.Client) (*portalview.AccessCard, error) {
	p := principal(c)
	if p.Membership == nil || !p.Membership.Permissions.Has(tenant.ClientsRead) {
		return nil, nil
	}
	access, err := h.Portal.Access(c.Request().Context(), p.Org.ID, cl.ID)
	if err != nil {
		return nil, err
	}
	base := clientsBase(c) + "/" + cl.ID.String() + "/portal"
	canDocs := p.Membership.Permissions.Has(tenant.DocumentsRead)
	card := &portalview.AccessCard{URL: base, CanWrite: canWriteClients(c), Archived: cl.ArchivedAt != nil}
	now := time.Now()
	for _, u := range access.Users {
		link := base + "/links/" + u.LinkID.String()
		au := portalview.AccessUser{
			Name: u.Name, Email: u.Email, Linked: u.Linked.Format(clientDateLayout), Status: u.KYC.Status, Badge: kycBadge(u.KYC.Status),
			Reason: u.KYC.RejectReason, ReviewedBy: u.ReviewedBy, Reviewable: u.KYC.Status == portal.KYCSubmitted,
			VerifyURL: link + "/kyc/verify", RejectURL: link + "/kyc/reject", UnlinkURL: link + "/delete",
		}
		if u.Submitted != nil {
			au.Submitted = u.Submitted.Format(clientDateLayout)
		}
		if u.Reviewed != nil {
			au.Reviewed = u.Reviewed.Format(clientDateLayout)
		}
		for _, d := range u.KYCDocuments {
			row := portalview.KYCDocRow{Name: d.Name, Kind: portal.KYCKindLabel(d.Kind), Size: documents.FormatBytes(d.Size), Added: d.Added.Format(clientDateLayout)}
			if canDocs {
				row.DownloadURL = docsBase(c) + "/" + d.DocumentID.String() + "/download"
			}
			au.Documents = append(au.Documents, row)
		}
		card.Users = append(card.Users, au)
	}
	for _, i := range access.Invitations {
		card.Invitations = append(card.Invitations, portalview.AccessInvitation{
			Email: i.Email, Sent: i.Sent.Format(clientDateLayout), Expires: i.Expires.Format(clientDateLayout), Expired: i.Expired(now),
			RevokeURL: base + "/invitations/" + i.ID.String() + "/revoke",
		})
	}
	if len(access.Candidates) > 0 {
		card.Candidates = append(card.Candidates, components.Option{Value: "", Label: "Choose a client user…"})
		for _, cand := range access.Candidates {
			card.Candidates = append(card.Candidates, components.Option{Value: cand.UserID.String(), Label: cand.Name + " (" + cand.Email + ")"})
		}
	}
	return card, nil
}

// portalClient loads the client in the path (404 when it is not the
// organization's).
func (h *Handlers) portalClient(c echo.Context) (clients.Details, error) {
	id, err := pathUUID(c, "id")
	if err != nil {
		return clients.Details{}, err
	}
	return h.Clients.Get(c.Request().Context(), principal(c).Org.ID, id)
}

// answerPortalCard answers a form of the card: on success the card with
// notice (htmx) or a redirect with it as a flash; on invalid input (errs)
// the card with the errors, or the whole client page, with 422. edit
// adjusts the rebuilt card (to keep what was typed).
func (h *Handlers) answerPortalCard(c echo.Context, d clients.Details, notice string, errs form.Errors, edit func(*portalview.AccessCard)) error {
	url := clientsBase(c) + "/" + d.Client.ID.String()
	if !errs.Any() && !isHTMX(c) {
		h.flash(c, "success", notice)
		return h.redirect(c, url+"#portal-access")
	}
	card, err := h.clientPortalCard(c, d.Client)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if errs.Any() {
		status = http.StatusUnprocessableEntity
		card.Errors = errs
	} else {
		card.Notice = notice
	}
	if edit != nil {
		edit(card)
	}
	if isHTMX(c) {
		return h.render(c, status, portalview.AccessSection(*card))
	}
	v := h.clientShowView(c, d)
	v.Portal = card
	return h.renderClientPage(c, status, d, v)
}

// ClientPortalInvite gives an e-mail address access to the client's portal
// (invites them, or links them when they are a client user already).
func (h *Handlers) ClientPortalInvite(c echo.Context) error {
	d, err := h.portalClient(c)
	if err != nil {
		return err
	}
	email := c.FormValue("email")
	outcome, err := h.Portal.Invite(c.Request().Context(), tenant.ActorOf(principal(c)), d.Client.ID, email)
	var fe form.Errors
	if errors.As(err, &fe) {
		return h.answerPortalCard(c, d, "", fe, func(card *portalview.AccessCard) { card.InviteEmail = email })
	}
	if err != nil {
		return portalRefusal(err)
	}
	notice := ""
	switch outcome {
	case portal.Invited:
		notice = "An invitation was sent to " + form.Clean(email) + ". They will see " + d.Client.Name + " once they accept it."
	case portal.AddedToInvitation:
		notice = form.Clean(email) + " already had an invitation on its way; accepting it now also gives access to " + d.Client.Name + "."
	case portal.LinkedExisting:
		notice = form.Clean(email) + " already uses your portal and now has access to " + d.Client.Name + " too."
	}
	return h.answerPortalCard(c, d, notice, nil, nil)
}

// ClientPortalRevoke withdraws an invitation that gives access to the
// client.
func (h *Handlers) ClientPortalRevoke(c echo.Context) error {
	d, err := h.portalClient(c)
	if err != nil {
		return err
	}
	inv, err := pathUUID(c, "invitation")
	if err != nil {
		return err
	}
	email, err := h.Portal.RevokeInvitation(c.Request().Context(), tenant.ActorOf(principal(c)), d.Client.ID, inv)
	if err != nil {
		var re *tenant.RuleError
		if errors.As(err, &re) {
			return echo.NewHTTPError(ruleStatus(re.Kind), re.Message)
		}
		return err
	}
	return h.answerPortalCard(c, d, "The invitation of "+email+" was withdrawn.", nil, nil)
}

// ClientPortalLink gives an existing client user access to the client.
func (h *Handlers) ClientPortalLink(c echo.Context) error {
	d, err := h.portalClient(c)
	if err != nil {
		return err
	}
	user, ok := optionalUUID(c.FormValue("user_id"))
	if !ok || user == nil {
		return h.answerPortalCard(c, d, "", form.Errors{"user_id": "Choose one of your client users."}, nil)
	}
	_, err = h.Portal.Link(c.Request().Context(), portalActor(c), d.Client.ID, *user)
	var fe form.Errors
	if errors.As(err, &fe) {
		if fe["email"] != "" { // already linked: say it on the select
			fe = form.Errors{"user_id": fe["email"]}
		}
		return h.answerPortalCard(c, d, "", fe, nil)
	}
	if err != nil {
		return portalRefusal(err)
	}
	return h.answerPortalCard(c, d, "Access given. They can see "+d.Client.Name+" in the portal now.", nil, nil)
}

// ClientPortalUnlink ends a client user's access to the client.
func (h *Handlers) ClientPortalUnlink(c echo.Context) error {
	d, err := h.portalClient(c)
	if err != nil {
		return err
	}
	link, err := pathUUID(c, "link")
	if err != nil {
		return err
	}
	email, err := h.Portal.Unlink(c.Request().Context(), portalActor(c), d.Client.ID, link)
	if err != nil {
		return err
	}
	return h.answerPortalCard(c, d, email+" no longer has access to "+d.Client.Name+".", nil, nil)
}

// ClientKYCVerify verifies a client user's submitted identity documents.
func (h *Handlers) ClientKYCVerify(c echo.Context) error {
	return h.decideKYC(c, true)
}

// ClientKYCReject rejects them, with a reason the client user sees.
func (h *Handlers) ClientKYCReject(c echo.Context) error {
	return h.decideKYC(c, false)
}

func (h *Handlers) decideKYC(c echo.Context, verified bool) error {
	d, err := h.portalClient(c)
	if err != nil {
		return err
	}
	link, err := pathUUID(c, "link")
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	err = h.Portal.DecideKYC(c.Request().Context(), portalActor(c), d.Client.ID, link, portal.Decision{Verified: verified, Reason: reason})
	var fe form.Errors
	if errors.As(err, &fe) {
		return h.answerPortalCard(c, d, "", form.Errors{"_": "The documents were not rejected: " + fe["reason"]}, func(card *portalview.AccessCard) {
			for i := range card.Users {
				if card.Users[i].RejectURL == card.URL+"/links/"+link.String()+"/kyc/reject" {
					card.Users[i].RejectReason, card.Users[i].RejectError = reason, fe["reason"]
				}
			}
		})
	}
	if err != nil {
		return portalRefusal(err)
	}
	notice := "The identity documents were verified; the client was told by e-mail."
	if !verified {
		notice = "The identity documents were rejected; the client was told why by e-mail and can send new ones."
	}
	return h.answerPortalCard(c, d, notice, nil, nil)
}
