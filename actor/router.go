package actor

import (
	"context"
	"fmt"
	"time"
)

// LocalRouter routes messages among the actors of one [Runtime], in
// process. It is the [Router] for tests and single-node embeddings; a
// node routes over NATS instead.
type LocalRouter struct{ rt *Runtime }

// NewLocalRouter returns a router over rt's actors.
func NewLocalRouter(rt *Runtime) *LocalRouter { return &LocalRouter{rt: rt} }

func (l *LocalRouter) target(to string) (*Actor, error) {
	a, ok := l.rt.Actor(to)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownActor, to)
	}
	return a, nil
}

// Send delivers a one-way message, waiting for mailbox room until ctx is
// done.
func (l *LocalRouter) Send(ctx context.Context, _, to string, payload []byte) error {
	a, err := l.target(to)
	if err != nil {
		return err
	}
	return a.Send(ctx, payload)
}

// Request delivers a request and waits for the reply, at most timeout when
// it is positive.
func (l *LocalRouter) Request(ctx context.Context, _, to string, payload []byte, timeout time.Duration) ([]byte, error) {
	a, err := l.target(to)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return a.Request(ctx, payload)
}
