// Command clock is a Go guest that reads WASI's clocks: a request replies
// with the wall time and the time since the instance started, as two
// msgpack uints back to back; its state counts the calls. Its replies
// show whether a replay starts instances where the live run did.
package main

import (
	"time"

	"github.com/theater-go/theater/actor/guest"
)

var started = time.Now() // read in _initialize: each instance's own start

func init() {
	guest.Handle(guest.Handlers{Init: start, Send: tick, Request: read})
}

func main() {}

func start(state []byte) ([]byte, error) { return guest.AppendUint(nil, 0), nil }

func count(state []byte) uint64 {
	n, _, err := guest.ReadUint(state)
	if err != nil {
		return 0
	}
	return n
}

func tick(state, _ []byte) ([]byte, error) { return guest.AppendUint(nil, count(state)+1), nil }

func read(state, _ []byte) (newState, reply []byte, err error) {
	now := time.Now()
	reply = guest.AppendUint(guest.AppendUint(nil, uint64(now.UnixNano())), uint64(now.Sub(started)))
	return guest.AppendUint(nil, count(state)+1), reply, nil
}
