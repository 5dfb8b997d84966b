package wasm

import (
	"fmt"
	"unicode/utf8"
)

// reader reads the binary format from a byte slice. Every read checks the
// remaining length first, so a hostile count can never make it allocate
// more than the input holds.
type reader struct {
	b   []byte
	off int
}

func (r *reader) eof() bool { return r.off >= len(r.b) }

func (r *reader) errf(format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrMalformed, r.off, fmt.Sprintf(format, args...))
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.errf("unexpected end")
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(len(r.b)-r.off) {
		return nil, r.errf("%d bytes declared, %d left", n, len(r.b)-r.off)
	}
	s := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

func (r *reader) u32() (uint32, error) {
	v, n, ok := readU32(r.b[r.off:])
	if !ok {
		return 0, r.errf("bad u32")
	}
	r.off += n
	return v, nil
}

// count reads a vector length and checks that at least min bytes per
// element are left, the smallest encoding of one element.
func (r *reader) count(min int) (uint32, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(min) > uint64(len(r.b)-r.off) {
		return 0, r.errf("%d elements declared, only %d bytes left", n, len(r.b)-r.off)
	}
	return n, nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", r.errf("name is not UTF-8")
	}
	return string(b), nil
}

// readU32 decodes an unsigned LEB128 of at most 5 bytes.
func readU32(b []byte) (v uint32, n int, ok bool) {
	var shift uint
	for n < len(b) && n < 5 {
		c := b[n]
		n++
		if n == 5 && c > 0x0f {
			return 0, 0, false
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, n, true
		}
		shift += 7
	}
	return 0, 0, false
}

// skipSLEB skips a signed LEB128 of at most max bytes (5 for s32/s33, 10 for
// s64), checking that the unused bits of the last byte are a sign extension.
func skipSLEB(b []byte, max int, bits uint) (int, bool) {
	for n := 0; n < len(b) && n < max; n++ {
		c := b[n]
		if c&0x80 == 0 {
			if n == max-1 {
				// The last byte holds bits-7*(max-1) value bits; the rest
				// of it, bit 6 included, must repeat the sign.
				used := bits - 7*uint(max-1)
				rest := c >> (used - 1) & (0x7f >> (used - 1))
				if rest != 0 && rest != 0x7f>>(used-1) {
					return 0, false
				}
			}
			return n + 1, true
		}
	}
	return 0, false
}

// readS33 decodes a signed LEB128 block type index.
func readS33(b []byte) (v int64, n int, ok bool) {
	var shift uint
	for n < len(b) && n < 5 {
		c := b[n]
		n++
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if c&0x40 != 0 {
				v |= -1 << shift
			}
			if n == 5 && (v < -1<<32 || v >= 1<<32) {
				return 0, 0, false
			}
			return v, n, true
		}
	}
	return 0, 0, false
}

// AppendU32 appends v as an unsigned LEB128.
func AppendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendS64 appends v as a signed LEB128.
func AppendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	b = AppendU32(b, uint32(len(s)))
	return append(b, s...)
}
