// Package codec is the one implementation of the mapping between WIT
// values and their msgpack (wire) and JSON (human) spellings. Every actor
// message is a msgpack value typed by a [wit.Type]; this package checks
// such values ([Validate]), converts them to and from JSON ([ToJSON],
// [FromJSON]) and to and from Go values ([Unmarshal], [Marshal]).
//
// docs/WIT-MSGPACK.md in the repository has the same mapping with an
// example of every type and the reasons behind each decision.
//
// # The mapping
//
// JSON mirrors msgpack shape for shape:
//
//   - bool: bool.
//   - u8 … u64, s8 … s64: integers. Any msgpack integer encoding is
//     accepted if the value fits; floats are not. Writers use the smallest
//     encoding (unsigned for u types, signed for s types). JSON integers
//     must be integer literals: 1.0 and 1e3 are rejected.
//   - f32, f64: floats; f32 is written as float32, f64 as float64. Reading
//     msgpack accepts float32, float64 and integers when the value is exact
//     in the type. JSON numbers round to the nearest value; NaN and the
//     infinities are the JSON strings "NaN", "Infinity" and "-Infinity".
//   - char: a string of exactly one Unicode scalar value. string: a
//     string of valid UTF-8.
//   - record: a map from field name to value, all fields required, none
//     unknown, any order when read, declaration order when written.
//   - variant: a map with one key, the case name; the value is the payload,
//     nil for a case without one.
//   - enum: the case name. flags: an array of the set flag names, unique,
//     any order when read, declaration order when written.
//   - option<T>: nil for none, else the T. option<option<T>> cannot be
//     carried (none and some(none) would both be nil) and fails with
//     [ErrUnsupported].
//   - result<T, E>: {"ok": T} or {"err": E}, with nil for a side without a
//     type.
//   - tuple: an array of exactly its length.
//   - list<u8> and list<u8, N>: msgpack bin, JSON base64 (standard, padded)
//     string. Readers also accept an array of u8 numbers.
//   - list<T>, list<T, N>: an array (of exactly N elements).
//   - map<K, V>: a msgpack map keyed by K's msgpack value; a JSON object
//     keyed by K's canonical spelling (the string itself, decimal for
//     integers, true/false, the case name of an enum). K must be bool, an
//     integer, char, string or an enum. Keys are unique.
//   - own<R>, borrow<R> (and a resource used as a value): the u32 handle.
//   - future, stream and error-context cannot be carried: [ErrUnsupported].
//   - an absent type (a nil [wit.Type]: no payload, no result side): nil.
//
// Conversions check only the parts of a type a value reaches; [CheckType]
// checks all of a type up front.
//
// # Go values
//
// [Unmarshal] returns, and [Marshal] accepts, these Go values:
//
//   - bool; u8 … u64 as uint8 … uint64; s8 … s64 as int8 … int64; f32 as
//     float32, f64 as float64; char as rune; string as string.
//   - list<u8> as []byte; other lists, fixed lists and tuples as []any.
//   - record as map[string]any; variant as [Variant]; enum as string;
//     flags as []string; option as nil or the value; result as [Result];
//     map as [Map] (entries in wire order); handles as uint32.
//
// Marshal is lenient in what it takes: any Go integer type whose value
// fits (named types too), floats and integers exact in a float type, a
// one-rune string for char, any slice or array for lists and tuples,
// []byte-like slices and byte arrays for list<u8>, structs for records
// (fields named by a wit:"name" tag or the Go name in kebab-case, wit:"-"
// to skip; unknown fields are errors), Go maps for map<K, V> (written in
// key order), and pointers, which are followed (nil is an option's none).
//
// # Limits
//
// Every conversion runs under [Limits]: the package functions under
// [DefaultLimits], a [Codec] under its own. MaxDepth bounds the nesting of
// composite values and MaxBytes the size of inputs and outputs. Claimed
// lengths are checked against the remaining input before anything is
// allocated, so a five-byte header claiming 2^32-1 elements fails at once.
//
// # Errors
//
// Every error is an [*Error] with the path of the failing value and a
// message that describes what was found:
//
//	codec: [2].owner.name: expected string, got int 7
//
// It unwraps to [ErrInvalid] (the value does not fit the type),
// [ErrMalformed] (not msgpack or JSON), [ErrLimit] or [ErrUnsupported].
// Validate allocates nothing unless it fails.
package codec
