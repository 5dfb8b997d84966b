// Command guest is the http-tool example: a tool-calling actor. A request
// is a msgpack array [method, url, body]; the actor calls the URL through
// theater:actor/http-client and answers with a msgpack string, "STATUS
// BODY" or the error. Its state is a msgpack array [calls, last answer],
// so a replay that reproduces the state has reproduced every response.
// Build it as a reactor module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o tool.wasm ./examples/http-tool/guest
package main

import (
	"errors"
	"strconv"

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
		return nil, nil, errors.New("http-tool: bad state")
	}
	calls, _, err := guest.ReadUint(rest)
	if err != nil {
		return nil, nil, errors.New("http-tool: bad state")
	}
	var args [3]string
	if n, rest, err = guest.ReadArrayHeader(msg); err != nil || n != 3 {
		return nil, nil, errors.New("http-tool: want [method, url, body]")
	}
	for i := range args {
		if args[i], rest, err = guest.ReadString(rest); err != nil {
			return nil, nil, errors.New("http-tool: want [method, url, body]")
		}
	}
	var answer string
	resp, err := guest.HTTPSend(guest.HTTPRequest{Method: args[0], URL: args[1], Body: []byte(args[2]),
		Headers: []guest.HTTPHeader{{Name: "Accept", Value: "text/plain"}}})
	if err != nil {
		answer = err.Error()
	} else {
		answer = strconv.Itoa(int(resp.Status)) + " " + string(resp.Body)
	}
	return state(calls+1, answer), guest.AppendString(nil, answer), nil
}
