package sso

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/crewjam/saml"
	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/db"
	"accute/internal/store"
)

// Single logout.
//
// IdP-initiated: the IdP sends a signed LogoutRequest naming the user
// (NameID); every session of that user ends (the user's session version is
// bumped: a cross-site POST from the IdP carries no session cookie, so
// "this browser's session" cannot be told apart), and the browser goes back
// to the IdP with our signed LogoutResponse.
//
// SP-initiated: logging out of Accute after an SSO sign-in ends the local
// session and, when the IdP has a single logout endpoint, sends the browser
// there with our signed LogoutRequest; its LogoutResponse comes back to
// /slo, tracked like an AuthnRequest (same browser, once).

// SLOResult is what the SLO endpoint does next.
type SLOResult struct {
	// Redirect is the IdP address to send the browser to ("" to show the
	// signed-out page).
	Redirect string
	// EndedUser is the user whose sessions the IdP ended.
	EndedUser *uuid.UUID
	// Completed is true when our own logout request came back answered.
	Completed bool
	OrgName   string
}

// HandleSLO handles a LogoutRequest or LogoutResponse sent to the SLO
// endpoint of the organization with slug (HTTP-Redirect or HTTP-POST).
func (s *Service) HandleSLO(ctx context.Context, slug string, r *http.Request, browserToken string) (SLOResult, error) {
	org, conn, err := s.connectionBySlug(ctx, slug)
	if err != nil {
		return SLOResult{}, err
	}
	if conn.MetadataXml == "" {
		return SLOResult{}, ErrNoSSO
	}
	if err := r.ParseForm(); err != nil {
		return SLOResult{}, &LoginError{Reason: "malformed logout message", Message: "The logout message could not be read."}
	}
	res := SLOResult{OrgName: org.Name}
	var le *LoginError
	err = s.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		p, err := s.newProvider(org.Slug, conn, replayCache{ctx: ctx, q: q, orgID: org.ID})
		if err != nil {
			return err
		}
		switch {
		case r.Form.Get("SAMLRequest") != "":
			req, err := p.sp.ValidateLogoutRequest(r)
			if err != nil {
				le = &LoginError{Reason: "logout request refused", Detail: privateDetail(err), Message: "The logout request from your identity provider was refused."}
				return audit.Record(ctx, q, audit.Event{OrgID: &org.ID, Action: audit.SSOLogout, TargetType: "organization", TargetID: org.ID.String(),
					Summary: "logout request refused (" + truncate(privateDetail(err), 300) + ")"})
			}
			if req.NameID != nil {
				uid, err := q.GetSAMLIdentityUser(ctx, db.GetSAMLIdentityUserParams{OrganizationID: org.ID, NameID: req.NameID.Value})
				switch {
				case err == nil:
					if err := q.SSOEndUserSessions(ctx, uid); err != nil {
						return err
					}
					res.EndedUser = &uid
					user, err := q.GetUser(ctx, uid)
					if err != nil {
						return err
					}
					if err := audit.Record(ctx, q, audit.Event{OrgID: &org.ID, ActorID: &uid, ActorEmail: user.Email, Action: audit.SSOLogout,
						TargetType: "user", TargetID: uid.String(), Summary: "signed out by the identity provider (single logout)"}); err != nil {
						return err
					}
				case !errors.Is(store.MapError(err), store.ErrNotFound):
					return err
				}
			}
			if p.sp.GetSLOBindingLocation(saml.HTTPRedirectBinding) != "" {
				u, err := p.sp.MakeRedirectLogoutResponse(req.ID, r.Form.Get("RelayState"))
				if err != nil {
					return fmt.Errorf("logout response: %w", err)
				}
				res.Redirect = u.String()
			}
			return nil
		case r.Form.Get("SAMLResponse") != "":
			hash := HashBrowserToken(browserToken)
			var ids []string
			if browserToken != "" {
				pending, err := q.ListSAMLRequests(ctx, db.ListSAMLRequestsParams{OrganizationID: org.ID, BrowserHash: hash})
				if err != nil {
					return err
				}
				for _, p := range pending {
					ids = append(ids, p.ID)
				}
			}
			resp, err := p.sp.ParseLogoutResponse(r, ids)
			if err != nil {
				le = &LoginError{Reason: "logout response refused", Detail: privateDetail(err), Message: "You are signed out of Accute. Your identity provider's answer could not be checked, so you may still be signed in there."}
				return nil
			}
			if _, err := q.DeleteSAMLRequest(ctx, db.DeleteSAMLRequestParams{OrganizationID: org.ID, ID: resp.InResponseTo, BrowserHash: hash}); err != nil {
				return err
			}
			res.Completed = true
			return nil
		default:
			le = &LoginError{Reason: "no logout message", Message: "This address expects a logout message from your identity provider."}
			return nil
		}
	})
	if err != nil {
		return SLOResult{}, fmt.Errorf("single logout: %w", err)
	}
	if le != nil {
		return res, le
	}
	return res, nil
}

// StartLogout returns the IdP address that ends the user's IdP session
// too, tracked for this browser, or "" when the organization's IdP has no
// single logout endpoint (the local logout is then all there is).
func (s *Service) StartLogout(ctx context.Context, slug, nameID, nameIDFormat, sessionIndex, browserToken string) (string, error) {
	org, conn, err := s.connectionBySlug(ctx, slug)
	if errors.Is(err, ErrNoSSO) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !conn.Enabled || conn.MetadataXml == "" || nameID == "" {
		return "", nil
	}
	p, err := s.newProvider(org.Slug, conn, nil)
	if err != nil {
		return "", err
	}
	dest := p.sp.GetSLOBindingLocation(saml.HTTPRedirectBinding)
	if dest == "" {
		return "", nil
	}
	opts := []saml.LogoutRequestOption{func(r *saml.LogoutRequest) {
		if r.NameID != nil {
			r.NameID.Format = nameIDFormat
		}
	}}
	if sessionIndex != "" {
		opts = append(opts, saml.WithSessionIndex(sessionIndex))
	}
	req, err := p.sp.MakeLogoutRequest(dest, nameID, opts...)
	if err != nil {
		return "", fmt.Errorf("logout request: %w", err)
	}
	u, err := p.sp.RedirectLogoutRequestURL(req, "")
	if err != nil {
		return "", fmt.Errorf("logout request: %w", err)
	}
	err = s.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		return q.CreateSAMLRequest(ctx, db.CreateSAMLRequestParams{
			OrganizationID: org.ID, ID: req.ID, BrowserHash: HashBrowserToken(browserToken), ExpiresAt: time.Now().Add(RequestTTL),
		})
	})
	if err != nil {
		return "", fmt.Errorf("track logout request: %w", err)
	}
	return u.String(), nil
}
