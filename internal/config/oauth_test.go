package config

import (
	"strings"
	"testing"
)

func TestOAuthProvidersAreOptionalAndValidatedTogether(t *testing.T) {
	base := map[string]string{"ACCUTE_DATA_DIR": t.TempDir()}
	cfg, err := FromEnv(lookup(base))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OAuth.GoogleClientID != "" || cfg.OAuth.OIDCIssuer != "" || cfg.OAuth.MicrosoftTenant != "common" || cfg.OAuth.OIDCName != "OpenID Connect" {
		t.Fatalf("defaults: %+v", cfg.OAuth)
	}

	bad := map[string]string{
		"ACCUTE_DATA_DIR":         t.TempDir(),
		"GOOGLE_CLIENT_ID":        "g-id",
		"MICROSOFT_CLIENT_SECRET": "m-secret",
		"MICROSOFT_TENANT":        "not a tenant/",
		"OIDC_ISSUER":             "ftp://idp.example",
	}
	_, err = FromEnv(lookup(bad))
	if err == nil {
		t.Fatal("accepted half-configured providers")
	}
	for _, want := range []string{"GOOGLE_CLIENT_SECRET", "MICROSOFT_CLIENT_ID", "MICROSOFT_TENANT", "OIDC_CLIENT_ID", "OIDC_ISSUER: must be"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}

	good := map[string]string{
		"ACCUTE_DATA_DIR":    t.TempDir(),
		"OIDC_ISSUER":        "https://idp.example/realms/firm",
		"OIDC_CLIENT_ID":     "accute",
		"OIDC_CLIENT_SECRET": "s3cret",
		"OIDC_NAME":          "Keycloak",
		"MICROSOFT_TENANT":   "contoso.onmicrosoft.com",
	}
	cfg, err = FromEnv(lookup(good))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OAuth.OIDCName != "Keycloak" || cfg.OAuth.MicrosoftTenant != "contoso.onmicrosoft.com" {
		t.Fatalf("parsed %+v", cfg.OAuth)
	}
}
