// Command embed runs Theater inside a Go program: an embedded NATS
// server, a runtime and a node, then spawns the counter from its manifest
// and calls it through the typed client.
//
//	go run ./examples/embed
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/embedded"
	"github.com/theater-go/theater/transport/node"
)

func main() {
	manifest := flag.String("manifest", "examples/counter/counter.toml", "the counter's manifest")
	flag.Parse()
	ctx := context.Background()
	dir := must(os.MkdirTemp("", "theater-embed-"))
	defer os.RemoveAll(dir)
	srv := must(embedded.Start(ctx, embedded.Config{Listen: "127.0.0.1:0", StoreDir: dir}))
	defer srv.Shutdown(ctx)
	nc := must(transport.Connect(ctx, transport.ClientConfig{URLs: srv.ClientURL()}))
	defer nc.Close()
	rt := must(actor.NewRuntime(ctx))
	defer rt.Close(ctx)
	n := must(node.Start(ctx, node.Config{Conn: nc, Runtime: rt}))
	defer n.Close(ctx)
	c := must(client.New(ctx, nc))
	must(c.SpawnFile(ctx, *manifest, client.SpawnOptions{ID: "counter"}))
	var total uint64
	must(total, c.Call(ctx, "counter", uint32(5), &total))
	fmt.Println("total:", total)
}

// must returns v, or exits with err's message.
func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
