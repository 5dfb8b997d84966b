package replay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/guest"
)

// TestHTTPReplayOffline runs the http-tool example against a local
// server with a Recorder, stops the server, and answers every call from
// the recorded inputs: each reply and state is the same byte for byte.
func TestHTTPReplayOffline(t *testing.T) {
	wasm := filepath.Join(t.TempDir(), "tool.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", wasm, "./examples/http-tool/guest")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mod, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++ // handlers of one actor run one at a time
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "call "+strconv.Itoa(n)+" "+r.URL.Path+" "+string(b))
	}))
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	live, err := actor.NewHTTPClient(actor.HTTPPolicy{Hosts: []string{"127.0.0.1"}, Ports: []int{port},
		Schemes: []string{"http"}, AllowPrivate: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)

	reqs := [][]string{{"GET", srv.URL + "/a", ""}, {"POST", srv.URL + "/b", "body"}, {"GET", "http://example.com/", ""}, {"GET", srv.URL + "/c", ""}}
	msg := func(r []string) []byte {
		b := guest.AppendArrayHeader(nil, 3)
		for _, s := range r {
			b = guest.AppendString(b, s)
		}
		return b
	}
	rec := NewRecorder(nil, nil, nil)
	a, err := rt.Spawn(ctx, actor.Spec{ID: "tool", Module: mod, Capabilities: []string{"http-client"}, HTTP: rec.HTTP(live)})
	if err != nil {
		t.Fatal(err)
	}
	rec.Take() // init's inputs: none of them http
	var inputs [][]chain.Input
	var replies, states [][]byte
	for _, r := range reqs {
		reply, err := a.Request(ctx, msg(r))
		if err != nil {
			t.Fatal(err)
		}
		in, _ := rec.Take()
		inputs, replies, states = append(inputs, in), append(replies, reply), append(states, a.State())
	}
	a.Stop(ctx)
	srv.Close() // the network is off for the replay

	var p player
	b, err := rt.Spawn(ctx, actor.Spec{ID: "tool-replay", Module: mod, Capabilities: []string{"http-client"}, HTTP: playHTTP{&p}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop(ctx)
	for k, r := range reqs {
		p.load(uint64(k+1), inputs[k])
		reply, err := b.Request(ctx, msg(r))
		if err != nil {
			t.Fatal(err)
		}
		if p.div != nil || p.next != len(inputs[k]) {
			t.Fatalf("request %d: divergence %+v, %d of %d inputs", k, p.div, p.next, len(inputs[k]))
		}
		if !bytes.Equal(reply, replies[k]) || !bytes.Equal(b.State(), states[k]) {
			t.Fatalf("request %d: reply %q state %x, live %q %x", k, reply, b.State(), replies[k], states[k])
		}
	}
	if s, _, _ := guest.ReadString(replies[2]); s[:len("theater: http: denied")] != "theater: http: denied" {
		t.Fatalf("denied call: %q", s)
	}
	// A guest that asks for another URL than the record diverges.
	p.load(9, inputs[0])
	if _, err := b.Request(ctx, msg([]string{"GET", srv.URL + "/other", ""})); err != nil {
		t.Fatal(err)
	}
	if p.div == nil || p.div.What != DivergedInput {
		t.Fatalf("divergence %+v", p.div)
	}
}

func TestDecodeHTTPRejectsNonCanonical(t *testing.T) {
	good, err := encodeHTTP(actor.HTTPRequest{Method: "GET", URL: "u"}, actor.HTTPResponse{Status: 200, Body: []byte("x")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, r, err := decodeHTTP(good); err != nil || r.Status != 200 || string(r.Body) != "x" {
		t.Fatalf("%v %+v", err, r)
	}
	tmo, _ := encodeHTTP(actor.HTTPRequest{Method: "GET", URL: "u"}, actor.HTTPResponse{}, context.DeadlineExceeded)
	var he *actor.HTTPError
	if _, _, _, err := decodeHTTP(tmo); !errors.As(err, &he) || he.Case != "timeout" {
		t.Fatalf("timeout: %v", err)
	}
	for _, bad := range [][]byte{nil, {0x80}, append(append([]byte{}, good...), 0), good[:len(good)-1]} {
		if _, _, _, err := decodeHTTP(bad); !errors.Is(err, ErrMalformedInput) {
			t.Errorf("%x: %v", bad, err)
		}
	}
}

// FuzzDecodeHTTP: any Data either fails as malformed or decodes to values
// that encode back to the same bytes.
func FuzzDecodeHTTP(f *testing.F) {
	good, _ := encodeHTTP(actor.HTTPRequest{Method: "GET", URL: "http://a/"}, actor.HTTPResponse{Status: 200,
		Headers: []actor.HTTPHeader{{Name: "Content-Type", Value: "text/plain"}}, Body: []byte("x")}, nil)
	bad, _ := encodeHTTP(actor.HTTPRequest{Method: "GET", URL: "http://a/"}, actor.HTTPResponse{}, &actor.HTTPError{Case: "denied", Text: "host"})
	f.Add(good)
	f.Add(bad)
	f.Fuzz(func(t *testing.T, data []byte) {
		method, u, resp, err := decodeHTTP(data)
		if errors.Is(err, ErrMalformedInput) {
			return
		}
		again, eerr := encodeHTTP(actor.HTTPRequest{Method: method, URL: u}, resp, err)
		if eerr != nil || !bytes.Equal(again, data) {
			t.Fatalf("%x decoded, encodes to %x (%v)", data, again, eerr)
		}
	})
}
