// Command relay is a test guest for the host's capabilities, built by the
// actor tests with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared. A request
// is a msgpack string command; the reply is msgpack:
//
//	"self"       the actor id (runtime.self-id)
//	"send:<to>"  message.send of 1 to <to>: "ok" or "err:<case>"
//	"ask:<to>"   message.request of 2 to <to>: the reply, or "err:<case>"
//	"now"        clock.now as a uint
//	"rand"       random.bytes(16) as bin
//	"wasi"       [time.Now().UnixNano() via WASI, 8 bytes of crypto/rand via WASI]
//
// The state is never changed.
package main

import (
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"github.com/theater-go/theater/actor/guest"
)

func init() {
	guest.Handle(guest.Handlers{
		Send:    func(state, _ []byte) ([]byte, error) { return state, nil },
		Request: handle,
	})
}

func main() {}

func errReply(err error) []byte {
	var me *guest.MessageError
	if errors.As(err, &me) {
		return guest.AppendString(nil, "err:"+me.Case)
	}
	return guest.AppendString(nil, "err:"+err.Error())
}

func handle(state, msg []byte) ([]byte, []byte, error) {
	cmd, _, err := guest.ReadString(msg)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case cmd == "self":
		id, err := guest.SelfID()
		if err != nil {
			return nil, nil, err
		}
		return state, guest.AppendString(nil, id), nil
	case strings.HasPrefix(cmd, "send:"):
		if err := guest.Send(strings.TrimPrefix(cmd, "send:"), []byte{1}); err != nil {
			return state, errReply(err), nil
		}
		return state, guest.AppendString(nil, "ok"), nil
	case strings.HasPrefix(cmd, "ask:"):
		r, err := guest.Request(strings.TrimPrefix(cmd, "ask:"), []byte{2}, 0)
		if err != nil {
			return state, errReply(err), nil
		}
		return state, r, nil
	case cmd == "now":
		n, err := guest.Now()
		if err != nil {
			return nil, nil, err
		}
		return state, guest.AppendUint(nil, n), nil
	case cmd == "rand":
		b, err := guest.RandomBytes(16)
		if err != nil {
			return nil, nil, err
		}
		return state, guest.AppendBytes(nil, b), nil
	case cmd == "wasi":
		b := make([]byte, 8)
		rand.Read(b)
		out := guest.AppendArrayHeader(nil, 2)
		out = guest.AppendInt(out, time.Now().UnixNano())
		return state, guest.AppendBytes(out, b), nil
	}
	return nil, nil, errors.New("relay: unknown command " + cmd)
}
