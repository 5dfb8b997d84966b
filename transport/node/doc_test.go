package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/wire"
)

// docEnv is what the documented commands act on: node-1 hosting the
// counter as counter-1, as in docs/NATS.md.
type docEnv struct {
	nc *nats.Conn
	js jetstream.JetStream
	c  *client.Client
}

func (e docEnv) viewStream(t *testing.T, stream, subject string) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cfg := jetstream.OrderedConsumerConfig{}
	if subject != "" {
		cfg.FilterSubjects = []string{subject}
	}
	cons, err := e.js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending == 0 {
		return nil
	}
	batch, err := cons.FetchNoWait(int(info.NumPending))
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for m := range batch.Messages() {
		out = append(out, m)
	}
	return out
}

// subscribeFor subscribes to subject, runs act and returns the first
// message.
func (e docEnv) subscribeFor(t *testing.T, subject string, act func()) *nats.Msg {
	t.Helper()
	sub, err := e.nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	act()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("nothing on %s: %v", subject, err)
	}
	return m
}

func (e docEnv) reqJSON(t *testing.T, subject, body string) *nats.Msg {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Data = []byte(body)
	m.Header.Set("Content-Type", "application/json")
	reply, err := e.nc.RequestMsg(m, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code := reply.Header.Get(wire.ErrorHeader); code != "" {
		t.Fatalf("%s: error %s: %s", subject, code, reply.Data)
	}
	return reply
}

func (e docEnv) counterManifestJSON(t *testing.T) (*manifest.Manifest, []byte, []byte) {
	t.Helper()
	m, err := manifest.Load(counterManifest)
	if err != nil {
		t.Fatal(err)
	}
	return m, readFile(t, m.Module), readFile(t, m.WIT)
}

// docCommands pairs every `nats` command of docs/NATS.md with the same
// operation in nats.go, in an order where each finds what it needs.
var docCommands = []struct {
	cmd string
	run func(t *testing.T, e docEnv)
}{
	{"nats stream ls", func(t *testing.T, e docEnv) {
		var names []string
		for n := range e.js.StreamNames(context.Background()).Name() {
			names = append(names, n)
		}
		for _, want := range []string{"theater_mailbox", "theater_chain", "theater_events", "KV_theater_actors", "KV_theater_nodes", "OBJ_theater_modules"} {
			if !slices.Contains(names, want) {
				t.Errorf("stream %s missing from %v", want, names)
			}
		}
	}},
	{"nats stream info theater_mailbox", func(t *testing.T, e docEnv) {
		s, err := e.js.Stream(context.Background(), "theater_mailbox")
		if err != nil || s.CachedInfo().Config.Subjects[0] != "theater.actor.*.send" {
			t.Fatalf("%v %v", s, err)
		}
	}},
	{"nats stream view theater_mailbox", func(t *testing.T, e docEnv) {
		if msgs := e.viewStream(t, "theater_mailbox", ""); len(msgs) == 0 {
			t.Fatal("no sends in the mailbox stream")
		}
	}},
	{"nats stream view theater_mailbox --subject theater.actor.counter-1.send", func(t *testing.T, e docEnv) {
		for _, m := range e.viewStream(t, "theater_mailbox", "theater.actor.counter-1.send") {
			if m.Subject() != "theater.actor.counter-1.send" {
				t.Fatalf("subject %s", m.Subject())
			}
		}
	}},
	{"nats stream view theater_chain --subject theater.chain.counter-1", func(t *testing.T, e docEnv) {
		if len(e.viewStream(t, "theater_chain", "theater.chain.counter-1")) == 0 {
			t.Fatal("no events in the chain")
		}
	}},
	{"nats stream get theater_chain --last-for theater.chain.counter-1", func(t *testing.T, e docEnv) {
		s, err := e.js.Stream(context.Background(), "theater_chain")
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.GetLastMsgForSubject(context.Background(), "theater.chain.counter-1")
		if err != nil || m.Header.Get("Theater-Kind") == "" {
			t.Fatal(err)
		}
	}},
	{"nats kv ls", func(t *testing.T, e docEnv) {
		var names []string
		for n := range e.js.KeyValueStoreNames(context.Background()).Name() {
			names = append(names, n)
		}
		if !slices.Contains(names, "theater_actors") || !slices.Contains(names, "theater_nodes") {
			t.Fatalf("buckets %v", names)
		}
	}},
	{"nats kv ls theater_actors", func(t *testing.T, e docEnv) {
		kv, _ := e.js.KeyValue(context.Background(), "theater_actors")
		keys, err := kv.Keys(context.Background())
		if err != nil || !slices.Contains(keys, "counter-1") {
			t.Fatalf("%v %v", keys, err)
		}
	}},
	{"nats kv get theater_actors counter-1", func(t *testing.T, e docEnv) {
		kv, _ := e.js.KeyValue(context.Background(), "theater_actors")
		kve, err := kv.Get(context.Background(), "counter-1")
		if err != nil {
			t.Fatal(err)
		}
		var en wire.Entry
		if err := json.Unmarshal(kve.Value(), &en); err != nil || en.Node != "node-1" || en.Status != wire.StatusRunning {
			t.Fatalf("%s %v", kve.Value(), err)
		}
	}},
	{"nats kv get theater_leases counter-1", func(t *testing.T, e docEnv) {
		kv, _ := e.js.KeyValue(context.Background(), "theater_leases")
		kve, err := kv.Get(context.Background(), "counter-1")
		if err != nil {
			t.Fatal(err)
		}
		var l struct{ Node, Incarnation string }
		if err := json.Unmarshal(kve.Value(), &l); err != nil || l.Node != "node-1" || l.Incarnation == "" {
			t.Fatalf("%s %v", kve.Value(), err)
		}
	}},
	{"nats kv ls theater_nodes", func(t *testing.T, e docEnv) {
		kv, _ := e.js.KeyValue(context.Background(), "theater_nodes")
		keys, err := kv.Keys(context.Background())
		if err != nil || !slices.Contains(keys, "node-1") {
			t.Fatalf("%v %v", keys, err)
		}
	}},
	{"nats kv get theater_nodes node-1", func(t *testing.T, e docEnv) {
		kv, _ := e.js.KeyValue(context.Background(), "theater_nodes")
		kve, err := kv.Get(context.Background(), "node-1")
		var hb wire.Heartbeat
		if err != nil || json.Unmarshal(kve.Value(), &hb) != nil || hb.Node != "node-1" {
			t.Fatalf("%v", err)
		}
	}},
	{"nats kv watch theater_nodes", func(t *testing.T, e docEnv) {
		kv, _ := e.js.KeyValue(context.Background(), "theater_nodes")
		w, err := kv.WatchAll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if u := <-w.Updates(); u == nil || u.Key() != "node-1" {
			t.Fatalf("first update %v", u)
		}
	}},
	{"nats object ls theater_modules", func(t *testing.T, e docEnv) {
		obs, _ := e.js.ObjectStore(context.Background(), "theater_modules")
		list, err := obs.List(context.Background())
		if err != nil || len(list) < 2 || !strings.HasPrefix(list[0].Name, "sha256:") {
			t.Fatalf("%v %v", list, err)
		}
	}},
	{"nats object put theater_modules ./counter.wasm --name sha256:<hex>", func(t *testing.T, e docEnv) {
		_, wasm, _ := e.counterManifestJSON(t)
		obs, _ := e.js.ObjectStore(context.Background(), "theater_modules")
		if _, err := obs.PutBytes(context.Background(), wire.DigestName(wasm), wasm); err != nil {
			t.Fatal(err)
		}
	}},
	{"nats sub 'theater.events.>'", func(t *testing.T, e docEnv) {
		m := e.subscribeFor(t, "theater.events.>", func() {
			if _, err := e.c.SpawnFile(context.Background(), counterManifest, client.SpawnOptions{ID: "events-probe"}); err != nil {
				t.Fatal(err)
			}
		})
		if m.Header.Get(wire.EventHeader) != wire.EventStarted {
			t.Fatalf("event %v %s", m.Header, m.Data)
		}
	}},
	{"nats sub 'theater.events.counter-1.*'", func(t *testing.T, e docEnv) {
		m := e.subscribeFor(t, "theater.events.counter-1.*", func() {
			// A send that is not JSON of the type is stored by a plain
			// publish, rejected by the node, and reported.
			if _, err := e.js.Publish(context.Background(), "theater.actor.counter-1.send", []byte{0xc1}); err != nil {
				t.Fatal(err)
			}
		})
		if m.Subject != "theater.events.counter-1.rejected" {
			t.Fatalf("event on %s", m.Subject)
		}
	}},
	{"nats stream view theater_events", func(t *testing.T, e docEnv) {
		if len(e.viewStream(t, "theater_events", "")) == 0 {
			t.Fatal("no events stored")
		}
	}},
	{"nats sub 'theater.actor.counter-1.>'", func(t *testing.T, e docEnv) {
		m := e.subscribeFor(t, "theater.actor.counter-1.>", func() {
			if _, err := e.c.Request(context.Background(), "counter-1", []byte("0"), wire.JSON); err != nil {
				t.Fatal(err)
			}
		})
		if m.Subject != "theater.actor.counter-1.req" {
			t.Fatalf("traffic on %s", m.Subject)
		}
	}},
	{"nats req theater.actor.counter-1.send '5' -H 'Content-Type:application/json'", func(t *testing.T, e docEnv) {
		reply := e.reqJSON(t, "theater.actor.counter-1.send", "5")
		var ack struct {
			Stream string `json:"stream"`
			Seq    uint64 `json:"seq"`
		}
		if err := json.Unmarshal(reply.Data, &ack); err != nil || ack.Stream != "theater_mailbox" {
			t.Fatalf("ack %s %v", reply.Data, err)
		}
		checkFor(t, 5*time.Second, func() error {
			for _, s := range handledSends(chainOf(t, e.nc, "counter-1")) {
				if s == ack.Seq {
					return nil
				}
			}
			return fmt.Errorf("mailbox sequence %d not in the chain yet", ack.Seq)
		})
	}},
	{"nats req theater.actor.counter-1.req '2' -H 'Content-Type:application/json'", func(t *testing.T, e docEnv) {
		before, _ := e.c.State(context.Background(), "counter-1", wire.JSON)
		reply := e.reqJSON(t, "theater.actor.counter-1.req", "2")
		var b, r uint64
		if json.Unmarshal(before, &b) != nil || json.Unmarshal(reply.Data, &r) != nil || r != b+2 {
			t.Fatalf("reply %s after state %s", reply.Data, before)
		}
	}},
	{"nats micro ls", func(t *testing.T, e docEnv) {
		reply, err := e.nc.Request("$SRV.PING.theater", nil, time.Second)
		var ping micro.Ping
		if err != nil || json.Unmarshal(reply.Data, &ping) != nil || ping.Metadata["node"] != "node-1" {
			t.Fatalf("%v", err)
		}
	}},
	{"nats micro info theater", func(t *testing.T, e docEnv) {
		reply, err := e.nc.Request("$SRV.INFO.theater", nil, time.Second)
		var info micro.Info
		if err != nil || json.Unmarshal(reply.Data, &info) != nil || len(info.Endpoints) != 11 {
			t.Fatalf("%s %v", reply.Data, err)
		}
	}},
	{"nats micro stats theater", func(t *testing.T, e docEnv) {
		reply, err := e.nc.Request("$SRV.STATS.theater", nil, time.Second)
		var stats micro.Stats
		if err != nil || json.Unmarshal(reply.Data, &stats) != nil || len(stats.Endpoints) != 11 {
			t.Fatalf("%s %v", reply.Data, err)
		}
	}},
	{"nats req theater.node.node-1.info ''", func(t *testing.T, e docEnv) {
		var hb wire.Heartbeat
		if err := json.Unmarshal(e.reqJSON(t, "theater.node.node-1.info", "").Data, &hb); err != nil || hb.Node != "node-1" {
			t.Fatal(err)
		}
	}},
	{"nats req theater.node.node-1.list ''", func(t *testing.T, e docEnv) {
		var list []wire.ActorInfo
		if err := json.Unmarshal(e.reqJSON(t, "theater.node.node-1.list", "").Data, &list); err != nil || len(list) == 0 {
			t.Fatal(err)
		}
	}},
	{"nats req theater.node.node-1.tree ''", func(t *testing.T, e docEnv) {
		var root wire.TreeNode
		if err := json.Unmarshal(e.reqJSON(t, "theater.node.node-1.tree", "").Data, &root); err != nil || root.ID != "node/node-1" ||
			!slices.ContainsFunc(root.Children, func(c wire.TreeNode) bool { return c.ID == "counter-1" }) {
			t.Fatalf("%+v %v", root, err)
		}
	}},
	{`nats req theater.node.node-1.state '{"id": "counter-1"}'`, func(t *testing.T, e docEnv) {
		if reply := e.reqJSON(t, "theater.node.node-1.state", `{"id": "counter-1"}`); len(reply.Data) == 0 {
			t.Fatal("empty state")
		}
	}},
	{`nats req theater.ctl.spawn '{"id": "counter-2", "manifest": {"name": "counter", "module": "sha256:<hex>", "wit": "sha256:<hex>", "types": {"send": "api.add", "request": "api.add", "reply": "api.total", "state": "api.state"}, "state": {"initial": "0"}, "capabilities": {"log": {}}}}'`, func(t *testing.T, e docEnv) {
		_, wasm, witSrc := e.counterManifestJSON(t)
		obs, _ := e.js.ObjectStore(context.Background(), "theater_modules")
		if _, err := obs.PutBytes(context.Background(), wire.DigestName(witSrc), witSrc); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf(`{"id": "counter-2", "manifest": {"name": "counter", "module": %q, "wit": %q, "types": {"send": "api.add", "request": "api.add", "reply": "api.total", "state": "api.state"}, "state": {"initial": "0"}, "capabilities": {"log": {}}}}`,
			wire.DigestName(wasm), wire.DigestName(witSrc))
		var info wire.ActorInfo
		if err := json.Unmarshal(e.reqJSON(t, "theater.ctl.spawn", body).Data, &info); err != nil || info.ID != "counter-2" {
			t.Fatal(err)
		}
	}},
	{`nats req theater.node.node-1.stop '{"id": "counter-2"}'`, func(t *testing.T, e docEnv) {
		var info wire.ActorInfo
		if err := json.Unmarshal(e.reqJSON(t, "theater.node.node-1.stop", `{"id": "counter-2"}`).Data, &info); err != nil || info.Status != wire.StatusStopped {
			t.Fatal(err)
		}
	}},
}

// docCommandRE finds `nats ...` commands in the table rows of NATS.md.
var docCommandRE = regexp.MustCompile("`(nats [^`]+)`")

// TestNATSDocCommands runs every nats CLI command of docs/NATS.md as the
// same operation with nats.go, and fails when the page and this test
// list different commands.
func TestNATSDocCommands(t *testing.T) {
	doc, err := os.ReadFile("../../docs/NATS.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for line := range strings.Lines(string(doc)) {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		for _, m := range docCommandRE.FindAllStringSubmatch(line, -1) {
			documented = append(documented, m[1])
		}
	}
	tested := map[string]bool{}
	for _, c := range docCommands {
		tested[c.cmd] = true
		if !slices.Contains(documented, c.cmd) {
			t.Errorf("tested command is not in docs/NATS.md: %s", c.cmd)
		}
	}
	for _, d := range documented {
		if !tested[d] {
			t.Errorf("docs/NATS.md command has no test: %s", d)
		}
	}

	srv := testServer(t)
	startNode(t, srv, "node-1")
	nc := connect(t, srv)
	e := docEnv{nc: nc, js: natsJS(t, nc), c: newClient(t, srv)}
	spawnCounter(t, e.c, "counter-1", "")
	if err := e.c.Send(context.Background(), "counter-1", []byte("1"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	for _, c := range docCommands {
		t.Run(c.cmd, func(t *testing.T) { c.run(t, e) })
	}
}
