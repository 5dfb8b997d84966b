package actor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// Publication is one channel.publish the host accepted: Payload, a
// msgpack value of the subscribers' send type, to Topic. MsgID, when not
// empty, makes publishing it again a no-op (the node derives it from the
// chain, as for sends).
type Publication struct {
	Topic   string
	Payload []byte
	MsgID   string
}

// Channels serves the channel capability. The node publishes to a
// JetStream stream that every subscriber's node forwards into its
// mailbox, and wraps its Channels to hold each publication until the
// handler's event is durable (package replay). ctx carries the calling
// handler's deadline.
type Channels interface {
	Publish(ctx context.Context, p Publication) error
}

var loadChannelErr = sync.OnceValues(func() (wit.Type, error) {
	a, err := abi.Load()
	if err != nil {
		return nil, err
	}
	t, ok := a.Type("channel", "error")
	if !ok {
		return nil, abi.ErrWIT
	}
	return t, nil
})

// channel.publish(topic_ptr, topic_len, payload_ptr, payload_len, retptr)
func hostChannelPublish(ctx context.Context, i *instance, stack []uint64) int32 {
	topic, ok1 := i.bytesAt(stack[0], stack[1])
	payload, ok2 := i.bytesAt(stack[2], stack[3])
	retptr := uint32(stack[4])
	_, ok3 := i.mem.Read(retptr, 8)
	switch {
	case !ok1 || !ok2 || !ok3:
		return abi.StatusFault
	case !utf8.Valid(topic):
		return abi.StatusInvalid
	case i.a.spec.Channels == nil:
		return abi.StatusUnavailable
	}
	t := string(topic)
	switch {
	case !manifest.ValidTopic(t):
		return channelErr(ctx, i, retptr, codec.Variant{Case: "invalid", Value: fmt.Sprintf(
			"topic %q: want 1 to %d dot-separated tokens of A-Z a-z 0-9 - _, at most %d bytes", t, manifest.MaxTopicTokens, manifest.MaxTopicBytes)})
	case i.a.spec.AllowPublish == nil || !i.a.spec.AllowPublish(t):
		return channelErr(ctx, i, retptr, codec.Variant{Case: "denied", Value: t})
	case len(payload) > i.a.spec.Limits.MaxMessageSize:
		return channelErr(ctx, i, retptr, codec.Variant{Case: "too-large", Value: uint32(min(i.a.spec.Limits.MaxMessageSize, 1<<32-1))})
	}
	if err := i.a.sendAllowed(); err != nil {
		return channelErr(ctx, i, retptr, codec.Variant{Case: "budget", Value: uint32(min(i.a.spec.Limits.Budget.Sends, 1<<32-1))})
	}
	// The payload is a view of guest memory: the Channels copies what it keeps.
	if err := i.a.spec.Channels.Publish(ctx, Publication{Topic: t, Payload: payload}); err != nil {
		return channelErr(ctx, i, retptr, codec.Variant{Case: "failed", Value: err.Error()})
	}
	return abi.StatusOK
}

func channelErr(ctx context.Context, i *instance, retptr uint32, v codec.Variant) int32 {
	t, err := loadChannelErr()
	if err != nil {
		return abi.StatusUnavailable
	}
	data, err := codec.Marshal(t, v)
	if err != nil {
		return abi.StatusUnavailable // the WIT and this code disagree: a host defect
	}
	if st := i.give(ctx, data, retptr); st != abi.StatusOK {
		return st
	}
	return abi.StatusErr
}

// cloneChannelConfig returns a copy of c that shares no slice with it.
func cloneChannelConfig(c *manifest.ChannelConfig) manifest.ChannelConfig {
	return manifest.ChannelConfig{Publish: slices.Clone(c.Publish), Subscribe: slices.Clone(c.Subscribe)}
}
