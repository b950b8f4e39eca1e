package sso

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/crewjam/saml"
	"github.com/google/uuid"
	dsig "github.com/russellhaering/goxmldsig"

	"accute/internal/db"
)

// Endpoints are an organization's service provider addresses.
type Endpoints struct {
	EntityID string // also the metadata URL
	ACS      string
	SLO      string
	Login    string
}

// EndpointsFor returns the SP addresses of the organization with slug.
func (s *Service) EndpointsFor(slug string) Endpoints {
	base := s.BaseURL + "/sso/saml/" + url.PathEscape(slug)
	return Endpoints{EntityID: base + "/metadata", ACS: base + "/acs", SLO: base + "/slo", Login: base + "/login"}
}

// provider is one organization's configured service provider.
type provider struct {
	sp     *saml.ServiceProvider
	orgID  uuid.UUID
	conn   db.SamlConnection
	idp    IdPInfo
	hasIdP bool
}

// newProvider builds the crewjam service provider for a connection: our
// key pair (opened with the key ring), our endpoints, and, when the
// connection has IdP metadata, the IdP. cache, when given, is the replay
// cache of the caller's transaction.
func (s *Service) newProvider(slug string, conn db.SamlConnection, cache saml.AssertionReplayCache) (*provider, error) {
	cert, key, err := openKeyPair(s.Keys, conn.OrganizationID, conn.ID, conn.SpCertificate, conn.SpPrivateKey)
	if err != nil {
		return nil, err
	}
	ep := s.EndpointsFor(slug)
	metadataURL, _ := url.Parse(ep.EntityID)
	acsURL, _ := url.Parse(ep.ACS)
	sloURL, _ := url.Parse(ep.SLO)
	sp := &saml.ServiceProvider{
		EntityID:    ep.EntityID,
		Key:         key,
		Certificate: cert,
		MetadataURL: *metadataURL,
		AcsURL:      *acsURL,
		SloURL:      *sloURL,
		// Logout messages are always signed (the single logout profile
		// requires it); AuthnRequests only when the IdP asks for it
		// (WantAuthnRequestsSigned, below), as most IdPs do not.
		LogoutSignatureMethod: dsig.RSASHA256SignatureMethod,
		// Let the IdP choose the NameID; the e-mail can come from an
		// attribute (see Mapping).
		AuthnNameIDFormat: saml.UnspecifiedNameIDFormat,
		// POST only: the artifact binding would make the server call out
		// to an address taken from metadata while handling a request.
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		LogoutBindings:                   []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		AllowIDPInitiated:                conn.AllowIdpInitiated,
		ReplayCache:                      cache,
		// SHA-1 signatures are refused: every current IdP signs with SHA-256.
		RejectSHA1Signatures:  true,
		MetadataValidDuration: 7 * 24 * time.Hour,
		Clock:                 s.clock.Load(),
	}
	sp.ValidateRequestID = func(r saml.Response, ids []string) error {
		return checkRequestID(r.InResponseTo, ids, conn.AllowIdpInitiated)
	}
	p := &provider{sp: sp, orgID: conn.OrganizationID, conn: conn}
	if conn.MetadataXml != "" {
		ed, info, err := ParseIdPMetadata([]byte(conn.MetadataXml))
		if err != nil {
			return nil, fmt.Errorf("stored IdP metadata: %w", err)
		}
		sp.IDPMetadata = ed
		for _, d := range ed.IDPSSODescriptors {
			if d.WantAuthnRequestsSigned != nil && *d.WantAuthnRequestsSigned {
				sp.SignatureMethod = dsig.RSASHA256SignatureMethod
			}
		}
		p.idp, p.hasIdP = info, true
	}
	return p, nil
}

// replayCache records assertion ids in saml_assertions, in the transaction
// of the login, so a replayed response is refused by every instance.
type replayCache struct {
	ctx   context.Context
	q     *db.Queries
	orgID uuid.UUID
}

// Consume implements saml.AssertionReplayCache.
func (c replayCache) Consume(id string, expiresAt time.Time) error {
	if len(id) > 512 {
		// xs:ID has no length limit; keep the key bounded.
		id = "sha256:" + hashHex(id)
	}
	n, err := c.q.ConsumeSAMLAssertion(c.ctx, db.ConsumeSAMLAssertionParams{OrganizationID: c.orgID, ID: id, ExpiresAt: expiresAt})
	if err != nil {
		return err
	}
	if n == 0 {
		return saml.ErrAssertionReplayed
	}
	return nil
}

// Why a response does not answer a request of this browser.
var (
	errUnsolicited    = errors.New("unsolicited response: IdP-initiated sign-in is off")
	errUnknownRequest = errors.New("InResponseTo names no sign-in started in this browser")
)

// checkRequestID is crewjam's default request id check with errors that
// tell an unsolicited response from one answering another browser's (or an
// already used) request.
func checkRequestID(inResponseTo string, ids []string, allowIdPInitiated bool) error {
	if inResponseTo == "" {
		if allowIdPInitiated {
			return nil
		}
		return errUnsolicited
	}
	for _, id := range ids {
		if id != "" && id == inResponseTo {
			return nil
		}
	}
	return errUnknownRequest
}
