package chain_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/theater-go/theater/actor/chain"
)

// framed stores ss in messages of the given sizes (1 is a plain event),
// as an appender's group commits would.
func framed(t testing.TB, ss []chain.Sealed, sizes ...int) []chain.Record {
	t.Helper()
	var rs []chain.Record
	i := 0
	for _, n := range sizes {
		rs = append(rs, frameRecord(t, uint64(10+len(rs)), ss[i:i+n]))
		i += n
	}
	if i != len(ss) {
		t.Fatalf("sizes cover %d of %d events", i, len(ss))
	}
	return rs
}

func frameRecord(t testing.TB, streamSeq uint64, ss []chain.Sealed) chain.Record {
	t.Helper()
	if len(ss) == 1 {
		return chain.Record{StreamSeq: streamSeq, Header: ss[0].Header(), Data: ss[0].Payload}
	}
	data, h, err := chain.EncodeFrame(ss)
	if err != nil {
		t.Fatal(err)
	}
	return chain.Record{StreamSeq: streamSeq, Header: h, Data: data}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, n := range []int{2, 15, 16, 300} {
		ss := handledChain(t, "a", n)
		ss[n-1].Payload = append(ss[n-1].Payload, make([]byte, 70000)...) // a bin32 element
		data, h, err := chain.EncodeFrame(ss)
		if err != nil {
			t.Fatal(err)
		}
		if !chain.IsFrame(data) || chain.IsFrame(ss[0].Payload) {
			t.Fatal("IsFrame does not tell a frame from an event")
		}
		ps, err := chain.Payloads(data)
		if err != nil || len(ps) != n {
			t.Fatalf("%d events: %d payloads, %v", n, len(ps), err)
		}
		for i := range ps {
			if !bytes.Equal(ps[i], ss[i].Payload) {
				t.Fatalf("payload %d differs", i)
			}
		}
		if h[chain.HeaderHash][0] != ss[n-1].Hash.String() || h[chain.HeaderSeq][0] != "1" || h[chain.HeaderKind][0] != chain.FrameKind {
			t.Fatalf("headers %v", h)
		}
	}
	if _, _, err := chain.EncodeFrame(handledChain(t, "a", 1)); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("a frame of one: %v", err)
	}
	// A plain event is its own one payload.
	ss := handledChain(t, "a", 1)
	if ps, err := chain.Payloads(ss[0].Payload); err != nil || len(ps) != 1 || !bytes.Equal(ps[0], ss[0].Payload) {
		t.Fatalf("%v %v", ps, err)
	}
}

func TestFrameRejectsNonCanonical(t *testing.T) {
	for name, b := range map[string][]byte{
		"one element":     {0x91, 0xc4, 0x01, 0x86},
		"empty":           {0x90},
		"array16 for 2":   {0xdc, 0x00, 0x02, 0xc4, 0x01, 0x86, 0xc4, 0x01, 0x86},
		"bin16 for 1":     {0x92, 0xc5, 0x00, 0x01, 0x86, 0xc4, 0x01, 0x86},
		"str element":     {0x92, 0xa1, 0x86, 0xc4, 0x01, 0x86},
		"trailing":        {0x92, 0xc4, 0x01, 0x86, 0xc4, 0x01, 0x86, 0x00},
		"short":           {0x92, 0xc4, 0x05, 0x86},
		"huge count":      {0xdd, 0x7f, 0xff, 0xff, 0xff, 0xc4, 0x00},
		"truncated array": {0xdc, 0x00},
	} {
		if _, err := chain.Payloads(b); !errors.Is(err, chain.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestVerifyFrames: a chain of frames verifies as the same chain of plain
// messages does, with the same head; every finding is at the event's own
// sequence, inside a frame or of a whole frame.
func TestVerifyFrames(t *testing.T) {
	ss := handledChain(t, "a", 12)
	sizes := []int{1, 3, 3, 1, 3, 1} // events 1, 2-4, 5-7, 8, 9-11, 12
	base := framed(t, ss, sizes...)
	frameOf := func(seq int) int { // index in base of the message holding event seq
		n := 0
		for i, s := range sizes {
			if n += s; seq <= n {
				return i
			}
		}
		return -1
	}
	without := func(rs []chain.Record, i int) ([]chain.Record, chain.Record) {
		return slices.Delete(slices.Clone(rs), i, i+1), rs[i]
	}

	t.Run("intact", func(t *testing.T) {
		rep := chain.Verify("a", ss[11].Head(), base)
		want(t, rep)
		if rep.Head != ss[11].Head() || rep.Records != 6 || rep.Events != 12 {
			t.Fatalf("%+v", rep)
		}
	})
	t.Run("one event inside a frame changed, frame republished", func(t *testing.T) {
		rs, _ := without(base, frameOf(6))
		ch := slices.Clone(ss[4:7])
		ch[1] = reseal(t, ch[1], func(h *chain.Handled) { h.Reply = []byte("changed") })
		rs = republish(rs, frameRecord(t, 0, ch))
		want(t, chain.Verify("a", chain.Head{}, rs), "6:modified")
	})
	t.Run("one byte of a frame's event changed in place", func(t *testing.T) {
		rs := slices.Clone(base)
		r := rs[frameOf(3)]
		r.Data = slices.Clone(r.Data)
		ps, _ := chain.Payloads(r.Data)
		ps[1][len(ps[1])-40] ^= 1 // inside event 3's payload bytes
		rs[frameOf(3)] = r
		want(t, chain.Verify("a", chain.Head{}, rs), "3:modified")
	})
	t.Run("a frame removed", func(t *testing.T) {
		rs, _ := without(base, frameOf(5))
		want(t, chain.Verify("a", chain.Head{}, rs), "5:removed", "6:removed", "7:removed")
	})
	t.Run("two frames swapped", func(t *testing.T) {
		rs, f2 := without(base, frameOf(2))
		rs, f5 := without(rs, frameOf(5)-1)
		rs = republish(republish(rs, f5), f2)
		want(t, chain.Verify("a", chain.Head{}, rs), "2:reordered", "3:reordered", "4:reordered", "5:reordered", "6:reordered", "7:reordered")
	})
	t.Run("a frame moved behind the next", func(t *testing.T) {
		rs, f := without(base, frameOf(9))
		rs = republish(rs, f)
		want(t, chain.Verify("a", chain.Head{}, rs), "12:reordered")
	})
	t.Run("a forged frame claiming two sequences", func(t *testing.T) {
		forged := []chain.Sealed{seal(t, ss[4].Head().Next("a", &chain.Stop{Reason: "forged"}))}
		forged = append(forged, seal(t, forged[0].Head().Next("a", &chain.Stop{Reason: "forged"})))
		rs := republish(slices.Clone(base), frameRecord(t, 0, forged))
		want(t, chain.Verify("a", chain.Head{}, rs), "6:inserted", "7:inserted")
	})
	t.Run("a forged single event inside a frame's range", func(t *testing.T) {
		rs := republish(slices.Clone(base), frameRecord(t, 0, []chain.Sealed{seal(t, ss[8].Head().Next("a", &chain.Stop{}))}))
		want(t, chain.Verify("a", chain.Head{}, rs), "10:inserted")
	})
	t.Run("an event of another actor inside a frame", func(t *testing.T) {
		rs := slices.Clone(base)
		other := handledChain(t, "b", 12)
		rs[frameOf(6)] = frameRecord(t, rs[frameOf(6)].StreamSeq, []chain.Sealed{ss[4], other[5], ss[6]})
		want(t, chain.Verify("a", chain.Head{}, rs), "6:removed", "6:inserted")
	})
	for _, c := range []struct {
		key, value, find string
	}{
		{chain.HeaderSeq, "6", "5:modified"},
		{chain.HeaderLastSeq, "8", "7:modified"},
		{chain.HeaderEvents, "2", "5:modified"},
		{chain.HeaderHash, ss[5].Hash.String(), "7:modified"},
		{chain.HeaderKind, "handled", "5:modified"},
	} {
		t.Run("header "+c.key+" lies", func(t *testing.T) {
			rs := slices.Clone(base)
			r := rs[frameOf(5)]
			r.Header = map[string][]string{}
			for k, v := range rs[frameOf(5)].Header {
				r.Header[k] = v
			}
			r.Header[c.key] = []string{c.value}
			rs[frameOf(5)] = r
			want(t, chain.Verify("a", chain.Head{}, rs), c.find)
		})
	}
	t.Run("a frame that does not split", func(t *testing.T) {
		rs := slices.Clone(base)
		r := rs[frameOf(5)]
		r.Data = append(slices.Clone(r.Data), 0)
		rs[frameOf(5)] = r
		want(t, chain.Verify("a", chain.Head{}, rs), "5:modified", "6:modified", "7:modified")
	})
}

func seal(t testing.TB, e chain.Event) chain.Sealed {
	t.Helper()
	s, err := chain.Seal(e)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func reseal(t testing.TB, s chain.Sealed, edit func(*chain.Handled)) chain.Sealed {
	t.Helper()
	ev := s.Event
	h := *ev.Body.(*chain.Handled)
	edit(&h)
	ev.Body = &h
	return seal(t, ev)
}

// FuzzPayloads: random bytes split into payloads that EncodeFrame writes
// back exactly (a frame has one form), or give an error; never a panic.
// Seeds in testdata/fuzz/FuzzPayloads.
func FuzzPayloads(f *testing.F) {
	ss := handledChain(f, "a", 3)
	data, _, _ := chain.EncodeFrame(ss)
	f.Add(data)
	f.Add([]byte{0x92, 0xc4, 0x00, 0xc4, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := chain.Payloads(b)
		if err != nil || !chain.IsFrame(b) {
			return
		}
		es := make([]chain.Sealed, len(ps))
		for i := range ps {
			es[i].Payload = ps[i]
		}
		again, _, err := chain.EncodeFrame(es)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%x splits into %d payloads that frame as %x (%v)", b, len(ps), again, err)
		}
	})
}

// FuzzVerifyFrame: a chain whose middle frame is replaced by random
// bytes under its own headers is reported, never a panic.
func FuzzVerifyFrame(f *testing.F) {
	f.Add([]byte{0x92, 0xc4, 0x00, 0xc4, 0x00}, uint8(3))
	f.Add([]byte("garbage"), uint8(0))
	ss := handledChain(f, "a", 7)
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		rs := framed(t, ss, 2, 3, 2)
		if int(cut) < len(data) {
			data = data[:cut]
		}
		orig := rs[1].Data
		rs[1].Data = data
		rep := chain.Verify("a", ss[6].Head(), rs)
		if !bytes.Equal(data, orig) && rep.OK() {
			t.Fatalf("replaced the frame of events 3-5 by %x, report is clean", data)
		}
	})
}
