package guest_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

func httpType(t testing.TB, name string) wit.Type {
	t.Helper()
	a, err := abi.Load()
	if err != nil {
		t.Fatal(err)
	}
	typ, ok := a.Type("http-client", name)
	if !ok {
		t.Fatalf("no http-client.%s", name)
	}
	return typ
}

// TestHTTPRequestCanonical: the SDK writes http-client.request in the
// canonical form wit/codec defines.
func TestHTTPRequestCanonical(t *testing.T) {
	typ := httpType(t, "request")
	for _, r := range []guest.HTTPRequest{
		{Method: "GET", URL: "https://api.example.com/v1"},
		{Method: "POST", URL: "http://x/", Headers: []guest.HTTPHeader{{Name: "A", Value: "1"}, {Name: "B", Value: ""}}, Body: bytes.Repeat([]byte{7}, 300)},
	} {
		b := guest.AppendHTTPRequest(nil, r)
		canon, err := codec.Canonical(typ, b)
		if err != nil || !bytes.Equal(canon, b) {
			t.Fatalf("%+v: %x is not canonical (%v)", r, b, err)
		}
	}
}

// TestParseHTTPResponse reads what the host writes.
func TestParseHTTPResponse(t *testing.T) {
	b, err := codec.Marshal(httpType(t, "response"), map[string]any{"status": uint16(404),
		"headers": []any{map[string]any{"name": "Content-Type", "value": "text/plain"}}, "body": []byte("nope")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := guest.ParseHTTPResponse(b)
	if err != nil || r.Status != 404 || string(r.Body) != "nope" || len(r.Headers) != 1 || r.Headers[0].Value != "text/plain" {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range [][]byte{nil, b[:len(b)-1], append(append([]byte{}, b...), 0)} {
		if _, err := guest.ParseHTTPResponse(bad); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
}

func TestHTTPSendOutsideWasm(t *testing.T) {
	if _, err := guest.HTTPSend(guest.HTTPRequest{}); !errors.Is(err, guest.ErrNotWasm) {
		t.Fatal(err)
	}
}

// FuzzParseHTTPResponse: the SDK's decoder never panics and accepts only
// what the codec accepts as an http-client.response.
func FuzzParseHTTPResponse(f *testing.F) {
	typ := httpType(f, "response")
	b, _ := codec.Marshal(typ, map[string]any{"status": uint16(200), "headers": []any{}, "body": []byte("x")})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := guest.ParseHTTPResponse(data); err == nil {
			if err := codec.Validate(typ, data); err != nil {
				t.Fatalf("%x accepted, codec says %v", data, err)
			}
		}
	})
}
