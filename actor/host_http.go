package actor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/internal/httpcap"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// HTTPPolicy is the http-client capability's grant, from a manifest's
// [capabilities.http]: allowed hosts ("*.example.com" for sub-domains),
// ports, schemes and methods, body limits, the deadline, the redirect
// bound, whether private and loopback addresses may be dialled, and the
// response headers the guest sees.
type HTTPPolicy = httpcap.Policy

// HTTPPolicyOf is the policy a manifest's [capabilities.http] grants, and
// false when it grants no http-client.
func HTTPPolicyOf(m *manifest.Manifest) (HTTPPolicy, bool) {
	h := m.Capabilities.HTTP
	if h == nil {
		return HTTPPolicy{}, false
	}
	return HTTPPolicy{
		Hosts: slices.Clone(h.Hosts), Ports: slices.Clone(h.Ports), Schemes: slices.Clone(h.Schemes),
		Methods: slices.Clone(h.Methods), MaxRequestBytes: h.MaxRequestBytes, MaxResponseBytes: h.MaxResponseBytes,
		Timeout: time.Duration(h.Timeout), MaxRedirects: h.MaxRedirects, AllowPrivate: h.AllowPrivate,
		ExposeHeaders: slices.Clone(h.ExposeHeaders),
	}, true
}

// HTTPHeader, HTTPRequest and HTTPResponse are the WIT records of
// http-client.
type (
	HTTPHeader   = httpcap.Header
	HTTPRequest  = httpcap.Request
	HTTPResponse = httpcap.Response
)

// HTTPClient serves the http-client capability. [NewHTTPClient] makes
// the real one; a node wraps it to record responses (package replay).
// ctx carries the calling handler's deadline. An error reaches the guest
// as the http-client.error case [HTTPErrorOf] gives.
type HTTPClient interface {
	Do(ctx context.Context, req HTTPRequest) (HTTPResponse, error)
}

// ErrHTTPPolicy is wrapped by the errors of [NewHTTPClient].
var ErrHTTPPolicy = errors.New("actor: invalid http policy")

// NewHTTPClient returns the client that enforces p. Errors wrap
// [ErrHTTPPolicy].
func NewHTTPClient(p HTTPPolicy) (HTTPClient, error) {
	c, err := httpcap.New(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHTTPPolicy, err)
	}
	return c, nil
}

// HTTPError is an http-client.error as the guest receives it: Case is
// "denied", "too-large", "timeout", "invalid" or "failed", Text the
// payload (empty for timeout). A replayed call returns one as recorded.
type HTTPError struct{ Case, Text string }

func (e *HTTPError) Error() string {
	if e.Text == "" {
		return "actor: http " + e.Case
	}
	return "actor: http " + e.Case + ": " + e.Text
}

// HTTPErrorOf classifies err as the http-client.error case the guest
// gets.
func HTTPErrorOf(err error) *HTTPError {
	var he *HTTPError
	switch {
	case errors.As(err, &he):
		return he
	case errors.Is(err, httpcap.ErrDenied), errors.Is(err, ErrDenied):
		return &HTTPError{"denied", err.Error()}
	case errors.Is(err, httpcap.ErrTooLarge), errors.Is(err, ErrTooLarge):
		return &HTTPError{"too-large", err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &HTTPError{Case: "timeout"}
	case errors.Is(err, httpcap.ErrInvalid):
		return &HTTPError{"invalid", err.Error()}
	}
	return &HTTPError{"failed", err.Error()}
}

// httpTypes are the WIT types of http-client the host codes.
type httpTypes struct{ req, resp, err wit.Type }

var loadHTTPTypes = sync.OnceValues(func() (*httpTypes, error) {
	a, err := abi.Load()
	if err != nil {
		return nil, err
	}
	var ts httpTypes
	for name, p := range map[string]*wit.Type{"request": &ts.req, "response": &ts.resp, "error": &ts.err} {
		t, ok := a.Type("http-client", name)
		if !ok {
			return nil, fmt.Errorf("actor: %w: no http-client.%s type", abi.ErrWIT, name)
		}
		*p = t
	}
	return &ts, nil
})

// DecodeHTTPRequest reads the msgpack of an http-client.request.
func DecodeHTTPRequest(b []byte) (HTTPRequest, error) {
	ts, err := loadHTTPTypes()
	if err != nil {
		return HTTPRequest{}, err
	}
	v, err := codec.Unmarshal(ts.req, b)
	if err != nil {
		return HTTPRequest{}, fmt.Errorf("actor: http request: %w: %w", ErrInvalidMessage, err)
	}
	rec := v.(map[string]any) // the codec checked the shape
	return HTTPRequest{Method: rec["method"].(string), URL: rec["url"].(string),
		Headers: headersOf(rec["headers"]), Body: rec["body"].([]byte)}, nil
}

// EncodeHTTPRequest writes r as the msgpack of an http-client.request.
func EncodeHTTPRequest(r HTTPRequest) ([]byte, error) {
	ts, err := loadHTTPTypes()
	if err != nil {
		return nil, err
	}
	return codec.Marshal(ts.req, map[string]any{"method": r.Method, "url": r.URL,
		"headers": headerValues(r.Headers), "body": nonNil(r.Body)})
}

// EncodeHTTPResponse writes r as the msgpack of an http-client.response.
// Errors wrap [ErrInvalidMessage] (a status outside u16).
func EncodeHTTPResponse(r HTTPResponse) ([]byte, error) {
	ts, err := loadHTTPTypes()
	if err != nil {
		return nil, err
	}
	if r.Status < 0 || r.Status > math.MaxUint16 {
		return nil, fmt.Errorf("actor: http response: %w: status %d", ErrInvalidMessage, r.Status)
	}
	return codec.Marshal(ts.resp, map[string]any{"status": uint16(r.Status),
		"headers": headerValues(r.Headers), "body": nonNil(r.Body)})
}

// DecodeHTTPResponse reads the msgpack of an http-client.response.
func DecodeHTTPResponse(b []byte) (HTTPResponse, error) {
	ts, err := loadHTTPTypes()
	if err != nil {
		return HTTPResponse{}, err
	}
	v, err := codec.Unmarshal(ts.resp, b)
	if err != nil {
		return HTTPResponse{}, fmt.Errorf("actor: http response: %w: %w", ErrInvalidMessage, err)
	}
	rec := v.(map[string]any)
	return HTTPResponse{Status: int(rec["status"].(uint16)), Headers: headersOf(rec["headers"]), Body: rec["body"].([]byte)}, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func headersOf(v any) []HTTPHeader {
	list := v.([]any)
	if len(list) == 0 {
		return nil
	}
	out := make([]HTTPHeader, len(list))
	for k, h := range list {
		m := h.(map[string]any)
		out[k] = HTTPHeader{Name: m["name"].(string), Value: m["value"].(string)}
	}
	return out
}

func headerValues(hs []HTTPHeader) []any {
	out := make([]any, len(hs))
	for k, h := range hs {
		out[k] = map[string]any{"name": h.Name, "value": h.Value}
	}
	return out
}

// http-client.send(req_ptr, req_len, retptr)
func hostHTTPSend(ctx context.Context, i *instance, stack []uint64) int32 {
	b, ok := i.bytesAt(stack[0], stack[1])
	retptr := uint32(stack[2])
	_, ok2 := i.mem.Read(retptr, 8)
	switch {
	case !ok || !ok2:
		return abi.StatusFault
	case len(b) > i.a.spec.Limits.MaxMessageSize:
		return abi.StatusTooLarge
	case i.a.spec.HTTP == nil:
		return abi.StatusUnavailable
	}
	req, err := DecodeHTTPRequest(b)
	if err != nil {
		return httpErr(ctx, i, retptr, &HTTPError{"invalid", err.Error()})
	}
	resp, err := i.a.spec.HTTP.Do(ctx, req)
	if err != nil {
		return httpErr(ctx, i, retptr, HTTPErrorOf(err))
	}
	data, err := EncodeHTTPResponse(resp)
	if err == nil && len(data) > i.a.spec.Limits.MaxMessageSize {
		err = &TooLargeError{Size: len(data), Limit: i.a.spec.Limits.MaxMessageSize}
	}
	if err != nil {
		return httpErr(ctx, i, retptr, HTTPErrorOf(err))
	}
	return i.give(ctx, data, retptr)
}

// EncodeHTTPError writes e as the msgpack of an http-client.error.
func EncodeHTTPError(e *HTTPError) ([]byte, error) {
	ts, err := loadHTTPTypes()
	if err != nil {
		return nil, err
	}
	v := codec.Variant{Case: e.Case}
	if e.Case != "timeout" {
		v.Value = e.Text
	}
	return codec.Marshal(ts.err, v)
}

// httpErr writes e at retptr and returns status 1.
func httpErr(ctx context.Context, i *instance, retptr uint32, e *HTTPError) int32 {
	data, err := EncodeHTTPError(e)
	if err != nil {
		return abi.StatusUnavailable // the WIT and this code disagree: a host defect
	}
	if st := i.give(ctx, data, retptr); st != abi.StatusOK {
		return st
	}
	return abi.StatusErr
}
