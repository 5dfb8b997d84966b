package actor_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
)

// toolServer is a local HTTP tool; the test server is on 127.0.0.1, so
// the policy grants loopback explicitly.
func toolServer(t testing.TB) (*httptest.Server, actor.HTTPPolicy) {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			<-r.Context().Done()
		case "/big":
			io.WriteString(w, strings.Repeat("x", 4096))
		case "/away":
			http.Redirect(w, r, "http://denied.example/", http.StatusFound)
		default:
			b, _ := io.ReadAll(r.Body)
			io.WriteString(w, r.Method+" "+r.URL.Path+" "+r.Header.Get("Accept")+" "+string(b))
		}
	}))
	t.Cleanup(s.Close)
	u, _ := url.Parse(s.URL)
	port, _ := strconv.Atoi(u.Port())
	return s, actor.HTTPPolicy{Hosts: []string{"127.0.0.1", "localhost"}, Ports: []int{port}, Schemes: []string{"http"},
		MaxResponseBytes: 1024, Timeout: 200 * time.Millisecond, AllowPrivate: true}
}

func toolReq(method, u, body string) []byte {
	b := guest.AppendArrayHeader(nil, 3)
	return guest.AppendString(guest.AppendString(guest.AppendString(b, method), u), body)
}

func toolAsk(t *testing.T, a *actor.Actor, method, u, body string) string {
	t.Helper()
	r, err := a.Request(context.Background(), toolReq(method, u, body))
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := guest.ReadString(r)
	if err != nil {
		t.Fatalf("reply %x", r)
	}
	return s
}

func spawnTool(t *testing.T, rt *actor.Runtime, id string, p actor.HTTPPolicy) *actor.Actor {
	t.Helper()
	c, err := actor.NewHTTPClient(p)
	if err != nil {
		t.Fatal(err)
	}
	a, err := rt.Spawn(context.Background(), actor.Spec{ID: id, Module: goGuest(t, "examples/http-tool/guest"),
		Capabilities: []string{"http-client"}, HTTP: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a
}

// TestHTTPClientCapability drives theater:actor/http-client from a real
// Go guest against a local server: a granted call, and each limit of the
// grant as the WIT error case the guest gets.
func TestHTTPClientCapability(t *testing.T) {
	s, p := toolServer(t)
	u, _ := url.Parse(s.URL)
	rt := newRuntime(t)
	a := spawnTool(t, rt, "tool", p)
	for _, tc := range []struct{ method, url, body, want string }{
		{"POST", s.URL + "/echo", "hi", "200 POST /echo text/plain hi"},
		{"GET", "http://example.com:" + u.Port() + "/", "", "theater: http: denied: httpcap: denied: host \"example.com\""},
		{"DELETE", s.URL, "", "theater: http: denied: httpcap: denied: method DELETE"},
		{"GET", "https://127.0.0.1:" + u.Port() + "/", "", "theater: http: denied: httpcap: denied: scheme \"https\""},
		{"GET", "http://127.0.0.1:1/", "", "theater: http: denied: httpcap: denied: port 1"},
		{"GET", s.URL + "/away", "", "theater: http: denied: "},
		{"GET", s.URL + "/big", "", "theater: http: too-large: "},
		{"GET", s.URL + "/slow", "", "theater: http: timeout"},
		{"GET", "::bad", "", "theater: http: invalid: "},
	} {
		if got := toolAsk(t, a, tc.method, tc.url, tc.body); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.url, got, tc.want)
		}
	}
	// A request body over the grant's limit is refused before any I/O.
	p.MaxRequestBytes = 4
	b := spawnTool(t, rt, "tool2", p)
	if got := toolAsk(t, b, "POST", s.URL, "too long"); !strings.HasPrefix(got, "theater: http: too-large: ") {
		t.Errorf("request body: %q", got)
	}
}

// TestHTTPClientSSRF: a grant that names 127.0.0.1 and localhost does not
// reach them without allow_private; the address is checked at dial time.
func TestHTTPClientSSRF(t *testing.T) {
	s, p := toolServer(t)
	p.AllowPrivate = false
	a := spawnTool(t, newRuntime(t), "tool", p)
	u, _ := url.Parse(s.URL)
	for _, target := range []string{s.URL + "/", "http://localhost:" + u.Port() + "/"} {
		if got := toolAsk(t, a, "GET", target, ""); !strings.Contains(got, "denied") || !strings.Contains(got, "not public") {
			t.Errorf("%s: %q", target, got)
		}
	}
}

// TestHTTPClientRefusedWithoutGrant: a module that imports http-client
// without the grant is refused at spawn, naming the import.
func TestHTTPClientRefusedWithoutGrant(t *testing.T) {
	_, err := newRuntime(t).Spawn(context.Background(), actor.Spec{ID: "tool", Module: goGuest(t, "examples/http-tool/guest")})
	if !errors.Is(err, actor.ErrRefused) || !strings.Contains(err.Error(), "theater:actor/http-client@0.1.0") {
		t.Fatalf("got %v", err)
	}
}

// TestHTTPClientFromManifest: [capabilities.http] becomes the grant and a
// client that enforces it.
func TestHTTPClientFromManifest(t *testing.T) {
	s, _ := toolServer(t)
	u, _ := url.Parse(s.URL)
	m, err := manifest.Parse("tool.toml", []byte("name = \"tool\"\nmodule = \"tool.wasm\"\n[capabilities.http]\nhosts = [\"127.0.0.1\"]\nschemes = [\"http\"]\nports = ["+u.Port()+"]\nallow_private = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := actor.SpecFromManifest("tool", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if spec.HTTP == nil || !strings.Contains(strings.Join(spec.Capabilities, ","), "http-client") {
		t.Fatalf("spec %+v", spec)
	}
	spec.Module = goGuest(t, "examples/http-tool/guest")
	a, err := newRuntime(t).Spawn(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	if got := toolAsk(t, a, "GET", s.URL+"/x", ""); got != "200 GET /x text/plain " {
		t.Fatalf("got %q", got)
	}
}

// BenchmarkHTTPClient compares one http-client call made by a Go guest
// (through the actor's request path) with a direct net/http call to the
// same local server, in the same run.
func BenchmarkHTTPClient(b *testing.B) {
	s, p := toolServer(b)
	b.Run("direct", func(b *testing.B) {
		hc := &http.Client{}
		for b.Loop() {
			resp, err := hc.Post(s.URL+"/x", "text/plain", nil)
			if err != nil {
				b.Fatal(err)
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("client", func(b *testing.B) {
		c, err := actor.NewHTTPClient(p)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := c.Do(context.Background(), actor.HTTPRequest{Method: "POST", URL: s.URL + "/x"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("actor", func(b *testing.B) {
		c, err := actor.NewHTTPClient(p)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		a, err := newRuntime(b).Spawn(ctx, actor.Spec{ID: "tool", Module: goGuest(b, "examples/http-tool/guest"),
			Capabilities: []string{"http-client"}, HTTP: c})
		if err != nil {
			b.Fatal(err)
		}
		defer a.Stop(ctx)
		// "guest" makes the call; "guest-denied" is the same request
		// path refused before any I/O, the part of the cost that is not
		// HTTP.
		for name, u := range map[string]string{"guest": s.URL + "/x", "guest-denied": "http://denied.example/x"} {
			msg := toolReq("POST", u, "")
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					if _, err := a.Request(ctx, msg); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
}
