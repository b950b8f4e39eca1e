// Package oauth signs people in with Google, Microsoft (Entra ID), GitHub
// and a generic OpenID Connect provider, through goth.
//
// goth builds the authorization URL and exchanges the code; this package
// adds what goth leaves out: PKCE (S256) and a nonce on every OpenID
// Connect provider, verification of the ID token's signature against the
// provider's JWKS (goth only decodes it), issuer, audience, expiry and
// nonce checks, and the rules for linking an identity to an account. It
// keeps no state of its own between the two legs of a sign-in: the caller
// stores the Flow (in the scs session) and hands it back.
package oauth

import (
	"strings"

	"github.com/markbates/goth/providers/github"

	"accute/internal/config"
)

// Provider keys, as they appear in URLs (/auth/oauth/{key}).
const (
	Google    = "google"
	Microsoft = "microsoft"
	GitHub    = "github"
	OIDC      = "oidc"
)

type kind int

const (
	kindOIDC kind = iota + 1
	kindGitHub
)

// Spec describes one provider. Build it with GoogleSpec, MicrosoftSpec,
// GitHubSpec or OIDCSpec; tests may point its URLs at a local server.
type Spec struct {
	Key          string
	Label        string
	ClientID     string
	ClientSecret string
	Scopes       []string

	// OpenID Connect providers: discovery is at Issuer +
	// "/.well-known/openid-configuration".
	Issuer string

	// GitHub's endpoints.
	AuthURL, TokenURL, ProfileURL, EmailsURL string

	kind kind
	// issuerOK decides whether an ID token's iss is acceptable, given the
	// issuer the discovery document announced.
	issuerOK func(discovered, iss string, claims map[string]any) bool
	// emailVerified decides whether the provider vouches for the e-mail
	// claim.
	emailVerified func(claims map[string]any) bool
}

var oidcScopes = []string{"openid", "email", "profile"}

func sameIssuer(discovered, iss string, _ map[string]any) bool { return iss != "" && iss == discovered }

func emailVerifiedClaim(claims map[string]any) bool { return claimTrue(claims["email_verified"]) }

// claimTrue reads a boolean claim; some providers send "true" as a string.
func claimTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true") || x == "1"
	case float64:
		return x == 1
	}
	return false
}

// GoogleSpec is Google's OpenID Connect provider.
func GoogleSpec(clientID, secret string) Spec {
	return Spec{
		Key: Google, Label: "Google", ClientID: clientID, ClientSecret: secret, Scopes: oidcScopes,
		Issuer: "https://accounts.google.com", kind: kindOIDC,
		// Google documents both forms of its issuer.
		issuerOK: func(discovered, iss string, c map[string]any) bool {
			return sameIssuer(discovered, iss, c) || (discovered == "https://accounts.google.com" && iss == "accounts.google.com")
		},
		emailVerified: emailVerifiedClaim,
	}
}

// MicrosoftSpec is the Microsoft identity platform (Entra ID, v2
// endpoints) for tenant: a tenant id or domain for one organization, or
// common / organizations / consumers for many.
//
// Entra does not verify the e-mail claim by default (the "nOAuth" problem:
// a tenant admin can set any address on an account). An address counts as
// verified only with email_verified = true, or with the optional claim
// xms_edov ("e-mail domain owner verified") that the app registration must
// request (Token configuration -> Add optional claim -> ID -> xms_edov).
func MicrosoftSpec(clientID, secret, tenant string) Spec {
	if tenant == "" {
		tenant = "common"
	}
	return Spec{
		Key: Microsoft, Label: "Microsoft", ClientID: clientID, ClientSecret: secret, Scopes: oidcScopes,
		Issuer: "https://login.microsoftonline.com/" + tenant + "/v2.0", kind: kindOIDC,
		issuerOK:      microsoftIssuerOK,
		emailVerified: func(c map[string]any) bool { return claimTrue(c["email_verified"]) || claimTrue(c["xms_edov"]) },
	}
}

// microsoftIssuerOK accepts the token's issuer when it is the discovered
// one; for multi-tenant apps the discovery document names the issuer with
// a {tenantid} placeholder, which must be the token's own tid.
func microsoftIssuerOK(discovered, iss string, claims map[string]any) bool {
	if !strings.Contains(discovered, "{tenantid}") {
		return sameIssuer(discovered, iss, claims)
	}
	tid, _ := claims["tid"].(string)
	if tid == "" || strings.ContainsAny(tid, "/?#") {
		return false
	}
	return iss == strings.ReplaceAll(discovered, "{tenantid}", tid)
}

// GitHubSpec is GitHub's OAuth app sign-in. GitHub is not an OpenID
// Connect provider: the account's primary verified address comes from
// /user/emails.
func GitHubSpec(clientID, secret string) Spec {
	return Spec{
		Key: GitHub, Label: "GitHub", ClientID: clientID, ClientSecret: secret, Scopes: []string{"read:user", "user:email"},
		Issuer: "https://github.com", AuthURL: github.AuthURL, TokenURL: github.TokenURL, ProfileURL: github.ProfileURL, EmailsURL: github.EmailURL,
		kind: kindGitHub,
	}
}

// OIDCSpec is any OpenID Connect provider found by discovery (Okta,
// Keycloak, Auth0, Authentik, ...). label is the button's text.
func OIDCSpec(issuer, clientID, secret, label string) Spec {
	if label == "" {
		label = "OpenID Connect"
	}
	return Spec{
		Key: OIDC, Label: label, ClientID: clientID, ClientSecret: secret, Scopes: oidcScopes,
		Issuer: strings.TrimRight(issuer, "/"), kind: kindOIDC,
		issuerOK: sameIssuer, emailVerified: emailVerifiedClaim,
	}
}

// SpecsFromConfig lists the providers the configuration enables, in the
// order the login page shows them.
func SpecsFromConfig(c config.OAuth) []Spec {
	var out []Spec
	if c.GoogleClientID != "" {
		out = append(out, GoogleSpec(c.GoogleClientID, c.GoogleClientSecret))
	}
	if c.MicrosoftClientID != "" {
		out = append(out, MicrosoftSpec(c.MicrosoftClientID, c.MicrosoftClientSecret, c.MicrosoftTenant))
	}
	if c.GitHubClientID != "" {
		out = append(out, GitHubSpec(c.GitHubClientID, c.GitHubClientSecret))
	}
	if c.OIDCClientID != "" && c.OIDCIssuer != "" {
		out = append(out, OIDCSpec(c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret, c.OIDCName))
	}
	return out
}
