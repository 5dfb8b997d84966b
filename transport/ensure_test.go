package transport_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/embedded"
)

func newJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	e := startServer(t, embedded.Config{})
	js, err := jetstream.New(connect(t, transport.ClientConfig{URLs: e.ClientURL()}))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func streamConfig(t *testing.T, ctx context.Context, js jetstream.JetStream, name string) jetstream.StreamConfig {
	t.Helper()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return s.CachedInfo().Config
}

func TestEnsureIdempotent(t *testing.T) {
	js := newJetStream(t)
	ctx := testContext(t)
	l := transport.Layout{}
	for range 2 {
		if err := l.Ensure(ctx, js, transport.StoreConfig{}); err != nil {
			t.Fatal(err)
		}
	}

	// What `nats stream ls`, `nats kv ls` and `nats object ls` show.
	var streams []string
	names := js.StreamNames(ctx)
	for n := range names.Name() {
		streams = append(streams, n)
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(streams)
	want := []string{"KV_theater_actors", "KV_theater_children", "KV_theater_leases", "KV_theater_nodes", "KV_theater_restore", "KV_theater_store", "OBJ_theater_modules", "OBJ_theater_store_values", "theater_chain", "theater_channels", "theater_events", "theater_mailbox", "theater_timers"}
	if !slices.Equal(streams, want) {
		t.Errorf("streams %v, want %v", streams, want)
	}
	var buckets []string
	kvs := js.KeyValueStoreNames(ctx)
	for n := range kvs.Name() {
		buckets = append(buckets, n)
	}
	slices.Sort(buckets)
	if !slices.Equal(buckets, []string{"theater_actors", "theater_children", "theater_leases", "theater_nodes", "theater_restore", "theater_store"}) {
		t.Errorf("KV buckets %v", buckets)
	}
	if _, err := js.ObjectStore(ctx, "theater_modules"); err != nil {
		t.Errorf("object store: %v", err)
	}

	mb := streamConfig(t, ctx, js, "theater_mailbox")
	if !slices.Equal(mb.Subjects, []string{"theater.actor.*.send"}) || mb.Retention != jetstream.LimitsPolicy ||
		mb.Storage != jetstream.FileStorage || mb.Discard != jetstream.DiscardNew || !mb.DiscardNewPerSubject ||
		mb.MaxMsgsPerSubject != transport.DefaultMailboxDepth || mb.MaxMsgSize != transport.DefaultMaxMessageSize ||
		mb.Duplicates != transport.DefaultDuplicateWindow || mb.MaxAge != transport.DefaultMailboxMaxAge || mb.Replicas != 1 || !mb.AllowDirect {
		t.Errorf("mailbox config %+v", mb)
	}
	ch := streamConfig(t, ctx, js, "theater_chain")
	if !slices.Equal(ch.Subjects, []string{"theater.chain.*"}) || ch.Discard != jetstream.DiscardNew ||
		!ch.DenyDelete || !ch.DenyPurge || ch.MaxAge != 0 || !ch.AllowDirect {
		t.Errorf("chain config %+v", ch)
	}
	ev := streamConfig(t, ctx, js, "theater_events")
	if !slices.Equal(ev.Subjects, []string{"theater.events.*.*"}) || ev.Discard != jetstream.DiscardOld || ev.MaxAge != transport.DefaultEventsMaxAge {
		t.Errorf("events config %+v", ev)
	}
	nodes := streamConfig(t, ctx, js, "KV_theater_nodes")
	if nodes.MaxAge != transport.DefaultNodeTTL || nodes.SubjectDeleteMarkerTTL != transport.DefaultNodeTTL {
		t.Errorf("nodes bucket config %+v", nodes)
	}
	if obj := streamConfig(t, ctx, js, "OBJ_theater_modules"); obj.Compression != jetstream.S2Compression {
		t.Errorf("modules compression %v", obj.Compression)
	}

	// A changed config updates what exists.
	if err := l.Ensure(ctx, js, transport.StoreConfig{EventsMaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if ev := streamConfig(t, ctx, js, "theater_events"); ev.MaxAge != time.Hour {
		t.Errorf("events MaxAge after update %v", ev.MaxAge)
	}
}

func TestEnsureErrors(t *testing.T) {
	js := newJetStream(t)
	ctx := testContext(t)
	for _, tc := range []struct {
		l transport.Layout
		c transport.StoreConfig
	}{
		{transport.Layout{Prefix: "a.b"}, transport.StoreConfig{}},
		{transport.Layout{}, transport.StoreConfig{Replicas: 6}},
		{transport.Layout{}, transport.StoreConfig{MailboxDepth: -1}},
		{transport.Layout{}, transport.StoreConfig{NodeTTL: time.Millisecond}},
	} {
		if err := tc.l.Ensure(ctx, js, tc.c); !errors.Is(err, transport.ErrConfig) {
			t.Errorf("%+v %+v: err = %v, want transport.ErrConfig", tc.l, tc.c, err)
		}
	}
	// Replicas beyond the servers present: JetStream's refusal, named.
	err := transport.Layout{}.Ensure(ctx, js, transport.StoreConfig{Replicas: 3})
	if err == nil || !strings.HasPrefix(err.Error(), "transport: ensure stream theater_mailbox: ") {
		t.Errorf("replicas 3 on one server: %v", err)
	}
}

// TestLayoutBehaviour checks the guarantees the stream configs exist for.
func TestLayoutBehaviour(t *testing.T) {
	js := newJetStream(t)
	ctx := testContext(t)
	l := transport.Layout{}
	if err := l.Ensure(ctx, js, transport.StoreConfig{MailboxDepth: 2, NodeTTL: time.Second}); err != nil {
		t.Fatal(err)
	}

	t.Run("full mailbox refuses, keeps the acknowledged", func(t *testing.T) {
		for i := range 2 {
			if _, err := js.Publish(ctx, l.SendSubject("a"), fmt.Appendf(nil, "m%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := js.Publish(ctx, l.SendSubject("a"), []byte("m2")); err == nil {
			t.Fatal("third send to a mailbox of depth 2 was accepted")
		}
		// Another actor's mailbox is unaffected.
		if _, err := js.Publish(ctx, l.SendSubject("b"), []byte("x")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("retried send is deduplicated", func(t *testing.T) {
		a1, err := js.Publish(ctx, l.SendSubject("c"), []byte("x"), jetstream.WithMsgID("send-1"))
		if err != nil {
			t.Fatal(err)
		}
		a2, err := js.Publish(ctx, l.SendSubject("c"), []byte("x"), jetstream.WithMsgID("send-1"))
		if err != nil || !a2.Duplicate || a2.Sequence != a1.Sequence {
			t.Fatalf("retry: %+v, %v", a2, err)
		}
	})

	t.Run("chain append is fenced", func(t *testing.T) {
		subj := l.ChainSubject("a")
		ack, err := js.Publish(ctx, subj, []byte("e0"), jetstream.WithExpectLastSequencePerSubject(0))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, subj, []byte("e1"), jetstream.WithExpectLastSequencePerSubject(ack.Sequence)); err != nil {
			t.Fatal(err)
		}
		// A stale owner that still believes e0 is last loses.
		_, err = js.Publish(ctx, subj, []byte("e1'"), jetstream.WithExpectLastSequencePerSubject(ack.Sequence))
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
			t.Fatalf("stale append: %v", err)
		}
		s, err := js.Stream(ctx, l.ChainStream())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteMsg(ctx, ack.Sequence); err == nil {
			t.Fatal("deleting a chain entry was allowed")
		}
		if s.CachedInfo().Config.AllowAtomicPublish {
			t.Fatal("chain stream allows atomic batch publish; frames need none")
		}
	})

	t.Run("requests are not captured", func(t *testing.T) {
		// A stream capturing the subject would answer with an ack.
		if _, err := js.Conn().Request(l.RequestSubject("a"), []byte("x"), 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
			t.Fatalf("request to an actor nobody hosts: %v", err)
		}
	})

	t.Run("expired node is announced", func(t *testing.T) {
		kv, err := js.KeyValue(ctx, l.NodesBucket())
		if err != nil {
			t.Fatal(err)
		}
		w, err := kv.Watch(ctx, "n1", jetstream.UpdatesOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if _, err := kv.Put(ctx, "n1", []byte("alive")); err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case e := <-w.Updates():
				if e != nil && e.Operation() != jetstream.KeyValuePut {
					return
				}
			case <-ctx.Done():
				t.Fatal("no expiry seen for a node that stopped beating")
			}
		}
	})
}

func TestTwoPrefixesShareAServer(t *testing.T) {
	js := newJetStream(t)
	ctx := testContext(t)
	for _, p := range []string{"alpha", "beta"} {
		l, err := transport.NewLayout(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Ensure(ctx, js, transport.StoreConfig{}); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
}
