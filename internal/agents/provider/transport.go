package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// TransportOptions configures the HTTP transport of the OpenAI-protocol
// providers.
type TransportOptions struct {
	// ConnectTimeout bounds the TCP connect and the TLS handshake
	// (default 10s).
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait for the response headers once the
	// request is sent (default 60s): a server that accepts the connection
	// and never answers fails with ErrTimeout.
	HeaderTimeout time.Duration
	// BlockPrivate refuses to connect to loopback, private, link-local,
	// CGNAT and other non-public addresses, checked on the address actually
	// dialled (after DNS), so a hostname that resolves into the platform's
	// own network cannot be used to reach it. Used for endpoints that
	// organizations configure themselves, in production.
	BlockPrivate bool
}

// Defaults of TransportOptions and of OpenAIConfig.IdleTimeout.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultHeaderTimeout  = 60 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
)

// NewTransport builds the transport the OpenAI-protocol providers share:
// one per option set, so connections to a provider are reused across runs.
func NewTransport(o TransportOptions) *http.Transport {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = DefaultHeaderTimeout
	}
	d := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	if o.BlockPrivate {
		d.Control = refusePrivate
	}
	return &http.Transport{
		// An operator's proxy (HTTPS_PROXY) is honoured; with BlockPrivate
		// the proxy's own address is checked, so a proxy inside a private
		// network needs AI_ALLOW_PRIVATE_ENDPOINTS.
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.HeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
	}
}

// errPrivateAddress is the dialer's refusal; mapped to ErrForbiddenEndpoint.
type errPrivateAddress struct{ addr string }

func (e *errPrivateAddress) Error() string {
	return fmt.Sprintf("%s is not a public internet address", e.addr)
}

// refusePrivate is a net.Dialer Control function: it runs after DNS
// resolution, on the very address about to be connected, so DNS rebinding
// cannot slip a private address past it.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return &errPrivateAddress{addr: host}
	}
	if !PublicAddr(ip) {
		return &errPrivateAddress{addr: ip.String()}
	}
	return nil
}

// cgnat is the shared address space of RFC 6598 (carrier-grade NAT),
// which netip does not count as private.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// PublicAddr reports whether ip is an ordinary public unicast address:
// not loopback, private, link-local (which holds cloud metadata services),
// multicast, unspecified or shared (CGNAT).
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid(), ip.IsLoopback(), ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(),
		ip.IsInterfaceLocalMulticast(), ip.IsMulticast(), ip.IsUnspecified():
		return false
	case ip.Is4() && cgnat.Contains(ip):
		return false
	}
	return true
}

// transportError maps a network failure to a provider error kind. When
// ctx (the request's) has ended, err passes through: the caller decides
// whether that was its own cancellation, Close, or the idle timer.
func transportError(ctx context.Context, err error) error {
	var pa *errPrivateAddress
	var ne net.Error
	switch {
	case errors.As(err, &pa):
		return &Error{Kind: ErrForbiddenEndpoint, Detail: pa.Error()}
	case ctx.Err() != nil:
		return err
	case errors.As(err, &ne) && ne.Timeout():
		return &Error{Kind: ErrTimeout, Detail: err.Error()}
	default:
		return &Error{Kind: ErrUnavailable, Detail: err.Error()}
	}
}
