package codec

import (
	"testing"
	"time"

	"github.com/theater-go/theater/wit"
)

// BenchmarkPlanLookup is what Decode adds for a Go type as wide as its
// WIT type: finding the cached plan (none). Compare it with
// BenchmarkDecodeStruct5 in the same run.
func BenchmarkPlanLookup(b *testing.B) {
	typ := &wit.TypeDef{Name: "p", Kind: &wit.Record{Fields: []wit.Field{{Name: "x", Type: wit.U32}}}}
	var out struct {
		X uint32 `msgpack:"x"`
	}
	b.ReportAllocs()
	for b.Loop() {
		if f, err := planFor(typ, &out); f != nil || err != nil {
			b.Fatal(f, err)
		}
	}
}

// decodeWithoutPlan is Decode as it was before the Go type check
// (Canonical, then msgpack/v5), the baseline for BenchmarkDecodePlan.
func decodeWithoutPlan(t wit.Type, data []byte, out any) error {
	canon, err := Codec{}.Canonical(t, data)
	if err != nil {
		return err
	}
	d := goDecoders.Get().(*goDecoder)
	defer func() {
		d.r.Reset(nil)
		goDecoders.Put(d)
	}()
	d.r.Reset(canon)
	d.dec.Reset(&d.r)
	d.dec.SetMapDecoder(decodeMap)
	d.dec.DisallowUnknownFields(true)
	return d.dec.Decode(out)
}

// BenchmarkDecodePlan alternates, in each iteration, Decode of a
// 5-field record without the Go type check (as Decode was before it),
// into a struct as wide as its types ("wide": one cache lookup more) and
// into one with a narrower id ("narrow": the bytes are walked a second
// time), and reports each one's time over the first: on a loaded machine
// the load weighs on all three alike.
func BenchmarkDecodePlan(b *testing.B) {
	typ := &wit.TypeDef{Name: "user", Kind: &wit.Record{Fields: []wit.Field{
		{Name: "id", Type: wit.U64}, {Name: "name", Type: wit.String}, {Name: "active", Type: wit.Bool},
		{Name: "score", Type: wit.F64}, {Name: "role", Type: wit.String}}}}
	type wide struct {
		ID     uint64  `msgpack:"id"`
		Name   string  `msgpack:"name"`
		Active bool    `msgpack:"active"`
		Score  float64 `msgpack:"score"`
		Role   string  `msgpack:"role"`
	}
	type narrow struct {
		ID     uint32  `msgpack:"id"`
		Name   string  `msgpack:"name"`
		Active bool    `msgpack:"active"`
		Score  float64 `msgpack:"score"`
		Role   string  `msgpack:"role"`
	}
	data, err := Marshal(typ, wide{ID: 12345, Name: "ada lovelace", Active: true, Score: 98.5, Role: "member"})
	if err != nil {
		b.Fatal(err)
	}
	var baseT, wideT, narrowT time.Duration
	for b.Loop() {
		var w wide
		var n narrow
		t0 := time.Now()
		err0 := decodeWithoutPlan(typ, data, &w)
		t1 := time.Now()
		err1 := Decode(typ, data, &w)
		t2 := time.Now()
		err2 := Decode(typ, data, &n)
		t3 := time.Now()
		if err0 != nil || err1 != nil || err2 != nil {
			b.Fatal(err0, err1, err2)
		}
		baseT += t1.Sub(t0)
		wideT += t2.Sub(t1)
		narrowT += t3.Sub(t2)
	}
	b.ReportMetric(float64(baseT.Nanoseconds())/float64(b.N), "without-ns/op")
	b.ReportMetric(wideT.Seconds()/baseT.Seconds(), "wide/without")
	b.ReportMetric(narrowT.Seconds()/baseT.Seconds(), "narrow/without")
}
