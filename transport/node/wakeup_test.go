package node_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/theater-go/theater/transport/node"
)

// TestWakeBeforeStored: the core wake-up of a send can reach the node
// before JetStream has stored the send (most often when the node itself
// published it, on the same connection), so the pump's read right after
// it finds nothing. The pump must read again rather than wait for the
// next wake-up or its poll: with the poll an hour, every one of many
// sends an actor makes, one at a time, is handled within seconds.
func TestWakeBeforeStored(t *testing.T) {
	old := node.SetMailboxPoll(time.Hour)
	t.Cleanup(func() { node.SetMailboxPoll(old) })
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-1", "")
	spawnSendTrap(t, c, "sender", "counter-1")
	for i := 1; i <= 400; i++ {
		sendAdds(t, c, 1)
		waitState(t, c, "counter-1", fmt.Sprint(i))
	}
}
