package guest

import (
	"errors"
	"fmt"
)

// HTTPHeader is the WIT record http-client.header.
type HTTPHeader struct{ Name, Value string }

// HTTPRequest is the WIT record http-client.request.
type HTTPRequest struct {
	Method, URL string
	Headers     []HTTPHeader
	Body        []byte
}

// HTTPResponse is the WIT record http-client.response: the status, the
// headers the grant exposes (sorted by name) and the whole body.
type HTTPResponse struct {
	Status  uint16
	Headers []HTTPHeader
	Body    []byte
}

// HTTPError is the WIT variant http-client.error, returned by HTTPSend
// when the host answers with status 1.
type HTTPError struct {
	Case   string // denied, too-large, timeout, invalid, failed
	Detail string
}

func (e *HTTPError) Error() string {
	if e.Detail == "" {
		return "theater: http: " + e.Case
	}
	return "theater: http: " + e.Case + ": " + e.Detail
}

// AppendHTTPRequest appends the canonical msgpack of r (fields in WIT
// order).
func AppendHTTPRequest(b []byte, r HTTPRequest) []byte {
	b = AppendMapHeader(b, 4)
	b = AppendString(AppendString(b, "method"), r.Method)
	b = AppendString(AppendString(b, "url"), r.URL)
	b = appendHeaders(AppendString(b, "headers"), r.Headers)
	return AppendBytes(AppendString(b, "body"), r.Body)
}

func appendHeaders(b []byte, hs []HTTPHeader) []byte {
	b = AppendArrayHeader(b, len(hs))
	for _, h := range hs {
		b = AppendMapHeader(b, 2)
		b = AppendString(AppendString(b, "name"), h.Name)
		b = AppendString(AppendString(b, "value"), h.Value)
	}
	return b
}

// ParseHTTPResponse reads the msgpack of an http-client.response.
func ParseHTTPResponse(b []byte) (HTTPResponse, error) {
	bad := fmt.Errorf("theater: malformed http response %x", b)
	var r HTTPResponse
	n, rest, err := ReadMapHeader(b)
	if err != nil || n != 3 {
		return r, bad
	}
	seen := map[string]bool{}
	for range n {
		var k string
		if k, rest, err = ReadString(rest); err != nil || seen[k] {
			return r, bad
		}
		seen[k] = true
		switch k {
		case "status":
			var u uint64
			u, rest, err = ReadUint(rest)
			if u > 0xffff {
				err = bad
			}
			r.Status = uint16(u)
		case "headers":
			r.Headers, rest, err = readHeaders(rest)
		case "body":
			r.Body, rest, err = ReadBytes(rest)
		default:
			err = bad
		}
		if err != nil {
			return r, bad
		}
	}
	if len(rest) != 0 {
		return r, bad
	}
	return r, nil
}

func readHeaders(b []byte) ([]HTTPHeader, []byte, error) {
	n, rest, err := ReadArrayHeader(b)
	if err != nil {
		return nil, nil, err
	}
	var hs []HTTPHeader
	for range n {
		var m int
		if m, rest, err = ReadMapHeader(rest); err != nil || m != 2 {
			return nil, nil, errors.New("bad header")
		}
		var h HTTPHeader
		var prev string
		for range m {
			var k, v string
			if k, rest, err = ReadString(rest); err != nil || k == prev {
				return nil, nil, errors.New("bad header")
			}
			prev = k
			if v, rest, err = ReadString(rest); err != nil {
				return nil, nil, err
			}
			switch k {
			case "name":
				h.Name = v
			case "value":
				h.Value = v
			default:
				return nil, nil, errors.New("bad header")
			}
		}
		hs = append(hs, h)
	}
	return hs, rest, nil
}

func decodeHTTPError(b []byte) error {
	var me *MessageError
	if err := decodeMessageError(b); errors.As(err, &me) {
		return &HTTPError{Case: me.Case, Detail: me.Detail}
	}
	return fmt.Errorf("theater: malformed http error %x", b)
}
