// Command worker is the worker of the supervisor example: its state is a
// msgpack uint counter; the one-way message "add" adds one, "crash" makes
// the guest trap (a load outside its linear memory, which no Go recover
// can catch), and any request is answered with the counter. Build it as
// a reactor module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o worker.wasm ./examples/supervisor/worker
package main

import (
	"errors"
	"unsafe"

	"github.com/theater-go/theater/actor/guest"
)

func init() {
	guest.Handle(guest.Handlers{Init: start, Send: handle, Request: get})
}

func main() {}

func count(state []byte) (uint64, error) {
	if len(state) == 0 {
		return 0, nil
	}
	n, rest, err := guest.ReadUint(state)
	if err != nil || len(rest) != 0 {
		return 0, errors.New("worker: state is not a msgpack uint")
	}
	return n, nil
}

func start(state []byte) ([]byte, error) {
	n, err := count(state)
	return guest.AppendUint(nil, n), err
}

// sink keeps the trapping load from being optimised away.
var sink byte

func handle(state, msg []byte) ([]byte, error) {
	cmd, _, err := guest.ReadString(msg)
	if err != nil {
		return nil, errors.New("worker: expected a msgpack string")
	}
	n, err := count(state)
	if err != nil {
		return nil, err
	}
	switch cmd {
	case "add":
		return guest.AppendUint(nil, n+1), nil
	case "crash":
		// Address 0xf0000000, 3.75 GiB: beyond any memory the actor may
		// have, so the load traps in the engine.
		base := unsafe.Pointer(&sink)
		sink = *(*byte)(unsafe.Add(base, 0xf0000000-int(uintptr(base))))
		return state, nil
	}
	return nil, errors.New("worker: unknown command " + cmd)
}

func get(state, _ []byte) ([]byte, []byte, error) { return state, state, nil }
