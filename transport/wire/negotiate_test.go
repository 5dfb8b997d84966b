package wire_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/wire"
)

func TestHeaderEncoding(t *testing.T) {
	for _, tc := range []struct {
		h    nats.Header
		want wire.Encoding
		err  error
	}{
		{nil, wire.Msgpack, nil},
		{nats.Header{"Other": {"x"}}, wire.Msgpack, nil},
		{nats.Header{"Content-Type": {"application/json"}}, wire.JSON, nil},
		{nats.Header{"content-type": {"application/json; charset=utf-8"}}, wire.JSON, nil},
		{nats.Header{"Content-Type": {"Application/JSON;charset=UTF-8"}}, wire.JSON, nil},
		{nats.Header{"Content-Type": {"application/msgpack"}}, wire.Msgpack, nil},
		{nats.Header{"Content-Type": {"application/x-msgpack"}}, wire.Msgpack, nil},
		{nats.Header{"Content-Type": {"application/vnd.msgpack"}}, wire.Msgpack, nil},
		{nats.Header{"Content-Type": {"text/plain"}}, wire.Msgpack, wire.ErrContentType},
		{nats.Header{"Content-Type": {""}}, wire.Msgpack, wire.ErrContentType},
		{nats.Header{"Content-Type": {"application/json; charset=utf-16"}}, wire.Msgpack, wire.ErrContentType},
		{nats.Header{"Content-Type": {"application/json"}, "content-type": {"application/msgpack"}}, wire.Msgpack, wire.ErrContentType},
		{nats.Header{"Content-Type": {"application/json", "application/json; charset=utf-8"}}, wire.JSON, nil},
	} {
		got, err := wire.HeaderEncoding(tc.h)
		if !errors.Is(err, tc.err) || err == nil && got != tc.want {
			t.Errorf("%v: %v %v, want %v %v", tc.h, got, err, tc.want, tc.err)
		}
	}
}

func TestHeaderBroken(t *testing.T) {
	if wire.HeaderBroken(&nats.Msg{Subject: "s", Data: []byte("x")}) {
		t.Error("a message built here is not broken")
	}
	if _, err := wire.MsgEncoding(&nats.Msg{Subject: "s", Header: nats.Header{}, Data: []byte("x")}); err != nil {
		t.Error(err)
	}
}

func TestDecodeStrict(t *testing.T) {
	type inner struct {
		A int `json:"a"`
	}
	type outer struct {
		Inner inner            `json:"inner"`
		List  []inner          `json:"list"`
		Map   map[string]inner `json:"map"`
		Plain string
		Skip  string `json:"-"`
	}
	for in, want := range map[string]string{
		`{"inner":{"a":1},"list":[{"a":1}],"map":{"k":{"a":1}},"Plain":"x"}`: "",
		`{"inner":{"b":1}}`:           "inner.b",
		`{"list":[{"a":1},{"A":1}]}`:  "list[1].A",
		`{"map":{"k":{"z":1}}}`:       "map.k.z",
		`{"plain":"x"}`:               "plain",
		`{"Skip":"x"}`:                "Skip",
		`{"inner":{"a":1},"zz":null}`: "zz",
	} {
		var v outer
		err := wire.DecodeStrict([]byte(in), &v)
		var ke *wire.KeyError
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", in, err)
		case want != "" && (!errors.As(err, &ke) || ke.Key != want || !errors.Is(err, wire.ErrBadJSON)):
			t.Errorf("%s: %v, want unknown key %s", in, err, want)
		}
	}
	var v outer
	if err := wire.DecodeStrict([]byte(`{"inner":{"a":"x"}}`), &v); !errors.Is(err, wire.ErrBadJSON) {
		t.Errorf("wrong type: %v", err)
	}
	if err := wire.DecodeStrict([]byte(`{} {}`), &v); !errors.Is(err, wire.ErrBadJSON) {
		t.Errorf("trailing data: %v", err)
	}
}

// TestDecodeSpawnRequest: a misspelt limit is a manifest error named by
// its path in the manifest, as the TOML loader names it; a full
// manifest written by encoding/json decodes back to itself.
func TestDecodeSpawnRequest(t *testing.T) {
	_, err := wire.DecodeSpawnRequest([]byte(`{"id":"x","manifest":{"name":"n","module":"sha256:00","limits":{"memry_pages":1}}}`))
	if !errors.Is(err, wire.ErrBadManifest) || !strings.Contains(err.Error(), `unknown key "limits.memry_pages"`) {
		t.Fatalf("got %v", err)
	}
	m, err := manifest.Load("../../examples/counter/counter.toml")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(wire.SpawnRequest{ID: "x", Manifest: *m})
	r, err := wire.DecodeSpawnRequest(b)
	if err != nil || !reflect.DeepEqual(r.Manifest, *m) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, r.Manifest, *m)
	}
}

// FuzzContentType: ParseContentType never panics and reads a value the
// same whatever the case of its media type.
func FuzzContentType(f *testing.F) {
	for _, s := range []string{"application/json", "APPLICATION/JSON; charset=utf-8", "application/msgpack", "text/plain", "", ";", "application/json; charset=\"", "a/b; c=d; c=e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc, err := wire.ParseContentType(s)
		if err != nil && !errors.Is(err, wire.ErrContentType) {
			t.Fatalf("%q: %v wraps no sentinel", s, err)
		}
		mt, params, _ := strings.Cut(s, ";")
		enc2, err2 := wire.ParseContentType(strings.ToUpper(mt) + ";" + params)
		if !strings.Contains(s, ";") {
			enc2, err2 = wire.ParseContentType(strings.ToUpper(mt))
		}
		if (err == nil) != (err2 == nil) || err == nil && enc != enc2 {
			t.Fatalf("%q: %v %v; upper-cased: %v %v", s, enc, err, enc2, err2)
		}
	})
}

// FuzzDecodeStrict: DecodeStrict never panics, and what it accepts
// encoding/json accepts too, with unknown fields disallowed, to the
// same value.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{
		`{"id":"x","manifest":{"name":"n","module":"sha256:00","limits":{"memory_pages":1}}}`,
		`{"id":"x","manifest":{"limits":{"memry_pages":1}}}`,
		`{"manifest":{"capabilities":{"http":{"hosts":["a"]}},"supervision":{"backoff":{"initial":"1s"}}}}`,
		`{"manifest":{"state":{"initial_base64":"AAA="}}}`, `[]`, `null`, `{"id":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a, b wire.SpawnRequest
		err := wire.DecodeStrict(data, &a)
		if err != nil {
			if !errors.Is(err, wire.ErrBadJSON) {
				t.Fatalf("%v wraps no sentinel", err)
			}
			return
		}
		d := json.NewDecoder(strings.NewReader(string(data)))
		d.DisallowUnknownFields()
		if err := d.Decode(&b); err != nil {
			t.Fatalf("DecodeStrict took %q, encoding/json: %v", data, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%q: %+v != %+v", data, a, b)
		}
	})
}

// BenchmarkContentType compares reading the encoding of a request by
// the HTTP rules (HeaderEncoding) with the exact-match lookup it
// replaced, on the request hot path's usual headers.
func BenchmarkContentType(b *testing.B) {
	for _, tc := range []struct {
		name string
		h    nats.Header
	}{
		{"msgpack", nats.Header{"Theater-Deadline": {"1767225600000"}, "Theater-Types": {"0123456789abcdef"}}},
		{"json", nats.Header{"Theater-Deadline": {"1767225600000"}, "Content-Type": {"application/json"}}},
	} {
		b.Run("exact/"+tc.name, func(b *testing.B) {
			for b.Loop() {
				if tc.h.Get(wire.ContentTypeHeader) == wire.ContentJSON {
					_ = wire.JSON
				}
			}
		})
		b.Run("negotiate/"+tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := wire.HeaderEncoding(tc.h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
