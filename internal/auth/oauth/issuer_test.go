package oauth

import "testing"

func TestMicrosoftIssuerTemplateNeedsTheTokensTenant(t *testing.T) {
	tmpl := "https://login.microsoftonline.com/{tenantid}/v2.0"
	tid := "9188040d-6c67-4c5b-b112-36a304b66dad"
	ok := "https://login.microsoftonline.com/" + tid + "/v2.0"
	cases := []struct {
		iss    string
		claims map[string]any
		want   bool
	}{
		{ok, map[string]any{"tid": tid}, true},
		{ok, map[string]any{"tid": "another-tenant"}, false},
		{ok, map[string]any{}, false},
		{"https://evil.example/" + tid + "/v2.0", map[string]any{"tid": tid}, false},
		{"https://login.microsoftonline.com/x/v2.0", map[string]any{"tid": "x/../y"}, false},
	}
	for _, c := range cases {
		if got := microsoftIssuerOK(tmpl, c.iss, c.claims); got != c.want {
			t.Errorf("iss %q claims %v: %v, want %v", c.iss, c.claims, got, c.want)
		}
	}
	// A single-tenant app compares exactly.
	if !microsoftIssuerOK(ok, ok, nil) || microsoftIssuerOK(ok, tmpl, nil) {
		t.Error("single tenant comparison")
	}
}

func TestClaimTrue(t *testing.T) {
	for v, want := range map[any]bool{true: true, "true": true, "True": true, "1": true, float64(1): true, false: false, "false": false, "yes": false, nil: false} {
		if claimTrue(v) != want {
			t.Errorf("claimTrue(%#v) = %v", v, !want)
		}
	}
}

func TestJWKRejectsWeakAndOffCurveKeys(t *testing.T) {
	small := jwk{Kty: "RSA", N: "AQAB", E: "AQAB"}
	if _, err := small.publicKey(); err == nil {
		t.Error("accepted a tiny RSA modulus")
	}
	offCurve := jwk{Kty: "EC", Crv: "P-256", X: "AQ", Y: "AQ"}
	if _, err := offCurve.publicKey(); err == nil {
		t.Error("accepted a point off the curve")
	}
	if _, err := (jwk{Kty: "oct"}).publicKey(); err == nil {
		t.Error("accepted a symmetric key")
	}
}
