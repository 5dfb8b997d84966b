package codec

import (
	"bytes"
	"reflect"
	"strings"
	"sync"

	"github.com/theater-go/theater/wit"
	"github.com/vmihailenco/msgpack/v5"
)

// Go values meet msgpack through msgpack/v5, so there is one reflection
// codec: Marshal encodes a Go value with it and then Canonical checks the
// bytes against the WIT type and rewrites them into the canonical form;
// Decode canonicalizes and then decodes with it. The struct tags are
// msgpack/v5's own `msgpack:"name"`.

type goEncoder struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
}

var goEncoders = sync.Pool{New: func() any {
	e := &goEncoder{}
	e.enc = msgpack.NewEncoder(&e.buf)
	e.enc.UseCompactInts(true) // the smallest encoding, as Canonical writes
	e.enc.SetSortMapKeys(true) // map[string]any records: errors name fields in order
	return e
}}

// maxPooled is the largest encoder buffer kept for reuse.
const maxPooled = 64 << 10

// Marshal is [Marshal] under c's limits.
func (c Codec) Marshal(t wit.Type, v any) ([]byte, error) {
	e := goEncoders.Get().(*goEncoder)
	defer func() {
		if e.buf.Cap() <= maxPooled {
			goEncoders.Put(e)
		}
	}()
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, invalid("cannot encode Go value: " + strings.TrimPrefix(err.Error(), "msgpack: "))
	}
	raw := e.buf.Bytes()
	if err := checkOut(c.limits(), len(raw)); err != nil {
		return nil, err
	}
	out, err := c.canonical(t, raw, true)
	if err != nil {
		return nil, omitemptyHint(err, v)
	}
	if len(out) > 0 && &out[0] == &raw[0] { // the pooled buffer
		out = bytes.Clone(out)
	}
	return out, nil
}

type goDecoder struct {
	r   bytes.Reader
	dec *msgpack.Decoder
}

var goDecoders = sync.Pool{New: func() any { return &goDecoder{dec: msgpack.NewDecoder(nil)} }}

// decodeMap decodes a map into an untyped Go value: map[string]any when
// its keys are strings (records, map<string, V>), else map[any]any
// (msgpack/v5's default only takes string keys).
func decodeMap(dec *msgpack.Decoder) (any, error) {
	n, err := dec.DecodeMapLen()
	if err != nil || n < 0 {
		return nil, err
	}
	m := make(map[string]any, n)
	var other map[any]any
	for range n {
		k, err := dec.DecodeInterface()
		if err != nil {
			return nil, err
		}
		v, err := dec.DecodeInterface()
		if err != nil {
			return nil, err
		}
		if s, ok := k.(string); ok && other == nil {
			m[s] = v
			continue
		}
		if other == nil {
			other = make(map[any]any, n)
			for ks, vs := range m {
				other[ks] = vs
			}
		}
		other[k] = v
	}
	if other != nil {
		return other, nil
	}
	return m, nil
}

// Decode is [Decode] under c's limits.
func (c Codec) Decode(t wit.Type, data []byte, out any) error {
	plan, err := planFor(t, out)
	if err != nil {
		return err
	}
	canon, err := c.Canonical(t, data)
	if err != nil {
		return err
	}
	if plan != nil {
		if _, err := plan.check(t, canon); err != nil {
			return finish(err)
		}
	}
	d := goDecoders.Get().(*goDecoder)
	defer func() {
		d.r.Reset(nil)
		goDecoders.Put(d)
	}()
	d.r.Reset(canon)
	d.dec.Reset(&d.r) // clears the options too
	d.dec.SetMapDecoder(decodeMap)
	d.dec.DisallowUnknownFields(true)
	if err := d.dec.Decode(out); err != nil {
		return invalid("cannot decode into " + reflect.TypeOf(out).String() + ": " + strings.TrimPrefix(err.Error(), "msgpack: "))
	}
	return nil
}

// EncodeMsgpack writes v as WIT does: a map with one key, the case.
func (v Variant) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeMapLen(1); err != nil {
		return err
	}
	if err := enc.EncodeString(v.Case); err != nil {
		return err
	}
	return enc.Encode(v.Value)
}

// DecodeMsgpack reads a one-key map into v. If v.Value holds a pointer,
// the payload is decoded into what it points to; otherwise v.Value gets
// msgpack/v5's untyped value.
func (v *Variant) DecodeMsgpack(dec *msgpack.Decoder) error {
	c, err := decodeOneKey(dec)
	if err != nil {
		return err
	}
	v.Case = c
	return decodePayload(dec, &v.Value)
}

// EncodeMsgpack writes r as {"ok": value} or {"err": value}.
func (r Result) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeMapLen(1); err != nil {
		return err
	}
	name := "ok"
	if r.IsErr {
		name = "err"
	}
	if err := enc.EncodeString(name); err != nil {
		return err
	}
	return enc.Encode(r.Value)
}

// DecodeMsgpack reads {"ok": value} or {"err": value} into r, treating
// r.Value as [Variant.DecodeMsgpack] treats its Value.
func (r *Result) DecodeMsgpack(dec *msgpack.Decoder) error {
	c, err := decodeOneKey(dec)
	if err != nil {
		return err
	}
	r.IsErr = c == "err"
	return decodePayload(dec, &r.Value)
}

// EncodeMsgpack writes m's entries; Marshal puts them in canonical order.
func (m Map) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeMapLen(len(m)); err != nil {
		return err
	}
	for _, e := range m {
		if err := enc.Encode(e.Key); err != nil {
			return err
		}
		if err := enc.Encode(e.Value); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsgpack reads a map's entries, in wire order, as untyped values.
func (m *Map) DecodeMsgpack(dec *msgpack.Decoder) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	*m = make(Map, 0, max(n, 0))
	for range n {
		k, err := dec.DecodeInterface()
		if err != nil {
			return err
		}
		v, err := dec.DecodeInterface()
		if err != nil {
			return err
		}
		*m = append(*m, MapEntry{Key: k, Value: v})
	}
	return nil
}

func decodeOneKey(dec *msgpack.Decoder) (string, error) {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return "", err
	}
	if n != 1 {
		return "", invalid("expected a map with one key")
	}
	return dec.DecodeString()
}

func decodePayload(dec *msgpack.Decoder, v *any) error {
	if *v != nil && reflect.TypeOf(*v).Kind() == reflect.Pointer {
		return dec.Decode(*v)
	}
	x, err := dec.DecodeInterface()
	*v = x
	return err
}

// omitemptyHint says why a field is missing when v is a struct with
// omitempty tags: msgpack/v5 leaves out their zero values, and a record
// cannot miss a field.
func omitemptyHint(err error, v any) error {
	e, ok := err.(*Error)
	if !ok || !strings.HasPrefix(e.Msg, "missing field") {
		return err
	}
	rt := reflect.TypeOf(v)
	for rt != nil && rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	if rt == nil || rt.Kind() != reflect.Struct {
		return err
	}
	for i := range rt.NumField() {
		if _, opts := parseTag(rt.Field(i).Tag.Get("msgpack")); opts["omitempty"] {
			e.Msg += " (msgpack/v5 leaves out the zero value of an omitempty field, and a record has every field: drop omitempty)"
			break
		}
	}
	return err
}
