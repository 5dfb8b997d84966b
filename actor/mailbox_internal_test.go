package actor

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// TestMailboxBackpressure holds the actor busy (as a long handler would,
// by holding its semaphore) and fills its mailbox.
func TestMailboxBackpressure(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile("../examples/counter/wat/counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	a, err := rt.Spawn(ctx, Spec{ID: "busy", Module: wasm, Capabilities: []string{"log"}, Limits: Limits{MailboxLen: 3}})
	if err != nil {
		t.Fatal(err)
	}
	a.sem <- struct{}{} // a handler "runs"

	one := []byte{1}
	// The first message is taken by the drainer, which then waits for the
	// handler; the next three fill the mailbox.
	if err := a.Send(ctx, one); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		n := a.qlen()
		a.mu.Unlock()
		if n == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := range 3 {
		if err := a.TrySend(one); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if err := a.TrySend(one); !errors.Is(err, ErrMailboxFull) {
		t.Fatalf("TrySend on a full mailbox: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	err = a.Send(short, one)
	cancel()
	if !errors.Is(err, ErrMailboxFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send on a full mailbox: %v", err)
	}
	// A blocked Send goes through once the handler is done.
	sent := make(chan error, 1)
	go func() { sent <- a.Send(ctx, one) }()
	select {
	case err := <-sent:
		t.Fatalf("Send returned while the mailbox was full: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	<-a.sem
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// Five messages of 1 in all: the request sees them in order.
	reply, err := a.Request(ctx, []byte{0})
	if err != nil || len(reply) != 1 || reply[0] != 5 {
		t.Fatalf("after the backlog: %x, %v", reply, err)
	}
}

// TestStopDrains stops an actor with messages queued: they are handled,
// new ones are refused.
func TestStopDrains(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile("../examples/counter/wat/counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	a, err := rt.Spawn(ctx, Spec{ID: "stopping", Module: wasm, Capabilities: []string{"log"}})
	if err != nil {
		t.Fatal(err)
	}
	a.sem <- struct{}{}
	if err := a.Send(ctx, []byte{1}); err != nil { // taken by the drainer, which waits
		t.Fatal(err)
	}
	for {
		a.mu.Lock()
		n := a.qlen()
		a.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	type result struct {
		reply []byte
		err   error
	}
	got := make(chan result, 1)
	go func() {
		r, err := a.Request(ctx, []byte{1})
		got <- result{r, err}
	}()
	for {
		a.mu.Lock()
		n := a.qlen()
		a.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- a.Stop(ctx) }()
	for {
		if err := a.TrySend([]byte{1}); errors.Is(err, ErrStopped) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	<-a.sem
	if r := <-got; r.err != nil || len(r.reply) != 1 || r.reply[0] < 2 {
		t.Errorf("queued request: %x, %v", r.reply, r.err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("stop: %v", err)
	}
	if _, ok := rt.Actor("stopping"); ok {
		t.Error("stopped actor still registered")
	}
	if err := a.Send(ctx, []byte{1}); !errors.Is(err, ErrStopped) {
		t.Errorf("send after stop: %v", err)
	}
}
