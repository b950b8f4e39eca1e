package sso

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/google/uuid"
	dsig "github.com/russellhaering/goxmldsig"

	"accute/internal/crypto"
	"accute/internal/db"
	"accute/internal/tenant"
)

// fuzzProvider is an SP with a real key pair and IdP metadata, plus a
// function that signs responses as that IdP, without a database: the
// parsing entry point needs none (no replay cache).
func fuzzProvider(t testing.TB) (*provider, func(email string) string) {
	t.Helper()
	ring, err := crypto.NewKeyRing(make([]byte, crypto.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Keys: ring, BaseURL: "https://accute.example"}
	orgID, connID := uuid.New(), uuid.New()
	kp, err := newKeyPair(ring, orgID, connID, "fuzz", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	idpKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Fuzz IdP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &idpKey.PublicKey, idpKey)
	if err != nil {
		t.Fatal(err)
	}
	idpCert, _ := x509.ParseCertificate(der)
	const idpEntity = "https://idp.example/metadata"
	ed := saml.EntityDescriptor{EntityID: idpEntity, IDPSSODescriptors: []saml.IDPSSODescriptor{{
		SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
			ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
			KeyDescriptors: []saml.KeyDescriptor{{Use: "signing", KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{
				X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(der)}}}}}},
		}},
		SingleSignOnServices: []saml.Endpoint{{Binding: saml.HTTPRedirectBinding, Location: "https://idp.example/sso"}},
	}}}
	metadata, err := xml.Marshal(ed)
	if err != nil {
		t.Fatal(err)
	}
	conn := db.SamlConnection{OrganizationID: orgID, ID: connID, Enabled: true, AllowIdpInitiated: true,
		MetadataXml: string(metadata), SpCertificate: kp.CertPEM, SpPrivateKey: kp.SealedKey}
	p, err := s.newProvider("fuzz", conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	acs := p.sp.AcsURL.String()
	sign := func(email string) string {
		now := time.Now()
		a := &saml.Assertion{ID: "id-" + strings.ReplaceAll(uuid.NewString(), "-", ""), IssueInstant: now, Version: "2.0",
			Issuer: saml.Issuer{Value: idpEntity},
			Subject: &saml.Subject{NameID: &saml.NameID{Format: string(saml.EmailAddressNameIDFormat), Value: email},
				SubjectConfirmations: []saml.SubjectConfirmation{{Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer",
					SubjectConfirmationData: &saml.SubjectConfirmationData{NotOnOrAfter: now.Add(time.Minute), Recipient: acs}}}},
			Conditions: &saml.Conditions{NotBefore: now.Add(-time.Minute), NotOnOrAfter: now.Add(time.Minute),
				AudienceRestrictions: []saml.AudienceRestriction{{Audience: saml.Audience{Value: p.sp.EntityID}}}},
			AuthnStatements: []saml.AuthnStatement{{AuthnInstant: now}},
		}
		ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{der}, PrivateKey: idpKey, Leaf: idpCert}))
		ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
		_ = ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod)
		signed, err := ctx.SignEnveloped(a.Element())
		if err != nil {
			t.Fatal(err)
		}
		r := &saml.Response{ID: "id-r" + strings.ReplaceAll(uuid.NewString(), "-", ""), IssueInstant: now, Version: "2.0", Destination: acs,
			Issuer: &saml.Issuer{Value: idpEntity}, Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}}}
		el := r.Element()
		el.AddChild(signed)
		doc := etree.NewDocument()
		doc.SetRoot(el)
		b, _ := doc.WriteToBytes()
		return base64.StdEncoding.EncodeToString(b)
	}
	return p, sign
}

// FuzzParseSAMLResponse feeds the ACS's parsing entry point (the posted
// SAMLResponse value) arbitrary input: it must never panic, and never
// accept anything but a response the IdP signed.
func FuzzParseSAMLResponse(f *testing.F) {
	p, sign := fuzzProvider(f)
	valid := sign("fuzz@firm.example")
	if a, err := p.parseResponse(valid, nil); err != nil || a.Subject.NameID.Value != "fuzz@firm.example" {
		f.Fatalf("the seed response is refused: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(valid)
	f.Add(valid)
	f.Add(base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), "fuzz@", "evil@", 1))))
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Version="2.0"/>`)))
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`)))
	f.Add("")
	f.Add("%%%not base64")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := p.parseResponse(in, nil)
		if err == nil {
			// Only untouched signed content is accepted: the subject is
			// the one the IdP signed.
			if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value != "fuzz@firm.example" {
				t.Fatalf("accepted a response the IdP did not sign: %+v", a.Subject)
			}
		}
		// The classification never panics either.
		if err != nil {
			if le := classifyFailure(err); le.Reason == "" {
				t.Fatalf("no reason for %v", err)
			}
		}
	})
}

func TestChooseRole(t *testing.T) {
	custom := uuid.New()
	var all []string // every permission: more than a manager has
	for _, p := range tenant.AllPermissions {
		all = append(all, string(p.Key))
	}
	mappings := []db.ListSAMLGroupRolesRow{
		{GroupName: "Staff", Role: "staff"},
		{GroupName: "Partners", Role: "manager"},
		{GroupName: "Auditors", Role: "custom", CustomRoleID: &custom, CustomRoleName: "Auditor", CustomPermissions: all},
	}
	conn := db.SamlConnection{DefaultRole: "client"}
	cases := []struct {
		groups []string
		want   string
		mapped bool
	}{
		{nil, "client", false},
		{[]string{"staff"}, "staff", true},
		{[]string{"Staff", "PARTNERS"}, "manager", true},
		{[]string{"Partners", "Auditors"}, "custom", true}, // more permissions win
		{[]string{"Nobody"}, "client", false},
	}
	for _, c := range cases {
		got := chooseRole(conn, mappings, c.groups, nil)
		if got.Role != c.want || got.Mapped != c.mapped {
			t.Errorf("%v: %s (mapped %v), want %s (%v)", c.groups, got.Role, got.Mapped, c.want, c.mapped)
		}
	}
	// A deleted default custom role falls back to the role without rights.
	if got := chooseRole(db.SamlConnection{DefaultRole: "custom"}, nil, nil, nil); got.Role != "client" {
		t.Errorf("deleted default custom role: %s", got.Role)
	}
}

func TestNormalizeDomain(t *testing.T) {
	for in, want := range map[string]string{"@Example.COM ": "example.com", "firm.co.uk.": "firm.co.uk", "xn--bcher-kva.example": "xn--bcher-kva.example"} {
		if got, msg := NormalizeDomain(in); got != want || msg != "" {
			t.Errorf("%q: %q %q", in, got, msg)
		}
	}
	for _, bad := range []string{"", "localhost", "gmail.com", "a..b", "-x.com", "x_y.com", "1.2.3.4", strings.Repeat("a", 64) + ".com"} {
		if _, msg := NormalizeDomain(bad); msg == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestMetadataClientRefusesPrivateAddresses(t *testing.T) {
	s := &Service{}
	for _, raw := range []string{"http://127.0.0.1:1/metadata", "http://10.0.0.1/metadata", "http://169.254.169.254/latest", "http://[::1]:1/x"} {
		u, msg := ValidateMetadataURL(raw)
		if msg != "" {
			t.Fatalf("%s: %s", raw, msg)
		}
		if _, err := s.fetchMetadata(t.Context(), u); err == nil || !strings.Contains(err.Error(), "private or local") {
			t.Errorf("%s: %v", raw, err)
		}
	}
	for _, raw := range []string{"ftp://x.example/m", "https://user:pw@x.example/m", "/relative", "https://"} {
		if _, msg := ValidateMetadataURL(raw); msg == "" {
			t.Errorf("%s accepted", raw)
		}
	}
}
