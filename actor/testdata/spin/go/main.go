// Command spin is an actor whose send and request handlers loop forever.
package main

import "github.com/theater-go/theater/actor/guest"

func init() {
	guest.Handle(guest.Handlers{
		Init:    func(state []byte) ([]byte, error) { return state, nil },
		Send:    func(state, _ []byte) ([]byte, error) { spin(); return state, nil },
		Request: func(state, _ []byte) ([]byte, []byte, error) { spin(); return state, nil, nil },
	})
}

var sink int

// spin never returns; the store keeps the compiler from removing the loop.
func spin() {
	for i := 0; ; i++ {
		sink = i
	}
}

func main() {}
