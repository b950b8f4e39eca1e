package handlers

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"

	"accute/internal/testutil"
)

// A real SAML identity provider for tests: crewjam's samlidp, in process,
// behind an httptest server, with its own key pair. Responses it does not
// produce (unsigned, tampered, for the wrong audience...) are crafted with
// craftResponse from the same key and crewjam's own types.

var (
	idpKeyOnce sync.Once
	idpKey     *rsa.PrivateKey
	idpKey2    *rsa.PrivateKey
)

// testKeys are generated once per test binary: RSA key generation is slow.
func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	idpKeyOnce.Do(func() {
		var err error
		if idpKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if idpKey2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return idpKey, idpKey2
}

// selfSigned makes a certificate valid from a day ago for a year.
func selfSigned(t testing.TB, key *rsa.PrivateKey, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

type testIdP struct {
	t    testing.TB
	Srv  *httptest.Server
	IdP  *samlidp.Server
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

func newTestIdP(t testing.TB) *testIdP {
	t.Helper()
	key, _ := testKeys(t)
	cert := selfSigned(t, key, "Test IdP")
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	idp, err := samlidp.New(samlidp.Options{
		URL: *u, Key: key, Certificate: cert, Store: &samlidp.MemoryStore{},
		Logger: log.New(io.Discard, "", 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = idp
	return &testIdP{t: t, Srv: srv, IdP: idp, Key: key, Cert: cert}
}

// MetadataURL is where the IdP serves its metadata.
func (i *testIdP) MetadataURL() string { return i.Srv.URL + "/metadata" }

// EntityID is the IdP's entity ID (its metadata URL).
func (i *testIdP) EntityID() string { return i.MetadataURL() }

// Metadata is the IdP's metadata XML.
func (i *testIdP) Metadata() string {
	i.t.Helper()
	res, err := http.Get(i.MetadataURL())
	if err != nil {
		i.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func (i *testIdP) put(path string, body []byte) {
	i.t.Helper()
	req, _ := http.NewRequest(http.MethodPut, i.Srv.URL+path, bytes.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		i.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		b, _ := io.ReadAll(res.Body)
		i.t.Fatalf("idp PUT %s: %d %s", path, res.StatusCode, b)
	}
}

// AddUser creates an IdP user who signs in with password.
func (i *testIdP) AddUser(name, email, password string, groups ...string) {
	i.t.Helper()
	b, _ := json.Marshal(map[string]any{"password": password, "email": email, "given_name": "Given" + name, "surname": "Sur" + name, "common_name": "Common " + name, "groups": groups})
	i.put("/users/"+name, b)
}

// AddServiceProvider registers an SP by its metadata XML.
func (i *testIdP) AddServiceProvider(id string, metadata []byte) {
	i.t.Helper()
	i.put("/services/"+id, metadata)
}

// AddShortcut makes /login/{name} an IdP-initiated login to the SP.
func (i *testIdP) AddShortcut(name, spEntityID string, relayState string) {
	i.t.Helper()
	m := map[string]any{"service_provider": spEntityID}
	if relayState != "" {
		m["relay_state"] = relayState
	}
	b, _ := json.Marshal(m)
	i.put("/shortcuts/"+name, b)
}

// postForm is an HTML form with the fields a browser would submit.
type postForm struct {
	Action string
	Values url.Values
}

// parsePostForm reads the first form of an HTML page (the IdP's login form
// or its auto-submitting SAML response form), resolving its action.
func parsePostForm(t testing.TB, res *testutil.Response) postForm {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	f := doc.Find("form").First()
	if f.Length() == 0 {
		t.Fatalf("%s %s: no form in page (status %d):\n%.1500s", res.Request.Method, res.Request.URL, res.StatusCode, res.Body)
	}
	action, _ := f.Attr("action")
	u, err := res.Request.URL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	vals := url.Values{}
	f.Find("input").Each(func(_ int, s *goquery.Selection) {
		if name, ok := s.Attr("name"); ok {
			v, _ := s.Attr("value")
			vals.Set(name, v)
		}
	})
	return postForm{Action: u.String(), Values: vals}
}

// idpLogin follows an SP-initiated sign-in from Accute's redirect to the
// IdP through its login form, and returns the SAML response form the IdP
// would have the browser post to the ACS.
func idpLogin(t testing.TB, c *testutil.Client, toIdP *testutil.Response, user, password string) postForm {
	t.Helper()
	if toIdP.StatusCode != http.StatusSeeOther && toIdP.StatusCode != http.StatusFound {
		t.Fatalf("expected a redirect to the IdP, got %d\n%.1500s", toIdP.StatusCode, toIdP.Body)
	}
	login := c.Follow(toIdP).AssertStatus(http.StatusOK)
	f := parsePostForm(t, login)
	if f.Values.Get("SAMLResponse") != "" {
		return f // already signed in at the IdP
	}
	f.Values.Set("user", user)
	f.Values.Set("password", password)
	return idpSubmit(t, c, f)
}

// idpSubmit posts a form to the IdP and returns its SAML response form.
func idpSubmit(t testing.TB, c *testutil.Client, f postForm) postForm {
	t.Helper()
	res := c.PostForm(f.Action, f.Values).AssertStatus(http.StatusOK)
	out := parsePostForm(t, res)
	if out.Values.Get("SAMLResponse") == "" {
		t.Fatalf("IdP answered without a SAMLResponse:\n%.1500s", res.Body)
	}
	return out
}

// decodeResponseXML returns the XML of a base64 SAMLResponse.
func decodeResponseXML(t testing.TB, b64 string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// craft describes a response built by hand, signed with the test IdP key.
type craft struct {
	Key          *rsa.PrivateKey
	Cert         *x509.Certificate
	Issuer       string // the IdP entity id
	Audience     string
	Recipient    string // ACS URL in the SubjectConfirmationData
	Destination  string // ACS URL on the Response
	InResponseTo string
	NameID       string
	NameIDFormat string
	Attributes   map[string][]string
	Now          time.Time
	SignResponse bool
	SignAssert   bool
	EncryptTo    *x509.Certificate // the SP's certificate, to encrypt the assertion
}

func signingContext(t testing.TB, key *rsa.PrivateKey, cert *x509.Certificate) *dsig.SigningContext {
	t.Helper()
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// Build returns the base64 SAMLResponse.
func (c craft) Build(t testing.TB) string {
	t.Helper()
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	format := c.NameIDFormat
	if format == "" {
		format = string(saml.EmailAddressNameIDFormat)
	}
	var attrs []saml.Attribute
	for name, vals := range c.Attributes {
		a := saml.Attribute{Name: name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}
		for _, v := range vals {
			a.Values = append(a.Values, saml.AttributeValue{Type: "xs:string", Value: v})
		}
		attrs = append(attrs, a)
	}
	assertion := &saml.Assertion{
		ID: fmt.Sprintf("id-%x", randomBytes(16)), IssueInstant: now, Version: "2.0",
		Issuer: saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: c.Issuer},
		Subject: &saml.Subject{
			NameID: &saml.NameID{Format: format, Value: c.NameID},
			SubjectConfirmations: []saml.SubjectConfirmation{{
				Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				SubjectConfirmationData: &saml.SubjectConfirmationData{
					InResponseTo: c.InResponseTo, NotOnOrAfter: now.Add(90 * time.Second), Recipient: c.Recipient,
				},
			}},
		},
		Conditions: &saml.Conditions{
			NotBefore: now.Add(-30 * time.Second), NotOnOrAfter: now.Add(90 * time.Second),
			AudienceRestrictions: []saml.AudienceRestriction{{Audience: saml.Audience{Value: c.Audience}}},
		},
		AuthnStatements: []saml.AuthnStatement{{
			AuthnInstant: now, SessionIndex: fmt.Sprintf("idx-%x", randomBytes(8)),
			AuthnContext: saml.AuthnContext{AuthnContextClassRef: &saml.AuthnContextClassRef{Value: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}},
		}},
		AttributeStatements: []saml.AttributeStatement{{Attributes: attrs}},
	}
	assertionEl := assertion.Element()
	if c.SignAssert {
		signed, err := signingContext(t, c.Key, c.Cert).SignEnveloped(assertionEl)
		if err != nil {
			t.Fatal(err)
		}
		assertionEl = signed
	}
	if c.EncryptTo != nil {
		doc := etree.NewDocument()
		doc.SetRoot(assertionEl)
		plain, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		enc := xmlenc.OAEP()
		enc.BlockCipher = xmlenc.AES256GCM
		data, err := enc.Encrypt(c.EncryptTo, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		data.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
		wrapper := etree.NewElement("saml:EncryptedAssertion")
		wrapper.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
		wrapper.AddChild(data)
		assertionEl = wrapper
	}
	response := &saml.Response{
		Destination: c.Destination, ID: fmt.Sprintf("id-%x", randomBytes(16)), InResponseTo: c.InResponseTo,
		IssueInstant: now, Version: "2.0",
		Issuer: &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: c.Issuer},
		Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}},
	}
	responseEl := response.Element()
	responseEl.AddChild(assertionEl)
	if c.SignResponse {
		signed, err := signingContext(t, c.Key, c.Cert).SignEnveloped(responseEl)
		if err != nil {
			t.Fatal(err)
		}
		responseEl = signed
	}
	doc := etree.NewDocument()
	doc.SetRoot(responseEl)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// spCertificate reads the SP certificate from Accute's SP metadata.
func spCertificate(t testing.TB, metadata []byte) *x509.Certificate {
	t.Helper()
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(metadata, &ed); err != nil {
		t.Fatal(err)
	}
	for _, kd := range ed.SPSSODescriptors[0].KeyDescriptors {
		if kd.Use == "encryption" {
			der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(kd.KeyInfo.X509Data.X509Certificates[0].Data))
			if err != nil {
				t.Fatal(err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			return cert
		}
	}
	t.Fatal("SP metadata has no encryption certificate")
	return nil
}
