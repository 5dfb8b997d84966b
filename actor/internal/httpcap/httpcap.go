package httpcap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sentinels wrapped by the errors of [New] and [Client.Do].
var (
	// ErrInvalid: a policy or a request that is not well formed.
	ErrInvalid = errors.New("httpcap: invalid")
	// ErrDenied: the policy does not allow the URL, method or address.
	ErrDenied = errors.New("httpcap: denied")
	// ErrTooLarge: a request or response body over its limit.
	ErrTooLarge = errors.New("httpcap: too large")
)

// Defaults of a zero [Policy] field.
const (
	DefaultMaxRequestBytes  = 1 << 20
	DefaultMaxResponseBytes = 1 << 20
	DefaultTimeout          = 10 * time.Second
	DefaultMaxRedirects     = 5
)

// Policy is what an actor's grant allows: plain data, as it comes from a
// manifest's [capabilities.http].
type Policy struct {
	// Hosts are host names, or "*.example.com" for any sub-domain. An
	// IP literal must be listed as written in the URL.
	Hosts []string
	// Ports are the ports allowed; empty allows only the scheme's default.
	Ports []int
	// Schemes are "https" and/or "http"; empty allows only "https".
	Schemes []string
	// Methods are upper-case HTTP methods; empty allows GET and POST.
	Methods []string
	// MaxRequestBytes and MaxResponseBytes bound the bodies.
	MaxRequestBytes, MaxResponseBytes int
	// Timeout bounds a whole exchange, redirects and body included.
	Timeout time.Duration
	// MaxRedirects bounds the redirects followed; negative follows none.
	MaxRedirects int
	// AllowPrivate grants loopback, private, link-local, unspecified and
	// multicast addresses, which are refused otherwise.
	AllowPrivate bool
	// ExposeHeaders are the response headers the guest sees (canonical
	// form); empty exposes Content-Type only.
	ExposeHeaders []string
}

// Header is one header field; a list keeps the order a guest gave.
type Header struct{ Name, Value string }

// Request is one outbound call.
type Request struct {
	Method, URL string
	Headers     []Header
	Body        []byte
}

// Response is what the guest gets: the status, the exposed headers
// sorted by name, and the whole body.
type Response struct {
	Status  int
	Headers []Header
	Body    []byte
}

// Client performs requests within one [Policy]. It is safe for
// concurrent use.
type Client struct {
	p    Policy
	http *http.Client
}

// New checks p, fills its defaults and returns a client for it.
func New(p Policy) (*Client, error) {
	p.Hosts = slices.Clone(p.Hosts)
	p.Ports = slices.Clone(p.Ports)
	if len(p.Hosts) == 0 {
		return nil, fmt.Errorf("%w: policy: no hosts", ErrInvalid)
	}
	for k, h := range p.Hosts {
		h = strings.ToLower(h)
		if h == "" || strings.ContainsAny(h, "/:@ ") && !isIPv6(h) || strings.Contains(strings.TrimPrefix(h, "*."), "*") {
			return nil, fmt.Errorf("%w: policy: host %q", ErrInvalid, p.Hosts[k])
		}
		p.Hosts[k] = h
	}
	for _, port := range p.Ports {
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("%w: policy: port %d", ErrInvalid, port)
		}
	}
	if len(p.Schemes) == 0 {
		p.Schemes = []string{"https"}
	}
	for _, s := range p.Schemes {
		if s != "http" && s != "https" {
			return nil, fmt.Errorf("%w: policy: scheme %q", ErrInvalid, s)
		}
	}
	if len(p.Methods) == 0 {
		p.Methods = []string{http.MethodGet, http.MethodPost}
	}
	for _, m := range p.Methods {
		if m == "" || m != strings.ToUpper(m) || strings.ContainsAny(m, " \t\r\n") {
			return nil, fmt.Errorf("%w: policy: method %q", ErrInvalid, m)
		}
	}
	if p.MaxRequestBytes < 0 || p.MaxResponseBytes < 0 || p.Timeout < 0 {
		return nil, fmt.Errorf("%w: policy: negative limit", ErrInvalid)
	}
	if p.MaxRequestBytes == 0 {
		p.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if p.MaxResponseBytes == 0 {
		p.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	if p.MaxRedirects == 0 {
		p.MaxRedirects = DefaultMaxRedirects
	}
	if len(p.ExposeHeaders) == 0 {
		p.ExposeHeaders = []string{"Content-Type"}
	}
	p.ExposeHeaders = slices.Clone(p.ExposeHeaders)
	for k, h := range p.ExposeHeaders {
		p.ExposeHeaders[k] = http.CanonicalHeaderKey(h)
	}
	slices.Sort(p.ExposeHeaders)
	c := &Client{p: p}
	dialer := &net.Dialer{Timeout: p.Timeout, Control: c.checkDial}
	tr := &http.Transport{
		// No proxy from the environment: the policy is about where the
		// bytes go, and a proxy would be dialled instead of the host.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   p.Timeout,
		ResponseHeaderTimeout: p.Timeout,
	}
	c.http = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
	return c, nil
}

func isIPv6(h string) bool {
	a, err := netip.ParseAddr(strings.Trim(h, "[]"))
	return err == nil && a.Is6()
}

// Policy returns the policy with its defaults filled in.
func (c *Client) Policy() Policy { return c.p }

// Allowed reports why u with method is not allowed, or nil. Addresses
// are checked later, at dial time.
func (c *Client) Allowed(method string, u *url.URL) error {
	if !slices.Contains(c.p.Methods, method) {
		return fmt.Errorf("%w: method %s", ErrDenied, method)
	}
	if !slices.Contains(c.p.Schemes, u.Scheme) {
		return fmt.Errorf("%w: scheme %q", ErrDenied, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: user info in URL", ErrDenied)
	}
	host := strings.ToLower(u.Hostname())
	if !c.hostAllowed(host) {
		return fmt.Errorf("%w: host %q", ErrDenied, host)
	}
	port := 443
	if u.Scheme == "http" {
		port = 80
	}
	if s := u.Port(); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%w: port %q", ErrInvalid, s)
		}
		if len(c.p.Ports) > 0 && !slices.Contains(c.p.Ports, n) || len(c.p.Ports) == 0 && n != port {
			return fmt.Errorf("%w: port %d", ErrDenied, n)
		}
	} else if len(c.p.Ports) > 0 && !slices.Contains(c.p.Ports, port) {
		return fmt.Errorf("%w: port %d", ErrDenied, port)
	}
	return nil
}

func (c *Client) hostAllowed(host string) bool {
	for _, h := range c.p.Hosts {
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
		} else if strings.Trim(h, "[]") == host {
			return true
		}
	}
	return false
}

// checkDial runs on the address actually dialled, after DNS: a name that
// resolves (or re-resolves, DNS rebinding) to a private address is
// refused here whatever the allow-list says.
func (c *Client) checkDial(_, address string, _ syscall.RawConn) error {
	if c.p.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: address %q", ErrDenied, address)
	}
	a := ap.Addr().Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || isSharedOrReserved(a) {
		return fmt.Errorf("%w: address %s is not public", ErrDenied, a)
	}
	return nil
}

// isSharedOrReserved covers 100.64.0.0/10 (carrier-grade NAT) and
// 0.0.0.0/8, which netip does not classify.
func isSharedOrReserved(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return b[0] == 0 || b[0] == 100 && b[1]&0xc0 == 64
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > c.p.MaxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrDenied, max(c.p.MaxRedirects, 0))
	}
	return c.Allowed(req.Method, req.URL)
}

// Do performs r within the policy and ctx. Errors wrap [ErrInvalid],
// [ErrDenied], [ErrTooLarge] or the context's error; anything else is a
// transport failure.
func (c *Client) Do(ctx context.Context, r Request) (Response, error) {
	if len(r.Body) > c.p.MaxRequestBytes {
		return Response{}, fmt.Errorf("%w: request body of %d bytes, limit %d", ErrTooLarge, len(r.Body), c.p.MaxRequestBytes)
	}
	ctx, cancel := context.WithTimeout(ctx, c.p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil || !req.URL.IsAbs() || req.URL.Host == "" {
		return Response{}, fmt.Errorf("%w: url %q", ErrInvalid, r.URL)
	}
	if err := c.Allowed(r.Method, req.URL); err != nil {
		return Response{}, err
	}
	for _, h := range r.Headers {
		if h.Name == "Host" || h.Name == "host" {
			return Response{}, fmt.Errorf("%w: header Host", ErrDenied) // would bypass the allow-list on shared hosts
		}
		req.Header.Add(h.Name, h.Value)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil && !errors.Is(err, ErrDenied) {
			return Response{}, fmt.Errorf("httpcap: %s %s: %w", r.Method, r.URL, context.DeadlineExceeded)
		}
		return Response{}, fmt.Errorf("httpcap: %s %s: %w", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > int64(c.p.MaxResponseBytes) {
		return Response{}, fmt.Errorf("%w: response of %d bytes, limit %d", ErrTooLarge, resp.ContentLength, c.p.MaxResponseBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(c.p.MaxResponseBytes)+1))
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("httpcap: reading body: %w", context.DeadlineExceeded)
		}
		return Response{}, fmt.Errorf("httpcap: reading body: %w", err)
	}
	if len(body) > c.p.MaxResponseBytes {
		return Response{}, fmt.Errorf("%w: response over %d bytes", ErrTooLarge, c.p.MaxResponseBytes)
	}
	out := Response{Status: resp.StatusCode, Body: body}
	for _, name := range c.p.ExposeHeaders {
		for _, v := range resp.Header.Values(name) {
			out.Headers = append(out.Headers, Header{Name: name, Value: v})
		}
	}
	return out, nil
}
