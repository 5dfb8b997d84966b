package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
	"github.com/theater-go/theater/wit/codec"
)

// Call sends the Go value in as a request to actor id and decodes the
// reply into out, a pointer (or nil to drop the reply).
//
// in is encoded with msgpack/v5 under the actor's request type, in the
// canonical form every encoder of Theater produces, and checked against
// that type before anything is published: a value that does not fit
// fails with [wire.ErrBadType] naming the path, and never reaches the
// node. The reply is validated under the reply type and decoded into out
// with msgpack/v5. The struct tags are msgpack/v5's (`msgpack:"name"`),
// which wit/codec reads too. The types come from the actor's registry
// entry and WIT in the object store, fetched once per WIT digest.
func (c *Client) Call(ctx context.Context, id string, in, out any) error {
	if err := transport.ValidID(id); err != nil {
		return fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	ts, err := c.callTypes(ctx, id)
	if err != nil {
		return err
	}
	if ts.Request == nil {
		return fmt.Errorf("%w: actor %q takes no requests (its manifest has no types.request)", wire.ErrBadType, id)
	}
	payload, err := codec.Marshal(ts.Request, in)
	if err != nil {
		return fmt.Errorf("%w: request to %q: %w", wire.ErrBadType, id, err)
	}
	m := &nats.Msg{Subject: c.layout.RequestSubject(id), Data: payload}
	reply, err := c.request(ctx, id, m)
	if errors.Is(err, wire.ErrBadType) {
		// The node's types disagree with the cached ones: the actor was
		// spawned again with others. The next Call looks them up afresh.
		c.mu.Lock()
		delete(c.byID, id)
		c.mu.Unlock()
	}
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if ts.Reply == nil {
		return fmt.Errorf("%w: actor %q declares no reply type to decode into %T", wire.ErrBadType, id, out)
	}
	if err := codec.Decode(ts.Reply, reply, out); err != nil {
		return fmt.Errorf("%w: reply of %q: %w", wire.ErrBadType, id, err)
	}
	return nil
}

// callTypes are the types of actor id for Call, cached by id after the
// first call: a second Call costs no registry read. An actor spawned
// again under the same id with other types is looked up afresh after its
// node refused a payload as not of its type.
func (c *Client) callTypes(ctx context.Context, id string) (wire.Types, error) {
	c.mu.Lock()
	ts, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return ts, nil
	}
	ts, err := c.Types(ctx, id)
	if err != nil {
		return wire.Types{}, err
	}
	c.mu.Lock()
	c.byID[id] = ts
	c.mu.Unlock()
	return ts, nil
}
