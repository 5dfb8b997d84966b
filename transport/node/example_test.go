package node_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/embedded"
	"github.com/theater-go/theater/transport/node"
)

// A node takes the caller's runtime and connection; here both come from
// this process, with an embedded server.
func ExampleStart() {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	dir, _ := os.MkdirTemp("", "node-example-")
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(ctx, embedded.Config{Listen: "127.0.0.1:0", StoreDir: dir}, embedded.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown(ctx)
	nc, err := transport.Connect(ctx, transport.ClientConfig{URLs: srv.ClientURL()}, transport.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	n, err := node.Start(ctx, node.Config{Conn: nc, Runtime: rt, Name: "edge-1", Logger: quiet})
	if err != nil {
		panic(err)
	}
	fmt.Println(n.Name(), "serving")
	if err := n.Close(ctx); err != nil {
		panic(err)
	}
	// Output:
	// edge-1 serving
}
