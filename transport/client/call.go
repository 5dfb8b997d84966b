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
// reply into out, a non-nil pointer (or nil to drop the reply).
//
// in is encoded with msgpack/v5 under the actor's request type, in the
// canonical form every encoder of Theater produces, and checked against
// that type before anything is published; so is out against the reply
// type. The struct tags are msgpack/v5's (`msgpack:"name"`), which
// wit/codec reads too. The package documentation says what Call
// guarantees when the actor is spawned again with other types.
func (c *Client) Call(ctx context.Context, id string, in, out any) error {
	if err := transport.ValidID(id); err != nil {
		return fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	ce, err := c.callTypes(ctx, id)
	if err != nil {
		return err
	}
	for retried := false; ; retried = true {
		payload, err := c.prepare(id, ce, in, out)
		if err != nil {
			// The cached types or size limit may be stale: nothing is
			// sent yet, so look again and, if they changed, try once more.
			if !retried && (errors.Is(err, wire.ErrBadType) || errors.Is(err, wire.ErrTooLarge)) {
				fresh, changed, rerr := c.refresh(ctx, id, ce)
				if rerr != nil {
					return rerr
				}
				if changed {
					ce = fresh
					continue
				}
			}
			return err
		}
		m := &nats.Msg{Subject: c.layout.RequestSubject(id), Data: payload, Header: nats.Header{wire.TypesHeader: {ce.tag}}}
		reply, err := c.request(ctx, id, m)
		if errors.Is(err, wire.ErrTypesChanged) && !retried {
			// Spawned again with other types: the node ran nothing.
			fresh, _, rerr := c.refresh(ctx, id, ce)
			if rerr != nil {
				return rerr
			}
			ce = fresh
			continue
		}
		if errors.Is(err, wire.ErrBadType) {
			// The node checked the payload under its types before
			// running anything. A request type other than the cached
			// one means the actor was spawned again: encode anew.
			fresh, changed, rerr := c.refresh(ctx, id, ce)
			if rerr == nil && changed && !retried && fresh.request != ce.request {
				ce = fresh
				continue
			}
		}
		if err != nil {
			return err
		}
		if out == nil {
			return nil
		}
		if err := codec.Decode(ce.types.Reply, reply, out); err != nil {
			if _, changed, rerr := c.refresh(ctx, id, ce); rerr == nil && changed {
				return fmt.Errorf("%w: reply of %q: the actor was spawned again with other types; it handled the request, but its reply does not fit the types cached before: %w",
					wire.ErrBadType, id, err)
			}
			if errors.Is(err, codec.ErrGoType) {
				return fmt.Errorf("%w: reply of %q does not fit out %T: %w", wire.ErrBadType, id, out, err)
			}
			return fmt.Errorf("%w: reply of %q: %w", wire.ErrBadType, id, err)
		}
		return nil
	}
}

// prepare checks out against the reply type and encodes in under the
// request type within the actor's and the server's size limits, all
// before anything is published.
func (c *Client) prepare(id string, ce callEntry, in, out any) ([]byte, error) {
	ts := ce.types
	if ts.Request == nil {
		return nil, fmt.Errorf("%w: actor %q takes no requests (its manifest has no types.request)", wire.ErrBadType, id)
	}
	if out != nil {
		if ts.Reply == nil {
			return nil, fmt.Errorf("%w: client: Call(%q): actor declares no reply type to decode into %T; pass a nil out", wire.ErrBadType, id, out)
		}
		if err := codec.CheckDecode(ts.Reply, out); err != nil {
			return nil, fmt.Errorf("%w: client: Call(%q): out %T cannot hold the reply type %s: %w", wire.ErrBadType, id, out, ts.Reply, err)
		}
	}
	payload, err := codec.Marshal(ts.Request, in)
	if errors.Is(err, codec.ErrLimit) {
		return nil, fmt.Errorf("%w: request to %q: %w", wire.ErrTooLarge, id, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: request to %q: %w", wire.ErrBadType, id, err)
	}
	if ce.limit > 0 && len(payload) > ce.limit {
		return nil, fmt.Errorf("%w: request to %q: %d bytes, the actor accepts at most %d", wire.ErrTooLarge, id, len(payload), ce.limit)
	}
	if mp := c.nc.MaxPayload(); mp > 0 && int64(len(payload)) > mp {
		return nil, fmt.Errorf("%w: request to %q: %d bytes, the server's max_payload is %d", wire.ErrTooLarge, id, len(payload), mp)
	}
	return payload, nil
}

// callEntry is what Call caches of an actor: its types, what they were
// resolved from, and its message size limit.
type callEntry struct {
	types wire.Types
	// key names the WIT object and type references the types come from
	// (typesKey); request is the request type's reference alone.
	key, request string
	// tag is wire.TypesTag of the manifest, sent in wire.TypesHeader.
	tag   string
	limit int
}

// callTypes are the types of actor id for Call, cached by id after the
// first call: a Call with the same types again costs no registry read.
func (c *Client) callTypes(ctx context.Context, id string) (callEntry, error) {
	c.mu.Lock()
	ce, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return ce, nil
	}
	ce, _, err := c.refresh(ctx, id, callEntry{})
	return ce, err
}

// refresh reads actor id's registry entry again and caches its types,
// reporting whether they or the size limit differ from old's.
func (c *Client) refresh(ctx context.Context, id string, old callEntry) (callEntry, bool, error) {
	e, err := c.Entry(ctx, id)
	if err != nil {
		c.forget(id)
		return callEntry{}, false, err
	}
	ts, err := c.typesOf(ctx, e)
	if err != nil {
		return callEntry{}, false, err
	}
	ce := callEntry{types: ts, key: typesKey(e), request: e.Manifest.WIT + "|" + e.Manifest.Types.Request,
		tag: wire.TypesTag(&e.Manifest), limit: e.Manifest.Limits.MaxMessageBytes}
	c.mu.Lock()
	c.byID[id] = ce
	c.mu.Unlock()
	return ce, ce.key != old.key || ce.limit != old.limit, nil
}

// forget drops actor id's cached types: this client stopped or spawned it.
func (c *Client) forget(id string) {
	c.mu.Lock()
	delete(c.byID, id)
	c.mu.Unlock()
}
