package node

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
)

// sameSeen reports how a and b differ, "" when they are the same set in
// the same order with the same per-sender marks (so they forget the same
// ids after the same later adds).
func sameSeen(a, b *seenSends) string {
	if !maps.Equal(a.ids, b.ids) {
		return fmt.Sprintf("ids: %d and %d", len(a.ids), len(b.ids))
	}
	if !slices.Equal(a.order[a.head:], b.order[b.head:]) {
		return "order differs"
	}
	if len(a.senders) != len(b.senders) {
		return fmt.Sprintf("senders: %d and %d", len(a.senders), len(b.senders))
	}
	for id, s := range a.senders {
		if o := b.senders[id]; o == nil || *o != *s {
			return fmt.Sprintf("sender %q: %+v and %+v", id, s, o)
		}
	}
	return ""
}

// TestPointSeenExact: the restore point's form of the handled-send ids
// rebuilds exactly the set it was made from (ids, order, per-sender
// highest sequence), sends and publications mixed, including senders whose ids arrived out of order
// and ids whose highest sequence was already forgotten; and the rebuilt
// set goes on forgetting exactly as the original does.
func TestPointSeenExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := newSeenSends()
	senders := []string{"a", "b:c", "a-longer-sender_name", "d"}
	seq := map[string]uint64{}
	added := map[string]bool{}
	for range 20000 {
		from := senders[r.IntN(len(senders))]
		seq[from] += uint64(r.IntN(3))
		at := max(1, seq[from]+uint64(r.IntN(50))) // out of order, some far ahead
		at = max(1, at-uint64(r.IntN(40)))
		id := chain.MessageID(from, at, r.IntN(4))
		if r.IntN(3) == 0 { // a publication moved into the mailbox
			id = replay.ChannelMsgID(from, at, r.IntN(4))
		}
		s.add(from, id)
		added[id] = true
	}
	if len(s.ids) < 1000 || len(s.ids) == len(added) {
		t.Fatalf("the set kept %d of %d ids: it should forget some, not most", len(s.ids), len(added))
	}
	ps, b := encodeSeen(s)
	got, err := decodeSeen(ps, b)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameSeen(s, got); d != "" {
		t.Fatal(d)
	}
	for i := range 5000 {
		from := senders[i%len(senders)]
		id := chain.MessageID(from, seq[from]+uint64(i), 0)
		s.add(from, id)
		got.add(from, id)
	}
	if d := sameSeen(s, got); d != "" {
		t.Fatalf("after more adds: %s", d)
	}
	// Bytes per id at the bound, one sender: the point fits a message.
	full := newSeenSends()
	for i := range maxSeen {
		full.add("sender-1", chain.MessageID("sender-1", uint64(i/50+1), i%50))
	}
	_, fb := encodeSeen(full)
	t.Logf("%d ids of one sender: %d bytes (%.1f per id)", len(full.ids), len(fb), float64(len(fb))/float64(len(full.ids)))
	if len(fb) > 1<<19 {
		t.Fatalf("%d ids take %d bytes", len(full.ids), len(fb))
	}
}

// TestPointRefusesBadSeen: ids a node never writes make the point
// unusable rather than a set that drops a send it has not handled.
func TestPointRefusesBadSeen(t *testing.T) {
	one := func(vs ...int64) []byte {
		var b []byte
		for i, v := range vs {
			if i%3 == 1 {
				b = appendVarint(b, v)
			} else {
				b = appendUvarint(b, uint64(v))
			}
		}
		return b
	}
	for name, c := range map[string]struct {
		senders []pointSender
		seen    []byte
	}{
		"sender index out of range": {[]pointSender{{"a", 9}}, one(1, 1, 0)},
		"seq above the top":         {[]pointSender{{"a", 9}}, one(0, 10, 0)},
		"seq zero":                  {[]pointSender{{"a", 9}}, one(0, 0, 0)},
		"same id twice":             {[]pointSender{{"a", 9}}, one(0, 1, 0, 0, 0, 0)},
		"sender without ids":        {[]pointSender{{"a", 9}, {"b", 1}}, one(0, 1, 0)},
		"sender twice":              {[]pointSender{{"a", 9}, {"a", 9}}, one(0, 1, 0, 1, 2, 0)},
		"truncated":                 {[]pointSender{{"a", 9}}, one(0, 1, 0)[:2]},
		"not an actor id":           {[]pointSender{{"", 9}}, one(0, 1, 0)},
	} {
		if _, err := decodeSeen(c.senders, c.seen); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzDecodePoint: any bytes decode to an error or to a point that
// encodes back to a point decoding to the same set.
func FuzzDecodePoint(f *testing.F) {
	s := newSeenSends()
	s.add("a", chain.MessageID("a", 3, 1))
	s.add("b", chain.MessageID("b", 1, 0))
	ps, seen := encodeSeen(s)
	h := chain.Sum([]byte("x"))
	b, _ := msgpack.Marshal(&restorePoint{V: pointVersion, Seq: 4, Hash: h[:], StreamSeq: 9, State: h[:], Mbox: 2, Senders: ps, Seen: seen})
	f.Add(b)
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, got, err := decodePoint(b)
		if err != nil {
			return
		}
		ps, seen := encodeSeen(got)
		p.Senders, p.Seen = ps, seen
		b2, err := msgpack.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		_, again, err := decodePoint(b2)
		if err != nil {
			t.Fatalf("re-encoded point refused: %v", err)
		}
		if d := sameSeen(got, again); d != "" {
			t.Fatal(d)
		}
	})
}

func appendVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }
func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// BenchmarkEncodeSeen: the cost, at each snapshot, of the handled-send
// ids of a restore point at the bound (131,072 ids from 100 senders).
//
//	go test -run x -bench EncodeSeen ./transport/node
func BenchmarkEncodeSeen(b *testing.B) {
	s := newSeenSends()
	for i := range maxSeen {
		from := fmt.Sprint("sender-", i%100)
		s.add(from, chain.MessageID(from, uint64(i/100+1), 0))
	}
	var n int
	for b.Loop() {
		_, buf := encodeSeen(s)
		n = len(buf)
	}
	b.ReportMetric(float64(n), "bytes")
}
