package replay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
)

// player answers the host calls of one replayed handler from its event's
// inputs, in order, and collects its sends. The first call that does not
// fit the record is kept as the event's divergence; later calls get zero
// answers so the handler can run to its end.
type player struct {
	mu     sync.Mutex
	seq    uint64
	inputs []chain.Input
	next   int
	out    []chain.Outgoing
	div    *Divergence
}

func (p *player) load(seq uint64, inputs []chain.Input) {
	p.mu.Lock()
	p.seq, p.inputs, p.next, p.out, p.div = seq, inputs, 0, nil, nil
	p.mu.Unlock()
}

// finish ends the handler's calls: it reports the first divergence, or an
// input the guest did not ask for, and returns the sends.
func (p *player) finish(r *replayer) []chain.Outgoing {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.div == nil && p.next < len(p.inputs) {
		p.div = &Divergence{Seq: p.seq, What: DivergedUnconsumed, Call: p.next, Name: p.inputs[p.next].Call,
			Want: fmt.Sprintf("%d host calls", len(p.inputs)), Got: fmt.Sprintf("%d", p.next)}
	}
	if p.div != nil {
		r.diverge(*p.div)
	}
	out := p.out
	p.inputs, p.out = nil, nil
	return out
}

// take returns the next input if it is a call of this name.
func (p *player) take(name string) (chain.Input, int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.div != nil {
		return chain.Input{}, 0, false
	}
	i := p.next
	switch {
	case i >= len(p.inputs):
		p.div = &Divergence{Seq: p.seq, What: DivergedCall, Call: i, Name: name,
			Want: fmt.Sprintf("%d host calls", len(p.inputs)), Got: "a call to " + name}
		return chain.Input{}, i, false
	case p.inputs[i].Call != name:
		p.div = &Divergence{Seq: p.seq, What: DivergedCall, Call: i, Name: name,
			Want: "a call to " + p.inputs[i].Call, Got: "a call to " + name}
		return chain.Input{}, i, false
	}
	p.next++
	return p.inputs[i], i, true
}

func (p *player) misfit(i int, name, want, got string) {
	p.mu.Lock()
	if p.div == nil {
		p.div = &Divergence{Seq: p.seq, What: DivergedInput, Call: i, Name: name, Want: want, Got: got}
	}
	p.mu.Unlock()
}

type playClock struct{ p *player }

func (c playClock) Now() time.Time {
	in, i, ok := c.p.take(CallClock)
	if !ok {
		return time.Unix(0, 0)
	}
	ns, err := decodeClock(in.Data)
	if err != nil {
		c.p.misfit(i, CallClock, fmt.Sprintf("data %x", in.Data), err.Error())
		return time.Unix(0, 0)
	}
	return time.Unix(0, ns)
}

var errRecordedUnavailable = errors.New("replay: the recorded random read failed")

type playEntropy struct{ p *player }

func (e playEntropy) Read(b []byte) (int, error) {
	in, i, ok := e.p.take(CallRandom)
	if ok && len(in.Data) == 0 && len(b) > 0 {
		return 0, errRecordedUnavailable
	}
	if ok && len(in.Data) != len(b) {
		e.p.misfit(i, CallRandom, fmt.Sprintf("%d bytes", len(in.Data)), fmt.Sprintf("%d bytes asked", len(b)))
		ok = false
	}
	if !ok {
		clear(b)
		return len(b), nil
	}
	copy(b, in.Data)
	return len(b), nil
}

type playRouter struct{ p *player }

func (rt playRouter) Send(_ context.Context, _, to string, payload []byte) error {
	if !validTarget(to) {
		return fmt.Errorf("%w: %q", actor.ErrUnknownActor, to)
	}
	rt.p.mu.Lock()
	rt.p.out = append(rt.p.out, chain.Outgoing{To: to, Payload: append([]byte{}, payload...)})
	rt.p.mu.Unlock()
	return nil
}

func (rt playRouter) Request(_ context.Context, _, to string, _ []byte, _ time.Duration) ([]byte, error) {
	in, i, ok := rt.p.take(CallRequest)
	if !ok {
		return nil, context.DeadlineExceeded
	}
	recTo, res, err := decodeRequest(in.Data)
	switch {
	case err != nil:
		rt.p.misfit(i, CallRequest, fmt.Sprintf("data %x", in.Data), err.Error())
		return nil, context.DeadlineExceeded
	case recTo != to:
		rt.p.misfit(i, CallRequest, "a request to "+recTo, "a request to "+to)
		return nil, context.DeadlineExceeded
	}
	return res.answer()
}
