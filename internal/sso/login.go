package sso

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/google/uuid"

	"accute/internal/audit"
	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/store"
)

// RequestTTL is how long an SP-initiated sign-in may take at the IdP.
const RequestTTL = 10 * time.Minute

// maxResponseChars bounds the posted SAMLResponse (base64) before any
// parsing: real responses, even with many groups, are a few dozen KiB.
const maxResponseChars = 1 << 20

// ErrNoSSO means there is no organization with single sign-on on for what
// the user typed (or the slug in the address).
var ErrNoSSO = errors.New("no single sign-on for that organization or domain")

// LoginError is a refused SSO sign-in. Reason is recorded in the audit
// trail; Message is safe to show the user.
type LoginError struct {
	Reason  string
	Detail  string // crewjam's diagnostic, for the audit trail only
	Message string
}

func (e *LoginError) Error() string {
	if e.Detail != "" {
		return "sso login refused: " + e.Reason + ": " + e.Detail
	}
	return "sso login refused: " + e.Reason
}

func refused(reason, message string) *LoginError {
	return &LoginError{Reason: reason, Message: message}
}

// NewBrowserToken returns a random value for the SAML tracking cookie.
func NewBrowserToken() string { return crypto.RandomToken() }

// Resolve finds the organization to sign in with from what the user typed
// on the SSO page: a work e-mail address (its verified domain) or an
// organization's slug. It answers ErrNoSSO unless that organization has
// single sign-on on.
func (s *Service) Resolve(ctx context.Context, identifier string) (string, error) {
	identifier = strings.ToLower(strings.TrimSpace(identifier))
	if strings.Contains(identifier, "@") {
		r, ok, err := s.routeDomain(ctx, DomainOf(identifier))
		if err != nil {
			return "", err
		}
		if !ok || !r.Enabled {
			return "", ErrNoSSO
		}
		return r.Slug, nil
	}
	identifier = strings.TrimPrefix(strings.TrimPrefix(identifier, "/o/"), "/")
	org, conn, err := s.connectionBySlug(ctx, identifier)
	if err != nil {
		return "", err
	}
	if !conn.Enabled || conn.MetadataXml == "" {
		return "", ErrNoSSO
	}
	return org.Slug, nil
}

// connectionBySlug loads an organization (a global row) and its SAML
// connection; ErrNoSSO when either does not exist.
func (s *Service) connectionBySlug(ctx context.Context, slug string) (db.Organization, db.SamlConnection, error) {
	if slug == "" || len(slug) > 48 {
		return db.Organization{}, db.SamlConnection{}, ErrNoSSO
	}
	org, err := s.Store.Q().GetOrganizationBySlug(ctx, slug)
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return db.Organization{}, db.SamlConnection{}, ErrNoSSO
	}
	if err != nil {
		return db.Organization{}, db.SamlConnection{}, err
	}
	var conn db.SamlConnection
	err = s.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		var err error
		conn, err = q.GetSAMLConnection(ctx, org.ID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return db.Organization{}, db.SamlConnection{}, ErrNoSSO
	}
	if err != nil {
		return db.Organization{}, db.SamlConnection{}, err
	}
	return org, conn, nil
}

// Metadata returns the SP metadata XML of the organization with slug.
func (s *Service) Metadata(ctx context.Context, slug string) ([]byte, error) {
	org, conn, err := s.connectionBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	p, err := s.newProvider(org.Slug, conn, nil)
	if err != nil {
		return nil, err
	}
	ed := p.sp.Metadata()
	buf, err := xmlBytes(ed)
	if err != nil {
		return nil, fmt.Errorf("sp metadata: %w", err)
	}
	return buf, nil
}

// StartLogin begins an SP-initiated sign-in: it records an AuthnRequest
// bound to the browser's tracking token and returns the IdP address to
// send the browser to. next is where to go after signing in (a local
// path, already checked by the caller).
func (s *Service) StartLogin(ctx context.Context, slug, next, browserToken string) (string, error) {
	org, conn, err := s.connectionBySlug(ctx, slug)
	if err != nil {
		return "", err
	}
	if !conn.Enabled || conn.MetadataXml == "" {
		return "", ErrNoSSO
	}
	p, err := s.newProvider(org.Slug, conn, nil)
	if err != nil {
		return "", err
	}
	req, err := p.sp.MakeAuthenticationRequest(p.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", fmt.Errorf("authn request: %w", err)
	}
	target, err := req.Redirect("", p.sp)
	if err != nil {
		return "", fmt.Errorf("authn request: %w", err)
	}
	err = s.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		if err := q.DeleteExpiredSAMLRequests(ctx, org.ID); err != nil {
			return err
		}
		return q.CreateSAMLRequest(ctx, db.CreateSAMLRequestParams{
			OrganizationID: org.ID, ID: req.ID, BrowserHash: HashBrowserToken(browserToken), NextPath: next, ExpiresAt: time.Now().Add(RequestTTL),
		})
	})
	if err != nil {
		return "", fmt.Errorf("track authn request: %w", err)
	}
	return target.String(), nil
}

// LoginResult is a completed SSO sign-in.
type LoginResult struct {
	User         db.User
	OrgSlug      string
	OrgName      string
	Next         string // where to send the browser ("" = the organization)
	NameID       string
	NameIDFormat string
	SessionIndex string
	Provisioned  bool
}

// CompleteLogin handles a response posted to the ACS of the organization
// with slug: it validates it (signature, audience, destination, validity,
// replay, request binding), provisions or links the user and records the
// sign-in, all in one transaction. form is the posted form; browserToken
// is the tracking cookie ("" when the browser sent none). A refusal is a
// *LoginError, already recorded in the organization's audit trail.
func (s *Service) CompleteLogin(ctx context.Context, slug string, form url.Values, browserToken string) (LoginResult, error) {
	org, err := s.Store.Q().GetOrganizationBySlug(ctx, slug)
	if errors.Is(store.MapError(err), store.ErrNotFound) {
		return LoginResult{}, ErrNoSSO
	}
	if err != nil {
		return LoginResult{}, err
	}
	res := LoginResult{OrgSlug: org.Slug, OrgName: org.Name}
	var loginErr *LoginError
	err = s.Store.InOrg(ctx, org.ID, func(q *db.Queries) error {
		le, err := s.completeLogin(ctx, q, org, form, browserToken, &res)
		if err != nil {
			return err
		}
		if le != nil {
			// The refusal is recorded in the same transaction, which
			// commits: an assertion already recorded as used stays used.
			loginErr = le
			summary := le.Reason
			if le.Detail != "" {
				summary += " (" + truncate(le.Detail, 300) + ")"
			}
			ev := audit.Event{OrgID: &org.ID, Action: audit.SSOLoginFailed, ActorEmail: res.User.Email, TargetType: "organization", TargetID: org.ID.String(), Summary: summary}
			if res.User.ID != uuid.Nil {
				ev.ActorID = &res.User.ID
			}
			return audit.Record(ctx, q, ev)
		}
		return nil
	})
	if err != nil {
		return LoginResult{}, fmt.Errorf("sso login: %w", err)
	}
	if loginErr != nil {
		return LoginResult{}, loginErr
	}
	return res, nil
}

func (s *Service) completeLogin(ctx context.Context, q *db.Queries, org db.Organization, form url.Values, browserToken string, res *LoginResult) (*LoginError, error) {
	conn, err := q.GetSAMLConnection(ctx, org.ID)
	if errors.Is(store.MapError(err), store.ErrNotFound) || (err == nil && (!conn.Enabled || conn.MetadataXml == "")) {
		return refused("single sign-on is off for the organization", "Single sign-on is not turned on for "+org.Name+"."), nil
	}
	if err != nil {
		return nil, err
	}
	if form.Get("SAMLart") != "" {
		return refused("artifact binding is not supported", "Your identity provider used a binding Accute does not accept. Ask your administrator to use HTTP-POST."), nil
	}
	p, err := s.newProvider(org.Slug, conn, replayCache{ctx: ctx, q: q, orgID: org.ID})
	if err != nil {
		return nil, err
	}
	hash := HashBrowserToken(browserToken)
	var pending []db.ListSAMLRequestsRow
	if browserToken != "" {
		if pending, err = q.ListSAMLRequests(ctx, db.ListSAMLRequestsParams{OrganizationID: org.ID, BrowserHash: hash}); err != nil {
			return nil, err
		}
	}
	ids := make([]string, 0, len(pending))
	for _, r := range pending {
		ids = append(ids, r.ID)
	}
	if err := q.DeleteExpiredSAMLAssertions(ctx, org.ID); err != nil {
		return nil, err
	}
	assertion, err := p.parseResponse(form.Get("SAMLResponse"), ids)
	if err != nil {
		return classifyFailure(err), nil
	}

	// Which request this answers, if any: it is used up.
	if irt := inResponseTo(assertion); irt != "" {
		n, err := q.DeleteSAMLRequest(ctx, db.DeleteSAMLRequestParams{OrganizationID: org.ID, ID: irt, BrowserHash: hash})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			// crewjam checked it against ids; only a concurrent use gets here.
			return refused("request already answered", "This sign-in was already completed. Start again."), nil
		}
		for _, r := range pending {
			if r.ID == irt {
				res.Next = r.NextPath
			}
		}
	} else if rs := form.Get("RelayState"); localPath(rs) {
		// IdP-initiated: a relay state may name a page of this site.
		res.Next = rs
	}

	id := extractIdentity(assertion, conn)
	res.NameID, res.NameIDFormat, res.SessionIndex = id.NameID, id.NameIDFormat, id.SessionIndex
	return s.provision(ctx, q, org, conn, id, res)
}

// parseResponse is the ACS's parsing entry point: the base64 SAMLResponse
// form value, checked by crewjam/saml against this SP and the IdP
// metadata. The whole response is authenticated (signed response and/or
// signed assertion), encrypted assertions are decrypted with the SP key.
func (p *provider) parseResponse(samlResponse string, requestIDs []string) (*saml.Assertion, error) {
	raw, err := decodeResponse(samlResponse)
	if err != nil {
		return nil, err
	}
	return p.sp.ParseXMLResponse(raw, requestIDs, p.sp.AcsURL)
}

// errMalformed is a response that is not base64 XML of a sensible size.
var errMalformed = errors.New("malformed SAMLResponse")

func decodeResponse(samlResponse string) ([]byte, error) {
	if samlResponse == "" {
		return nil, fmt.Errorf("%w: empty", errMalformed)
	}
	if len(samlResponse) > maxResponseChars {
		return nil, fmt.Errorf("%w: larger than %d bytes", errMalformed, maxResponseChars)
	}
	// Some IdPs wrap the base64 text; whitespace is not part of it.
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, samlResponse)
	raw, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", errMalformed)
	}
	return raw, nil
}

// inResponseTo returns the request id the assertion's bearer confirmation
// answers ("" for an IdP-initiated assertion).
func inResponseTo(a *saml.Assertion) string {
	if a.Subject == nil {
		return ""
	}
	for _, c := range a.Subject.SubjectConfirmations {
		if c.SubjectConfirmationData != nil && c.SubjectConfirmationData.InResponseTo != "" {
			return c.SubjectConfirmationData.InResponseTo
		}
	}
	return ""
}

// classifyFailure turns a crewjam validation error into the audit reason
// and the message the user sees.
func classifyFailure(err error) *LoginError {
	le := &LoginError{Detail: privateDetail(err), Message: "The sign-in response from your identity provider was refused. Start again from the Accute login page or your company's portal."}
	var bad saml.ErrBadStatus
	switch {
	case errors.Is(err, errMalformed):
		le.Reason = "malformed response"
	case errors.Is(err, saml.ErrAssertionReplayed):
		le.Reason = "replayed assertion"
		le.Message = "This sign-in response was already used. Start again to sign in."
	case errors.As(err, &bad):
		le.Reason = "identity provider answered " + bad.Status
		le.Message = "Your identity provider did not sign you in. Try again, or ask your administrator."
	case errors.Is(err, saml.ErrExpired):
		le.Reason = "expired"
		le.Message = "The sign-in response has expired. Start again to sign in (if it keeps happening, the identity provider's clock may be wrong)."
	case errors.Is(err, saml.ErrNotYetValid):
		le.Reason = "not yet valid"
		le.Message = "The sign-in response is not valid yet; the identity provider's clock may be ahead. Try again in a minute."
	case errors.Is(err, saml.ErrUntrustedCertificate):
		le.Reason = "signed with a certificate that is not in the identity provider metadata"
	case errors.Is(err, saml.ErrInvalidSignature):
		le.Reason = "invalid signature"
	case errors.Is(err, saml.ErrAudienceMismatch):
		le.Reason = "wrong audience"
	case errors.Is(err, saml.ErrDestinationMismatch):
		le.Reason = "wrong destination or recipient"
	case errors.Is(err, saml.ErrIssuerMismatch):
		le.Reason = "issuer is not the configured identity provider"
	case errors.Is(err, errUnsolicited):
		le.Reason = "unsolicited response (IdP-initiated sign-in is off)"
		le.Message = "Sign-in must start from Accute for this organization. Use “Sign in with SSO” on the login page."
	case errors.Is(err, errUnknownRequest), errors.Is(err, saml.ErrRequestIDMismatch):
		le.Reason = "does not answer a sign-in started in this browser"
		le.Message = "This sign-in response does not belong to a sign-in started in this browser. Start again from the Accute login page."
	case errors.Is(err, saml.ErrDecryptionFailed):
		le.Reason = "the encrypted assertion could not be decrypted"
	case strings.Contains(le.Detail, "signature element not present"):
		le.Reason = "unsigned response and assertion"
	case errors.Is(err, saml.ErrMalformedMessage):
		le.Reason = "malformed response"
	case errors.Is(err, saml.ErrMissingElement):
		le.Reason = "incomplete response"
	case errors.Is(err, saml.ErrUnsupported):
		le.Reason = "unsupported response"
	default:
		le.Reason = "invalid response"
	}
	return le
}

// privateDetail is crewjam's diagnostic (its InvalidResponseError hides it
// behind a fixed message).
func privateDetail(err error) string {
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		return ire.PrivateErr.Error()
	}
	return err.Error()
}

// localPath reports whether p is a path on this site (not //host or /\host).
func localPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "/\\") && len(p) <= 2000 &&
		!strings.ContainsAny(p, "\r\n")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
