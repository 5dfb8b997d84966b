package codec_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
	"github.com/tinylib/msgp/msgp"
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
