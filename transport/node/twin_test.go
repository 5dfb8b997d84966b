package node_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/theater-go/theater/transport/node"
)

// TestSameNameTakeoverAnswersOnce: while a second process under the same
// name takes the actors, the first still holds their requests'
// subscriptions (its lease is valid by its own clock until its next
// renewal) and its appends are fenced. It must then answer nothing, so
// the requester gets the new owner's answer, never an `unavailable`
// that races it.
func TestSameNameTakeoverAnswersOnce(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	first := startNode(t, srv, "twin")
	c := newClient(t, srv)
	spawnCounter(t, c, "twin-0", "")
	if _, err := requestAdd(ctx, c, "twin-0", 1); err != nil {
		t.Fatal(err)
	}
	// A request in flight at the fence is one the old owner cannot
	// record: it answers nothing, and that requester times out (the
	// request is not in the chain; a retry is safe). Every other request
	// gets the new or the old owner's answer.
	type result struct {
		ok, timeouts int
		err          error
	}
	done := make(chan result)
	stop := make(chan struct{})
	go func() {
		var r result
		for {
			select {
			case <-stop:
				done <- r
				return
			default:
			}
			rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err := requestAdd(rctx, c, "twin-0", 1)
			cancel()
			switch {
			case err == nil:
				r.ok++
			case errors.Is(err, context.DeadlineExceeded):
				r.timeouts++
			case r.err == nil:
				r.err = err
			}
		}
	}()
	second := startNode(t, srv, "twin")
	checkFor(t, 20*time.Second, func() error {
		if !node.Hosts(second, "twin-0") || node.Hosts(first, "twin-0") {
			return fmt.Errorf("second hosts: %v, first hosts: %v", node.Hosts(second, "twin-0"), node.Hosts(first, "twin-0"))
		}
		return nil
	})
	close(stop)
	r := <-done
	t.Logf("during the takeover: %d answered, %d timed out", r.ok, r.timeouts)
	if r.err != nil {
		t.Fatalf("a request failed while a live owner existed: %v", r.err)
	}
	if r.timeouts > 1 {
		t.Fatalf("%d requests went unanswered; only the one in flight at the fence may", r.timeouts)
	}
	if r.ok == 0 {
		t.Fatal("no request ran during the takeover")
	}
}
