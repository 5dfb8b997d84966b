package chain_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor/chain"
	"github.com/vmihailenco/msgpack/v5"
)

// bodies has one body of every kind, with every field set.
func bodies() []chain.Body {
	return []chain.Body{
		&chain.Spawn{Module: chain.Sum([]byte("wasm")), Manifest: []byte("name = \"counter\"\n"), State: []byte{0x00}},
		&chain.Handled{Call: chain.CallSend, From: "alice", MsgID: "m-1", MailboxSeq: 300,
			Payload: bytes.Repeat([]byte{7}, 64),
			Inputs:  []chain.Input{{Call: "clock.now", Data: []byte{1, 2}}, {Call: "random", Data: []byte{3}}},
			State:   chain.Sum([]byte{1}), Reply: nil,
			Out: []chain.Outgoing{{To: "bob", Payload: []byte{0x91, 0x01}}}},
		&chain.Handled{Call: chain.CallRequest, Payload: []byte{0xc0}, State: chain.Sum(nil), Reply: []byte{0x2a}},
		&chain.Failure{Reason: "trap", Call: chain.CallInit, Detail: "unreachable", MsgID: "", MailboxSeq: 0},
		&chain.Restart{Reason: "supervisor", State: chain.Sum([]byte{9})},
		&chain.Stop{Reason: "requested"},
		&chain.Snapshot{State: []byte("state bytes")},
		&chain.Owner{Node: "node-1", Incarnation: "01J9X"},
		&chain.Lifecycle{What: "child_started", Fields: map[string]string{"supervisor": "sup", "child": "c1"}},
	}
}

// build seals a chain of actor with the given bodies.
func build(t testing.TB, actor string, bs []chain.Body) []chain.Sealed {
	t.Helper()
	var head chain.Head
	var out []chain.Sealed
	for _, b := range bs {
		s, err := chain.Seal(head.Next(actor, b))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
		head = s.Head()
	}
	return out
}

func records(ss []chain.Sealed) []chain.Record {
	rs := make([]chain.Record, len(ss))
	for i := range ss {
		rs[i] = chain.Record{StreamSeq: uint64(10 + i), Header: ss[i].Header(), Data: ss[i].Payload}
	}
	return rs
}

func TestRoundTripEveryKind(t *testing.T) {
	for _, s := range build(t, "a-1", bodies()) {
		got, err := chain.Decode(s.Payload)
		if err != nil {
			t.Fatalf("%s: %v", s.Event.Kind(), err)
		}
		again, err := got.Encode()
		if err != nil || !bytes.Equal(again, s.Payload) {
			t.Fatalf("%s: re-encoding differs (%v)", s.Event.Kind(), err)
		}
		if got.Seq != s.Event.Seq || got.Parent != s.Event.Parent || got.Kind() != s.Event.Kind() || got.Actor != "a-1" {
			t.Fatalf("%s: decoded %+v", s.Event.Kind(), got)
		}
	}
}

// TestIndependentRecomputation checks a chain the way docs/CHAIN.md's
// script does: SHA-256 over the stored bytes, and the fields read by a
// generic msgpack decoder, without this package's Decode or Sum.
func TestIndependentRecomputation(t *testing.T) {
	var prev [32]byte
	for i, s := range build(t, "a-1", bodies()) {
		var m map[string]any
		if err := msgpack.Unmarshal(s.Payload, &m); err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(s.Payload)
		if fmt.Sprintf("%x", h) != s.Header()[chain.HeaderHash][0] {
			t.Fatalf("event %d: header hash differs from sha256 of the payload", i+1)
		}
		if got := fmt.Sprint(m["seq"]); got != fmt.Sprint(i+1) {
			t.Fatalf("event %d: seq field %s", i+1, got)
		}
		if p, _ := m["parent"].([]byte); !bytes.Equal(p, prev[:]) {
			t.Fatalf("event %d: parent %x, want %x", i+1, p, prev)
		}
		if m["kind"] != string(s.Event.Kind()) || m["actor"] != "a-1" || fmt.Sprint(m["v"]) != "1" {
			t.Fatalf("event %d: envelope %v", i+1, m)
		}
		prev = h
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	for name, e := range map[string]chain.Event{
		"no body":       {Actor: "a", Seq: 1},
		"seq 0":         {Actor: "a", Seq: 0, Body: &chain.Stop{}},
		"bad actor":     {Actor: "a.b", Seq: 1, Body: &chain.Stop{}},
		"empty actor":   {Actor: "", Seq: 1, Body: &chain.Stop{}},
		"first parent":  {Actor: "a", Seq: 1, Parent: chain.Sum(nil), Body: &chain.Stop{}},
		"bad call":      {Actor: "a", Seq: 1, Body: &chain.Handled{Call: "poke"}},
		"bad receiver":  {Actor: "a", Seq: 1, Body: &chain.Handled{Call: chain.CallSend, Out: []chain.Outgoing{{To: "x>"}}}},
		"bad sender":    {Actor: "a", Seq: 1, Body: &chain.Handled{Call: chain.CallSend, From: "*"}},
		"non-UTF-8":     {Actor: "a", Seq: 1, Body: &chain.Stop{Reason: "\xff"}},
		"bad node name": {Actor: "a", Seq: 1, Body: &chain.Owner{Node: ""}},
	} {
		if _, err := e.Encode(); !errors.Is(err, chain.ErrInvalid) || !strings.HasPrefix(err.Error(), "chain: ") {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestDecodeRejectsNonCanonical(t *testing.T) {
	s := build(t, "a-1", bodies()[:2])[1]
	var m map[string]any
	if err := msgpack.Unmarshal(s.Payload, &m); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"trailing byte": append(slices.Clone(s.Payload), 0xc0),
		"truncated":     s.Payload[:len(s.Payload)-1],
		"empty":         nil,
		"not a map":     {0x93, 1, 2, 3},
	}
	// The same fields, re-encoded by a generic encoder: valid msgpack,
	// but keys sorted differently and ints in other widths.
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	cases["sorted keys"] = buf.Bytes()
	// seq as a uint16 where a fixint belongs.
	wide := slices.Clone(s.Payload)
	i := bytes.Index(wide, []byte("\xa3seq\x02"))
	wide = slices.Concat(wide[:i+4], []byte{0xcd, 0x00, 0x02}, wide[i+5:])
	cases["wide int"] = wide
	for name, p := range cases {
		if _, err := chain.Decode(p); !errors.Is(err, chain.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestMessageID(t *testing.T) {
	if got := chain.MessageID("counter-1", 42, 0); got != "counter-1:42:0" {
		t.Fatal(got)
	}
}

func TestParseHash(t *testing.T) {
	h := chain.Sum([]byte("x"))
	got, err := chain.ParseHash(h.String())
	if err != nil || got != h {
		t.Fatal(got, err)
	}
	for _, bad := range []string{"", "zz", strings.Repeat("g", 64)} {
		if _, err := chain.ParseHash(bad); !errors.Is(err, chain.ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
