// Command publisher is a test guest of the channel capability and of
// log.write-fields. A request is a msgpack array [topic, payload,
// count, repeat]: it publishes payload repeated repeat times (a msgpack
// string) to topic count times, logs a
// line with the fields topic and count, and answers "ok" or the first
// error. A one-way message (a msgpack string) is appended to its state,
// a msgpack array of the strings it received, as a subscriber's; one of
// the form "pub TOPIC PAYLOAD" also publishes PAYLOAD (a msgpack string)
// to TOPIC, one of the form "send ID PAYLOAD" sends it to actor ID.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o publisher.wasm ./actor/testdata/guests/publisher
package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/theater-go/theater/actor/guest"
)

func init() {
	guest.Handle(guest.Handlers{Init: start, Send: received, Request: publish})
}

func main() {}

func start(st []byte) ([]byte, error) {
	if len(st) == 0 {
		return guest.AppendArrayHeader(nil, 0), nil
	}
	return st, nil
}

func strs(st []byte) ([]string, error) {
	n, rest, err := guest.ReadArrayHeader(st)
	if err != nil {
		return nil, errors.New("publisher: bad state")
	}
	out := make([]string, n)
	for i := range out {
		if out[i], rest, err = guest.ReadString(rest); err != nil {
			return nil, errors.New("publisher: bad state")
		}
	}
	return out, nil
}

func received(st, msg []byte) ([]byte, error) {
	got, err := strs(st)
	if err != nil {
		return nil, err
	}
	s, _, err := guest.ReadString(msg)
	if err != nil {
		return nil, errors.New("publisher: a message is a string")
	}
	switch f := strings.Fields(s); {
	case len(f) == 3 && f[0] == "pub":
		if err := guest.Publish(f[1], guest.AppendString(nil, f[2])); err != nil {
			return nil, err
		}
	case len(f) == 3 && f[0] == "send":
		if err := guest.Send(f[1], guest.AppendString(nil, f[2])); err != nil {
			return nil, err
		}
	}
	b := guest.AppendArrayHeader(nil, len(got)+1)
	for _, g := range append(got, s) {
		b = guest.AppendString(b, g)
	}
	return b, nil
}

func publish(st, msg []byte) ([]byte, []byte, error) {
	bad := errors.New("publisher: want [topic, payload, count, repeat]")
	n, rest, err := guest.ReadArrayHeader(msg)
	if err != nil || n != 4 {
		return nil, nil, bad
	}
	var topic, payload string
	var count, repeat uint64
	if topic, rest, err = guest.ReadString(rest); err != nil {
		return nil, nil, bad
	}
	if payload, rest, err = guest.ReadString(rest); err != nil {
		return nil, nil, bad
	}
	if count, rest, err = guest.ReadUint(rest); err != nil {
		return nil, nil, bad
	}
	if repeat, _, err = guest.ReadUint(rest); err != nil {
		return nil, nil, bad
	}
	payload = strings.Repeat(payload, int(repeat))
	answer := "ok"
	for i := uint64(0); i < count; i++ {
		if err := guest.Publish(topic, guest.AppendString(nil, payload)); err != nil {
			answer = err.Error()
			break
		}
	}
	guest.LogFields(guest.Info, "published", guest.Field{Key: "topic", Value: topic}, guest.Field{Key: "count", Value: strconv.FormatUint(count, 10)})
	return st, guest.AppendString(nil, answer), nil
}
