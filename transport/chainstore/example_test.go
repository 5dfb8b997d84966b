package chainstore_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
)

// Append two events to a chain, wait until they are durable, and read
// and verify the chain.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir, _ := os.MkdirTemp("", "chainstore-example")
	defer os.RemoveAll(dir)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	go srv.Start()
	defer srv.Shutdown()
	srv.ReadyForConnections(10 * time.Second)
	nc, _ := nats.Connect(srv.ClientURL())
	defer nc.Close()
	js, _ := jetstream.New(nc)

	layout := transport.Layout{}
	sc := layout.ChainStreamConfig(transport.StoreConfig{})
	if _, err := js.CreateStream(ctx, sc); err != nil {
		panic(err)
	}
	store, err := chainstore.New(ctx, js, layout)
	if err != nil {
		panic(err)
	}

	head, _ := store.Head(ctx, "counter-1") // empty: the zero Head
	a, _ := store.Appender("counter-1", head)
	spawned, _ := a.Append(ctx, &chain.Spawn{Module: chain.Sum([]byte("wasm")), State: []byte{0}})
	handled, _ := a.Append(ctx, &chain.Handled{Call: chain.CallRequest, Payload: []byte{1}, State: chain.Sum([]byte{1}), Reply: []byte{1}})
	if err := handled.Wait(ctx); err != nil { // durable: the reply may go out now
		panic(err)
	}
	fmt.Println(spawned.Err(), spawned.Seq(), handled.Seq())
	_ = a.Close(ctx)

	for e, err := range store.Read(ctx, "counter-1", 1) {
		if err != nil {
			panic(err)
		}
		fmt.Println(e.Event.Seq, e.Event.Kind())
	}
	rep, _ := store.Verify(ctx, "counter-1", chain.Head{Seq: handled.Seq(), Hash: handled.Hash()})
	fmt.Println(rep.OK())
	// Output:
	// <nil> 1 2
	// 1 spawn
	// 2 handled
	// true
}

// Append a group of events (one frame), then read only what follows a
// known head, as a restore does after its last snapshot.
func ExampleStore_ReadFrom() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir, _ := os.MkdirTemp("", "chainstore-example")
	defer os.RemoveAll(dir)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	go srv.Start()
	defer srv.Shutdown()
	srv.ReadyForConnections(10 * time.Second)
	nc, _ := nats.Connect(srv.ClientURL())
	defer nc.Close()
	js, _ := jetstream.New(nc)
	layout := transport.Layout{}
	if _, err := js.CreateStream(ctx, layout.ChainStreamConfig(transport.StoreConfig{})); err != nil {
		panic(err)
	}
	store, _ := chainstore.New(ctx, js, layout)

	a, _ := store.Appender("counter-1", chainstore.Head{})
	ps, _ := a.AppendAll(ctx,
		&chain.Spawn{Module: chain.Sum([]byte("wasm")), State: []byte{0}},
		&chain.Snapshot{State: []byte{0}},
		&chain.Stop{Reason: "done"})
	if err := ps[2].Wait(ctx); err != nil {
		panic(err)
	}
	_ = a.Close(ctx)
	fmt.Println("one message:", ps[0].StreamSeq() == ps[2].StreamSeq())

	snap := chainstore.Head{Head: chain.Head{Seq: ps[1].Seq(), Hash: ps[1].Hash()}, StreamSeq: ps[1].StreamSeq()}
	for e, err := range store.ReadFrom(ctx, "counter-1", snap) {
		if err != nil {
			panic(err)
		}
		fmt.Println(e.Event.Seq, e.Event.Kind())
	}
	// Output:
	// one message: true
	// 3 stop
}
