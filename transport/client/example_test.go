package client_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/embedded"
	"github.com/theater-go/theater/transport/node"
)

// A program that only talks to actors needs a connection and a client;
// here a server and a node run in the same process so the example is
// self-contained.
func ExampleClient_Call() {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	dir, _ := os.MkdirTemp("", "theater-example-")
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
	n, err := node.Start(ctx, node.Config{Conn: nc, Runtime: rt, Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer n.Close(ctx)

	c, err := client.New(ctx, nc)
	if err != nil {
		panic(err)
	}
	if _, err := c.SpawnFile(ctx, "../../examples/counter/counter.toml", client.SpawnOptions{ID: "counter"}); err != nil {
		panic(err)
	}
	var total uint64
	for _, add := range []uint32{5, 7} {
		if err := c.Call(ctx, "counter", add, &total); err != nil {
			panic(err)
		}
	}
	fmt.Println("total:", total)
	if err := c.Call(ctx, "counter", "ten", &total); err != nil {
		fmt.Println(err)
	}
	// Output:
	// total: 12
	// theater: value does not fit the actor's type: request to "counter": codec: expected u32, got string "ten"
}
