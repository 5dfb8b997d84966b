package wire_test

import (
	"errors"
	"fmt"

	"github.com/theater-go/theater/transport/wire"
)

// A node answers a failed request with a code in the Theater-Error
// header; the client turns it into a RemoteError, which matches the same
// sentinel a local check would return.
func ExampleRemoteError() {
	var err error = &wire.RemoteError{Code: wire.CodeUnknownActor, Msg: `theater: unknown actor: "billing" is not hosted on node a`}
	fmt.Println(errors.Is(err, wire.ErrUnknownActor), errors.Is(err, wire.ErrStopped))
	code, status := wire.CodeOf(fmt.Errorf("%w: %q", wire.ErrUnknownActor, "billing"))
	fmt.Println(code, status)
	// Output:
	// true false
	// unknown_actor 404
}
