package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Cache lifetimes of provider metadata.
const (
	discoveryTTL   = 24 * time.Hour
	jwksTTL        = 6 * time.Hour
	jwksMinRefresh = 30 * time.Second // an unknown kid refetches at most this often
	maxBody        = 1 << 20
)

// discovery is the part of an OpenID Provider Configuration we use.
type discovery struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
}

// oidcMeta caches one provider's discovery document and signing keys.
type oidcMeta struct {
	mu      sync.Mutex
	disc    *discovery
	discAt  time.Time
	keys    map[string]crypto.PublicKey
	keysAt  time.Time
	keysTry time.Time
}

func getJSON(ctx context.Context, client *http.Client, url, bearer string, dest any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, res.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxBody)).Decode(dest); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// discover returns the provider's configuration, fetching it when missing
// or stale. A stale copy is kept when the provider cannot be reached.
func (m *oidcMeta) discover(ctx context.Context, client *http.Client, spec Spec) (*discovery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.disc != nil && time.Since(m.discAt) < discoveryTTL {
		return m.disc, nil
	}
	var d discovery
	err := getJSON(ctx, client, strings.TrimRight(spec.Issuer, "/")+"/.well-known/openid-configuration", "", &d)
	if err == nil {
		err = d.check(spec)
	}
	if err != nil {
		if m.disc != nil {
			return m.disc, nil
		}
		return nil, fmt.Errorf("%s discovery: %w", spec.Label, err)
	}
	m.disc, m.discAt = &d, time.Now()
	return m.disc, nil
}

func (d *discovery) check(spec Spec) error {
	if d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" || d.JWKSURI == "" || d.Issuer == "" {
		return errors.New("configuration lacks an endpoint, jwks_uri or issuer")
	}
	// OpenID Connect Discovery 1.0 section 4.3: the issuer must be the one
	// configured. Microsoft's multi-tenant documents name a template.
	if strings.TrimRight(d.Issuer, "/") != strings.TrimRight(spec.Issuer, "/") && !strings.Contains(d.Issuer, "{tenantid}") {
		return fmt.Errorf("issuer %q does not match the configured %q", d.Issuer, spec.Issuer)
	}
	return nil
}

// key returns the signing key with kid, refetching the JWKS when the kid
// is unknown (providers rotate keys) but not more often than
// jwksMinRefresh.
func (m *oidcMeta) key(ctx context.Context, client *http.Client, jwksURI, kid string) (crypto.PublicKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.lookup(kid); ok && time.Since(m.keysAt) < jwksTTL {
		return k, nil
	}
	if time.Since(m.keysTry) >= jwksMinRefresh || m.keys == nil {
		m.keysTry = time.Now()
		var set jwkSet
		if err := getJSON(ctx, client, jwksURI, "", &set); err == nil {
			m.keys, m.keysAt = set.publicKeys(), time.Now()
		} else if m.keys == nil {
			return nil, fmt.Errorf("fetch signing keys: %w", err)
		}
	}
	if k, ok := m.lookup(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("no signing key %q", kid)
}

func (m *oidcMeta) lookup(kid string) (crypto.PublicKey, bool) {
	if kid == "" && len(m.keys) == 1 {
		for _, k := range m.keys {
			return k, true
		}
	}
	k, ok := m.keys[kid]
	return k, ok
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// publicKeys keeps the RSA and EC signing keys; others are skipped.
func (s jwkSet) publicKeys() map[string]crypto.PublicKey {
	out := map[string]crypto.PublicKey{}
	for _, k := range s.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if pk, err := k.publicKey(); err == nil {
			out[k.Kid] = pk
		}
	}
	return out
}

func b64int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) == 0 {
		return nil, errors.New("bad key number")
	}
	return new(big.Int).SetBytes(b), nil
}

func (k jwk) publicKey() (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA":
		n, err := b64int(k.N)
		if err != nil {
			return nil, err
		}
		e, err := b64int(k.E)
		if err != nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || n.BitLen() < 2048 {
			return nil, errors.New("unacceptable RSA key")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, errors.New("unsupported curve")
		}
		x, err := b64int(k.X)
		if err != nil {
			return nil, err
		}
		y, err := b64int(k.Y)
		if err != nil {
			return nil, err
		}
		// Reject points that are not on the curve (invalid-curve attacks).
		byteLen := (curve.Params().BitSize + 7) / 8
		raw := make([]byte, 1+2*byteLen)
		raw[0] = 4
		if len(x.Bytes()) > byteLen || len(y.Bytes()) > byteLen {
			return nil, errors.New("bad EC point")
		}
		x.FillBytes(raw[1 : 1+byteLen])
		y.FillBytes(raw[1+byteLen:])
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, raw)
		if err != nil {
			return nil, err
		}
		return pub, nil
	}
	return nil, errors.New("unsupported key type")
}

// signingMethods are the algorithms accepted for ID tokens; "none" and
// the HMAC family (which would use the client secret) never are.
var signingMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

// verifyIDToken checks the ID token's signature against the provider's
// keys, its issuer, audience, expiry and nonce (OpenID Connect Core 1.0
// section 3.1.3.7), and returns its claims.
func (m *oidcMeta) verifyIDToken(ctx context.Context, client *http.Client, spec Spec, d *discovery, raw, nonce string) (map[string]any, error) {
	if raw == "" {
		return nil, errors.New("the token response has no id_token")
	}
	parser := jwt.NewParser(jwt.WithValidMethods(signingMethods), jwt.WithAudience(spec.ClientID),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(time.Minute))
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return m.key(ctx, client, d.JWKSURI, kid)
	})
	if err != nil {
		return nil, fmt.Errorf("id_token: %w", err)
	}
	iss, _ := claims["iss"].(string)
	if !spec.issuerOK(d.Issuer, iss, claims) {
		return nil, fmt.Errorf("id_token: issuer %q not accepted", iss)
	}
	// Several audiences: the authorized party must be us.
	if auds, ok := claims["aud"].([]any); ok && len(auds) > 1 {
		if azp, _ := claims["azp"].(string); azp != spec.ClientID {
			return nil, errors.New("id_token: azp is not this client")
		}
	}
	got, _ := claims["nonce"].(string)
	if subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 || nonce == "" {
		return nil, errors.New("id_token: nonce mismatch")
	}
	if sub, _ := claims["sub"].(string); sub == "" || len(sub) > 255 {
		return nil, errors.New("id_token: no usable sub")
	}
	return claims, nil
}

// userinfo merges the userinfo endpoint's claims into claims when the ID
// token lacks the e-mail address. The ID token's own claims win; the
// subjects must agree (Core 1.0 section 5.3.2).
func userinfo(ctx context.Context, client *http.Client, d *discovery, accessToken string, claims map[string]any) error {
	if d.UserinfoEndpoint == "" || accessToken == "" {
		return nil
	}
	if e, _ := claims["email"].(string); e != "" {
		return nil
	}
	info := map[string]any{}
	if err := getJSON(ctx, client, d.UserinfoEndpoint, accessToken, &info); err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	if info["sub"] != claims["sub"] {
		return errors.New("userinfo: subject differs from the id_token's")
	}
	for k, v := range info {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}
