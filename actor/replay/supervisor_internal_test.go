package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/supervisor"
)

func chainInput(data []byte) chain.Input { return chain.Input{Call: CallSupervisor, Data: data} }

func supSeeds() [][]byte {
	req := actor.ChildRequest{ID: "w", Manifest: "worker", Restart: supervisor.Temporary, StartFrom: supervisor.StartLast, Delay: 20 * time.Millisecond}
	return [][]byte{
		encodeSup(supCall("spawn", "w", &req), supInput{}),
		encodeSup(supCall("spawn", "w", &req), supOutcome(fmt.Errorf("%w: w", actor.ErrExists))),
		encodeSup(supCall("stop", "w", nil), supOutcome(fmt.Errorf("%w: w", supervisor.ErrUnknownChild))),
		encodeSup(supCall("children", "", nil), supInput{Children: childrenOf(nil)}),
		encodeSup(supCall("children", "", nil), supInput{Children: childrenOf([]supervisor.ChildInfo{{ID: "w", Restart: supervisor.Permanent, Running: true, Restarts: 2}})}),
		encodeSup(supCall("state", "w", nil), supInput{State: []byte{}}),
		encodeSup(supCall("restart", "w", nil), supOutcome(errors.New("no node answered"))),
	}
}

// TestSupervisorInputs: each recorded outcome decodes to an answer the
// host maps to the same supervisor.error case with the same text, an
// empty list or state stays empty (not absent), and a call other than
// the recorded one is a divergence.
func TestSupervisorInputs(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("%w: w", actor.ErrExists), fmt.Errorf("%w: w", supervisor.ErrChildExists),
		fmt.Errorf("%w: w", supervisor.ErrUnknownChild), fmt.Errorf("%w: manifest x", actor.ErrDenied),
		fmt.Errorf("%w: bad", actor.ErrInvalidID), fmt.Errorf("%w: bad", supervisor.ErrInvalidSpec),
		errors.New("theater: no node answered"),
	} {
		in, derr := decodeSup(encodeSup(supCall("stop", "w", nil), supOutcome(err)))
		if derr != nil {
			t.Fatal(derr)
		}
		got := in.answer()
		if actor.SupervisorErrorCase(got) != actor.SupervisorErrorCase(err) || got.Error() != err.Error() {
			t.Errorf("%v replays as %v (%s, want %s)", err, got, actor.SupervisorErrorCase(got), actor.SupervisorErrorCase(err))
		}
	}
	var p player
	seeds := supSeeds()
	p.load(7, nil)
	for _, s := range []int{3, 5} {
		p.inputs = append(p.inputs, chainInput(seeds[s]))
	}
	ps := playSupervision{&p}
	if kids, err := ps.Children(context.Background(), "boss"); err != nil || kids == nil || len(kids) != 0 {
		t.Errorf("children %v, %v; want an empty list", kids, err)
	}
	if st, err := ps.State(context.Background(), "boss", "w"); err != nil || st == nil || len(st) != 0 {
		t.Errorf("state %v, %v; want empty", st, err)
	}
	p.load(8, []chain.Input{chainInput(seeds[0])})
	if err := ps.Spawn(context.Background(), "boss", actor.ChildRequest{ID: "other", Manifest: "worker", Restart: supervisor.Temporary, StartFrom: supervisor.StartLast}); err == nil {
		t.Error("a spawn of another child replayed without an error")
	}
	if p.div == nil || p.div.What != DivergedInput {
		t.Errorf("divergence %+v, want an input that does not fit", p.div)
	}
	for _, bad := range [][]byte{nil, {0x80}, append(slices.Clone(seeds[0]), 0), seeds[0][:len(seeds[0])-1]} {
		if _, err := decodeSup(bad); !errors.Is(err, ErrMalformedInput) {
			t.Errorf("%x: %v", bad, err)
		}
	}
}

// FuzzDecodeSupervisor: any Data either fails as malformed or decodes to
// an input that encodes back to the same bytes.
func FuzzDecodeSupervisor(f *testing.F) {
	for _, s := range supSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := decodeSup(data)
		if errors.Is(err, ErrMalformedInput) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if again := encodeSup(in, in); !bytes.Equal(again, data) {
			t.Fatalf("%x decoded, encodes to %x", data, again)
		}
	})
}
