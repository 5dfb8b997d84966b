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

// Content-Type is read as HTTP reads it: any case, parameters allowed.
// What names no encoding is refused, never guessed.
func ExampleParseContentType() {
	for _, v := range []string{"application/json", "APPLICATION/JSON; charset=utf-8", "application/msgpack", "text/plain"} {
		enc, err := wire.ParseContentType(v)
		fmt.Println(enc, errors.Is(err, wire.ErrContentType))
	}
	// Output:
	// json false
	// json false
	// msgpack false
	// msgpack true
}

// A spawn request decoded strictly: a misspelt limit is refused with its
// path in the manifest, as the TOML loader names it.
func ExampleDecodeSpawnRequest() {
	_, err := wire.DecodeSpawnRequest([]byte(`{"id": "c1", "manifest": {"name": "counter", "module": "sha256:00", "limits": {"memry_pages": 1}}}`))
	fmt.Println(errors.Is(err, wire.ErrBadManifest))
	fmt.Println(err)
	// Output:
	// true
	// theater: invalid manifest: unknown key "limits.memry_pages"
}
