// Package sso is SAML 2.0 single sign-on: one identity provider per
// organization, configured by its administrators, with service provider
// endpoints per organization (/sso/saml/{slug}/metadata, /acs, /slo),
// SP-initiated and IdP-initiated login, just-in-time provisioning, verified
// e-mail domains and "SSO required" for them. SAML itself is
// github.com/crewjam/saml.
//
// Security decisions, in one place:
//   - A login is accepted only for an e-mail address on one of the
//     organization's verified domains. Otherwise an organization's
//     administrator could point their IdP at any address and sign in as
//     (or pre-create) someone else's account.
//   - SP-initiated logins are bound to the browser that started them: the
//     AuthnRequest id is stored with the hash of a short-lived cookie, and
//     a response must answer a request of that same browser, once.
//     IdP-initiated logins (no InResponseTo) are accepted only when the
//     organization allows them.
//   - Assertion ids are recorded until they expire (saml_assertions), so a
//     response cannot be replayed, on any instance.
//   - Signatures are required (on the response or the assertion) and
//     checked against the certificates of the IdP metadata; audience,
//     destination, recipient, issuer and validity times are checked by
//     crewjam/saml.
//   - The SP private key is sealed with the key ring (internal/crypto).
package sso

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	dsig "github.com/russellhaering/goxmldsig"

	"accute/internal/crypto"
	"accute/internal/store"
)

// Service implements SSO configuration, login and logout.
type Service struct {
	Store *store.Store
	// Keys seals the SP private keys.
	Keys *crypto.KeyRing
	// BaseURL is the public address (https://...) the SP endpoints live at.
	BaseURL string
	// BcryptCost hashes the random, never-revealed password of users
	// provisioned just in time.
	BcryptCost int
	// AllowPrivateMetadataHosts lets metadata URLs point at loopback and
	// private addresses (development and tests, where the IdP is local).
	AllowPrivateMetadataHosts bool
	// HTTPClient fetches metadata; nil builds one with the limits above.
	HTTPClient *http.Client
	// clock is the SAML clock; nil is the real one. Tests move it with
	// SetClock while requests are served, hence atomic.
	clock atomic.Pointer[dsig.Clock]
	// Logger records failures that are not the user's.
	Logger *slog.Logger
}

// New builds the service.
func New(st *store.Store, keys *crypto.KeyRing, baseURL string, bcryptCost int, allowPrivateMetadata bool, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{
		Store: st, Keys: keys, BaseURL: strings.TrimRight(baseURL, "/"), BcryptCost: bcryptCost,
		AllowPrivateMetadataHosts: allowPrivateMetadata, Logger: logger,
	}
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// HashBrowserToken is how the tracking cookie is stored.
func HashBrowserToken(token string) []byte {
	sum := sha256.Sum256([]byte("saml-tracking:" + token))
	return sum[:]
}

// DomainOf returns the lower-cased domain of an e-mail address, or "".
func DomainOf(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 || at == len(email)-1 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(email[at+1:]))
}

// SetClock sets the clock SAML messages are checked and dated with (nil:
// the real clock). Tests use it to make responses expire.
func (s *Service) SetClock(c *dsig.Clock) { s.clock.Store(c) }
