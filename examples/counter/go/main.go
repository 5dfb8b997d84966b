// Command counter is the counter actor (examples/counter/counter.wit) in
// Go. Build it as a reactor module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o counter.wasm ./examples/counter/go
package main

import (
	"errors"

	"github.com/theater-go/theater/actor/guest"
)

// c-shared modules never run main; the host's call to _initialize runs
// init, which registers the handlers.
func init() {
	guest.Handle(guest.Handlers{Init: start, Send: add, Request: addAndGet})
}

func main() {}

var errNotUint = errors.New("counter: expected a msgpack uint")

// decode reads a whole msgpack uint; empty bytes are the initial state 0.
func decode(b []byte, emptyOK bool) (uint64, error) {
	if len(b) == 0 && emptyOK {
		return 0, nil
	}
	v, rest, err := guest.ReadUint(b)
	if err != nil || len(rest) != 0 {
		return 0, errNotUint
	}
	return v, nil
}

// start returns the initial state unchanged (0 when there is none).
func start(state []byte) ([]byte, error) {
	guest.Log(guest.Info, "counter started") // the line is best effort; ignore a refusal
	if len(state) == 0 {
		return guest.AppendUint(nil, 0), nil
	}
	if _, err := decode(state, false); err != nil {
		return nil, err
	}
	return state, nil
}

func add(state, msg []byte) ([]byte, error) {
	total, _, err := addAndGet(state, msg)
	return total, err
}

// addAndGet adds the message to the state; the reply is the new state.
func addAndGet(state, msg []byte) (newState, reply []byte, err error) {
	n, err := decode(msg, false)
	if err != nil {
		return nil, nil, err
	}
	total, err := decode(state, true)
	if err != nil {
		return nil, nil, err
	}
	out := guest.AppendUint(nil, total+n)
	return out, out, nil
}
