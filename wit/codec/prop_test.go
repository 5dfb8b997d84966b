package codec_test

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// gen makes random types and random canonical Go values of them.
type gen struct {
	r *rand.Rand
	n int // for unique type names
}

var genPrims = []wit.Primitive{wit.Bool, wit.U8, wit.U16, wit.U32, wit.U64, wit.S8, wit.S16,
	wit.S32, wit.S64, wit.F32, wit.F64, wit.Char, wit.String}

var genKeys = []wit.Type{wit.Bool, wit.U8, wit.U64, wit.S16, wit.S64, wit.Char, wit.String, color}

func (g *gen) names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

func (g *gen) typ(depth int) wit.Type {
	if depth <= 0 || g.r.IntN(3) == 0 {
		return genPrims[g.r.IntN(len(genPrims))]
	}
	g.n++
	name := fmt.Sprintf("t%d", g.n)
	switch g.r.IntN(13) {
	case 0:
		r := &wit.Record{}
		for _, n := range g.names("f", g.r.IntN(5)) {
			r.Fields = append(r.Fields, wit.Field{Name: n, Type: g.typ(depth - 1)})
		}
		return named(name, r)
	case 1:
		v := &wit.Variant{}
		for _, n := range g.names("c", 1+g.r.IntN(4)) {
			var t wit.Type
			if g.r.IntN(3) > 0 {
				t = g.typ(depth - 1)
			}
			v.Cases = append(v.Cases, wit.Case{Name: n, Type: t})
		}
		return named(name, v)
	case 2:
		return enum(name, g.names("e", 1+g.r.IntN(4))...)
	case 3:
		return flags(name, g.names("fl", 1+g.r.IntN(6))...)
	case 4:
		inner := g.typ(depth - 1)
		for isOpt(inner) {
			inner = g.typ(depth - 1)
		}
		return option(inner)
	case 5:
		var ok, err wit.Type
		if g.r.IntN(3) > 0 {
			ok = g.typ(depth - 1)
		}
		if g.r.IntN(3) > 0 {
			err = g.typ(depth - 1)
		}
		return result(ok, err)
	case 6:
		ts := make([]wit.Type, g.r.IntN(4))
		for i := range ts {
			ts[i] = g.typ(depth - 1)
		}
		return tuple(ts...)
	case 7:
		return list(g.typ(depth - 1))
	case 8:
		return list(wit.U8)
	case 9:
		return fixed(g.typ(depth-1), uint32(g.r.IntN(4)))
	case 10:
		return mapOf(genKeys[g.r.IntN(len(genKeys))], g.typ(depth-1))
	case 11:
		return own(resource)
	}
	return alias(name, g.typ(depth-1))
}

func isOpt(t wit.Type) bool {
	d, ok := wit.Underlying(t).(*wit.TypeDef)
	if !ok {
		return false
	}
	_, ok = d.Kind.(*wit.Option)
	return ok
}

var genStrings = []string{"", "a", "hé", "\"quoted\"\n\t\\", "\x00\x1f", "😀", "long string with spaces and <html> & stuff"}

func (g *gen) value(t wit.Type) any {
	t = wit.Underlying(t)
	switch t {
	case nil:
		return nil
	case wit.Bool:
		return g.r.IntN(2) == 0
	case wit.U8:
		return uint8(g.r.Uint32())
	case wit.U16:
		return uint16(g.r.Uint32())
	case wit.U32:
		return g.r.Uint32() >> g.r.IntN(32)
	case wit.U64:
		return g.r.Uint64() >> g.r.IntN(64)
	case wit.S8:
		return int8(g.r.Uint32())
	case wit.S16:
		return int16(g.r.Uint32())
	case wit.S32:
		return int32(g.r.Uint32()) >> g.r.IntN(32)
	case wit.S64:
		return int64(g.r.Uint64()) >> g.r.IntN(64)
	case wit.F32:
		return float32(g.float())
	case wit.F64:
		return g.float()
	case wit.Char:
		for {
			r := rune(g.r.IntN(0x110000) >> g.r.IntN(21))
			if r < 0xd800 || r > 0xdfff {
				return r
			}
		}
	case wit.String:
		return genStrings[g.r.IntN(len(genStrings))]
	}
	d := t.(*wit.TypeDef)
	switch k := d.Kind.(type) {
	case *wit.Record:
		m := map[string]any{}
		for _, f := range k.Fields {
			m[f.Name] = g.value(f.Type)
		}
		return m
	case *wit.Variant:
		c := k.Cases[g.r.IntN(len(k.Cases))]
		return codec.Variant{Case: c.Name, Value: g.value(c.Type)}
	case *wit.Enum:
		return k.Cases[g.r.IntN(len(k.Cases))].Name
	case *wit.Flags:
		out := []string{}
		for _, f := range k.Flags {
			if g.r.IntN(2) == 0 {
				out = append(out, f.Name)
			}
		}
		return out
	case *wit.Option:
		if g.r.IntN(3) == 0 {
			return nil
		}
		return g.value(k.Type)
	case *wit.Result:
		if g.r.IntN(2) == 0 {
			return codec.Ok(g.value(k.OK))
		}
		return codec.Err(g.value(k.Err))
	case *wit.Tuple:
		out := make([]any, len(k.Types))
		for i, e := range k.Types {
			out[i] = g.value(e)
		}
		return out
	case *wit.List:
		return g.seq(k.Elem, g.r.IntN(4))
	case *wit.FixedList:
		return g.seq(k.Elem, int(k.Len))
	case *wit.Map:
		m := codec.Map{}
		seen := map[any]bool{}
		for range g.r.IntN(4) {
			key := g.value(k.Key)
			if !seen[key] {
				seen[key] = true
				m = append(m, codec.MapEntry{Key: key, Value: g.value(k.Value)})
			}
		}
		slices.SortFunc(m, func(a, b codec.MapEntry) int { return compareKeys(a.Key, b.Key) })
		return m
	case *wit.Handle:
		return g.r.Uint32()
	}
	panic("unexpected type " + t.String())
}

func (g *gen) seq(elem wit.Type, n int) any {
	if wit.Underlying(elem) == wit.U8 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(g.r.Uint32())
		}
		return b
	}
	out := make([]any, n)
	for i := range out {
		out[i] = g.value(elem)
	}
	return out
}

// compareKeys orders map keys as the canonical form does: integers by
// value, false before true, strings (and chars) by their UTF-8 bytes.
func compareKeys(a, b any) int {
	switch a := a.(type) {
	case bool:
		return cmp.Compare(boolInt(a), boolInt(b.(bool)))
	case string:
		return strings.Compare(a, b.(string))
	case rune:
		return strings.Compare(string(a), string(b.(rune)))
	case uint64:
		return cmp.Compare(a, b.(uint64))
	case uint8:
		return cmp.Compare(a, b.(uint8))
	}
	return cmp.Compare(reflect.ValueOf(a).Int(), reflect.ValueOf(b).Int())
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

var genFloats = []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1, 1e21, 1e-7, 123456.789, math.MaxFloat32,
	math.SmallestNonzeroFloat64, math.MaxFloat64, math.Inf(1), math.Inf(-1)}

func (g *gen) float() float64 {
	if g.r.IntN(2) == 0 {
		return genFloats[g.r.IntN(len(genFloats))]
	}
	return (g.r.Float64() - 0.5) * math.Pow(10, float64(g.r.IntN(40)-20))
}

// TestRoundTrip checks, for random types and values, that Go -> msgpack
// -> Go and msgpack -> JSON -> msgpack -> JSON change nothing.
func TestRoundTrip(t *testing.T) {
	g := &gen{r: rand.New(rand.NewPCG(1, 2))}
	for i := range 2000 {
		typ := g.typ(4)
		v := g.value(typ)
		mp, err := codec.Marshal(typ, v)
		if err != nil {
			t.Fatalf("%d: Marshal(%v, %#v): %v", i, typ, v, err)
		}
		if err := codec.Validate(typ, mp); err != nil {
			t.Fatalf("%d: Validate(%v, %x): %v", i, typ, mp, err)
		}
		back, err := codec.Unmarshal(typ, mp)
		if err != nil || !reflect.DeepEqual(back, v) {
			t.Fatalf("%d: Unmarshal(%v, %x) = %#v, %v; want %#v", i, typ, mp, back, err, v)
		}
		js, err := codec.ToJSON(typ, mp)
		if err != nil {
			t.Fatalf("%d: ToJSON(%v, %x): %v", i, typ, mp, err)
		}
		mp2, err := codec.FromJSON(typ, js)
		if err != nil || !bytes.Equal(mp2, mp) {
			t.Fatalf("%d: FromJSON(%v, %s) = %x, %v; want %x", i, typ, js, mp2, err, mp)
		}
		if js2, err := codec.ToJSON(typ, mp2); err != nil || !bytes.Equal(js2, js) {
			t.Fatalf("%d: ToJSON again = %s, %v; want %s", i, js2, err, js)
		}
	}
}
