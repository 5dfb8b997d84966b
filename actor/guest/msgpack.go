package guest

import (
	"encoding/binary"
	"errors"
	"math"
)

// A small msgpack codec for the types actors use most. Encoders write the
// canonical form of docs/WIT-MSGPACK.md, so the same value gives the same
// bytes in every guest language and in the host's codec (state hashes in
// the chain depend on it); decoders accept every encoding of the type.
// Each Read function returns the rest of the input after the value.

// ErrMsgpack is returned (wrapped) when bytes are not the expected value.
var ErrMsgpack = errors.New("msgpack: unexpected value")

const mpNil = 0xc0

// AppendNil appends msgpack nil.
func AppendNil(b []byte) []byte { return append(b, mpNil) }

// AppendBool appends a msgpack bool.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

// AppendUint appends v in its smallest msgpack encoding.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}

// AppendInt appends v in its smallest msgpack encoding by value:
// non-negative values as [AppendUint] writes them, negative ones as
// negative fixint or int8..int64. That is the canonical form of every WIT
// integer type, signed or not.
func AppendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0:
		return AppendUint(b, uint64(v))
	case v >= -32:
		return append(b, byte(v))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

// The canonical NaNs: positive, quiet, no payload.
const (
	nan32 = 0x7fc00000
	nan64 = 0x7ff8000000000000
)

// AppendFloat32 appends a WIT f32: always msgpack float32, any NaN as
// the one canonical NaN, -0 kept.
func AppendFloat32(b []byte, v float32) []byte {
	u := math.Float32bits(v)
	if v != v {
		u = nan32
	}
	return binary.BigEndian.AppendUint32(append(b, 0xca), u)
}

// AppendFloat64 appends a WIT f64: always msgpack float64, any NaN as
// the one canonical NaN, -0 kept.
func AppendFloat64(b []byte, v float64) []byte {
	u := math.Float64bits(v)
	if v != v {
		u = nan64
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcb), u)
}

// ReadFloat64 reads a msgpack float32 or float64 as a float64.
func ReadFloat64(b []byte) (v float64, rest []byte, err error) {
	switch {
	case len(b) >= 5 && b[0] == 0xca:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b[1:]))), b[5:], nil
	case len(b) >= 9 && b[0] == 0xcb:
		return math.Float64frombits(binary.BigEndian.Uint64(b[1:])), b[9:], nil
	}
	return 0, b, ErrMsgpack
}

// AppendString appends a msgpack str.
func AppendString(b []byte, s string) []byte {
	b = appendHeader(b, len(s), 0xa0, 32, 0xd9)
	return append(b, s...)
}

// AppendBytes appends a msgpack bin (the encoding of WIT list<u8>).
func AppendBytes(b, v []byte) []byte {
	n := len(v)
	switch {
	case n <= math.MaxUint8:
		b = append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
	}
	return append(b, v...)
}

// AppendArrayHeader starts an array of n values.
func AppendArrayHeader(b []byte, n int) []byte { return appendHeader(b, n, 0x90, 16, 0xdc) }

// AppendMapHeader starts a map of n key/value pairs. For canonical bytes
// the caller writes a record's fields in WIT declaration order and a WIT
// map's entries in ascending key order (integers by value, strings by
// their bytes, false before true), and flags in declaration order.
func AppendMapHeader(b []byte, n int) []byte { return appendHeader(b, n, 0x80, 16, 0xde) }

// appendHeader writes a str/array/map length: the fix form below fixMax,
// otherwise the 8-bit (str only), 16-bit or 32-bit form. first is the
// smallest non-fix marker: 0xd9 (str8) or 0xdc (array16) / 0xde (map16).
func appendHeader(b []byte, n int, fix byte, fixMax int, first byte) []byte {
	switch {
	case n < fixMax:
		return append(b, fix|byte(n))
	case first == 0xd9 && n <= math.MaxUint8:
		return append(b, 0xd9, byte(n))
	case first == 0xd9:
		first++ // str16
	}
	if n <= math.MaxUint16 {
		return binary.BigEndian.AppendUint16(append(b, first), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, first+1), uint32(n))
}

// ReadUint reads any msgpack uint encoding (and non-negative fixints).
func ReadUint(b []byte) (v uint64, rest []byte, err error) {
	if len(b) == 0 {
		return 0, b, ErrMsgpack
	}
	switch c := b[0]; {
	case c < 0x80:
		return uint64(c), b[1:], nil
	case c >= 0xcc && c <= 0xcf:
		size := 1 << (c - 0xcc) // 1, 2, 4 or 8 bytes
		if len(b) < 1+size {
			return 0, b, ErrMsgpack
		}
		for _, x := range b[1 : 1+size] {
			v = v<<8 | uint64(x)
		}
		return v, b[1+size:], nil
	}
	return 0, b, ErrMsgpack
}

// ReadInt reads any msgpack int or uint encoding that fits an int64.
func ReadInt(b []byte) (v int64, rest []byte, err error) {
	if len(b) == 0 {
		return 0, b, ErrMsgpack
	}
	switch c := b[0]; {
	case c >= 0xe0:
		return int64(int8(c)), b[1:], nil
	case c >= 0xd0 && c <= 0xd3:
		size := 1 << (c - 0xd0)
		if len(b) < 1+size {
			return 0, b, ErrMsgpack
		}
		var u uint64
		for _, x := range b[1 : 1+size] {
			u = u<<8 | uint64(x)
		}
		shift := 64 - 8*size // sign-extend
		return int64(u<<shift) >> shift, b[1+size:], nil
	}
	u, rest, err := ReadUint(b)
	if err != nil || u > math.MaxInt64 {
		return 0, b, ErrMsgpack
	}
	return int64(u), rest, nil
}

// ReadBool reads a msgpack bool.
func ReadBool(b []byte) (v bool, rest []byte, err error) {
	if len(b) == 0 || (b[0] != 0xc2 && b[0] != 0xc3) {
		return false, b, ErrMsgpack
	}
	return b[0] == 0xc3, b[1:], nil
}

// ReadString reads a msgpack str. The result is a copy.
func ReadString(b []byte) (s string, rest []byte, err error) {
	n, body, err := readLen(b, 0xa0, 0xc0, 0xd9)
	if err != nil {
		return "", b, err
	}
	return string(body[:n]), body[n:], nil
}

// ReadBytes reads a msgpack bin. The result aliases b.
func ReadBytes(b []byte) (v, rest []byte, err error) {
	n, body, err := readLen(b, 0, 0, 0xc4)
	if err != nil {
		return nil, b, err
	}
	return body[:n:n], body[n:], nil
}

// ReadArrayHeader reads an array header and returns the element count.
func ReadArrayHeader(b []byte) (n int, rest []byte, err error) {
	return readCount(b, 0x90, 0xdc)
}

// ReadMapHeader reads a map header and returns the number of pairs.
func ReadMapHeader(b []byte) (n int, rest []byte, err error) {
	return readCount(b, 0x80, 0xde)
}

func readCount(b []byte, fix, first byte) (int, []byte, error) {
	if len(b) > 0 && b[0]&0xf0 == fix {
		return int(b[0] & 0x0f), b[1:], nil
	}
	if len(b) == 0 || (b[0] != first && b[0] != first+1) {
		return 0, b, ErrMsgpack
	}
	n, rest, ok := readBE(b[1:], 2<<(b[0]-first))
	if !ok {
		return 0, b, ErrMsgpack
	}
	return n, rest, nil
}

// readLen reads a str or bin header whose body must follow in full:
// fixstr is fix..fixEnd-1 (none when fixEnd is 0), then 8-, 16- and
// 32-bit lengths from marker first on.
func readLen(b []byte, fix, fixEnd, first byte) (int, []byte, error) {
	if len(b) == 0 {
		return 0, b, ErrMsgpack
	}
	var n int
	rest := b[1:]
	switch c := b[0]; {
	case fixEnd != 0 && c >= fix && c < fixEnd:
		n = int(c - fix)
	case c >= first && c <= first+2:
		var ok bool
		if n, rest, ok = readBE(rest, 1<<(c-first)); !ok {
			return 0, b, ErrMsgpack
		}
	default:
		return 0, b, ErrMsgpack
	}
	if n > len(rest) {
		return 0, b, ErrMsgpack
	}
	return n, rest, nil
}

func readBE(b []byte, size int) (int, []byte, bool) {
	if len(b) < size {
		return 0, b, false
	}
	var n uint64
	for _, x := range b[:size] {
		n = n<<8 | uint64(x)
	}
	if n > math.MaxInt32 {
		return 0, b, false
	}
	return int(n), b[size:], true
}
