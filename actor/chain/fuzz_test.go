package chain_test

import (
	"bytes"
	"testing"

	"github.com/theater-go/theater/actor/chain"
)

// FuzzDecode: random bytes give an error or an event whose canonical
// encoding is exactly those bytes; never a panic. Seeds in
// testdata/fuzz/FuzzDecode hold one event of every kind.
func FuzzDecode(f *testing.F) {
	for _, s := range build(f, "a-1", bodies()) {
		f.Add(s.Payload)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := chain.Decode(b)
		if err != nil {
			return
		}
		again, err := ev.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("decoded %+v re-encodes to %x (%v), not %x", ev, again, err, b)
		}
	})
}

// FuzzVerify: a chain with one stored message replaced by random bytes
// and random headers is reported, never a panic.
func FuzzVerify(f *testing.F) {
	f.Add(2, []byte("garbage"), "2", "handled")
	f.Add(0, []byte{0xc0}, "", "")
	ss := handledChain(f, "a", 4)
	f.Fuzz(func(t *testing.T, at int, data []byte, seq, kind string) {
		rs := records(ss)
		i := ((at % len(rs)) + len(rs)) % len(rs)
		rs[i] = chain.Record{StreamSeq: rs[i].StreamSeq, Data: data,
			Header: map[string][]string{chain.HeaderSeq: {seq}, chain.HeaderKind: {kind}, chain.HeaderHash: {chain.Sum(data).String()}}}
		rep := chain.Verify("a", ss[3].Head(), rs)
		if !bytes.Equal(data, ss[i].Payload) && rep.OK() {
			t.Fatalf("replaced event %d, report is clean", i+1)
		}
	})
}

// FuzzParseMessageID: a string parses only if MessageID spells it back
// exactly; every MessageID parses to its parts.
func FuzzParseMessageID(f *testing.F) {
	f.Add("relay:12:0", uint64(12), 0)
	f.Add("a:b:1:2", uint64(1), 3)
	f.Add("x:01:0", uint64(0), 0)
	f.Add(":1:1", uint64(7), 1)
	f.Fuzz(func(t *testing.T, s string, seq uint64, idx int) {
		if a, q, i, ok := chain.ParseMessageID(s); ok && chain.MessageID(a, q, i) != s {
			t.Fatalf("%q parsed to %q %d %d", s, a, q, i)
		}
		if seq == 0 || idx < 0 || s == "" {
			return
		}
		id := chain.MessageID(s, seq, idx)
		if a, q, i, ok := chain.ParseMessageID(id); !ok || a != s || q != seq || i != idx {
			t.Fatalf("%q: got %q %d %d %v", id, a, q, i, ok)
		}
	})
}
