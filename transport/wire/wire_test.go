package wire_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/wire"
	"github.com/theater-go/theater/wit"
)

var allSentinels = []error{wire.ErrInvalidID, wire.ErrUnknownActor, wire.ErrStopped, wire.ErrExists,
	wire.ErrBadMsgpack, wire.ErrBadJSON, wire.ErrBadType, wire.ErrTooLarge, wire.ErrBadManifest,
	wire.ErrRefused, wire.ErrFailed, wire.ErrMailboxFull, wire.ErrUnavailable, wire.ErrTypesChanged, wire.ErrInternal,
	wire.ErrBadHeader, wire.ErrContentType}

// TestCodesRoundTrip: every sentinel has a code, and a RemoteError with
// that code unwraps to the same sentinel and to no other.
func TestCodesRoundTrip(t *testing.T) {
	for _, s := range allSentinels {
		code, status := wire.CodeOf(fmt.Errorf("%w: detail", s))
		if code == "" || status == "" {
			t.Fatalf("%v: no code", s)
		}
		re := &wire.RemoteError{Code: code, Msg: "remote"}
		for _, other := range allSentinels {
			if got := errors.Is(re, other); got != (other == s) {
				t.Errorf("RemoteError{%s} matches %v: %v", code, other, got)
			}
		}
	}
	if !errors.Is(&wire.RemoteError{Code: "from_the_future"}, wire.ErrInternal) {
		t.Error("an unknown code does not unwrap to ErrInternal")
	}
	if code, _ := wire.CodeOf(errors.New("plain")); code != wire.CodeInternal {
		t.Errorf("plain error code %q", code)
	}
}

func u32(t *testing.T) wit.Type {
	t.Helper()
	ts, err := wire.LoadTypes(&manifest.Manifest{Name: "x", Types: manifest.Types{Request: "u32"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ts.Request
}

// TestCheckPayload: each kind of bad input gets its own sentinel; good
// JSON becomes msgpack.
func TestCheckPayload(t *testing.T) {
	ty := u32(t)
	for _, tc := range []struct {
		data  string
		enc   wire.Encoding
		limit int
		want  error
		out   string
	}{
		{"7", wire.JSON, 0, nil, "\x07"},
		{"\x07", wire.Msgpack, 0, nil, "\x07"},
		{"\xc1", wire.Msgpack, 0, wire.ErrBadMsgpack, ""},
		{"\xa3ten", wire.Msgpack, 0, wire.ErrBadType, ""},
		{`"ten"`, wire.JSON, 0, wire.ErrBadType, ""},
		{`{`, wire.JSON, 0, wire.ErrBadJSON, ""},
		{"12345", wire.JSON, 2, wire.ErrTooLarge, ""},
	} {
		out, err := wire.CheckPayload([]byte(tc.data), tc.enc, ty, tc.limit)
		if tc.want == nil && (err != nil || string(out) != tc.out) || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("CheckPayload(%q, %v) = %x, %v; want %x, %v", tc.data, tc.enc, out, err, tc.out, tc.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "theater: ") {
			t.Errorf("error %q does not start with theater:", err)
		}
	}
}

// FuzzCheckPayload: any bytes in either encoding are accepted as a valid
// u32 or refused with one of the input sentinels, never a panic or an
// internal error.
func FuzzCheckPayload(f *testing.F) {
	for _, s := range []string{"7", "\x07", "\xc1", `"ten"`, "{", "\xce\xff\xff\xff\xff", "4294967296"} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	ty := u32(&testing.T{})
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		enc := wire.Msgpack
		if asJSON {
			enc = wire.JSON
		}
		_, err := wire.CheckPayload(data, enc, ty, 64)
		if err == nil {
			return
		}
		for _, s := range []error{wire.ErrBadMsgpack, wire.ErrBadJSON, wire.ErrBadType, wire.ErrTooLarge} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("CheckPayload(%q, %v): unclassified error %v", data, enc, err)
	})
}
