// Command boss is the supervisor agent of the supervisor example. It
// spawns the worker as a temporary child, so that every restart is its
// own decision: when the worker fails, it spawns it again after a delay
// that doubles with each try (a backoff the host waits out without
// blocking anyone), from the worker's last state or its initial one, and
// it gives up after max_tries. Every decision is a line in its state.
//
// Its state is a msgpack array [max_tries, base_ms, from, tries, log];
// the manifest gives the first three. Requests are msgpack arrays:
// ["log"] answers the decisions; ["spawn", id, manifest, restart, delay_ms],
// ["spawn-module", id, digest, manifest-toml, shutdown_ms?], ["stop", id],
// ["restart", id], ["children"] and ["state", id] call the supervisor
// capability and answer ["ok"], its result, or [the error's text], so
// that tests can drive the capability directly. Every answer is a msgpack
// array of strings (a state in hex), the one reply type its manifest
// declares. Build it as a reactor module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o boss.wasm ./examples/supervisor/boss
package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/theater-go/theater/actor/guest"
)

func init() {
	guest.Handle(guest.Handlers{Init: start, Send: onSend, Request: onRequest})
}

func main() {}

type state struct {
	maxTries, baseMS uint64
	from             string
	tries            uint64
	log              []string
}

var errState = errors.New("boss: malformed state")

func decode(b []byte) (*state, error) {
	n, rest, err := guest.ReadArrayHeader(b)
	if err != nil || n != 5 {
		return nil, errState
	}
	s := &state{}
	if s.maxTries, rest, err = guest.ReadUint(rest); err != nil {
		return nil, errState
	}
	if s.baseMS, rest, err = guest.ReadUint(rest); err != nil {
		return nil, errState
	}
	if s.from, rest, err = guest.ReadString(rest); err != nil {
		return nil, errState
	}
	if s.tries, rest, err = guest.ReadUint(rest); err != nil {
		return nil, errState
	}
	if n, rest, err = guest.ReadArrayHeader(rest); err != nil {
		return nil, errState
	}
	for range n {
		var line string
		if line, rest, err = guest.ReadString(rest); err != nil {
			return nil, errState
		}
		s.log = append(s.log, line)
	}
	return s, nil
}

func (s *state) encode() []byte {
	b := guest.AppendArrayHeader(nil, 5)
	b = guest.AppendUint(b, s.maxTries)
	b = guest.AppendUint(b, s.baseMS)
	b = guest.AppendString(b, s.from)
	b = guest.AppendUint(b, s.tries)
	b = guest.AppendArrayHeader(b, len(s.log))
	for _, l := range s.log {
		b = guest.AppendString(b, l)
	}
	return b
}

func (s *state) note(format string, args ...any) { s.log = append(s.log, fmt.Sprintf(format, args...)) }

func worker(from string, delayMS uint32) guest.ChildSpec {
	return guest.ChildSpec{ID: "worker", Manifest: "worker", Restart: "temporary", StartFrom: from, DelayMS: delayMS}
}

func start(b []byte) ([]byte, error) {
	s, err := decode(b)
	if err != nil {
		return nil, err
	}
	if err := guest.Spawn(worker("initial", 0)); err != nil {
		return nil, err
	}
	s.note("spawned worker")
	return s.encode(), nil
}

// onSend takes the decisions: the only one-way messages the boss gets
// are its children's events.
func onSend(b, msg []byte) ([]byte, error) {
	x, ok := guest.ParseChildEvent(msg)
	if !ok {
		return nil, errors.New("boss: expected a child event")
	}
	s, err := decode(b)
	if err != nil {
		return nil, err
	}
	switch {
	case x.ID != "worker":
		s.note("%s ended: %s", x.ID, x.Reason)
	case x.Reason == "stopped":
		s.note("worker stopped")
	case s.tries >= s.maxTries:
		s.note("gave up on worker after %d tries: %s", s.tries, x.Reason)
	default:
		s.tries++
		delay := s.baseMS << (s.tries - 1)
		if err := guest.Spawn(worker(s.from, uint32(delay))); err != nil {
			s.note("could not restart worker: %v", err)
			break
		}
		s.note("restart worker (try %d) in %dms from %s after %s", s.tries, delay, s.from, x.Reason)
	}
	return s.encode(), nil
}

func onRequest(b, msg []byte) ([]byte, []byte, error) {
	n, rest, err := guest.ReadArrayHeader(msg)
	if err != nil || n == 0 {
		return nil, nil, errors.New("boss: expected a command array")
	}
	args := make([]string, n)
	for i := range args {
		if args[i], rest, err = guest.ReadString(rest); err != nil {
			return nil, nil, errors.New("boss: expected strings")
		}
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	one := func(s string) []byte { return guest.AppendString(guest.AppendArrayHeader(nil, 1), s) }
	answer := func(err error) ([]byte, []byte, error) {
		if err != nil {
			return b, one(err.Error()), nil
		}
		return b, one("ok"), nil
	}
	switch args[0] {
	case "log":
		s, err := decode(b)
		if err != nil {
			return nil, nil, err
		}
		r := guest.AppendArrayHeader(nil, len(s.log))
		for _, l := range s.log {
			r = guest.AppendString(r, l)
		}
		return b, r, nil
	case "spawn":
		delay, _ := strconv.ParseUint(arg(4), 10, 32)
		return answer(guest.Spawn(guest.ChildSpec{ID: arg(1), Manifest: arg(2), Restart: arg(3), StartFrom: "initial", DelayMS: uint32(delay)}))
	case "spawn-module":
		shutdown, _ := strconv.ParseUint(arg(4), 10, 32)
		return answer(guest.Spawn(guest.ChildSpec{ID: arg(1), Digest: arg(2), ManifestTOML: arg(3), Restart: "permanent", ShutdownMS: uint32(shutdown)}))
	case "stop":
		return answer(guest.StopChild(arg(1)))
	case "restart":
		return answer(guest.RestartChild(arg(1)))
	case "children":
		infos, err := guest.Children()
		if err != nil {
			return answer(err)
		}
		r := guest.AppendArrayHeader(nil, len(infos))
		for _, in := range infos {
			r = guest.AppendString(r, fmt.Sprintf("%s:%s:%v:%d", in.ID, in.Restart, in.Running, in.Restarts))
		}
		return b, r, nil
	case "state":
		st, err := guest.ChildState(arg(1))
		if err != nil {
			return answer(err)
		}
		return b, one(hex.EncodeToString(st)), nil
	}
	return nil, nil, errors.New("boss: unknown command " + args[0])
}
