package client_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

var counterManifest = filepath.Join("..", "..", "examples", "counter", "counter.toml")

// system starts a server and a node and returns a client with the
// counter spawned as "counter".
func system(t testing.TB) *client.Client {
	t.Helper()
	srv := natstest.RunServer(t)
	natstest.StartNode(t, srv.ClientURL(), node.Config{Name: "a"})
	c := natstest.NewClient(t, srv.ClientURL())
	if _, err := c.SpawnFile(context.Background(), counterManifest, client.SpawnOptions{ID: "counter"}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCall: Go values in and out under the counter's WIT types (u32 in,
// u64 out); a nil out drops the reply.
func TestCall(t *testing.T) {
	c := system(t)
	ctx := natstest.Context(t)
	var total uint64
	if err := c.Call(ctx, "counter", uint32(5), &total); err != nil || total != 5 {
		t.Fatalf("Call(5) = %d, %v", total, err)
	}
	if err := c.Call(ctx, "counter", 7, nil); err != nil {
		t.Fatalf("Call(7) without out: %v", err)
	}
	if err := c.Call(ctx, "counter", uint8(1), &total); err != nil || total != 13 {
		t.Fatalf("Call(1) = %d, %v, want 13", total, err)
	}
}

// TestCallRefusesBadValues: a value that does not fit the request type
// fails in the client with the path in the message and never reaches the
// actor; a reply that does not fit out fails too.
func TestCallRefusesBadValues(t *testing.T) {
	c := system(t)
	ctx := natstest.Context(t)
	for _, in := range []any{"ten", -1, uint64(1) << 40, []int{1}} {
		if err := c.Call(ctx, "counter", in, nil); !errors.Is(err, wire.ErrBadType) {
			t.Errorf("Call(%#v): %v, want ErrBadType", in, err)
		}
	}
	if st, err := c.State(ctx, "counter", wire.JSON); err != nil || string(st) != "0" {
		t.Fatalf("state after refused calls: %s, %v; want 0", st, err)
	}
	var s string
	if err := c.Call(ctx, "counter", uint32(1), &s); !errors.Is(err, wire.ErrBadType) {
		t.Errorf("reply u64 into a string: %v, want ErrBadType", err)
	}
}

// TestErrorsMatchLocallyAndRemotely: the same sentinel matches whether
// the client refused the input itself or a node answered with a code.
func TestErrorsMatchLocallyAndRemotely(t *testing.T) {
	c := system(t)
	ctx := natstest.Context(t)

	local := c.Send(ctx, "counter", []byte("{"), wire.JSON) // checked in the client
	_, remote := c.Request(ctx, "counter", []byte("{"), wire.JSON)
	var re *wire.RemoteError
	if !errors.Is(local, wire.ErrBadJSON) || errors.As(local, &re) {
		t.Errorf("local: %v, want ErrBadJSON not from a node", local)
	}
	if !errors.Is(remote, wire.ErrBadJSON) || !errors.As(remote, &re) || re.Code != wire.CodeBadJSON {
		t.Errorf("remote: %v, want a RemoteError with code %s matching ErrBadJSON", remote, wire.CodeBadJSON)
	}

	if err := c.Call(ctx, "nobody", uint32(1), nil); !errors.Is(err, wire.ErrUnknownActor) {
		t.Errorf("Call to an unknown actor: %v", err)
	}
	if _, err := c.Stop(ctx, "nobody"); !errors.Is(err, wire.ErrUnknownActor) {
		t.Errorf("Stop of an unknown actor: %v", err)
	}
	if err := c.Call(ctx, "not.valid", uint32(1), nil); !errors.Is(err, wire.ErrInvalidID) {
		t.Errorf("Call to an invalid id: %v", err)
	}
}

// TestNodesAndList: the client sees the node's heartbeat and the actor's
// registry entry.
func TestNodesAndList(t *testing.T) {
	c := system(t)
	ctx := natstest.Context(t)
	natstest.Eventually(t, func() error {
		nodes, err := c.Nodes(ctx)
		if err != nil {
			return err
		}
		if len(nodes) != 1 || nodes[0].Node != "a" || nodes[0].Actors != 1 {
			return errors.New("node a with one actor not listed yet")
		}
		return nil
	})
	list, err := c.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "counter" || list[0].Status != wire.StatusRunning {
		t.Fatalf("List = %+v, %v", list, err)
	}
	// The mailbox sequence is the node's, live: the registry has it only
	// from the actor's last stop or move.
	for range 3 {
		if err := c.Send(ctx, "counter", []byte("1"), wire.JSON); err != nil {
			t.Fatal(err)
		}
	}
	natstest.Eventually(t, func() error {
		list, err := c.List(ctx)
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].MailboxSeq < 3 {
			return fmt.Errorf("List = %+v, want mailbox seq 3", list)
		}
		return nil
	})
}
