package node_test

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

// A supervision tree from a TOML file: the client uploads its actors'
// modules and asks the node to start it; the node's tree lists it under
// its root, next to the actors supervised on their own.
func ExampleNode_Tree() {
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
	defer n.Close(ctx)
	c, err := client.New(ctx, nc)
	if err != nil {
		panic(err)
	}
	if _, err := c.SpawnTree(ctx, "../../examples/story/tree.toml", client.SpawnOptions{}); err != nil {
		panic(err)
	}
	if _, err := c.SpawnFile(ctx, "../../examples/counter/counter.toml", client.SpawnOptions{ID: "counter-1"}); err != nil {
		panic(err)
	}
	root := n.Tree(ctx)
	fmt.Println(root.ID)
	for _, sup := range root.Children {
		fmt.Println(" ", sup.ID, sup.Kind, sup.Strategy)
		for _, a := range sup.Children {
			fmt.Println("   ", a.ID, a.Kind, a.Restart, a.Status)
		}
	}
	// Output:
	// node/edge-1
	//   counter-1 supervisor one_for_one
	//     counter-1 actor permanent running
	//   tree/story supervisor one_for_one
	//     clerk actor permanent running
	//     worker actor permanent running
}
