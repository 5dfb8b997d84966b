// Package coordinator holds the coordinator example's shared encoding:
// every message, request, reply and state of its actors is a msgpack
// array of strings (WIT list<string>), or a list of those.
package coordinator

import (
	"errors"

	"github.com/theater-go/theater/actor/guest"
)

// Strs encodes a list<string>.
func Strs(args ...string) []byte { return AppendStrs(nil, args) }

// AppendStrs appends the msgpack list<string> of args to b.
func AppendStrs(b []byte, args []string) []byte {
	b = guest.AppendArrayHeader(b, len(args))
	for _, a := range args {
		b = guest.AppendString(b, a)
	}
	return b
}

// ReadStrs decodes a list<string> and returns what follows it.
func ReadStrs(b []byte) ([]string, []byte, error) {
	n, rest, err := guest.ReadArrayHeader(b)
	if err != nil {
		return nil, nil, errors.New("coordinator: want a list<string>")
	}
	out := make([]string, n)
	for i := range out {
		if out[i], rest, err = guest.ReadString(rest); err != nil {
			return nil, nil, errors.New("coordinator: want a list<string>")
		}
	}
	return out, rest, nil
}
