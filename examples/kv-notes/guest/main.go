// Command guest is the kv-notes example: an actor that keeps notes in
// theater:actor/store. A request is a msgpack array [op, namespace, key,
// value, revision] of strings and an unsigned revision; the reply is a
// msgpack string saying what the store answered; a send is handled as
// a request whose answer is only kept in the state. Its state is a msgpack
// array [calls, last answer], so a replay that reproduces the state has
// reproduced every answer the store gave.
//
// Ops: get, put (last write wins), create (only if absent), cas (only
// at revision), del, keys, putget (a put then a get of the same key: the
// handler sees its own write), putfail (a put, then the handler fails:
// the write must not land), many (value gets of the key: the budget),
// fill (a put of value repeated revision times: a large value from a
// small request) and size (a get answering the value's length and its
// first and last bytes, not the value) and putn (revision puts of the
// value: with many, how a benchmark measures one call's cost).
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o notes.wasm ./examples/kv-notes/guest
package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/theater-go/theater/actor/guest"
)

func init() {
	guest.Handle(guest.Handlers{Init: start, Request: call, Send: send})
}

func main() {}

func start([]byte) ([]byte, error) { return state(0, ""), nil }

func state(calls uint64, last string) []byte {
	b := guest.AppendArrayHeader(nil, 2)
	return guest.AppendString(guest.AppendUint(b, calls), last)
}

// send handles a one-way message as a request whose reply nobody reads.
func send(st, msg []byte) ([]byte, error) {
	st, _, err := call(st, msg)
	return st, err
}

func call(st, msg []byte) ([]byte, []byte, error) {
	n, rest, err := guest.ReadArrayHeader(st)
	if err != nil || n != 2 {
		return nil, nil, errors.New("kv-notes: bad state")
	}
	calls, _, err := guest.ReadUint(rest)
	if err != nil {
		return nil, nil, errors.New("kv-notes: bad state")
	}
	var args [4]string
	if n, rest, err = guest.ReadArrayHeader(msg); err != nil || n != 5 {
		return nil, nil, errors.New("kv-notes: want [op, namespace, key, value, revision]")
	}
	for i := range args {
		if args[i], rest, err = guest.ReadString(rest); err != nil {
			return nil, nil, errors.New("kv-notes: want [op, namespace, key, value, revision]")
		}
	}
	rev, _, err := guest.ReadUint(rest)
	if err != nil {
		return nil, nil, errors.New("kv-notes: want [op, namespace, key, value, revision]")
	}
	op, ns, key, value := args[0], args[1], args[2], []byte(args[3])
	var answer string
	switch op {
	case "get":
		answer = get(ns, key)
	case "put":
		answer = result(guest.StorePut(ns, key, value, guest.Always))
	case "create":
		answer = result(guest.StorePut(ns, key, value, guest.Absent))
	case "cas":
		answer = result(guest.StorePut(ns, key, value, guest.IfRevision(rev)))
	case "putn":
		answer = "ok"
		for i := range int(rev) {
			if err := guest.StorePut(ns, key, value, guest.Always); err != nil {
				answer = "call " + strconv.Itoa(i+1) + ": " + err.Error()
				break
			}
		}
	case "fill":
		answer = result(guest.StorePut(ns, key, []byte(strings.Repeat(args[3], int(rev))), guest.Always))
	case "size":
		e, found, err := guest.StoreGet(ns, key)
		switch {
		case err != nil:
			answer = err.Error()
		case !found:
			answer = "none"
		case len(e.Value) == 0:
			answer = "found 0 bytes"
		default:
			answer = "found " + strconv.Itoa(len(e.Value)) + " bytes " + string(e.Value[:1]) + ".." + string(e.Value[len(e.Value)-1:])
		}
	case "del":
		answer = result(guest.StoreDelete(ns, key, guest.Always))
	case "keys":
		keys, err := guest.StoreKeys(ns)
		answer = "keys " + strings.Join(keys, ",")
		if err != nil {
			answer = err.Error()
		}
	case "putget":
		answer = result(guest.StorePut(ns, key, value, guest.Always)) + "; " + get(ns, key)
	case "putfail":
		if err := guest.StorePut(ns, key, value, guest.Always); err != nil {
			answer = err.Error()
			break
		}
		return nil, nil, errors.New("kv-notes: failing after a put")
	case "many":
		count, _ := strconv.Atoi(args[3])
		for i := range count {
			if _, _, err := guest.StoreGet(ns, key); err != nil {
				answer = "call " + strconv.Itoa(i+1) + ": " + err.Error()
				break
			}
		}
		if answer == "" {
			answer = "ok"
		}
	default:
		return nil, nil, errors.New("kv-notes: unknown op " + op)
	}
	return state(calls+1, answer), guest.AppendString(nil, answer), nil
}

func get(ns, key string) string {
	e, found, err := guest.StoreGet(ns, key)
	switch {
	case err != nil:
		return err.Error()
	case !found:
		return "none"
	}
	return "found " + string(e.Value) + " rev=" + strconv.FormatUint(e.Revision, 10)
}

func result(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}
