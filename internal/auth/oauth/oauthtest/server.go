// Package oauthtest runs an OpenID Connect provider in process for tests.
// It speaks the real wire format: discovery, a JWKS document, an
// authorization endpoint that answers at once for a chosen user, a token
// endpoint that authenticates the client and checks the PKCE verifier (S256)
// and the redirect URI, ID tokens signed with RS256, and a userinfo
// endpoint.
package oauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// User is the person the provider signs in next.
type User struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// Extra claims for the ID token (such as Microsoft's tid or xms_edov).
	Extra map[string]any
}

// Server is the provider. Change its fields between requests only from the
// test goroutine, before the request that reads them.
type Server struct {
	*httptest.Server
	ClientID     string
	ClientSecret string
	Key          *rsa.PrivateKey
	KeyID        string

	mu sync.Mutex
	// User is who the authorization endpoint signs in.
	user User
	// DenyWith, when set, makes the authorization endpoint answer with
	// this OAuth error (such as access_denied) instead of a code.
	denyWith string
	// IssuerOverride replaces the iss claim of ID tokens (to test issuer
	// checks); empty means the server's URL.
	issuerOverride string
	// signWith, when set, signs ID tokens with another key (same kid).
	signWith *rsa.PrivateKey
	codes    map[string]grant
	access   map[string]User
	// PKCEFailures counts token requests refused for a wrong verifier.
	pkceFailures int
	// Authorizations records every authorization request's query.
	authorizations []url.Values
}

type grant struct {
	user        User
	redirectURI string
	challenge   string
	method      string
	nonce       string
	expires     time.Time
}

// New starts a provider; it stops when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		ClientID: "accute-test-client", ClientSecret: "accute-test-secret",
		Key: key, KeyID: "test-key-1",
		codes: map[string]grant{}, access: map[string]User{},
		user: User{Subject: "subject-1", Email: "person@example.test", EmailVerified: true, Name: "Test Person"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /userinfo", s.userinfo)
	// GitHub's OAuth 2.0 (not OpenID Connect): its paths, no openid scope,
	// the profile and e-mail addresses at /user and /user/emails.
	mux.HandleFunc("GET /login/oauth/authorize", s.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", s.token)
	mux.HandleFunc("GET /user", s.githubUser)
	mux.HandleFunc("GET /user/emails", s.githubEmails)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Issuer is the provider's issuer URL.
func (s *Server) Issuer() string { return s.URL }

// SetUser chooses who signs in next.
func (s *Server) SetUser(u User) { s.mu.Lock(); s.user = u; s.mu.Unlock() }

// Deny makes the next authorizations fail with an OAuth error code.
func (s *Server) Deny(code string) { s.mu.Lock(); s.denyWith = code; s.mu.Unlock() }

// OverrideIssuer makes ID tokens carry another iss.
func (s *Server) OverrideIssuer(iss string) { s.mu.Lock(); s.issuerOverride = iss; s.mu.Unlock() }

// SignWith makes ID tokens signed by another key under the same key id.
func (s *Server) SignWith(k *rsa.PrivateKey) { s.mu.Lock(); s.signWith = k; s.mu.Unlock() }

// PKCEFailures is how many token requests had a wrong or missing verifier.
func (s *Server) PKCEFailures() int { s.mu.Lock(); defer s.mu.Unlock(); return s.pkceFailures }

// LastAuthorization is the query of the latest authorization request.
func (s *Server) LastAuthorization() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.authorizations) == 0 {
		return nil
	}
	return s.authorizations[len(s.authorizations)-1]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.URL,
		"authorization_endpoint":                s.URL + "/authorize",
		"token_endpoint":                        s.URL + "/token",
		"userinfo_endpoint":                     s.URL + "/userinfo",
		"jwks_uri":                              s.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	pub := s.Key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "kid": s.KeyID, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize signs the configured user in at once and redirects back with a
// code, or with an error. Parameters are checked as a real provider does.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.authorizations = append(s.authorizations, q)
	user, deny := s.user, s.denyWith
	s.mu.Unlock()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != s.ClientID || redirect == "" {
		http.Error(w, "unknown client or missing redirect_uri", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(redirect)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	reply := url.Values{}
	if st := q.Get("state"); st != "" {
		reply.Set("state", st)
	}
	switch {
	case deny != "":
		reply.Set("error", deny)
		reply.Set("error_description", "The user declined to sign in.")
	case q.Get("response_type") != "code" || (r.URL.Path == "/authorize" && !strings.Contains(" "+q.Get("scope")+" ", " openid ")):
		reply.Set("error", "invalid_request")
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		reply.Set("error", "invalid_request")
		reply.Set("error_description", "PKCE with S256 is required")
	default:
		code := randomString()
		s.mu.Lock()
		s.codes[code] = grant{user: user, redirectURI: redirect, challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"),
			nonce: q.Get("nonce"), expires: time.Now().Add(time.Minute)}
		s.mu.Unlock()
		reply.Set("code", code)
	}
	back.RawQuery = reply.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// token exchanges a code: client authentication (basic or in the body),
// single-use code, same redirect URI, and the PKCE verifier.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.ClientSecret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	code := r.PostForm.Get("code")
	s.mu.Lock()
	g, found := s.codes[code]
	delete(s.codes, code) // single use, whatever happens next
	s.mu.Unlock()
	if !found || time.Now().After(g.expires) || r.PostForm.Get("redirect_uri") != g.redirectURI {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code, or another redirect_uri")
		return
	}
	verifier := r.PostForm.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	if verifier == "" || g.method != "S256" || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		s.mu.Lock()
		s.pkceFailures++
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	}
	access := randomString()
	s.mu.Lock()
	s.access[access] = g.user
	iss, signer := s.issuerOverride, s.signWith
	s.mu.Unlock()
	if iss == "" {
		iss = s.URL
	}
	if signer == nil {
		signer = s.Key
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": iss, "sub": g.user.Subject, "aud": s.ClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": g.user.Email, "email_verified": g.user.EmailVerified, "name": g.user.Name,
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	for k, v := range g.user.Extra {
		claims[k] = v
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = s.KeyID
	idToken, err := tok.SignedString(signer)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": idToken, "scope": "openid email profile",
	})
}

// bearer is the user an access token was issued to; false after it
// answered 401.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) (User, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		// GitHub also takes "token <access token>".
		token, ok = strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	}
	s.mu.Lock()
	u, found := s.access[token]
	s.mu.Unlock()
	if !ok || !found {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return User{}, false
	}
	return u, true
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	if u, ok := s.bearer(w, r); ok {
		writeJSON(w, http.StatusOK, map[string]any{"sub": u.Subject, "email": u.Email, "email_verified": u.EmailVerified, "name": u.Name})
	}
}

// githubUser is GitHub's profile: a numeric id (the user's Subject must
// be digits for GitHub flows), login, name, and no e-mail (private).
func (s *Server) githubUser(w http.ResponseWriter, r *http.Request) {
	if u, ok := s.bearer(w, r); ok {
		id, _ := strconv.ParseInt(u.Subject, 10, 64)
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "login": "person", "name": u.Name, "email": nil})
	}
}

// githubEmails lists the user's one address as primary.
func (s *Server) githubEmails(w http.ResponseWriter, r *http.Request) {
	if u, ok := s.bearer(w, r); ok {
		writeJSON(w, http.StatusOK, []map[string]any{{"email": u.Email, "primary": true, "verified": u.EmailVerified}})
	}
}
