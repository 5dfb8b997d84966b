// Command guest is the config-agent example: it reads its configuration
// through theater:actor/config. A request is a msgpack string, the name
// of a value or, prefixed "secret:", of a secret; the reply is a msgpack
// string: the value, or for a secret only its length (a secret must not
// reach the state or a reply, which the chain records in clear). Its
// state is a msgpack array [calls, last answer].
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o config.wasm ./examples/config-agent/guest
package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/theater-go/theater/actor/guest"
)

func init() {
	guest.Handle(guest.Handlers{Init: start, Request: call})
}

func main() {}

func start([]byte) ([]byte, error) { return state(0, ""), nil }

func state(calls uint64, last string) []byte {
	b := guest.AppendArrayHeader(nil, 2)
	return guest.AppendString(guest.AppendUint(b, calls), last)
}

func call(st, msg []byte) ([]byte, []byte, error) {
	n, rest, err := guest.ReadArrayHeader(st)
	if err != nil || n != 2 {
		return nil, nil, errors.New("config-agent: bad state")
	}
	calls, _, err := guest.ReadUint(rest)
	if err != nil {
		return nil, nil, errors.New("config-agent: bad state")
	}
	name, _, err := guest.ReadString(msg)
	if err != nil {
		return nil, nil, errors.New("config-agent: want a name")
	}
	secret, isSecret := strings.CutPrefix(name, "secret:")
	if isSecret {
		name = secret
	}
	v, err := guest.Config(name)
	answer := v
	switch {
	case err != nil:
		answer = err.Error()
	case isSecret:
		answer = "secret " + name + ": " + strconv.Itoa(len(v)) + " bytes"
	}
	return state(calls+1, answer), guest.AppendString(nil, answer), nil
}
