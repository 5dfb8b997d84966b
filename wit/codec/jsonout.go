package codec

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendJSONString appends s, which must be valid UTF-8, as a JSON string.
// Only what JSON requires is escaped, so output stays readable.
func appendJSONString(out []byte, s []byte) []byte {
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

// appendJSONFloat appends f as the shortest JSON number that parses back
// to the same float of the given bit size. JSON has no NaN or infinities,
// so those become the strings "NaN", "Infinity" and "-Infinity", which
// FromJSON accepts back.
func appendJSONFloat(out []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(out, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(out, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(out, `"-Infinity"`...)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e' // as JavaScript does, to keep huge and tiny numbers short
	}
	return strconv.AppendFloat(out, f, format, -1, bits)
}

// validChar reports whether s is exactly one Unicode scalar value.
func validChar(s []byte) bool {
	r, n := utf8.DecodeRune(s)
	return n == len(s) && n > 0 && (r != utf8.RuneError || n == 3)
}
