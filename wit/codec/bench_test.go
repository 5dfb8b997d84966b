package codec_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
	"github.com/tinylib/msgp/msgp"
	"github.com/vmihailenco/msgpack/v5"
)

// The benchmarks come in pairs with a baseline that does the least any
// implementation must (msgp.Skip walks the msgpack without types;
// encoding/json parses the JSON without types), so the docs can give
// ratios rather than machine-dependent times.

var (
	benchRecord = record("user",
		field("id", wit.U64),
		field("name", wit.String),
		field("active", wit.Bool),
		field("score", wit.F64),
		field("role", enum("role", "admin", "member")))
	benchRecordJSON = `{"id":12345,"name":"ada lovelace","active":true,"score":98.5,"role":"member"}`

	bench1K = list(record("entry",
		field("key", wit.String),
		field("count", wit.U32),
		field("tags", list(wit.String)),
		field("ratio", option(wit.F32))))
	bench1KJSON = func() string {
		var b strings.Builder
		b.WriteString("[")
		for i := range 12 {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"key":"entry-number-` + strings.Repeat("x", i) + `","count":4000000,"tags":["alpha","beta"],"ratio":0.5}`)
		}
		b.WriteString("]")
		return b.String()
	}()

	benchBytes = record("blob", field("name", wit.String), field("data", list(wit.U8)))
)

func mustFromJSON(b *testing.B, t wit.Type, js string) []byte {
	data, err := codec.FromJSON(t, []byte(js))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkValidateRecord5(b *testing.B) {
	data := mustFromJSON(b, benchRecord, benchRecordJSON)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := codec.Validate(benchRecord, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineSkipRecord5(b *testing.B) {
	benchSkip(b, mustFromJSON(b, benchRecord, benchRecordJSON))
}

func benchBlob(b *testing.B) []byte {
	data, err := codec.Marshal(benchBytes, map[string]any{"name": "blob", "data": bytes.Repeat([]byte{7}, 64<<10)})
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkValidateBytes64K(b *testing.B) {
	data := benchBlob(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := codec.Validate(benchBytes, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineSkipBytes64K(b *testing.B) { benchSkip(b, benchBlob(b)) }

func BenchmarkValidate1K(b *testing.B) {
	data := mustFromJSON(b, bench1K, bench1KJSON)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := codec.Validate(bench1K, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineSkip1K(b *testing.B) { benchSkip(b, mustFromJSON(b, bench1K, bench1KJSON)) }

func benchSkip(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := msgp.Skip(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFromJSON1K(b *testing.B) {
	js := []byte(bench1KJSON)
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.FromJSON(bench1K, js); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineJSONUnmarshal1K(b *testing.B) {
	js := []byte(bench1KJSON)
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal(js, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToJSON1K(b *testing.B) {
	data := mustFromJSON(b, bench1K, bench1KJSON)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.ToJSON(bench1K, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineMsgpToJSON1K is msgp's own untyped msgpack-to-JSON.
func BenchmarkBaselineMsgpToJSON1K(b *testing.B) {
	data := mustFromJSON(b, bench1K, bench1KJSON)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if _, err := msgp.UnmarshalAsJSON(&buf, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal1K(b *testing.B) {
	data := mustFromJSON(b, bench1K, bench1KJSON)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.Unmarshal(bench1K, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal1K(b *testing.B) {
	v, err := codec.Unmarshal(bench1K, mustFromJSON(b, bench1K, bench1KJSON))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.Marshal(bench1K, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanonicalRecord5 is Canonical of an already canonical record,
// the chain's hot path; BenchmarkValidateRecord5 is its baseline.
func BenchmarkCanonicalRecord5(b *testing.B) {
	data := mustFromJSON(b, benchRecord, benchRecordJSON)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.Canonical(benchRecord, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanonicalRecord5Rewrite is Canonical of the same record spelled
// as msgpack/v5 writes a struct by default (full-width integers) with the
// fields in reverse order: the rewriting path.
func BenchmarkCanonicalRecord5Rewrite(b *testing.B) {
	data := unhexB(b, "85 a4726f6c65 a66d656d626572 a573636f7265 cb4058a00000000000 a6616374697665 c3"+
		" a46e616d65 ac616461206c6f76656c616365 a26964 cf0000000000003039")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.Canonical(benchRecord, data); err != nil {
			b.Fatal(err)
		}
	}
}

func unhexB(b *testing.B, s string) []byte {
	data, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// benchUser is benchRecord as a Go struct.
type benchUser struct {
	ID     uint64  `msgpack:"id"`
	Name   string  `msgpack:"name"`
	Active bool    `msgpack:"active"`
	Score  float64 `msgpack:"score"`
	Role   string  `msgpack:"role"`
}

var benchUserV = benchUser{ID: 12345, Name: "ada lovelace", Active: true, Score: 98.5, Role: "member"}

// BenchmarkMarshalDecodeStruct5 is Marshal then Decode of a 5-field
// struct; BenchmarkBaselineV5MarshalUnmarshalStruct5 is plain msgpack/v5
// on the same struct.
func BenchmarkMarshalDecodeStruct5(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		data, err := codec.Marshal(benchRecord, &benchUserV)
		if err != nil {
			b.Fatal(err)
		}
		var u benchUser
		if err := codec.Decode(benchRecord, data, &u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineV5MarshalUnmarshalStruct5(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		data, err := msgpack.Marshal(&benchUserV)
		if err != nil {
			b.Fatal(err)
		}
		var u benchUser
		if err := msgpack.Unmarshal(data, &u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalStruct5(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.Marshal(benchRecord, &benchUserV); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineV5MarshalStruct5(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := msgpack.Marshal(&benchUserV); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeStruct5(b *testing.B) {
	data := mustFromJSON(b, benchRecord, benchRecordJSON)
	b.ReportAllocs()
	for b.Loop() {
		var u benchUser
		if err := codec.Decode(benchRecord, data, &u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineV5UnmarshalStruct5(b *testing.B) {
	data := mustFromJSON(b, benchRecord, benchRecordJSON)
	b.ReportAllocs()
	for b.Loop() {
		var u benchUser
		if err := msgpack.Unmarshal(data, &u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeStruct5Narrow decodes the same record into a struct whose
// id is narrower than its u64, so Decode checks that value too.
func BenchmarkDecodeStruct5Narrow(b *testing.B) {
	type narrowUser struct {
		ID     uint32  `msgpack:"id"`
		Name   string  `msgpack:"name"`
		Active bool    `msgpack:"active"`
		Score  float64 `msgpack:"score"`
		Role   string  `msgpack:"role"`
	}
	data := mustFromJSON(b, benchRecord, benchRecordJSON)
	b.ReportAllocs()
	for b.Loop() {
		var u narrowUser
		if err := codec.Decode(benchRecord, data, &u); err != nil {
			b.Fatal(err)
		}
	}
}
