package manifest

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// ErrInvalid is wrapped by every error about a manifest's content.
var ErrInvalid = errors.New("invalid manifest")

// Error is a problem with a manifest. Its text is
//
//	manifest: FILE:LINE:COL: KEY: MSG
//
// where the parts that are not known are left out: File when the manifest
// did not come from Parse or Load, Line and Col when the problem is not at
// one place in the file (a missing key), Key when the problem is not
// about one key (a TOML syntax error, an unknown key).
type Error struct {
	File string
	Line int // 1-based
	Col  int // 1-based, in bytes
	Key  string
	Msg  string

	// unknown is the key an unknown-key error is about. It is not in Key,
	// which would print it twice; locate uses it to point at the key.
	unknown string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("manifest: ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Col > 0 {
				fmt.Fprintf(&b, ":%d", e.Col)
			}
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// Parse decodes and validates a TOML manifest and returns it with the
// defaults applied. name is the file name used in errors. Paths in Module
// and WIT are returned as written; Load resolves them.
//
// Keys are case-sensitive, and unknown keys are errors, so that a typo
// never silently leaves a limit at its default.
func Parse(name string, data []byte) (*Manifest, error) {
	data = stripBOM(data)
	var m Manifest
	doc, err := decode(name, data, &m)
	if err != nil {
		return nil, err
	}
	d := m.WithDefaults()
	if e := d.check(); e != nil {
		return nil, doc.locate(e, name)
	}
	return d, nil
}

// decode decodes a TOML document into v, a pointer to a struct with toml
// tags. go-toml decoding into the struct would match keys regardless of
// case, store an integer in a Duration as nanoseconds, stop at the first
// bad value without the unknown keys before it, and name Go types in its
// messages. So: decode into a generic tree, for the syntax; check every
// key and the type of every value against the struct in document order
// (see keys.go); then decode into the struct, which then cannot fail.
func decode(name string, data []byte, v any) (*document, *Error) {
	if err := toml.Unmarshal(data, new(map[string]any)); err != nil {
		return nil, syntaxError(name, err)
	}
	doc, err := scan(data)
	if err != nil {
		// go-toml's decoder accepted the document, so its parser should too.
		return nil, syntaxError(name, err)
	}
	root := reflect.TypeOf(v).Elem()
	for _, e := range doc.entries {
		if err := checkKey(root, e); err != nil {
			return nil, doc.locate(err, name)
		}
	}
	if err := toml.Unmarshal(data, v); err != nil {
		// checkKey has vetted every key and value, so this means the two
		// disagree; report it rather than return a half-decoded value.
		return nil, &Error{File: name, Msg: err.Error()}
	}
	return doc, nil
}

// Load reads and parses the manifest at path, and resolves relative Module
// and WIT paths against its directory. Paths use '/' in the file on every
// system. Load does not check that the files exist; the actor package
// reads them.
func Load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if _, ok := m.ModuleDigest(); !ok {
		m.Module = resolve(dir, m.Module)
	}
	if m.WIT != "" {
		m.WIT = resolve(dir, m.WIT)
	}
	return m, nil
}

func resolve(dir, p string) string {
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func syntaxError(name string, err error) *Error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return &Error{File: name, Line: line, Col: col, Msg: strings.TrimPrefix(de.Error(), "toml: ")}
	}
	var pe *unstable.ParserError
	if errors.As(err, &pe) {
		return &Error{File: name, Msg: pe.Message}
	}
	return &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

// locate adds the file name and the position of e's key to e. Errors
// about a value point at the value, unknown keys at the key; a key that is
// not in the file (a missing one) gets no position.
func (doc *document) locate(e *Error, name string) *Error {
	e.File = name
	key := e.Key
	if key == "" {
		key = e.unknown
	}
	if s, ok := doc.spots[key]; ok {
		off := s.val
		if e.unknown != "" {
			off = s.key
		}
		e.Line, e.Col = lineCol(doc.src, off)
	}
	return e
}

// checkKey checks that e's key is a field of the struct type root (a
// [Manifest] or a [Tree]), spelled exactly as its toml tag, and that its
// value has the field's type. Positions are added by the caller.
func checkKey(root reflect.Type, e entry) *Error {
	t := root
	for i, seg := range e.path {
		if isTableArray(t) {
			t = t.Elem() // a key inside the array's last element
		}
		f, ok := fieldByTag(t, seg)
		if !ok {
			return unknownKey(e.path[i], e.keys[i], t)
		}
		t = f.Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	if msg := typeMismatch(t, e); msg != "" {
		key := e.keys[len(e.keys)-1]
		if e.kind == unstable.ArrayTable {
			key = arrayKey(key) // the error is about the array, not one element
		}
		return &Error{Key: key, Msg: msg}
	}
	return nil
}

func isTableArray(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct
}

func unknownKey(part, key string, parent reflect.Type) *Error {
	e := &Error{unknown: key}
	if parent == reflect.TypeFor[Capabilities]() {
		known := tagNames(parent)
		e.Msg = fmt.Sprintf("unknown capability %q (known: %s)", part, strings.Join(known, ", "))
	} else {
		e.Msg = fmt.Sprintf("unknown key %q", e.unknown)
	}
	return e
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// typeMismatch returns why e's value cannot be decoded into a value of
// type t, or "" if it can. For text types (durations, base64) it also
// decodes the text, so that its errors are reported in document order too.
func typeMismatch(t reflect.Type, e entry) string {
	switch {
	case reflect.PointerTo(t).Implements(textUnmarshaler):
		if e.kind != unstable.String {
			return "expected a string, got " + kindName(e.kind)
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(e.text)); err != nil {
			// supervisor.Duration names its package; here the key and
			// the file say where the problem is.
			return strings.TrimPrefix(err.Error(), "supervisor: ")
		}
	case t.Kind() == reflect.Struct:
		if e.kind != unstable.Table && e.kind != unstable.InlineTable {
			return "expected a table, got " + kindName(e.kind)
		}
	case t.Kind() == reflect.String:
		if e.kind != unstable.String {
			return "expected a string, got " + kindName(e.kind)
		}
	case t.Kind() == reflect.Int:
		if e.kind != unstable.Integer {
			return "expected an integer, got " + kindName(e.kind)
		}
	case t.Kind() == reflect.Bool:
		if e.kind != unstable.Bool {
			return "expected a boolean, got " + kindName(e.kind)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Int:
		if e.kind != unstable.Array {
			return "expected an array of integers, got " + kindName(e.kind)
		}
		for i, k := range e.elem {
			if k != unstable.Integer {
				return "expected an array of integers, got " + kindName(k) + " at index " + strconv.Itoa(i)
			}
		}
	case t.Kind() == reflect.Float64:
		if e.kind != unstable.Float && e.kind != unstable.Integer {
			return "expected a number, got " + kindName(e.kind)
		}
	case isTableArray(t):
		if e.kind != unstable.ArrayTable {
			return fmt.Sprintf("expected an array of tables, got %s: write each element as a [[%s]] table", kindName(e.kind), keyString(e.path))
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		if e.kind != unstable.Array {
			return "expected an array of strings, got " + kindName(e.kind)
		}
		for i, k := range e.elem {
			if k != unstable.String {
				return "expected an array of strings, got " + kindName(k) + " at index " + strconv.Itoa(i)
			}
		}
	default:
		// Reached only if Manifest gains a field of a kind this switch
		// does not know; the tests decode every field.
		return "unsupported field type " + t.String()
	}
	return ""
}

// kindName names the TOML type of a value.
func kindName(k unstable.Kind) string {
	switch k {
	case unstable.String:
		return "string"
	case unstable.Integer:
		return "integer"
	case unstable.Float:
		return "float"
	case unstable.Bool:
		return "boolean"
	case unstable.Table, unstable.InlineTable:
		return "table"
	case unstable.ArrayTable:
		return "array of tables"
	case unstable.Array:
		return "array"
	}
	return "datetime"
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func tagNames(t reflect.Type) []string {
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		names = append(names, tag)
	}
	sort.Strings(names)
	return names
}
