// Command goinit is an actor whose Go init, run by _initialize, loops
// forever.
package main

import "github.com/theater-go/theater/actor/guest"

var sink int

func init() {
	for i := 0; ; i++ {
		sink = i
	}
}

func init() {
	guest.Handle(guest.Handlers{Init: func(state []byte) ([]byte, error) { return state, nil }})
}

func main() {}
