package codec

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"strconv"

	"github.com/theater-go/theater/wit"
	"github.com/tinylib/msgp/msgp"
)

// Canonical validates data as one msgpack value of type t, as [Validate]
// does, and returns its canonical encoding (docs/WIT-MSGPACK.md,
// "Canonical form"): the one byte string every writer produces for the
// value, and the bytes the chain hashes. When data is already canonical,
// Canonical allocates nothing and returns data itself, so callers that
// keep the result must not modify data afterwards. Canonical is
// idempotent: Canonical(t, Canonical(t, x)) is Canonical(t, x).
func Canonical(t wit.Type, data []byte) ([]byte, error) { return Codec{}.Canonical(t, data) }

// Canonical is [Canonical] under c's limits.
func (c Codec) Canonical(t wit.Type, data []byte) ([]byte, error) {
	return c.canonical(t, data, false)
}

// canonical runs the walker in modeCanonical. fromGo accepts what
// msgpack/v5 writes for Go values that the wire does not allow: a rune
// (an integer) for a char, nil for an empty list, flags or map.
func (c Codec) canonical(t wit.Type, data []byte, fromGo bool) ([]byte, error) {
	d := decoder{b: data, lim: c.limits(), mode: modeCanonical, fromGo: fromGo}
	if _, err := d.top(t); err != nil {
		return nil, err
	}
	if d.canon == nil {
		return data, nil
	}
	return d.canon, nil
}

// The one NaN of each float type: positive, quiet, no payload (the
// canonical NaN of WebAssembly, so guests produce it natively).
const (
	canonNaN32 = 0x7fc00000
	canonNaN64 = 0x7ff8000000000000
)

// appendInt writes n in its smallest encoding by value: non-negative
// values as positive fixint or uint8..uint64, negative values as negative
// fixint or int8..int64. The WIT type does not matter.
func appendInt(out []byte, n integer) []byte {
	switch {
	case n.big:
		return msgp.AppendUint64(out, n.u)
	case n.i >= 0:
		return msgp.AppendUint64(out, uint64(n.i))
	}
	return msgp.AppendInt64(out, n.i)
}

// appendFloat writes f as float32 (bits 32) or float64, NaN as the
// canonical NaN.
func appendFloat(out []byte, f float64, bits int) []byte {
	if bits == 32 {
		u := math.Float32bits(float32(f))
		if f != f {
			u = canonNaN32
		}
		return binary.BigEndian.AppendUint32(append(out, 0xca), u)
	}
	u := math.Float64bits(f)
	if f != f {
		u = canonNaN64
	}
	return binary.BigEndian.AppendUint64(append(out, 0xcb), u)
}

// Header families, for the length of a header's smallest form.
const (
	famStr = iota
	famBin
	famSeq // array and map
)

// headerLen is the length of the smallest header of family fam for n.
// Each form of a family has its own length, so a header of that length
// is the smallest one.
func headerLen(fam int, n int) int {
	switch fam {
	case famStr:
		switch {
		case n < 32:
			return 1
		case n <= math.MaxUint8:
			return 2
		}
	case famBin:
		if n <= math.MaxUint8 {
			return 2
		}
	case famSeq:
		if n < 16 {
			return 1
		}
	}
	if n <= math.MaxUint16 {
		return 3
	}
	return 5
}

// keyVal is a map key read from msgpack, enough to order and spell it.
type keyVal struct {
	kind uint8 // keyInt, keyBool or keyStr
	n    integer
	s    []byte // keyStr: the string (a char, string or enum case)
}

const (
	keyInt = iota
	keyBool
	keyStr
)

// compare orders keys as the canonical form does: integers by value,
// false before true, strings by their UTF-8 bytes.
func (a keyVal) compare(b keyVal) int {
	if a.kind == keyStr {
		return bytes.Compare(a.s, b.s)
	}
	return compareInteger(a.n, b.n)
}

func compareInteger(a, b integer) int {
	switch {
	case a.big && b.big:
		return cmp.Compare(a.u, b.u)
	case a.big:
		return 1
	case b.big:
		return -1
	}
	return cmp.Compare(a.i, b.i)
}

// spell appends k's JSON object key spelling to buf (strings are
// returned as they are).
func (k keyVal) spell(buf []byte) []byte {
	switch k.kind {
	case keyStr:
		return k.s
	case keyBool:
		return strconv.AppendBool(buf, k.n.i == 1)
	}
	return appendInteger(buf, k.n)
}

// readKeyVal reads back a key that a writer of this package wrote, for
// ordering the entries of a map; kt has passed checkKey.
func readKeyVal(kt wit.Type, b []byte) keyVal {
	if p, ok := wit.Underlying(kt).(wit.Primitive); ok && p != wit.Char && p != wit.String {
		if p == wit.Bool {
			v, _, _ := msgp.ReadBoolBytes(b)
			k := keyVal{kind: keyBool}
			if v {
				k.n.i = 1
			}
			return k
		}
		n, _, _ := readInteger(b)
		return keyVal{kind: keyInt, n: n}
	}
	s, _, _ := msgp.ReadStringZC(b)
	return keyVal{kind: keyStr, s: s}
}
