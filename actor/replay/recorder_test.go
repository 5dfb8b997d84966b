package replay_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
)

// countingRouter counts what reaches it and answers requests with "pong".
type countingRouter struct{ sends, requests int }

func (c *countingRouter) Send(context.Context, string, string, []byte) error {
	c.sends++
	return nil
}

func (c *countingRouter) Request(context.Context, string, string, []byte, time.Duration) ([]byte, error) {
	c.requests++
	return []byte("pong"), nil
}

type failingEntropy struct{}

func (failingEntropy) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

// TestRecorder: sends are held (copied, not delivered), requests go out
// and are recorded, Take returns everything in order and resets.
func TestRecorder(t *testing.T) {
	ctx := context.Background()
	router := &countingRouter{}
	var n byte
	rec := replay.NewRecorder(fixedClock(time.Unix(5, 6)), countingEntropy{&n}, router)
	payload := []byte{1, 2}
	if err := rec.Router().Send(ctx, "a", "b", payload); err != nil {
		t.Fatal(err)
	}
	payload[0] = 9 // guest memory is reused after the call
	rec.Clock().Now()
	buf := make([]byte, 3)
	if _, err := rec.Entropy().Read(buf); err != nil {
		t.Fatal(err)
	}
	if reply, err := rec.Router().Request(ctx, "a", "b", nil, 0); err != nil || string(reply) != "pong" {
		t.Fatalf("request: %q, %v", reply, err)
	}
	if err := rec.Router().Send(ctx, "a", "no.such", nil); !errors.Is(err, actor.ErrUnknownActor) {
		t.Errorf("a send to an invalid id: %v, want ErrUnknownActor", err)
	}
	if router.sends != 0 || router.requests != 1 {
		t.Errorf("the router saw %d sends and %d requests, want 0 and 1", router.sends, router.requests)
	}
	inputs, out := rec.Take()
	want := []chain.Input{
		{Call: replay.CallClock, Data: []byte{0xcf, 0, 0, 0, 0x01, 0x2a, 0x05, 0xf2, 0x06}}, // 5_000_000_006 ns
		{Call: replay.CallRandom, Data: []byte{0, 1, 2}},
		{Call: replay.CallRequest, Data: append([]byte("\x82\xa2to\xa1b\xa6result\x81\xa2ok\xc4\x04"), "pong"...)},
	}
	if len(inputs) != len(want) {
		t.Fatalf("inputs %v, want %v", inputs, want)
	}
	for i := range want {
		if inputs[i].Call != want[i].Call || !bytes.Equal(inputs[i].Data, want[i].Data) {
			t.Errorf("input %d: %s %x, want %s %x", i, inputs[i].Call, inputs[i].Data, want[i].Call, want[i].Data)
		}
	}
	if len(out) != 1 || out[0].To != "b" || !bytes.Equal(out[0].Payload, []byte{1, 2}) {
		t.Errorf("out %v, want one message [1 2] to b", out)
	}
	if inputs, out := rec.Take(); inputs != nil || out != nil {
		t.Errorf("a second Take returned %v, %v", inputs, out)
	}

	bad := replay.NewRecorder(nil, failingEntropy{}, nil)
	if _, err := bad.Entropy().Read(buf); err == nil {
		t.Error("a failing entropy read succeeded")
	}
	if _, err := bad.Router().Request(ctx, "a", "b", nil, 0); err == nil {
		t.Error("a request without a router succeeded")
	}
	if inputs, _ := bad.Take(); len(inputs) != 2 || inputs[0].Call != replay.CallRandom || len(inputs[0].Data) != 0 || inputs[1].Call != replay.CallRequest {
		t.Errorf("without entropy and router, recorded %v: want an empty random input and the failed request", inputs)
	}
}
