package replay

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/theater-go/theater/actor/chain"
)

// held is what a recorder of one effect kind (timer ops, publications)
// holds for the owner: each effect is an input of the handler that made
// it, and takes effect only once that handler's event is durable, so it
// waits here. cur is the running handler's; [Recorder.Take] moves it to
// taken, which the owner takes to make (or drop) with the event.
type held[T any] struct {
	mu         sync.Mutex
	cur, taken []T
}

func (h *held[T]) add(v T) {
	h.mu.Lock()
	h.cur = append(h.cur, v)
	h.mu.Unlock()
}

// endHandler is Take's: the running handler's effects wait for take.
func (h *held[T]) endHandler() {
	h.mu.Lock()
	h.taken = append(h.taken, h.cur...)
	h.cur = nil
	h.mu.Unlock()
}

// take returns and resets the effects of the handlers ended since the
// last call, in order.
func (h *held[T]) take() []T {
	h.mu.Lock()
	defer h.mu.Unlock()
	vs := h.taken
	h.taken = nil
	return vs
}

// applyEach makes effects in order with apply (given each one's index
// in its event) and joins the errors of those that failed; one failing
// does not keep the next from being made.
func applyEach[T any](effects []T, apply func(i int, v T) error) error {
	var errs []error
	for i, v := range effects {
		if err := apply(i, v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// effectsOf returns the effects recorded as call in an event's inputs,
// in order, decoded; malformed ones are skipped (a recorder never wrote
// them, and replay reports them).
func effectsOf[T any](inputs []chain.Input, call string, decode func([]byte) (T, error)) []T {
	var vs []T
	for _, in := range inputs {
		if in.Call != call {
			continue
		}
		if v, err := decode(in.Data); err == nil {
			vs = append(vs, v)
		}
	}
	return vs
}

// playEffect checks an effect the guest makes in replay, encoded as
// data and described by what, against the next recorded input.
func (p *player) playEffect(call string, data []byte, what string) error {
	in, i, ok := p.take(call)
	if !ok {
		return errReplayed
	}
	if !bytes.Equal(in.Data, data) {
		p.misfit(i, call, fmt.Sprintf("data %x", in.Data), what)
		return errReplayed
	}
	return nil
}
