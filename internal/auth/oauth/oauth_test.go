package oauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"accute/internal/auth/oauth"
	"accute/internal/auth/oauth/oauthtest"
	"accute/internal/config"
	"accute/internal/testutil"
)

// visit follows the authorization URL as a browser would, up to the
// provider's redirect back, and returns the callback's query.
func visit(t *testing.T, authURL string) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

func service(t *testing.T, specs ...oauth.Spec) *oauth.Service {
	st, _ := testutil.NewStore(t)
	return oauth.New(st, "http://accute.test", testutil.BcryptCost, specs...)
}

func signIn(t *testing.T, svc *oauth.Service, key string) (oauth.Identity, error) {
	t.Helper()
	authURL, flow, err := svc.Begin(context.Background(), key, oauth.ModeLogin, uuid.Nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return svc.Complete(context.Background(), key, flow, visit(t, authURL))
}

func TestBeginSendsStatePKCEAndNonce(t *testing.T) {
	idp := oauthtest.New(t)
	svc := service(t, oauth.OIDCSpec(idp.Issuer(), idp.ClientID, idp.ClientSecret, "Okta"))
	authURL, flow, err := svc.Begin(context.Background(), oauth.OIDC, oauth.ModeLogin, uuid.Nil, "/o/x")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if !strings.HasPrefix(authURL, idp.URL+"/authorize?") || q.Get("state") != flow.State || q.Get("nonce") != flow.Nonce ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != oauth2.S256ChallengeFromVerifier(flow.Verifier) ||
		q.Get("redirect_uri") != "http://accute.test/auth/oauth/oidc/callback" || !strings.Contains(q.Get("scope"), "email") {
		t.Fatalf("authorization URL %s (flow %+v)", authURL, flow)
	}
	if len(flow.Verifier) < 43 || flow.Next != "/o/x" {
		t.Fatalf("flow %+v", flow)
	}
	// The flow survives the session round trip.
	back, err := oauth.DecodeFlow(flow.Encode())
	if err != nil || back != flow {
		t.Fatalf("decode: %+v %v", back, err)
	}
	if _, err := oauth.DecodeFlow("{not json"); !errors.Is(err, oauth.ErrNoFlow) {
		t.Fatalf("damaged flow: %v", err)
	}
}

func TestCompleteVerifiesTheIDToken(t *testing.T) {
	idp := oauthtest.New(t)
	svc := service(t, oauth.OIDCSpec(idp.Issuer(), idp.ClientID, idp.ClientSecret, ""))
	idp.SetUser(oauthtest.User{Subject: "abc", Email: "Ann@Example.TEST", EmailVerified: true, Name: "Ann"})
	id, err := signIn(t, svc, oauth.OIDC)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "abc" || id.Email != "ann@example.test" || !id.EmailVerified || id.Issuer != idp.Issuer() || id.Provider != oauth.OIDC {
		t.Fatalf("identity %+v", id)
	}

	// A token signed by another key is refused.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	idp.SignWith(other)
	var r *oauth.Refusal
	if _, err := signIn(t, svc, oauth.OIDC); !errors.As(err, &r) || r.Status != 401 || !strings.Contains(r.Reason, "signature") {
		t.Fatalf("forged signature: %v", err)
	}
	idp.SignWith(nil)

	// So is a token from another issuer.
	idp.OverrideIssuer("https://evil.example")
	if _, err := signIn(t, svc, oauth.OIDC); !errors.As(err, &r) || !strings.Contains(r.Reason, "issuer") {
		t.Fatalf("wrong issuer: %v", err)
	}
	idp.OverrideIssuer("")

	// A code used with the verifier of another flow fails the exchange.
	authURL, flow, _ := svc.Begin(context.Background(), oauth.OIDC, oauth.ModeLogin, uuid.Nil, "")
	answer := visit(t, authURL)
	_, flow2, _ := svc.Begin(context.Background(), oauth.OIDC, oauth.ModeLogin, uuid.Nil, "")
	flow2.State = flow.State
	before := idp.PKCEFailures()
	if _, err := svc.Complete(context.Background(), oauth.OIDC, flow2, answer); !errors.As(err, &r) || r.Status != 401 {
		t.Fatalf("wrong verifier: %v", err)
	}
	if idp.PKCEFailures() != before+1 {
		t.Fatal("the provider did not see a PKCE failure")
	}
}

func TestGoogleAndMicrosoftRules(t *testing.T) {
	idp := oauthtest.New(t)
	g := oauth.GoogleSpec(idp.ClientID, idp.ClientSecret)
	g.Issuer = idp.Issuer()
	m := oauth.MicrosoftSpec(idp.ClientID, idp.ClientSecret, "organizations")
	m.Issuer = idp.Issuer()
	svc := service(t, g, m)
	if got := svc.Providers(); len(got) != 2 || got[0].Label != "Google" || got[1].Label != "Microsoft" {
		t.Fatalf("providers %+v", got)
	}

	idp.SetUser(oauthtest.User{Subject: "g1", Email: "g@example.test", EmailVerified: true})
	if id, err := signIn(t, svc, oauth.Google); err != nil || !id.EmailVerified {
		t.Fatalf("google verified: %+v %v", id, err)
	}
	idp.SetUser(oauthtest.User{Subject: "g2", Email: "g@example.test", EmailVerified: false})
	if id, err := signIn(t, svc, oauth.Google); err != nil || id.EmailVerified {
		t.Fatalf("google unverified: %+v %v", id, err)
	}

	// Entra: the e-mail claim alone proves nothing; xms_edov does.
	idp.SetUser(oauthtest.User{Subject: "m1", Email: "m@contoso.example", Extra: map[string]any{"email_verified": nil}})
	if id, err := signIn(t, svc, oauth.Microsoft); err != nil || id.EmailVerified {
		t.Fatalf("microsoft without xms_edov: %+v %v", id, err)
	}
	idp.SetUser(oauthtest.User{Subject: "m1", Email: "m@contoso.example", Extra: map[string]any{"email_verified": nil, "xms_edov": true}})
	if id, err := signIn(t, svc, oauth.Microsoft); err != nil || !id.EmailVerified {
		t.Fatalf("microsoft with xms_edov: %+v %v", id, err)
	}
}

func TestSpecsFromConfig(t *testing.T) {
	specs := oauth.SpecsFromConfig(config.OAuth{GitHubClientID: "gh", GitHubClientSecret: "s", MicrosoftClientID: "m", MicrosoftClientSecret: "s", MicrosoftTenant: "contoso.example"})
	if len(specs) != 2 || specs[0].Key != oauth.Microsoft || specs[1].Key != oauth.GitHub {
		t.Fatalf("specs %+v", specs)
	}
	if specs[0].Issuer != "https://login.microsoftonline.com/contoso.example/v2.0" || specs[1].EmailsURL != "https://api.github.com/user/emails" {
		t.Fatalf("endpoints %+v", specs)
	}
}

type ssoRequired map[string]string // domain -> organization

func (s ssoRequired) Required(_ context.Context, email string) (string, bool) {
	_, domain, _ := strings.Cut(email, "@")
	org, ok := s[domain]
	return org, ok
}

// People whose domain requires SAML single sign-on cannot get around it
// with an OAuth account; nothing is created or linked.
func TestSignInRespectsSSORequiredDomains(t *testing.T) {
	svc := service(t, oauth.OIDCSpec("https://idp.invalid", "id", "secret", ""))
	svc.SSO = ssoRequired{"bigfirm.example": "Big Firm LLP"}
	_, err := svc.SignIn(context.Background(), oauth.Identity{Provider: oauth.OIDC, Issuer: "https://idp.invalid", Subject: "s1", Email: "pat@bigfirm.example", EmailVerified: true, Name: "Pat"})
	var r *oauth.Refusal
	if !errors.As(err, &r) || r.Status != 403 || !strings.Contains(r.Message, "Big Firm LLP requires") {
		t.Fatalf("sso-required domain: %v", err)
	}
	if _, err := svc.Store.Q().GetUserByEmail(context.Background(), "pat@bigfirm.example"); err == nil {
		t.Fatal("account created despite the refusal")
	}
	res, err := svc.SignIn(context.Background(), oauth.Identity{Provider: oauth.OIDC, Issuer: "https://idp.invalid", Subject: "s2", Email: "pat@smallfirm.example", EmailVerified: true})
	if err != nil || !res.Created || res.User.Name != "pat" {
		t.Fatalf("other domain: %+v %v", res, err)
	}
}

func TestGitHubUsesPKCE(t *testing.T) {
	idp := oauthtest.New(t)
	idp.SetUser(oauthtest.User{Subject: "4242", Email: "Dev@Example.test", EmailVerified: true, Name: "Dev"})
	spec := oauth.GitHubSpec(idp.ClientID, idp.ClientSecret)
	spec.AuthURL, spec.TokenURL = idp.URL+"/login/oauth/authorize", idp.URL+"/login/oauth/access_token"
	spec.ProfileURL, spec.EmailsURL = idp.URL+"/user", idp.URL+"/user/emails"
	svc := service(t, spec)

	authURL, flow, err := svc.Begin(context.Background(), oauth.GitHub, oauth.ModeLogin, uuid.Nil, "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != oauth2.S256ChallengeFromVerifier(flow.Verifier) || q.Has("nonce") {
		t.Fatalf("authorization URL %s", authURL)
	}
	id, err := svc.Complete(context.Background(), oauth.GitHub, flow, visit(t, authURL))
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "4242" || id.Email != "dev@example.test" || !id.EmailVerified || id.Name != "Dev" {
		t.Fatalf("identity %+v", id)
	}

	// The code exchanged with another flow's verifier is refused.
	authURL, flow, _ = svc.Begin(context.Background(), oauth.GitHub, oauth.ModeLogin, uuid.Nil, "")
	answer := visit(t, authURL)
	_, other, _ := svc.Begin(context.Background(), oauth.GitHub, oauth.ModeLogin, uuid.Nil, "")
	other.State = flow.State
	before := idp.PKCEFailures()
	var r *oauth.Refusal
	if _, err := svc.Complete(context.Background(), oauth.GitHub, other, answer); !errors.As(err, &r) || r.Status != 401 {
		t.Fatalf("wrong verifier: %v", err)
	}
	if idp.PKCEFailures() != before+1 {
		t.Fatal("the provider did not see a PKCE failure")
	}
}
