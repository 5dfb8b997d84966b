package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
)

// CallChannel is one channel.publish the host accepted; Data is the
// msgpack map {"topic": str, "payload": bin}. Like [CallTimer] it
// records an effect, not a value the guest got: the owner publishes it
// once the event is durable ([Recorder.ApplyPublications]), and a
// restore finds the publications that may not have been made
// ([PublicationsOf]).
const CallChannel = "channel"

// Channels returns the channels to put in the actor's spec: each
// publication is recorded as a [CallChannel] input and held like a
// send; [Recorder.Take] ends the handler's publications,
// [Recorder.Publications] hands them to the owner, who makes them with
// [Recorder.ApplyPublications] once the event is durable, or drops them.
func (r *Recorder) Channels(c actor.Channels) actor.Channels {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.channels == nil {
		r.channels = &recChannels{r: r, c: c}
	}
	return r.channels
}

type recChannels struct {
	r *Recorder
	c actor.Channels
	held[actor.Publication]
}

func (rc *recChannels) Publish(_ context.Context, p actor.Publication) error {
	p.Payload = bytes.Clone(nonNilBytes(p.Payload)) // a view of guest memory
	rc.r.record(CallChannel, encodeChannel(p))
	rc.add(p)
	return nil
}

// Publications returns and resets the publications of the handlers
// [Recorder.Take] ended since the last call, in order.
func (r *Recorder) Publications() []actor.Publication {
	r.mu.Lock()
	rc := r.channels
	r.mu.Unlock()
	if rc == nil {
		return nil
	}
	return rc.take()
}

// ChannelMsgID is the id of the i-th publication of the event at chain
// sequence seq of actor id.
func ChannelMsgID(id string, seq uint64, i int) string {
	return id + ":" + strconv.FormatUint(seq, 10) + ":c" + strconv.Itoa(i)
}

// ApplyPublications makes ps, the publications of the event at chain
// sequence seq of actor id, in order, each under its [ChannelMsgID].
func (r *Recorder) ApplyPublications(ctx context.Context, id string, seq uint64, ps []actor.Publication) error {
	return applyEach(ps, func(i int, p actor.Publication) error {
		p.MsgID = ChannelMsgID(id, seq, i)
		err := errNoChannels
		if r.channels != nil && r.channels.c != nil {
			err = r.channels.c.Publish(ctx, p)
		}
		if err != nil {
			return fmt.Errorf("replay: publication %s to %s: %w", p.MsgID, p.Topic, err)
		}
		return nil
	})
}

var errNoChannels = errors.New("replay: no channels")

type channelInput struct {
	Topic   string `msgpack:"topic"`
	Payload []byte `msgpack:"payload"`
}

func encodeChannel(p actor.Publication) []byte {
	b, _ := msgpack.Marshal(&channelInput{Topic: p.Topic, Payload: nonNilBytes(p.Payload)}) // a string and bytes
	return b
}

// decodeChannel reads a [CallChannel] input, refusing any but the
// canonical encoding encodeChannel writes.
func decodeChannel(data []byte) (actor.Publication, error) {
	var in channelInput
	if err := msgpack.Unmarshal(data, &in); err != nil {
		return actor.Publication{}, fmt.Errorf("%w: channel: %v", ErrMalformedInput, err)
	}
	p := actor.Publication{Topic: in.Topic, Payload: nonNilBytes(in.Payload)}
	if !bytes.Equal(encodeChannel(p), data) {
		return actor.Publication{}, fmt.Errorf("%w: channel: not in canonical form", ErrMalformedInput)
	}
	return p, nil
}

// PublicationsOf returns the publications recorded in an event's inputs,
// in order: what [Recorder.ApplyPublications] made, or should have, for
// it.
func PublicationsOf(inputs []chain.Input) []actor.Publication {
	return effectsOf(inputs, CallChannel, decodeChannel)
}

// playChannels checks publications against the record.
type playChannels struct{ p *player }

func (c playChannels) Publish(_ context.Context, p actor.Publication) error {
	return c.p.playEffect(CallChannel, encodeChannel(p), "publication to "+p.Topic)
}
