package node

import (
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// consume runs handle on each message cons delivers, with its metadata (a
// message without is skipped), until the returned stop, which ends the
// consumption and waits for a handler running then. The mailbox movers
// (timers, channels, delayed spawns) use it: a node that lets an actor go
// must not move one more message for it after stop returns.
func consume(cons jetstream.Consumer, handle func(m jetstream.Msg, meta *jetstream.MsgMetadata)) (stop func(), err error) {
	var (
		mu      sync.Mutex
		running sync.WaitGroup
		stopped bool
	)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		// A WaitGroup's Add must not race its Wait: a handler starts
		// under mu, before stop marks the end, or not at all.
		mu.Lock()
		if stopped {
			mu.Unlock()
			return
		}
		running.Add(1)
		mu.Unlock()
		defer running.Done()
		meta, err := m.Metadata()
		if err != nil {
			return
		}
		handle(m, meta)
	})
	if err != nil {
		return nil, err
	}
	return func() {
		cc.Stop()
		mu.Lock()
		stopped = true
		mu.Unlock()
		running.Wait()
	}, nil
}
