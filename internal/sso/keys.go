package sso

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"

	"accute/internal/crypto"
)

// spKeyBits is the size of the service provider's RSA key. RSA, because
// XML encryption (the IdP encrypting assertions to us) needs an RSA key.
const spKeyBits = 2048

// spCertLifetime is how long the self-signed SP certificate is valid.
// IdPs treat it as a container for the public key (metadata interop
// profile); a long life avoids a silent expiry breaking sign-in.
const spCertLifetime = 10 * 365 * 24 * time.Hour

// EncryptedColumns are the columns this package seals with the key ring,
// for `accute keys rotate`.
var EncryptedColumns = []crypto.Column{{
	Table: "saml_connections", Column: "sp_private_key",
	Key: []string{"organization_id", "id"},
	AD:  func(key []string) []byte { return SPKeyAD(key[0], key[1]) },
}}

// SPKeyAD is the associated data an organization's SP private key is sealed
// with: a sealed key copied to another row does not open.
func SPKeyAD(orgID, connectionID string) []byte {
	return []byte("saml_connections.sp_private_key:" + orgID + ":" + connectionID)
}

// keyPair is a new SP key pair: the certificate as PEM, the PKCS#8 private
// key sealed by the key ring.
type keyPair struct {
	CertPEM   string
	SealedKey []byte
}

// newKeyPair generates the SP key pair of an organization's connection.
func newKeyPair(ring *crypto.KeyRing, orgID, connectionID uuid.UUID, orgSlug string, now time.Time) (keyPair, error) {
	if ring == nil {
		return keyPair{}, errors.New("sso: no key ring configured")
	}
	key, err := rsa.GenerateKey(rand.Reader, spKeyBits)
	if err != nil {
		return keyPair{}, fmt.Errorf("generate SP key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return keyPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Accute SAML SP " + orgSlug, Organization: []string{"Accute"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(spCertLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return keyPair{}, fmt.Errorf("create SP certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return keyPair{}, err
	}
	sealed, err := ring.Seal(pkcs8, SPKeyAD(orgID.String(), connectionID.String()))
	if err != nil {
		return keyPair{}, fmt.Errorf("seal SP key: %w", err)
	}
	return keyPair{
		CertPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		SealedKey: sealed,
	}, nil
}

// openKeyPair parses the certificate and opens the private key.
func openKeyPair(ring *crypto.KeyRing, orgID, connectionID uuid.UUID, certPEM string, sealed []byte) (*x509.Certificate, *rsa.PrivateKey, error) {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, nil, err
	}
	if ring == nil {
		return nil, nil, errors.New("sso: no key ring configured")
	}
	pkcs8, err := ring.Open(sealed, SPKeyAD(orgID.String(), connectionID.String()))
	if err != nil {
		return nil, nil, fmt.Errorf("open SP key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, nil, fmt.Errorf("parse SP key: %w", err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("SP key is not an RSA key")
	}
	return cert, key, nil
}

func parseCertPEM(certPEM string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("SP certificate is not PEM")
	}
	return x509.ParseCertificate(block.Bytes)
}

// Fingerprint is the SHA-256 fingerprint of a PEM certificate, as IdP
// consoles show it (colon-separated hex).
func Fingerprint(certPEM string) string {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(cert.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
