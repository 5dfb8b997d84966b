package actor_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
)

// heldChannels keeps the publications the host passes on, as a node's
// recorder does.
type heldChannels struct {
	mu  sync.Mutex
	pub []actor.Publication
}

func (h *heldChannels) Publish(_ context.Context, p actor.Publication) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	p.Payload = append([]byte(nil), p.Payload...)
	h.pub = append(h.pub, p)
	return nil
}

func pubReq(topic, payload string, count, repeat uint64) []byte {
	b := guest.AppendArrayHeader(nil, 4)
	b = guest.AppendString(guest.AppendString(b, topic), payload)
	return guest.AppendUint(guest.AppendUint(b, count), repeat)
}

func publisherSpec(t *testing.T, h actor.Channels) actor.Spec {
	m := &manifest.Manifest{Capabilities: manifest.Capabilities{Channel: &manifest.ChannelConfig{Publish: []string{"jobs.*", "results"}}}}
	return actor.Spec{ID: "pub", Module: goGuest(t, "actor/testdata/guests/publisher"),
		Capabilities: []string{"log", "message", "channel"}, Channels: h, AllowPublish: m.AllowsPublish,
		Limits: actor.Limits{MaxMessageSize: 256, Budget: actor.Budget{Sends: 3}}}
}

// TestChannelCapability: publications reach the Channels with their
// topic and payload; a topic the grant does not name, a malformed one, a
// payload over the message limit and a publish past the budget's sends
// are refused as the WIT error the guest gets.
func TestChannelCapability(t *testing.T) {
	h := &heldChannels{}
	a, err := newRuntime(t).Spawn(context.Background(), publisherSpec(t, h))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	for _, tc := range []struct {
		msg  []byte
		want string
		pubs int
	}{
		{pubReq("jobs.a", "hi", 2, 1), "ok", 2},
		{pubReq("results", "r", 1, 1), "ok", 1},
		{pubReq("other", "x", 1, 1), "theater: channel: denied: other", 0},
		{pubReq("jobs", "x", 1, 1), "theater: channel: denied: jobs", 0},
		{pubReq("jobs.a b", "x", 1, 1), `theater: channel: invalid: topic "jobs.a b"`, 0},
		{pubReq("jobs.>", "x", 1, 1), `theater: channel: invalid: topic "jobs.>"`, 0},
		{pubReq("jobs.a", "0123456789", 1, 26), "theater: channel: too-large: 256", 0},
		{pubReq("jobs.a", "x", 4, 1), "theater: channel: budget: 3", 3},
	} {
		before := len(h.pub)
		r, err := a.Request(context.Background(), tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		got, _, _ := guest.ReadString(r)
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q, want %q", got, tc.want)
		}
		if n := len(h.pub) - before; n != tc.pubs {
			t.Errorf("%q: %d publications, want %d", tc.want, n, tc.pubs)
		}
	}
	if p := h.pub[0]; p.Topic != "jobs.a" || string(p.Payload) != string(guest.AppendString(nil, "hi")) || p.MsgID != "" {
		t.Errorf("publication %+v", p)
	}
	if hit := a.LimitsHit(); hit.RefusedSends != 1 {
		t.Errorf("refused sends %d, want 1", hit.RefusedSends)
	}
}

// TestChannelRefusedWithoutGrant: a module that imports channel without
// the grant is refused at spawn, naming the import.
func TestChannelRefusedWithoutGrant(t *testing.T) {
	s := publisherSpec(t, &heldChannels{})
	s.Capabilities = []string{"log", "message"}
	_, err := newRuntime(t).Spawn(context.Background(), s)
	if !errors.Is(err, actor.ErrRefused) || !strings.Contains(err.Error(), `import "theater:actor/channel@0.1.0" "publish": capability not granted`) {
		t.Fatalf("got %v", err)
	}
}

// recordLogs keeps the records a logger gets.
type recordLogs struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recordLogs) Enabled(context.Context, slog.Level) bool { return true }
func (r *recordLogs) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *recordLogs) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recordLogs) WithGroup(string) slog.Handler      { return r }

// TestLogFields: log.write-fields reaches the logger as one record with
// the fields as attributes after the actor's id, and counts against the
// log budget like write.
func TestLogFields(t *testing.T) {
	logs := &recordLogs{}
	s := publisherSpec(t, &heldChannels{})
	s.Logger = slog.New(logs)
	s.Limits.Budget.LogLinesPerSecond = 1
	a, err := newRuntime(t).Spawn(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	for range 2 {
		if _, err := a.Request(context.Background(), pubReq("jobs.a", "x", 1, 1)); err != nil {
			t.Fatal(err)
		}
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	var lines []string
	for _, r := range logs.recs {
		if r.Message != "published" {
			continue
		}
		l := r.Level.String() + " " + r.Message
		r.Attrs(func(at slog.Attr) bool { l += " " + at.String(); return true })
		lines = append(lines, l)
	}
	if len(lines) != 1 || lines[0] != "INFO published actor=pub topic=jobs.a count=1" {
		t.Errorf("lines %q", lines)
	}
	if hit := a.LimitsHit(); hit.DroppedLogLines != 1 {
		t.Errorf("dropped lines %d, want 1", hit.DroppedLogLines)
	}
}
