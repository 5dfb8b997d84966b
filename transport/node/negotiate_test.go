package node_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/transport/wire"
)

// TestContentNegotiation sends the counter the JSON 5 under every
// spelling of a JSON Content-Type the HTTP rules allow, through plain
// nats.go: each is read as JSON (5, not msgpack 0x35 = 53). Unknown
// content types are refused with their code, as requests and as sends,
// and nothing is added for them.
func TestContentNegotiation(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	js := natsJS(t, nc)
	spawnCounter(t, c, "ct", "")

	total := 0
	for _, h := range []nats.Header{
		{"Content-Type": {"application/json; charset=utf-8"}},
		{"Content-Type": {"APPLICATION/JSON"}},
		{"content-type": {"application/json"}},
		{"CONTENT-TYPE": {"Application/Json ; Charset=\"UTF-8\""}},
	} {
		m := &nats.Msg{Subject: "theater.actor.ct.req", Header: h, Data: []byte("5")}
		reply, err := nc.RequestMsg(m, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		total += 5
		if code := reply.Header.Get(wire.ErrorHeader); code != "" || string(reply.Data) != strconv.Itoa(total) {
			t.Fatalf("request with %v: code %q reply %q, want the JSON %d", h, code, reply.Data, total)
		}
		m = &nats.Msg{Subject: "theater.actor.ct.send", Header: h, Data: []byte("5")}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
		total += 5
		waitState(t, c, "ct", strconv.Itoa(total))
	}

	for _, v := range []string{"text/plain", "application/json; charset=latin1", "application/", ""} {
		m := &nats.Msg{Subject: "theater.actor.ct.req", Header: nats.Header{"Content-Type": {v}}, Data: []byte("5")}
		reply, err := nc.RequestMsg(m, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if code := reply.Header.Get(wire.ErrorHeader); code != wire.CodeContentType {
			t.Errorf("Content-Type %q: code %q (%s), want %s", v, code, reply.Data, wire.CodeContentType)
		}
		m.Subject = "theater.actor.ct.send"
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// The refused sends were skipped: a good one after them is handled
	// and the total has only that in it.
	m := &nats.Msg{Subject: "theater.actor.ct.send", Header: nats.Header{"Content-Type": {"application/msgpack"}}, Data: mp3}
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "ct", strconv.Itoa(total+3))
}

// TestBrokenHeaderBlock sends a request whose header block does not
// parse over a raw TCP connection (nats.go cannot write one): the node
// answers bad_header instead of running the body as msgpack.
func TestBrokenHeaderBlock(t *testing.T) {
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "hb", "")

	raw := dialRaw(t, srv.ClientURL())
	// A header line without a colon: nats.go's decoder refuses the block.
	hdr := "NATS/1.0\r\nContent-Type application/json\r\n\r\n"
	reply := raw.request(t, "theater.actor.hb.req", hdr, "5")
	if code := reply.header(wire.ErrorHeader); code != wire.CodeBadHeader {
		t.Fatalf("reply %q, want code %s", reply.raw, wire.CodeBadHeader)
	}
	if got := stateJSON(t, c, "hb"); got != "0" {
		t.Fatalf("state %s: the body ran", got)
	}
	// The same as a send, stored by JetStream as written: the pump
	// skips it and handles the next send.
	ack := raw.request(t, "theater.actor.hb.send", hdr, "5")
	t.Logf("JetStream's answer to the broken send: %q", ack.raw)
	if err := c.Send(context.Background(), "hb", mp3, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "hb", "3")
	if reply, err := c.Request(context.Background(), "hb", []byte("1"), wire.JSON); err != nil || string(reply) != "4" {
		t.Fatalf("after the broken header: %s, %v", reply, err)
	}
}

// TestWireManifestStrict spawns over plain NATS with a misspelt limit:
// the node refuses it with the key's path, as the TOML loader does,
// instead of spawning with the default.
func TestWireManifestStrict(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	spawnCounter(t, c, "first", "")
	e, err := c.Entry(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(wire.SpawnRequest{ID: "second", Manifest: e.Manifest})
	if err != nil {
		t.Fatal(err)
	}
	var req map[string]any
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	man := req["manifest"].(map[string]any)

	for _, tc := range []struct {
		name  string
		edit  func()
		undo  func()
		code  string
		inMsg string
	}{
		{"misspelt limit", func() { man["limits"].(map[string]any)["memry_pages"] = 1 },
			func() { delete(man["limits"].(map[string]any), "memry_pages") },
			wire.CodeBadManifest, `unknown key "limits.memry_pages"`},
		{"key in another case", func() { man["Name"] = "x" }, func() { delete(man, "Name") },
			wire.CodeBadManifest, `unknown key "Name"`},
		{"unknown request key", func() { req["node"] = "a" }, func() { delete(req, "node") },
			wire.CodeBadJSON, `unknown key "node"`},
	} {
		tc.edit()
		body, _ := json.Marshal(req)
		tc.undo()
		reply, err := nc.Request("theater.ctl.spawn", body, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if code := reply.Header.Get(wire.ErrorHeader); code != tc.code || !strings.Contains(string(reply.Data), tc.inMsg) {
			t.Errorf("%s: code %q %q, want %s with %s", tc.name, code, reply.Data, tc.code, tc.inMsg)
		}
	}
	// Unedited, the same request spawns.
	body, _ := json.Marshal(req)
	reply, err := nc.Request("theater.ctl.spawn", body, 5*time.Second)
	if err != nil || reply.Header.Get(wire.ErrorHeader) != "" {
		t.Fatalf("clean spawn: %v %s", err, reply.Data)
	}
}

// rawConn is a NATS client written by hand, for what nats.go will not
// send.
type rawConn struct {
	conn net.Conn
	r    *bufio.Reader
	sid  int
}

func dialRaw(t *testing.T, clientURL string) *rawConn {
	t.Helper()
	u, err := url.Parse(clientURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	rc := &rawConn{conn: conn, r: bufio.NewReader(conn)}
	if line := rc.line(t); !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("server said %q", line)
	}
	fmt.Fprintf(conn, "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true,\"protocol\":1}\r\nPING\r\n")
	for rc.line(t) != "PONG" {
	}
	return rc
}

func (rc *rawConn) line(t *testing.T) string {
	t.Helper()
	s, err := rc.r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(s, "\r\n")
}

type rawMsg struct{ raw, hdr, body string }

func (m rawMsg) header(key string) string {
	for _, l := range strings.Split(m.hdr, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// request publishes hdr (a whole header block, as written) and body to
// subject with a reply inbox and returns the reply.
func (rc *rawConn) request(t *testing.T, subject, hdr, body string) rawMsg {
	t.Helper()
	inbox := nats.NewInbox()
	rc.sid++
	fmt.Fprintf(rc.conn, "SUB %s %d\r\nUNSUB %d 1\r\nHPUB %s %s %d %d\r\n%s%s\r\n", inbox, rc.sid, rc.sid, subject, inbox, len(hdr), len(hdr)+len(body), hdr, body)
	for {
		l := rc.line(t)
		if l == "PING" {
			fmt.Fprintf(rc.conn, "PONG\r\n")
			continue
		}
		f := strings.Fields(l)
		switch {
		case len(f) == 5 && f[0] == "HMSG":
			hl, _ := strconv.Atoi(f[3])
			tl, _ := strconv.Atoi(f[4])
			buf := make([]byte, tl+2)
			if _, err := io.ReadFull(rc.r, buf); err != nil {
				t.Fatal(err)
			}
			return rawMsg{raw: l + "\r\n" + string(buf), hdr: string(buf[:hl]), body: string(buf[hl:tl])}
		case len(f) == 4 && f[0] == "MSG":
			tl, _ := strconv.Atoi(f[3])
			buf := make([]byte, tl+2)
			if _, err := io.ReadFull(rc.r, buf); err != nil {
				t.Fatal(err)
			}
			return rawMsg{raw: l + "\r\n" + string(buf), body: string(buf[:tl])}
		case strings.HasPrefix(l, "-ERR"):
			t.Fatalf("server: %s", l)
		}
	}
}
