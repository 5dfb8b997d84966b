// Command guest is the timer-agent example: an actor that wakes itself
// up through theater:actor/timer. A request is a msgpack array
// [op, id, delay-ms, interval-ms, payload]: op "set" sets timer id to
// deliver payload (a msgpack string) into its own mailbox, "cancel"
// cancels it, "count" reads how many timer messages it has handled. A
// one-way message is a fired timer: its payload is counted. The reply is
// a msgpack string; the state a msgpack array [fired, last payload].
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o timer.wasm ./examples/timer-agent/guest
package main

import (
	"errors"
	"strconv"

	"github.com/theater-go/theater/actor/guest"
)

func init() {
	guest.Handle(guest.Handlers{Init: start, Send: fired, Request: call})
}

func main() {}

func start([]byte) ([]byte, error) { return state(0, ""), nil }

func state(n uint64, last string) []byte {
	b := guest.AppendArrayHeader(nil, 2)
	return guest.AppendString(guest.AppendUint(b, n), last)
}

func parse(st []byte) (uint64, string, error) {
	n, rest, err := guest.ReadArrayHeader(st)
	if err != nil || n != 2 {
		return 0, "", errors.New("timer-agent: bad state")
	}
	fired, rest, err := guest.ReadUint(rest)
	if err != nil {
		return 0, "", errors.New("timer-agent: bad state")
	}
	last, _, err := guest.ReadString(rest)
	return fired, last, err
}

func fired(st, msg []byte) ([]byte, error) {
	n, _, err := parse(st)
	if err != nil {
		return nil, err
	}
	p, _, err := guest.ReadString(msg)
	if err != nil {
		return nil, errors.New("timer-agent: a timer payload is a string")
	}
	return state(n+1, p), nil
}

func call(st, msg []byte) ([]byte, []byte, error) {
	n, last, err := parse(st)
	if err != nil {
		return nil, nil, err
	}
	bad := errors.New("timer-agent: want [op, id, delay-ms, interval-ms, payload]")
	k, rest, err := guest.ReadArrayHeader(msg)
	if err != nil || k != 5 {
		return nil, nil, bad
	}
	var op, id, payload string
	var delay, interval uint64
	if op, rest, err = guest.ReadString(rest); err != nil {
		return nil, nil, bad
	}
	if id, rest, err = guest.ReadString(rest); err != nil {
		return nil, nil, bad
	}
	if delay, rest, err = guest.ReadUint(rest); err != nil {
		return nil, nil, bad
	}
	if interval, rest, err = guest.ReadUint(rest); err != nil {
		return nil, nil, bad
	}
	if payload, _, err = guest.ReadString(rest); err != nil {
		return nil, nil, bad
	}
	answer := "ok"
	switch op {
	case "set":
		err = guest.SetTimer(id, uint32(delay), uint32(interval), guest.AppendString(nil, payload))
	case "cancel":
		err = guest.CancelTimer(id)
	case "count":
		answer = strconv.FormatUint(n, 10) + " " + last
	default:
		return nil, nil, errors.New("timer-agent: unknown op " + op)
	}
	if err != nil {
		answer = err.Error()
	}
	return state(n, last), guest.AppendString(nil, answer), nil
}
