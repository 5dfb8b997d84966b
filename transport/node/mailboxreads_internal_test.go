package node

import (
	"bytes"
	"errors"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// FuzzStreamMsg: an answer to a direct get, whatever its header block, is
// either a stored message whose sequence is its Nats-Sequence header and
// whose payload is the answer's, or refused with errBadRead; never a
// panic. (A block nats.go cannot decode reaches streamMsg without
// headers, as the empty block does here.)
func FuzzStreamMsg(f *testing.F) {
	f.Add([]byte("NATS/1.0\r\nNats-Stream: theater_mailbox\r\nNats-Subject: theater.actor.a.send\r\nNats-Sequence: 7\r\nNats-Time-Stamp: 2026-12-02T07:00:00.000000001Z\r\nNats-Num-Pending: 3\r\nNats-Last-Sequence: 6\r\nNats-Msg-Id: m-1\r\n\r\n"), []byte{0x01})
	f.Add([]byte("NATS/1.0\r\nNats-Sequence: x\r\nNats-Num-Pending: 0\r\n\r\n"), []byte{})
	f.Add([]byte{}, []byte("payload"))
	f.Fuzz(func(t *testing.T, hdr, data []byte) {
		m := &nats.Msg{Data: data}
		if len(hdr) > 0 {
			h, err := nats.DecodeHeadersMsg(hdr)
			if err != nil {
				return
			}
			m.Header = h
		}
		sm, err := streamMsg(m)
		if err != nil {
			if !errors.Is(err, errBadRead) {
				t.Fatalf("refused with %v, not errBadRead", err)
			}
			return
		}
		want, perr := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		if perr != nil || sm.Sequence != want || !bytes.Equal(sm.Data, data) || m.Header.Get("Nats-Num-Pending") == "" {
			t.Fatalf("took %+v from headers %v", sm, m.Header)
		}
	})
}
