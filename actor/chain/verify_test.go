package chain_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/theater-go/theater/actor/chain"
)

// handledChain is n handled messages of actor, as a node would record.
func handledChain(t testing.TB, actor string, n int) []chain.Sealed {
	bs := make([]chain.Body, n)
	for i := range bs {
		bs[i] = &chain.Handled{Call: chain.CallSend, From: "sender", MsgID: fmt.Sprint("m", i), MailboxSeq: uint64(i + 1),
			Payload: bytes.Repeat([]byte{byte(i)}, 64), State: chain.Sum([]byte{byte(i)})}
	}
	return build(t, actor, bs)
}

// republish appends r at the end of the stream, as a new stream message.
func republish(rs []chain.Record, r chain.Record) []chain.Record {
	r.StreamSeq = rs[len(rs)-1].StreamSeq + 1
	for _, x := range rs {
		r.StreamSeq = max(r.StreamSeq, x.StreamSeq+1)
	}
	return append(rs, r)
}

func remove(rs []chain.Record, seq uint64) ([]chain.Record, chain.Record) {
	i := slices.IndexFunc(rs, func(r chain.Record) bool { return r.Header[chain.HeaderSeq][0] == fmt.Sprint(seq) })
	r := rs[i]
	return slices.Delete(slices.Clone(rs), i, i+1), r
}

// want compares findings as "seq:problem" strings.
func want(t *testing.T, rep chain.Report, exp ...string) {
	t.Helper()
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%d:%s", f.Seq, f.Problem))
	}
	if !slices.Equal(got, exp) {
		t.Fatalf("findings %q, want %q\n%v", got, exp, rep.Findings)
	}
}

func TestVerifyIntact(t *testing.T) {
	ss := handledChain(t, "a", 20)
	rep := chain.Verify("a", ss[19].Head(), records(ss))
	want(t, rep)
	if !rep.OK() || rep.Head != ss[19].Head() || rep.Records != 20 {
		t.Fatalf("%+v", rep)
	}
	want(t, chain.Verify("a", chain.Head{}, nil))
}

func TestVerifyModifiedRepublished(t *testing.T) {
	ss := handledChain(t, "a", 10)
	rs, old := remove(records(ss), 4)
	ev, _ := chain.Decode(old.Data)
	ev.Body.(*chain.Handled).Payload = []byte("forged")
	forged, err := chain.Seal(ev)
	if err != nil {
		t.Fatal(err)
	}
	rs = republish(rs, chain.Record{Header: forged.Header(), Data: forged.Payload})
	want(t, chain.Verify("a", chain.Head{}, rs), "4:modified")
}

func TestVerifyModifiedInPlaceHeaderStale(t *testing.T) {
	ss := handledChain(t, "a", 10)
	rs := records(ss)
	rs[6].Data = bytes.Replace(slices.Clone(rs[6].Data), []byte{6, 6, 6}, []byte{6, 6, 7}, 1)
	want(t, chain.Verify("a", chain.Head{}, rs), "7:modified")
}

func TestVerifyModifiedParentField(t *testing.T) {
	ss := handledChain(t, "a", 10)
	rs := records(ss)
	ev, _ := chain.Decode(rs[4].Data)
	ev.Parent = chain.Sum([]byte("elsewhere"))
	forged, _ := chain.Seal(ev)
	rs[4] = chain.Record{StreamSeq: rs[4].StreamSeq, Header: forged.Header(), Data: forged.Payload}
	want(t, chain.Verify("a", chain.Head{}, rs), "5:modified")
}

func TestVerifyGarbage(t *testing.T) {
	ss := handledChain(t, "a", 5)
	rs := records(ss)
	rs[2].Data = []byte("garbage")
	want(t, chain.Verify("a", chain.Head{}, rs), "3:modified")
}

func TestVerifyRemoved(t *testing.T) {
	ss := handledChain(t, "a", 10)
	rs, _ := remove(records(ss), 5)
	want(t, chain.Verify("a", chain.Head{}, rs), "5:removed")
	rs, _ = remove(rs, 6)
	want(t, chain.Verify("a", chain.Head{}, rs), "5:removed", "6:removed")
}

func TestVerifySwapped(t *testing.T) {
	ss := handledChain(t, "a", 10)
	rs, r3 := remove(records(ss), 3)
	rs, r4 := remove(rs, 4)
	rs = republish(rs, r4)
	rs = republish(rs, r3)
	want(t, chain.Verify("a", chain.Head{}, rs), "3:reordered", "4:reordered")
}

func TestVerifyInserted(t *testing.T) {
	ss := handledChain(t, "a", 10)
	rs := records(ss)
	// A forged event claiming seq 4, linked to event 3.
	forged, _ := chain.Seal(ss[2].Head().Next("a", &chain.Stop{Reason: "forged"}))
	rs = republish(rs, chain.Record{Header: forged.Header(), Data: forged.Payload})
	// Another actor's event, and bytes that name no sequence.
	other := handledChain(t, "b", 1)[0]
	rs = republish(rs, chain.Record{Header: other.Header(), Data: other.Payload})
	rs = republish(rs, chain.Record{Data: []byte{0xc0}})
	want(t, chain.Verify("a", chain.Head{}, rs), "0:inserted", "1:inserted", "4:inserted")
}

func TestVerifyInsertedBeforeGenuine(t *testing.T) {
	ss := handledChain(t, "a", 6)
	forged, _ := chain.Seal(ss[2].Head().Next("a", &chain.Stop{Reason: "forged"}))
	rs := records(ss)
	rs = slices.Insert(rs, 3, chain.Record{StreamSeq: 99, Header: forged.Header(), Data: forged.Payload})
	want(t, chain.Verify("a", chain.Head{}, rs), "4:inserted")
}

func TestVerifyTruncatedAndExpectedHead(t *testing.T) {
	ss := handledChain(t, "a", 10)
	rs := records(ss)
	want(t, chain.Verify("a", ss[9].Head(), rs[:8]), "9:truncated")
	// The head itself changed: only the expected head can tell.
	ev, _ := chain.Decode(rs[9].Data)
	ev.Body.(*chain.Handled).Reply = []byte("x")
	forged, _ := chain.Seal(ev)
	rs[9] = chain.Record{StreamSeq: rs[9].StreamSeq, Header: forged.Header(), Data: forged.Payload}
	want(t, chain.Verify("a", chain.Head{}, rs))
	want(t, chain.Verify("a", ss[9].Head(), rs), "10:modified")
	// Events after the expected head are not findings: the chain grew.
	want(t, chain.Verify("a", ss[4].Head(), records(ss)))
}

func TestVerifyHeaderMismatch(t *testing.T) {
	ss := handledChain(t, "a", 3)
	rs := records(ss)
	rs[1].Header = ss[1].Header()
	rs[1].Header[chain.HeaderKind] = []string{"stop"}
	delete(rs[2].Header, chain.HeaderHash)
	want(t, chain.Verify("a", chain.Head{}, rs), "2:modified", "3:modified")
}

func TestVerifyHugeForgedSeq(t *testing.T) {
	ss := handledChain(t, "a", 3)
	forged, _ := chain.Seal(chain.Head{Seq: 1 << 40, Hash: ss[2].Hash}.Next("a", &chain.Stop{}))
	rs := republish(records(ss), chain.Record{Header: forged.Header(), Data: forged.Payload})
	rep := chain.Verify("a", chain.Head{}, rs)
	want(t, rep, "4:removed")
}

// TestVerifyInconsistentSnapshot: a snapshot with correct links whose
// state is not the one the events before it reach is reported at its
// sequence; a snapshot of the right state, after spawn or handled
// events, is not.
func TestVerifyInconsistentSnapshot(t *testing.T) {
	s0, s1 := []byte{0x00}, []byte{0x01}
	good := build(t, "a", []chain.Body{&chain.Spawn{State: s0}, &chain.Snapshot{State: s0},
		&chain.Handled{Call: chain.CallSend, State: chain.Sum(s1)}, &chain.Snapshot{State: s1}})
	if rep := chain.Verify("a", good[3].Head(), records(good)); !rep.OK() {
		t.Fatalf("consistent chain: %v", rep.Findings)
	}
	bad := build(t, "a", []chain.Body{&chain.Spawn{State: s0},
		&chain.Handled{Call: chain.CallSend, State: chain.Sum(s1)}, &chain.Snapshot{State: []byte{0x02}}, &chain.Snapshot{State: []byte{0x02}}})
	rep := chain.Verify("a", bad[3].Head(), records(bad))
	if len(rep.Findings) != 1 || rep.Findings[0].Seq != 3 || rep.Findings[0].Problem != chain.Inconsistent {
		t.Fatalf("forged snapshot at 3: %v", rep.Findings)
	}
}
