package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/theater-go/theater/supervisor"
)

// task is a minimal child: a goroutine that runs until it is stopped or
// crashes. The node's children are actors.
type task struct {
	mu    sync.Mutex
	crash chan error    // makes the running incarnation fail
	stop  chan struct{} // asks it to stop
	done  chan struct{} // closed when it has ended
}

func (t *task) Start(_ context.Context, _ supervisor.StartFrom, exited func(error)) error {
	crash, stop, done := make(chan error), make(chan struct{}), make(chan struct{})
	t.mu.Lock()
	t.crash, t.stop, t.done = crash, stop, done
	t.mu.Unlock()
	go func() {
		defer close(done)
		select {
		case err := <-crash:
			exited(err)
		case <-stop:
		}
	}()
	return nil
}

func (t *task) Stop(ctx context.Context) error {
	t.mu.Lock()
	stop, done := t.stop, t.done
	t.mu.Unlock()
	close(stop)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *task) fail(err error) {
	t.mu.Lock()
	crash := t.crash
	t.mu.Unlock()
	crash <- err
}

// A one_for_one supervisor restarts the child that failed, and only it.
func Example() {
	events := make(chan supervisor.Event, 16)
	counter, flaky := &task{}, &task{}
	sup, err := supervisor.New(supervisor.Spec{
		Name:      "root",
		Strategy:  supervisor.OneForOne,
		Intensity: 3,
		Period:    supervisor.Duration(time.Minute),
		Children: []supervisor.ChildSpec{
			{ID: "counter", Child: counter},
			{ID: "flaky", Child: flaky},
		},
	}, supervisor.WithEvents(supervisor.EventSinkFunc(func(e supervisor.Event) { events <- e })))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := sup.Start(ctx, supervisor.StartInitial, nil); err != nil {
		fmt.Println(err)
		return
	}

	flaky.fail(errors.New("trap: unreachable"))
	show := func(until supervisor.EventKind) {
		for e := range events {
			fmt.Printf("%-9s %-7s %q restarts=%d\n", e.Kind, e.Child, e.Reason, e.Restarts)
			if e.Kind == until {
				return
			}
		}
	}
	show(supervisor.Restarted)
	if err := sup.Stop(ctx); err != nil {
		fmt.Println(err)
	}
	show(supervisor.Shutdown)
	// Output:
	// started   counter "" restarts=0
	// started   flaky   "" restarts=0
	// failed    flaky   "trap: unreachable" restarts=0
	// restarted flaky   "" restarts=1
	// stopped   flaky   "" restarts=1
	// stopped   counter "" restarts=0
	// shutdown          "" restarts=0
}

func ExampleBackoff() {
	spec, err := supervisor.Validate(supervisor.Spec{Backoff: &supervisor.Backoff{
		Initial: supervisor.Duration(100 * time.Millisecond), Max: supervisor.Duration(time.Second)}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for n := range 5 {
		fmt.Println(spec.Backoff.Delay(n))
	}
	// Output:
	// 100ms
	// 200ms
	// 400ms
	// 800ms
	// 1s
}
