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

// Read only the events after a snapshot whose place is known, as a
// restore does: the read starts at the snapshot's stream sequence.
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
	store, err := chainstore.New(ctx, js, layout)
	if err != nil {
		panic(err)
	}

	a, _ := store.Appender("counter-1", chainstore.Head{})
	_, _ = a.Append(ctx, &chain.Spawn{Module: chain.Sum([]byte("wasm")), State: []byte{0}})
	snap, _ := a.Append(ctx, &chain.Snapshot{State: []byte{0}})
	last, _ := a.Append(ctx, &chain.Handled{Call: chain.CallRequest, Payload: []byte{1}, State: chain.Sum([]byte{1}), Reply: []byte{1}})
	if err := last.Wait(ctx); err != nil {
		panic(err)
	}
	_ = a.Close(ctx)

	after := chainstore.Head{Head: chain.Head{Seq: snap.Seq(), Hash: snap.Hash()}, StreamSeq: snap.StreamSeq()}
	for e, err := range store.ReadFrom(ctx, "counter-1", after) {
		if err != nil {
			panic(err)
		}
		fmt.Println(e.Event.Seq, e.Event.Kind())
	}
	// Output:
	// 3 handled
}
