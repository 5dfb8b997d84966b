package actor

import (
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// FuzzDecodeLogFields: any bytes decode to at most maxLogFields UTF-8
// fields or fail, without panicking; what decodes encodes to fields
// that decode the same. Seeds are in testdata/fuzz/FuzzDecodeLogFields.
func FuzzDecodeLogFields(f *testing.F) {
	seed, _ := msgpack.Marshal([]logField{{Key: "job", Value: "j1"}, {Key: "attempt", Value: "2"}})
	f.Add(seed)
	f.Add([]byte{0x90})
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := decodeLogFields(data)
		if err != nil {
			return
		}
		if len(fs) > maxLogFields {
			t.Fatalf("%d fields", len(fs))
		}
		b, err := msgpack.Marshal(fs)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeLogFields(b)
		if err != nil || len(again) != len(fs) {
			t.Fatalf("%x: re-encoded %x: %v", data, b, err)
		}
		for i := range fs {
			if again[i] != fs[i] {
				t.Fatalf("field %d: %+v, want %+v", i, again[i], fs[i])
			}
		}
	})
}
