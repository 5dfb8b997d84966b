package codec

import (
	"math"

	"github.com/theater-go/theater/wit"
)

// describe names type t in "expected ..." messages.
func describe(t wit.Type) string {
	t = wit.Underlying(t)
	d, ok := t.(*wit.TypeDef)
	if !ok {
		return t.String()
	}
	named := func(kind string) string {
		if d.Name == "" {
			return kind
		}
		return kind + " " + d.Name
	}
	switch k := d.Kind.(type) {
	case *wit.Record:
		return named("record")
	case *wit.Variant:
		return named("variant")
	case *wit.Enum:
		return named("enum")
	case *wit.Flags:
		return named("flags")
	case *wit.Resource:
		return "handle own<" + d.Name + ">"
	case *wit.Handle:
		if k.Borrow {
			return "handle borrow<" + k.Resource.Name + ">"
		}
		return "handle own<" + k.Resource.Name + ">"
	}
	return d.String()
}

// intRange is the inclusive range of an integer primitive.
func intRange(p wit.Primitive) (lo int64, hi uint64) {
	switch p {
	case wit.U8:
		return 0, math.MaxUint8
	case wit.U16:
		return 0, math.MaxUint16
	case wit.U32:
		return 0, math.MaxUint32
	case wit.U64:
		return 0, math.MaxUint64
	case wit.S8:
		return math.MinInt8, math.MaxInt8
	case wit.S16:
		return math.MinInt16, math.MaxInt16
	case wit.S32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func isInt(p wit.Primitive) bool { return p >= wit.U8 && p <= wit.S64 }

// integer is any msgpack, JSON or Go integer: i, or u when big (a value
// above math.MaxInt64, which only u64 accepts).
type integer struct {
	i   int64
	u   uint64
	big bool
}

func (n integer) fits(p wit.Primitive) bool {
	lo, hi := intRange(p)
	if n.big {
		return n.u <= hi
	}
	return n.i >= lo && (n.i < 0 || uint64(n.i) <= hi)
}

// float converts n to a float of the given bit size, reporting whether
// that is exact: floats accept integers only when nothing is lost.
func (n integer) float(bits int) (float64, bool) {
	if n.big {
		f := float64(n.u)
		if bits == 32 {
			f = float64(float32(f))
		}
		return f, f < 1<<64 && uint64(f) == n.u
	}
	f := float64(n.i)
	if bits == 32 {
		f = float64(float32(f))
	}
	return f, f >= -1<<63 && f < 1<<63 && int64(f) == n.i
}

// fitsF32 reports whether f64 is exactly a float32 (NaN and the infinities
// count: they have no payload worth keeping).
func fitsF32(f float64) bool { return math.IsNaN(f) || float64(float32(f)) == f }

// isOption reports whether t is an option; option<option<T>> is rejected
// because none and some(none) would both be nil.
func isOption(t wit.Type) bool {
	d, ok := wit.Underlying(t).(*wit.TypeDef)
	if !ok {
		return false
	}
	_, ok = d.Kind.(*wit.Option)
	return ok
}

func nestedOption(t wit.Type) error {
	return unsupported(t.String() + " is not supported: none and some(none) would both be nil")
}

func notCarried(t wit.Type) error {
	return unsupported(t.String() + " cannot be carried in a message")
}

// checkKey reports whether t may key a map: its values must have a
// canonical JSON object key spelling.
func checkKey(t wit.Type) error {
	switch u := wit.Underlying(t).(type) {
	case wit.Primitive:
		if u == wit.Bool || isInt(u) || u == wit.Char || u == wit.String {
			return nil
		}
	case *wit.TypeDef:
		if _, ok := u.Kind.(*wit.Enum); ok {
			return nil
		}
	}
	return unsupported("map key type " + t.String() + " is not supported")
}

// CheckType reports whether every value of t can be carried: it rejects
// future, stream, error-context, option<option<T>> and unsupported map key
// types anywhere in t. The conversions check only the parts of t that a
// value actually reaches, so callers that want to reject a type up front,
// such as a function signature, call CheckType.
func CheckType(t wit.Type) error {
	return finish(checkType(t, 0))
}

func checkType(t wit.Type, depth int) error {
	if depth > 1000 { // resolution rejects cycles; the cap is defensive
		return unsupported("type nests too deeply")
	}
	depth++
	u := wit.Underlying(t)
	d, ok := u.(*wit.TypeDef)
	if !ok {
		if u == wit.ErrorContext {
			return notCarried(t)
		}
		return nil
	}
	switch k := d.Kind.(type) {
	case *wit.Record:
		for _, f := range k.Fields {
			if err := checkType(f.Type, depth); err != nil {
				return atName(err, f.Name)
			}
		}
	case *wit.Variant:
		for _, c := range k.Cases {
			if c.Type == nil {
				continue
			}
			if err := checkType(c.Type, depth); err != nil {
				return atName(err, c.Name)
			}
		}
	case *wit.Option:
		if isOption(k.Type) {
			return nestedOption(d)
		}
		return checkType(k.Type, depth)
	case *wit.Result:
		if k.OK != nil {
			if err := checkType(k.OK, depth); err != nil {
				return atName(err, "ok")
			}
		}
		if k.Err != nil {
			if err := checkType(k.Err, depth); err != nil {
				return atName(err, "err")
			}
		}
	case *wit.Tuple:
		for i, e := range k.Types {
			if err := checkType(e, depth); err != nil {
				return atIndex(err, i)
			}
		}
	case *wit.List:
		return checkType(k.Elem, depth)
	case *wit.FixedList:
		return checkType(k.Elem, depth)
	case *wit.Map:
		if err := checkKey(k.Key); err != nil {
			return err
		}
		return checkType(k.Value, depth)
	case *wit.Future, *wit.Stream:
		return notCarried(d)
	}
	return nil
}

// isU8 reports whether t is u8, for list<u8>'s byte-string encoding.
func isU8(t wit.Type) bool { return wit.Underlying(t) == wit.U8 }

func findField(fs []wit.Field, name []byte, hint int) int {
	if hint < len(fs) && fs[hint].Name == string(name) {
		return hint
	}
	for i := range fs {
		if fs[i].Name == string(name) {
			return i
		}
	}
	return -1
}

func findCase(cs []wit.Case, name []byte) int {
	for i := range cs {
		if cs[i].Name == string(name) {
			return i
		}
	}
	return -1
}

func findEnum(cs []wit.EnumCase, name []byte) int {
	for i := range cs {
		if cs[i].Name == string(name) {
			return i
		}
	}
	return -1
}

func findFlag(fs []wit.Flag, name []byte) int {
	for i := range fs {
		if fs[i].Name == string(name) {
			return i
		}
	}
	return -1
}

// bitset tracks which record fields or flags were seen; it only
// allocates for types with more than 64 members.
type bitset struct {
	small uint64
	large []bool
}

func newBitset(n int) bitset {
	if n > 64 {
		return bitset{large: make([]bool, n)}
	}
	return bitset{}
}

// set marks i and reports whether it was already marked.
func (s *bitset) set(i int) bool {
	if s.large != nil {
		was := s.large[i]
		s.large[i] = true
		return was
	}
	was := s.small&(1<<uint(i)) != 0
	s.small |= 1 << uint(i)
	return was
}

func (s *bitset) has(i int) bool {
	if s.large != nil {
		return s.large[i]
	}
	return s.small&(1<<uint(i)) != 0
}
