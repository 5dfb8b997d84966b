package replay

import (
	"bytes"
	"errors"
	"testing"

	"github.com/theater-go/theater/actor"
)

// FuzzDecodeChannel: any Data either fails as malformed or decodes to a
// publication that encodes back to the same bytes. Seeds are in
// testdata/fuzz/FuzzDecodeChannel.
func FuzzDecodeChannel(f *testing.F) {
	f.Add(encodeChannel(actor.Publication{Topic: "jobs.a", Payload: []byte{0xa1, 'x'}}))
	f.Add(encodeChannel(actor.Publication{Topic: "results"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodeChannel(data)
		if errors.Is(err, ErrMalformedInput) {
			return
		}
		if err != nil {
			t.Fatalf("%x: %v, not malformed", data, err)
		}
		if again := encodeChannel(p); !bytes.Equal(again, data) {
			t.Fatalf("%x decoded, encodes to %x", data, again)
		}
	})
}

// TestPublicationsOf: the publications of an event's inputs, in order,
// with their ids; other inputs and malformed ones are skipped.
func TestPublicationsOf(t *testing.T) {
	r := NewRecorder(nil, nil, nil)
	c := r.Channels(nil)
	for _, topic := range []string{"a", "b.c"} {
		if err := c.Publish(t.Context(), actor.Publication{Topic: topic, Payload: []byte(topic)}); err != nil {
			t.Fatal(err)
		}
	}
	r.record(CallTimer, encodeTimer(actor.TimerOp{ID: "t"}))
	inputs, _ := r.Take()
	inputs = append(inputs, inputs[0])
	inputs[len(inputs)-1].Data = []byte{0xc1}
	ps := PublicationsOf(inputs)
	if len(ps) != 2 || ps[0].Topic != "a" || ps[1].Topic != "b.c" || string(ps[1].Payload) != "b.c" {
		t.Fatalf("%+v", ps)
	}
	if held := r.Publications(); len(held) != 2 || r.Publications() != nil {
		t.Fatalf("held %+v", held)
	}
	if err := r.ApplyPublications(t.Context(), "x", 7, ps); !errors.Is(err, errNoChannels) {
		t.Fatalf("apply without channels: %v", err)
	}
	if id := ChannelMsgID("x", 7, 1); id != "x:7:c1" {
		t.Fatal(id)
	}
}
