package codec_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// fuzzTypes are the types the fuzz targets check input against; the first
// input byte picks one. Together they reach every kind of type.
var fuzzTypes = []wit.Type{
	record("msg",
		field("id", wit.U64),
		field("tags", list(wit.String)),
		field("body", variant("body",
			vcase("text", wit.String),
			vcase("bin", list(wit.U8)),
			vcase("num", wit.F32),
			vcase("none", nil))),
		field("opt", option(tuple(wit.S8, wit.Char))),
		field("m", mapOf(wit.U32, result(color, perms))),
		field("f", wit.F64),
		field("b", fixed(wit.U8, 4)),
		field("h", own(resource)),
		field("ok", wit.Bool),
	),
	list(wit.U8),
	mapOf(wit.String, list(option(wit.S16))),
	list(tuple(alias("n", wit.S32), fixed(wit.Bool, 2), result(nil, wit.String))),
}

// fuzzCodec has small limits so that the limit paths get exercised too.
var fuzzCodec = codec.Codec{Limits: codec.Limits{MaxDepth: 8, MaxBytes: 1 << 16}}

func checkCodecErr(t *testing.T, err error) {
	t.Helper()
	var e *codec.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *codec.Error", err, err)
	}
	if !errors.Is(err, codec.ErrInvalid) && !errors.Is(err, codec.ErrMalformed) &&
		!errors.Is(err, codec.ErrLimit) && !errors.Is(err, codec.ErrUnsupported) && !errors.Is(err, codec.ErrGoType) {
		t.Fatalf("error %v has no sentinel", err)
	}
}

func FuzzValidate(f *testing.F) {
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		typ := fuzzTypes[int(sel)%len(fuzzTypes)]
		c := fuzzCodec
		verr := c.Validate(typ, data)
		js, jerr := c.ToJSON(typ, data)
		v, uerr := c.Unmarshal(typ, data)
		for _, err := range []error{verr, jerr, uerr} {
			if err != nil {
				checkCodecErr(t, err)
			}
		}
		if verr != nil {
			if jerr == nil || uerr == nil {
				t.Fatalf("Validate: %v, but ToJSON: %v and Unmarshal: %v", verr, jerr, uerr)
			}
			return
		}
		if errors.Is(jerr, codec.ErrLimit) || errors.Is(uerr, codec.ErrLimit) {
			return // outputs may outgrow the input
		}
		if jerr != nil || uerr != nil {
			t.Fatalf("Validate ok, but ToJSON: %v and Unmarshal: %v", jerr, uerr)
		}
		// Every direction agrees on the canonical form.
		canon, err := c.Canonical(typ, data)
		if errors.Is(err, codec.ErrLimit) {
			return // the canonical form may be longer (an f64 written as an int)
		}
		if err != nil {
			t.Fatalf("Validate ok, but Canonical: %v", err)
		}
		if again, err := c.Canonical(typ, canon); err != nil || !bytes.Equal(again, canon) {
			t.Fatalf("Canonical(Canonical(data) = %x) = %x, %v: not idempotent", canon, again, err)
		}
		if bytes.Equal(canon, data) && len(data) > 0 && &canon[0] != &data[0] {
			t.Fatalf("Canonical copied canonical input")
		}
		if fj, err := c.FromJSON(typ, js); err != nil || !bytes.Equal(fj, canon) {
			t.Fatalf("FromJSON(ToJSON(data) = %s) = %x, %v; want %x", js, fj, err, canon)
		}
		if marshaled, err := c.Marshal(typ, v); err != nil || !bytes.Equal(marshaled, canon) {
			t.Fatalf("Marshal(Unmarshal(data)) = %x, %v; want %x", marshaled, err, canon)
		}
		if js2, err := c.ToJSON(typ, canon); err != nil || !bytes.Equal(js2, js) {
			t.Fatalf("ToJSON(canonical) = %s, %v; want %s", js2, err, js)
		}
	})
}

func FuzzFromJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, sel byte, js []byte) {
		typ := fuzzTypes[int(sel)%len(fuzzTypes)]
		c := fuzzCodec
		mp, err := c.FromJSON(typ, js)
		if err != nil {
			checkCodecErr(t, err)
			return
		}
		if err := c.Validate(typ, mp); err != nil {
			t.Fatalf("Validate(FromJSON(%q)): %v", js, err)
		}
		js2, err := c.ToJSON(typ, mp)
		if errors.Is(err, codec.ErrLimit) {
			return
		}
		if err != nil {
			t.Fatalf("ToJSON(FromJSON(%q)): %v", js, err)
		}
		mp2, err := c.FromJSON(typ, js2)
		if err != nil || !bytes.Equal(mp2, mp) {
			t.Fatalf("FromJSON(%s) = %x, %v; want %x", js2, mp2, err, mp)
		}
	})
}

// narrowType and narrowGo pair a WIT record with a Go struct whose
// numbers are narrower than, or of the other sign from, their fields.
var narrowType = record("narrow",
	field("a", wit.U64),
	field("b", wit.S32),
	field("c", list(wit.U16)),
	field("d", option(wit.S64)),
	field("e", mapOf(wit.U32, wit.S8)))

type narrowGo struct {
	A int8            `msgpack:"a"`
	B uint32          `msgpack:"b"`
	C []int16         `msgpack:"c"`
	D *int32          `msgpack:"d"`
	E map[uint8]uint8 `msgpack:"e"`
}

// FuzzDecodeNarrow: Decode into Go numbers narrower than their WIT types
// either fails or gives a Go value that encodes back to the same
// canonical bytes: nothing is wrapped or dropped silently. (Floats are
// left to TestDecodeIntegerFits: Marshal takes no float for an integer.)
func FuzzDecodeNarrow(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var v narrowGo
		err := codec.Decode(narrowType, data, &v)
		if err != nil {
			checkCodecErr(t, err)
			return
		}
		canon, err := codec.Canonical(narrowType, data)
		if err != nil {
			t.Fatalf("Decode ok, Canonical: %v", err)
		}
		back, err := codec.Marshal(narrowType, v)
		if err != nil || !bytes.Equal(back, canon) {
			t.Fatalf("Decode(%x) = %+v, which encodes as %x (%v), want %x", data, v, back, err, canon)
		}
	})
}
