package codec

import (
	"strconv"

	"github.com/theater-go/theater/wit"
)

// Limits bounds the work a [Codec] does for one call, so that hostile
// input cannot exhaust memory or stack.
type Limits struct {
	// MaxDepth is the deepest nesting of composite values (records,
	// variants, results, tuples, lists, maps) accepted.
	MaxDepth int
	// MaxBytes caps the size of every input and every output. Unmarshal
	// caps the estimated heap size of the Go value it builds at four
	// times MaxBytes instead, since Go values are larger than msgpack.
	MaxBytes int
}

// DefaultLimits are the limits of the package-level functions and of any
// zero field of [Codec.Limits].
var DefaultLimits = Limits{MaxDepth: 64, MaxBytes: 16 << 20}

// Codec converts values under explicit [Limits]. The zero value uses
// [DefaultLimits]; its methods mirror the package-level functions and are
// safe for concurrent use.
type Codec struct {
	Limits Limits
}

func (c Codec) limits() Limits {
	l := c.Limits
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	return l
}

// Variant is the Go value of a WIT variant: the case name and its payload
// (nil when the case has none).
type Variant struct {
	Case  string
	Value any
}

// Result is the Go value of a WIT result: Value is the ok or the error
// payload (nil when that side has no type), and IsErr says which.
type Result struct {
	Value any
	IsErr bool
}

// Ok returns the ok result carrying v.
func Ok(v any) Result { return Result{Value: v} }

// Err returns the error result carrying e.
func Err(e any) Result { return Result{Value: e, IsErr: true} }

// Map is the Go value of a WIT map<K, V>: its entries in wire order. A
// slice rather than a Go map keeps the order and allows keys that Go maps
// compare differently from WIT (none today, but floats would).
type Map []MapEntry

// MapEntry is one key/value pair of a [Map].
type MapEntry struct {
	Key, Value any
}

// Validate reports whether data is exactly one msgpack value of type t.
func Validate(t wit.Type, data []byte) error { return Codec{}.Validate(t, data) }

// FromJSON converts the JSON value js of type t to msgpack, validating it
// on the way.
func FromJSON(t wit.Type, js []byte) ([]byte, error) { return Codec{}.FromJSON(t, js) }

// ToJSON converts the msgpack value data of type t to compact JSON,
// validating it on the way.
func ToJSON(t wit.Type, data []byte) ([]byte, error) { return Codec{}.ToJSON(t, data) }

// Marshal encodes the Go value v with msgpack/v5 and returns it as the
// canonical msgpack of type t, failing if it does not fit t. See the
// package documentation for the Go values of each WIT type.
func Marshal(t wit.Type, v any) ([]byte, error) { return Codec{}.Marshal(t, v) }

// Decode validates data as msgpack of type t and decodes it with
// msgpack/v5 into out, a non-nil pointer (to a struct for a record, say).
// out's structs need a field for every field of the record: one that out
// has no place for is an error before anything is read. A value that
// out's Go type cannot hold exactly is an error wrapping [ErrGoType],
// never a wrapped or rounded number; see the package documentation.
func Decode(t wit.Type, data []byte, out any) error { return Codec{}.Decode(t, data, out) }

// Unmarshal decodes the msgpack value data of type t into the generic Go
// value of the package documentation, without a Go type to decode into.
func Unmarshal(t wit.Type, data []byte) (any, error) { return Codec{}.Unmarshal(t, data) }

// Validate is [Validate] under c's limits.
func (c Codec) Validate(t wit.Type, data []byte) error {
	d := decoder{b: data, lim: c.limits()}
	_, err := d.top(t)
	return err
}

// ToJSON is [ToJSON] under c's limits.
func (c Codec) ToJSON(t wit.Type, data []byte) ([]byte, error) {
	d := decoder{b: data, lim: c.limits(), mode: modeJSON}
	d.out = make([]byte, 0, min(2*len(data)+16, d.lim.MaxBytes))
	if _, err := d.top(t); err != nil {
		return nil, err
	}
	return d.out, nil
}

// Unmarshal is [Unmarshal] under c's limits.
func (c Codec) Unmarshal(t wit.Type, data []byte) (any, error) {
	d := decoder{b: data, lim: c.limits(), mode: modeValue}
	d.budget = 4 * d.lim.MaxBytes
	return d.top(t)
}

// FromJSON is [FromJSON] under c's limits.
func (c Codec) FromJSON(t wit.Type, js []byte) ([]byte, error) {
	p := jsonReader{in: js, lim: c.limits()}
	return p.top(t)
}

// enter checks the nesting depth of a composite value at depth (0 for the
// top level).
func enter(lim Limits, depth int) error {
	if depth >= lim.MaxDepth {
		return newError(ErrLimit, "nesting exceeds depth limit of "+strconv.Itoa(lim.MaxDepth))
	}
	return nil
}

func checkIn(lim Limits, n int) error {
	if n > lim.MaxBytes {
		return newError(ErrLimit, "input of "+strconv.Itoa(n)+" bytes exceeds limit of "+strconv.Itoa(lim.MaxBytes))
	}
	return nil
}

// checkOut checks an output size; the conversions call it after each
// value, so they overshoot by at most one scalar or string.
func checkOut(lim Limits, n int) error {
	if n > lim.MaxBytes {
		return newError(ErrLimit, "output exceeds limit of "+strconv.Itoa(lim.MaxBytes)+" bytes")
	}
	return nil
}
