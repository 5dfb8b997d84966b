package guest

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// TestUintSmallest checks that every uint is written in its smallest
// encoding (what makes states byte-identical across guest languages) and
// reads back.
func TestUintSmallest(t *testing.T) {
	for _, c := range []struct {
		v    uint64
		want []byte
	}{
		{0, []byte{0}},
		{127, []byte{0x7f}},
		{128, []byte{0xcc, 0x80}},
		{255, []byte{0xcc, 0xff}},
		{256, []byte{0xcd, 1, 0}},
		{math.MaxUint16 + 1, []byte{0xce, 0, 1, 0, 0}},
		{math.MaxUint32 + 1, []byte{0xcf, 0, 0, 0, 1, 0, 0, 0, 0}},
		{math.MaxUint64, []byte{0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	} {
		got := AppendUint(nil, c.v)
		if !bytes.Equal(got, c.want) {
			t.Errorf("AppendUint(%d) = %x, want %x", c.v, got, c.want)
		}
		v, rest, err := ReadUint(got)
		if err != nil || v != c.v || len(rest) != 0 {
			t.Errorf("ReadUint(%x) = %d, %x, %v", got, v, rest, err)
		}
	}
}

// TestReadUintLonger checks that decoders accept non-smallest encodings
// and reject what is not a uint.
func TestReadUintLonger(t *testing.T) {
	for _, b := range [][]byte{{0xcc, 5}, {0xcd, 0, 5}, {0xce, 0, 0, 0, 5}, {0xcf, 0, 0, 0, 0, 0, 0, 0, 5}} {
		if v, _, err := ReadUint(b); err != nil || v != 5 {
			t.Errorf("ReadUint(%x) = %d, %v", b, v, err)
		}
	}
	for _, b := range [][]byte{nil, {0xff}, {0xc0}, {0xa1, 'x'}, {0xcd, 1}, {0xd0, 5}} {
		if _, _, err := ReadUint(b); err == nil {
			t.Errorf("ReadUint(%x): no error", b)
		}
	}
}

func TestInt(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, -1, -32, -33, -128, -129, math.MinInt16 - 1, math.MinInt32 - 1, math.MinInt64, math.MaxInt64} {
		b := AppendInt(nil, v)
		got, rest, err := ReadInt(b)
		if err != nil || got != v || len(rest) != 0 {
			t.Errorf("ReadInt(AppendInt(%d) = %x) = %d, %v", v, b, got, err)
		}
	}
	if b := AppendInt(nil, -1); !bytes.Equal(b, []byte{0xff}) {
		t.Errorf("AppendInt(-1) = %x", b)
	}
}

func TestStringBytesHeaders(t *testing.T) {
	for _, n := range []int{0, 31, 32, 255, 256, 70000} {
		s := strings.Repeat("a", n)
		b := AppendString(nil, s)
		got, rest, err := ReadString(b)
		if err != nil || got != s || len(rest) != 0 {
			t.Errorf("string of %d: %v", n, err)
		}
		raw := []byte(s)
		b = AppendBytes(nil, raw)
		gotb, rest, err := ReadBytes(b)
		if err != nil || !bytes.Equal(gotb, raw) || len(rest) != 0 {
			t.Errorf("bin of %d: %v", n, err)
		}
		for _, hdr := range []struct {
			app  func([]byte, int) []byte
			read func([]byte) (int, []byte, error)
		}{{AppendArrayHeader, ReadArrayHeader}, {AppendMapHeader, ReadMapHeader}} {
			m, rest, err := hdr.read(hdr.app(nil, n))
			if err != nil || m != n || len(rest) != 0 {
				t.Errorf("header %d: got %d, %v", n, m, err)
			}
		}
	}
	if b := AppendString(nil, "ab"); !bytes.Equal(b, []byte{0xa2, 'a', 'b'}) {
		t.Errorf("AppendString(ab) = %x", b)
	}
	if _, _, err := ReadString([]byte{0xa5, 'a'}); err == nil {
		t.Error("short str: no error")
	}
	if _, _, err := ReadBytes([]byte{0xc4, 3, 1}); err == nil {
		t.Error("short bin: no error")
	}
}

func TestMessageError(t *testing.T) {
	b := AppendString(AppendMapHeader(nil, 1), "unknown-actor")
	b = AppendString(b, "bob")
	if err := decodeMessageError(b); err.Error() != "theater: unknown-actor: bob" {
		t.Errorf("got %v", err)
	}
	b = AppendNil(AppendString(AppendMapHeader(nil, 1), "timeout"))
	if err := decodeMessageError(b); err.Error() != "theater: timeout" {
		t.Errorf("got %v", err)
	}
	b = AppendUint(AppendString(AppendMapHeader(nil, 1), "too-large"), 1<<20)
	if err := decodeMessageError(b); err.Error() != "theater: too-large: 1048576" {
		t.Errorf("got %v", err)
	}
}

// TestCanonicalScalars checks the encodings the codec's canonical form
// prescribes: non-negative ints as uints, floats at their width, one NaN,
// -0 kept.
func TestCanonicalScalars(t *testing.T) {
	for _, c := range []struct {
		got, want []byte
	}{
		{AppendInt(nil, 200), []byte{0xcc, 0xc8}},
		{AppendInt(nil, -33), []byte{0xd0, 0xdf}},
		{AppendFloat32(nil, 1.5), []byte{0xca, 0x3f, 0xc0, 0, 0}},
		{AppendFloat32(nil, float32(math.Copysign(0, -1))), []byte{0xca, 0x80, 0, 0, 0}},
		{AppendFloat32(nil, math.Float32frombits(0xffc00001)), []byte{0xca, 0x7f, 0xc0, 0, 0}},
		{AppendFloat64(nil, 0.1), []byte{0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a}},
		{AppendFloat64(nil, math.NaN()), []byte{0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0}},
		{AppendFloat64(nil, math.Inf(-1)), []byte{0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0}},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("got %x, want %x", c.got, c.want)
		}
	}
	for _, b := range [][]byte{AppendFloat32(nil, 2.5), AppendFloat64(nil, 2.5)} {
		if v, rest, err := ReadFloat64(b); err != nil || v != 2.5 || len(rest) != 0 {
			t.Errorf("ReadFloat64(%x) = %v, %x, %v", b, v, rest, err)
		}
	}
	if _, _, err := ReadFloat64([]byte{0xcb, 0}); err == nil {
		t.Error("ReadFloat64 of a truncated float: no error")
	}
}
