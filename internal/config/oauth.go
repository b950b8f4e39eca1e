package config

import (
	"net/url"
	"regexp"
)

// OAuth holds the OAuth/OIDC sign-in providers. Each provider is enabled
// when its client id is set; a partly configured provider is an error, so
// a typo does not silently hide a login button.
type OAuth struct {
	GoogleClientID     string // GOOGLE_CLIENT_ID
	GoogleClientSecret string // GOOGLE_CLIENT_SECRET

	MicrosoftClientID     string // MICROSOFT_CLIENT_ID
	MicrosoftClientSecret string // MICROSOFT_CLIENT_SECRET
	MicrosoftTenant       string // MICROSOFT_TENANT: a tenant id or domain, or common / organizations (default common)

	GitHubClientID     string // GITHUB_CLIENT_ID
	GitHubClientSecret string // GITHUB_CLIENT_SECRET

	OIDCIssuer       string // OIDC_ISSUER: the issuer URL; discovery is at /.well-known/openid-configuration below it
	OIDCClientID     string // OIDC_CLIENT_ID
	OIDCClientSecret string // OIDC_CLIENT_SECRET
	OIDCName         string // OIDC_NAME: the button label, such as "Okta" (default "OpenID Connect")
}

var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9.-]{1,100}$`)

// loadOAuth reads the providers' variables into c.OAuth.
func (c *Config) loadOAuth(get func(string) string, bad func(string, ...any)) {
	o := OAuth{
		GoogleClientID: get("GOOGLE_CLIENT_ID"), GoogleClientSecret: get("GOOGLE_CLIENT_SECRET"),
		MicrosoftClientID: get("MICROSOFT_CLIENT_ID"), MicrosoftClientSecret: get("MICROSOFT_CLIENT_SECRET"), MicrosoftTenant: get("MICROSOFT_TENANT"),
		GitHubClientID: get("GITHUB_CLIENT_ID"), GitHubClientSecret: get("GITHUB_CLIENT_SECRET"),
		OIDCIssuer: get("OIDC_ISSUER"), OIDCClientID: get("OIDC_CLIENT_ID"), OIDCClientSecret: get("OIDC_CLIENT_SECRET"), OIDCName: get("OIDC_NAME"),
	}
	pair := func(idKey, id, secretKey, secret string) {
		switch {
		case id != "" && secret == "":
			bad("%s: required when %s is set", secretKey, idKey)
		case id == "" && secret != "":
			bad("%s: required when %s is set", idKey, secretKey)
		}
	}
	pair("GOOGLE_CLIENT_ID", o.GoogleClientID, "GOOGLE_CLIENT_SECRET", o.GoogleClientSecret)
	pair("MICROSOFT_CLIENT_ID", o.MicrosoftClientID, "MICROSOFT_CLIENT_SECRET", o.MicrosoftClientSecret)
	pair("GITHUB_CLIENT_ID", o.GitHubClientID, "GITHUB_CLIENT_SECRET", o.GitHubClientSecret)
	pair("OIDC_CLIENT_ID", o.OIDCClientID, "OIDC_CLIENT_SECRET", o.OIDCClientSecret)

	if o.MicrosoftTenant == "" {
		o.MicrosoftTenant = "common"
	} else if !tenantPattern.MatchString(o.MicrosoftTenant) {
		bad("MICROSOFT_TENANT: must be a tenant id, a domain, common or organizations, got %q", o.MicrosoftTenant)
	}

	if o.OIDCClientID != "" && o.OIDCIssuer == "" {
		bad("OIDC_ISSUER: required when OIDC_CLIENT_ID is set")
	}
	if o.OIDCIssuer != "" {
		if o.OIDCClientID == "" {
			bad("OIDC_CLIENT_ID: required when OIDC_ISSUER is set")
		}
		u, err := url.Parse(o.OIDCIssuer)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "":
			bad("OIDC_ISSUER: must be the provider's issuer URL, such as https://example.okta.com, got %q", o.OIDCIssuer)
		case c.Production() && u.Scheme != "https":
			bad("OIDC_ISSUER: must use https in production, got %q", o.OIDCIssuer)
		}
	}
	if o.OIDCName == "" {
		o.OIDCName = "OpenID Connect"
	} else if len(o.OIDCName) > 40 {
		bad("OIDC_NAME: at most 40 characters")
	}
	c.OAuth = o
}
