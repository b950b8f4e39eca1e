package sso

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
)

// Limits on fetching IdP metadata. Real metadata (Okta, Entra ID, Google
// Workspace) is a few to a few dozen kilobytes.
const (
	MaxMetadataBytes = 1 << 20
	metadataTimeout  = 10 * time.Second
)

// errPrivateAddress refuses metadata hosts on private networks in
// production (the fetch happens from inside the deployment).
var errPrivateAddress = errors.New("the metadata URL points to a private or local network address")

// metadataClient fetches IdP metadata: http(s) only, a timeout, at most 3
// redirects, and, unless allowPrivate, no connection to loopback, private,
// link-local or otherwise non-public addresses. The address check runs on
// the resolved address at connect time, so DNS tricks do not get around it.
func metadataClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: metadataTimeout}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || !publicIP(ip) {
				return errPrivateAddress
			}
			return nil
		}
	}
	transport := &http.Transport{
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    metadataTimeout,
		ResponseHeaderTimeout:  metadataTimeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Timeout:   metadataTimeout,
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return errors.New("redirect to a non-http(s) address")
			}
			return nil
		},
	}
}

func publicIP(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		ip.Equal(net.IPv4bcast) || isSharedOrReserved(ip))
}

// isSharedOrReserved covers ranges net.IP has no predicate for: carrier
// grade NAT (100.64.0.0/10), the IETF protocol block (192.0.0.0/24) and
// 0.0.0.0/8.
func isSharedOrReserved(ip net.IP) bool {
	ip4 := ip.To4()
	if ip4 == nil {
		return false
	}
	return ip4[0] == 0 || (ip4[0] == 100 && ip4[1]&0xc0 == 64) || (ip4[0] == 192 && ip4[1] == 0 && ip4[2] == 0)
}

// ValidateMetadataURL checks an admin-supplied metadata address.
func ValidateMetadataURL(raw string) (*url.URL, string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return nil, "Enter the full address of the metadata, starting with https://."
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, "Only http:// and https:// addresses can be fetched."
	case u.User != nil:
		return nil, "The address must not contain a user name or password."
	case len(raw) > 2000:
		return nil, "The address is too long."
	}
	return u, ""
}

// fetchMetadata downloads the metadata document at u.
func (s *Service) fetchMetadata(ctx context.Context, u *url.URL) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	client := s.HTTPClient
	if client == nil {
		client = metadataClient(s.AllowPrivateMetadataHosts)
	}
	res, err := client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivateAddress) {
			return nil, errPrivateAddress
		}
		return nil, fmt.Errorf("could not download it (%s)", shortNetError(err))
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the server answered %d %s", res.StatusCode, http.StatusText(res.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxMetadataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("could not read it (%s)", shortNetError(err))
	}
	if len(body) > MaxMetadataBytes {
		return nil, fmt.Errorf("it is larger than %d KiB", MaxMetadataBytes>>10)
	}
	return body, nil
}

func shortNetError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return "timed out"
	}
	msg := err.Error()
	if len(msg) > 160 {
		msg = msg[:160] + "…"
	}
	return msg
}

// IdPInfo is what the settings page shows about parsed IdP metadata.
type IdPInfo struct {
	EntityID string
	SSOURL   string
	SLOURL   string
	Certs    int
}

// ParseIdPMetadata parses IdP metadata (an EntityDescriptor, or an
// EntitiesDescriptor with exactly one IdP) and checks that it can be used:
// an SSO endpoint with the HTTP-Redirect binding and a signing certificate.
func ParseIdPMetadata(data []byte) (*saml.EntityDescriptor, IdPInfo, error) {
	if len(data) > MaxMetadataBytes {
		return nil, IdPInfo{}, fmt.Errorf("the metadata is larger than %d KiB", MaxMetadataBytes>>10)
	}
	ed, err := samlsp.ParseMetadata(data)
	if err != nil {
		return nil, IdPInfo{}, errors.New("this is not SAML metadata of an identity provider")
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return nil, IdPInfo{}, errors.New("the metadata describes no identity provider (no IDPSSODescriptor)")
	}
	info := IdPInfo{EntityID: ed.EntityID}
	for _, d := range ed.IDPSSODescriptors {
		for _, ep := range d.SingleSignOnServices {
			if ep.Binding == saml.HTTPRedirectBinding && info.SSOURL == "" {
				info.SSOURL = ep.Location
			}
		}
		for _, ep := range d.SingleLogoutServices {
			if (ep.Binding == saml.HTTPRedirectBinding || ep.Binding == saml.HTTPPostBinding) && info.SLOURL == "" {
				info.SLOURL = ep.Location
			}
		}
		for _, kd := range d.KeyDescriptors {
			if kd.Use == "" || kd.Use == "signing" {
				info.Certs += len(kd.KeyInfo.X509Data.X509Certificates)
			}
		}
	}
	switch {
	case info.EntityID == "":
		return nil, IdPInfo{}, errors.New("the metadata has no entityID")
	case info.SSOURL == "":
		return nil, IdPInfo{}, errors.New("the identity provider offers no single sign-on endpoint with the HTTP-Redirect binding")
	case info.Certs == 0:
		return nil, IdPInfo{}, errors.New("the metadata has no signing certificate, so responses could not be verified")
	}
	if u, err := url.Parse(info.SSOURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, IdPInfo{}, errors.New("the single sign-on address in the metadata is not an http(s) URL")
	}
	return ed, info, nil
}
