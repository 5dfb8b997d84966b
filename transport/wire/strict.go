package wire

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// DecodeStrict decodes the JSON data into v as json.Unmarshal does, but
// refuses an object key that names no field of v's type, spelled exactly
// as its json tag, with the key's path ("limits.memry_pages",
// "children[1].id"): keys are case-sensitive and unknown keys are
// errors, as in the TOML manifest loader, so that a typo never silently
// leaves a limit at its default. json.Decoder's DisallowUnknownFields
// would match keys without regard to case and name no path.
//
// Errors wrap [ErrBadJSON]; an unknown key is also a [*KeyError].
func DecodeStrict(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var tree any
	if err := d.Decode(&tree); err != nil {
		return fmt.Errorf("%w: %w", ErrBadJSON, err)
	}
	if d.More() {
		return fmt.Errorf("%w: data after the JSON value", ErrBadJSON)
	}
	if key, ok := unknownKey(reflect.TypeOf(v), tree, ""); ok {
		return fmt.Errorf("%w: %w", ErrBadJSON, &KeyError{Key: key})
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadJSON, err)
	}
	return nil
}

// DecodeSpawnRequest decodes a spawn request strictly ([DecodeStrict]).
// An unknown key inside its manifest is [ErrBadManifest], with its path
// in the manifest, as the TOML loader would name it.
func DecodeSpawnRequest(data []byte) (SpawnRequest, error) {
	var r SpawnRequest
	err := DecodeStrict(data, &r)
	var ke *KeyError
	if errors.As(err, &ke) {
		if k, ok := strings.CutPrefix(ke.Key, "manifest."); ok {
			return r, fmt.Errorf("%w: %w", ErrBadManifest, &KeyError{Key: k})
		}
	}
	return r, err
}

// KeyError is a JSON key that names no field.
type KeyError struct {
	Key string // its path, dotted, with array indexes
}

func (e *KeyError) Error() string { return fmt.Sprintf("unknown key %q", e.Key) }

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// unknownKey is the path of the first key of v (in sorted order at each
// level) that names no field of t, if there is one. Values of the wrong
// kind are left for json.Unmarshal to refuse.
func unknownKey(t reflect.Type, v any, path string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "", false // it decodes itself
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			p := join(path, k)
			f, ok := fields[k]
			if !ok {
				return p, true
			}
			if key, ok := unknownKey(f, obj[k], p); ok {
				return key, true
			}
		}
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			return "", false
		}
		for i, e := range arr {
			if key, ok := unknownKey(t.Elem(), e, path+"["+strconv.Itoa(i)+"]"); ok {
				return key, true
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if key, ok := unknownKey(t.Elem(), obj[k], join(path, k)); ok {
				return key, true
			}
		}
	}
	return "", false
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// jsonFields maps the JSON names of struct type t's fields, as
// encoding/json names them (promoted fields of embedded structs
// included), to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for _, f := range reflect.VisibleFields(t) {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				continue // its fields are promoted
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := fields[name]; !dup || len(f.Index) == 1 {
			fields[name] = f.Type
		}
	}
	return fields
}
