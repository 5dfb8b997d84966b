// Package codec is the one implementation of the mapping between WIT
// values and their msgpack (wire) and JSON (human) spellings. Every actor
// message is a msgpack value typed by a [wit.Type]; this package checks
// such values ([Validate]), gives their one canonical encoding
// ([Canonical]), converts them to and from JSON ([ToJSON], [FromJSON]) and
// to and from Go values ([Marshal], [Decode], [Unmarshal]).
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
//     accepted if the value fits; floats are not. JSON integers must be
//     integer literals: 1.0 and 1e3 are rejected.
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
//     integer, char, string or an enum. Keys are unique, in any order when
//     read, ascending when written. WIT text names only the primitive key
//     types (the grammar's kt); an enum key exists only in a [wit.Map]
//     built in Go.
//   - own<R>, borrow<R> (and a resource used as a value): the u32 handle.
//   - future, stream and error-context cannot be carried: [ErrUnsupported].
//   - an absent type (a nil [wit.Type]: no payload, no result side): nil.
//
// Conversions check only the parts of a type a value reaches; [CheckType]
// checks all of a type up front.
//
// # Canonical form
//
// Every value has one canonical encoding, which every writer here (and
// every guest SDK) produces and the hash chain hashes: integers in their
// smallest encoding by value whatever the WIT type (non-negative as
// fixint or uint8…uint64, negative as negative fixint or int8…int64); f32
// as float32 and f64 as float64, every NaN as the quiet NaN without
// payload, -0 kept; the smallest str, bin, array and map headers;
// list<u8> as bin; record fields and flags in declaration order; map
// entries in ascending key order (integers by value, false before true,
// strings by their bytes). [Canonical] validates bytes and returns their
// canonical form, returning the input itself, without allocating, when it
// already is canonical.
//
// # Go values
//
// Go values meet msgpack through github.com/vmihailenco/msgpack/v5:
// [Marshal] encodes with it and then makes the bytes canonical under the
// type (checking them on the way), and [Decode] canonicalizes and then
// decodes with it into the caller's Go value. Struct fields use
// msgpack/v5's tags, which must give the WIT (kebab-case) names:
//
//	type Account struct {
//		OwnerID uint64  `msgpack:"owner-id"`
//		Nick    *string `msgpack:"nick"` // option<string>
//	}
//
// For records use structs (or map[string]any); for options, pointers; for
// tuples, []any, arrays or structs tagged msgpack:",as_array"; for lists,
// slices ([]byte for list<u8>); for flags, []string; for maps, Go maps;
// for enums, strings; for char, a one-rune string (Marshal also takes a
// rune); for variants [Variant] and for results [Result], whose Value, when
// decoding, is msgpack/v5's untyped value unless it held a pointer to
// decode into.
//
// [Unmarshal] decodes without a Go type, into these generic values, which
// Marshal accepts too:
//
//   - bool; u8 … u64 as uint8 … uint64; s8 … s64 as int8 … int64; f32 as
//     float32, f64 as float64; char as rune; string as string.
//   - list<u8> as []byte; other lists, fixed lists and tuples as []any.
//   - record as map[string]any; variant as [Variant]; enum as string;
//     flags as []string; option as nil or the value; result as [Result];
//     map as [Map] (entries in wire order); handles as uint32.
//
// Marshal takes any Go integer or float type whose value fits the WIT
// type exactly, and a nil slice or map as empty. A record's struct fields
// must not be tagged omitempty: msgpack/v5 leaves out their zero values,
// and Marshal then fails with "missing field" (and says why).
//
// Decode first matches out's Go type against the WIT type (once per
// pair; [CheckDecode] does only that): a Go type of another shape is an
// error before anything is read. msgpack/v5 converts numbers into any Go
// number it is given, wrapping them (uint64 300 into a uint8 is 44), and
// a nil into a non-pointer as its zero value; Decode refuses both: where
// out's Go number is narrower than the WIT type, or an option meets a Go
// type without a nil, it checks the value, and one that out cannot hold
// exactly (u64 300 into uint8, s32 -1 into uint32, a u64 above 2^53 into
// float64, none into uint32) is an error naming its path. A Go type as
// wide as the WIT type costs one cache lookup. What a custom decoder
// (a DecodeMsgpack method, such as a [Variant]'s payload pointer) or an
// interface receives is msgpack/v5's and not checked.
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
// [ErrMalformed] (not msgpack or JSON), [ErrLimit], [ErrGoType] (the Go
// value given to Decode cannot hold it) or [ErrUnsupported].
// Validate, and Canonical of canonical input, allocate nothing unless
// they fail.
package codec
