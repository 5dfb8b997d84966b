package node_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
)

// TestMailboxReadsShared: the pumps' direct batch gets share one reply
// subscription of the node's. A read returns exactly the actor's stored
// sends from the sequence asked, in order and at most a batch of them;
// nothing stored after it is an empty read, not an error; a read whose
// receiver stopped early leaves the next read whole; concurrent reads of
// different actors each get their own answers; and 200 reads leave no
// subscription behind.
func TestMailboxReadsShared(t *testing.T) {
	srv := testServer(t)
	n := startNode(t, srv, "reads")
	js := natsJS(t, connect(t, srv))
	ctx := context.Background()
	l := transport.Layout{Prefix: transport.DefaultPrefix}
	ids := []string{"ra", "rb", "rc", "rd"}
	want := map[string][]uint64{}
	for i := range 40 { // interleaved, so a read skips the others' sends
		id := ids[i%len(ids)]
		ack, err := js.Publish(ctx, l.SendSubject(id), []byte{0x01}, jetstream.WithMsgID(fmt.Sprint("r-", i)))
		if err != nil {
			t.Fatal(err)
		}
		want[id] = append(want[id], ack.Sequence)
	}
	got, err := node.ReadMailbox(n, "ra", 1, 256, 0)
	if err != nil || !slices.Equal(got, want["ra"]) {
		t.Fatalf("read of ra: %v, %v; want %v", got, err, want["ra"])
	}
	if got, err = node.ReadMailbox(n, "ra", want["ra"][3], 4, 0); err != nil || !slices.Equal(got, want["ra"][3:7]) {
		t.Fatalf("batch of 4 from the 4th send: %v, %v; want %v", got, err, want["ra"][3:7])
	}
	if got, err = node.ReadMailbox(n, "ra", want["ra"][9]+1, 256, 0); err != nil || len(got) != 0 {
		t.Fatalf("read after the last send: %v, %v; want nothing, no error", got, err)
	}
	if got, err = node.ReadMailbox(n, "nobody", 1, 256, 0); err != nil || len(got) != 0 {
		t.Fatalf("read of an empty mailbox: %v, %v; want nothing, no error", got, err)
	}
	if got, err = node.ReadMailbox(n, "rb", 1, 256, 2); !errors.Is(err, node.ErrStopRead) || !slices.Equal(got, want["rb"][:2]) {
		t.Fatalf("read stopped after 2: %v, %v; want %v and the stop", got, err, want["rb"][:2])
	}
	if got, err = node.ReadMailbox(n, "rb", 1, 256, 0); err != nil || !slices.Equal(got, want["rb"]) {
		t.Fatalf("read after a stopped one: %v, %v; want %v", got, err, want["rb"])
	}
	subs := node.Subscriptions(n)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for round := range 50 {
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := node.ReadMailbox(n, id, 1, 256, 0)
				if err != nil || !slices.Equal(got, want[id]) {
					errs <- fmt.Errorf("round %d, read of %s: %v, %v; want %v", round, id, got, err, want[id])
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if now := node.Subscriptions(n); now != subs {
		t.Fatalf("the node's connection had %d subscriptions before 200 reads and %d after", subs, now)
	}
}
