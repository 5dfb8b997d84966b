package httpcap_test

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

	"github.com/theater-go/theater/actor/internal/httpcap"
)

// server is a local test server and a policy that grants it (loopback
// explicitly, as the server is on 127.0.0.1).
func server(t testing.TB, h http.HandlerFunc) (*httptest.Server, httpcap.Policy) {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	u, _ := url.Parse(s.URL)
	port, _ := strconv.Atoi(u.Port())
	return s, httpcap.Policy{Hosts: []string{"127.0.0.1", "localhost"}, Ports: []int{port},
		Schemes: []string{"http"}, AllowPrivate: true}
}

func client(t testing.TB, p httpcap.Policy) *httpcap.Client {
	t.Helper()
	c, err := httpcap.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func echo(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Secret", "hidden")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-In")+" "+string(b))
}

func TestGrantedRequest(t *testing.T) {
	s, p := server(t, echo)
	resp, err := client(t, p).Do(context.Background(), httpcap.Request{Method: "POST", URL: s.URL + "/a",
		Headers: []httpcap.Header{{Name: "X-In", Value: "v"}}, Body: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 201 || string(resp.Body) != "POST /a v hi" {
		t.Fatalf("got %d %q", resp.Status, resp.Body)
	}
	// Only the exposed headers reach the guest.
	if len(resp.Headers) != 1 || resp.Headers[0] != (httpcap.Header{Name: "Content-Type", Value: "text/plain"}) {
		t.Fatalf("headers %v", resp.Headers)
	}
}

func TestDenied(t *testing.T) {
	s, p := server(t, echo)
	u, _ := url.Parse(s.URL)
	for name, tc := range map[string]struct {
		mod func(*httpcap.Policy)
		req httpcap.Request
	}{
		"host":     {nil, httpcap.Request{Method: "GET", URL: "http://example.com:" + u.Port() + "/"}},
		"method":   {nil, httpcap.Request{Method: "DELETE", URL: s.URL}},
		"scheme":   {func(p *httpcap.Policy) { p.Schemes = []string{"https"} }, httpcap.Request{Method: "GET", URL: s.URL}},
		"port":     {nil, httpcap.Request{Method: "GET", URL: "http://127.0.0.1:1/"}},
		"userinfo": {nil, httpcap.Request{Method: "GET", URL: "http://u:p@127.0.0.1:" + u.Port() + "/"}},
		"host header": {nil, httpcap.Request{Method: "GET", URL: s.URL,
			Headers: []httpcap.Header{{Name: "Host", Value: "internal"}}}},
		// SSRF: the allow-list names the host, but loopback is not granted.
		"loopback ip": {func(p *httpcap.Policy) { p.AllowPrivate = false }, httpcap.Request{Method: "GET", URL: s.URL}},
		// A name that resolves to loopback is refused at dial time.
		"loopback name": {func(p *httpcap.Policy) { p.AllowPrivate = false },
			httpcap.Request{Method: "GET", URL: "http://localhost:" + u.Port() + "/"}},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.mod != nil {
				tc.mod(&p)
			}
			_, err := client(t, p).Do(context.Background(), tc.req)
			if !errors.Is(err, httpcap.ErrDenied) {
				t.Fatalf("got %v, want ErrDenied", err)
			}
		})
	}
}

func TestSizeLimits(t *testing.T) {
	big := strings.Repeat("x", 100)
	s, p := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length: the limit is found while reading
		}
		io.WriteString(w, big)
	})
	p.MaxRequestBytes, p.MaxResponseBytes = 10, 99
	c := client(t, p)
	if _, err := c.Do(context.Background(), httpcap.Request{Method: "POST", URL: s.URL, Body: []byte(big)}); !errors.Is(err, httpcap.ErrTooLarge) {
		t.Fatalf("request: %v", err)
	}
	for _, path := range []string{"/", "/chunked"} {
		if _, err := c.Do(context.Background(), httpcap.Request{Method: "GET", URL: s.URL + path}); !errors.Is(err, httpcap.ErrTooLarge) {
			t.Fatalf("response %s: %v", path, err)
		}
	}
	p.MaxResponseBytes = 100
	if r, err := client(t, p).Do(context.Background(), httpcap.Request{Method: "GET", URL: s.URL + "/chunked"}); err != nil || len(r.Body) != 100 {
		t.Fatalf("at the limit: %v", err)
	}
}

func TestDeadline(t *testing.T) {
	s, p := server(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	p.Timeout = 50 * time.Millisecond
	start := time.Now()
	_, err := client(t, p).Do(context.Background(), httpcap.Request{Method: "GET", URL: s.URL})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestRedirects(t *testing.T) {
	s, p := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/out":
			http.Redirect(w, r, "http://denied.example/", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/once":
			http.Redirect(w, r, "/done", http.StatusFound)
		default:
			io.WriteString(w, "done")
		}
	})
	p.MaxRedirects = 3
	c := client(t, p)
	for _, path := range []string{"/out", "/loop"} {
		if _, err := c.Do(context.Background(), httpcap.Request{Method: "GET", URL: s.URL + path}); !errors.Is(err, httpcap.ErrDenied) {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if r, err := c.Do(context.Background(), httpcap.Request{Method: "GET", URL: s.URL + "/once"}); err != nil || string(r.Body) != "done" {
		t.Fatalf("once: %v", err)
	}
	p.MaxRedirects = -1
	if _, err := client(t, p).Do(context.Background(), httpcap.Request{Method: "GET", URL: s.URL + "/once"}); !errors.Is(err, httpcap.ErrDenied) {
		t.Fatalf("no redirects: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	for _, p := range []httpcap.Policy{
		{},
		{Hosts: []string{"a/b"}},
		{Hosts: []string{"a.*.com"}},
		{Hosts: []string{"a"}, Ports: []int{0}},
		{Hosts: []string{"a"}, Schemes: []string{"ftp"}},
		{Hosts: []string{"a"}, Methods: []string{"get"}},
		{Hosts: []string{"a"}, Timeout: -1},
	} {
		if _, err := httpcap.New(p); !errors.Is(err, httpcap.ErrInvalid) {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

func TestWildcardHost(t *testing.T) {
	c := client(t, httpcap.Policy{Hosts: []string{"*.example.com"}})
	for u, ok := range map[string]bool{"https://api.example.com/": true, "https://example.com/": false, "https://evilexample.com/": false} {
		pu, _ := url.Parse(u)
		if err := c.Allowed("GET", pu); (err == nil) != ok {
			t.Errorf("%s: %v", u, err)
		}
	}
}

// BenchmarkOverhead compares Client.Do with a direct net/http call to the
// same local server, in the same run.
func BenchmarkOverhead(b *testing.B) {
	s, p := server(b, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) })
	b.Run("direct", func(b *testing.B) {
		hc := &http.Client{}
		for b.Loop() {
			resp, err := hc.Get(s.URL)
			if err != nil {
				b.Fatal(err)
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
		}
	})
	// The same call with the deadline every capability call carries.
	b.Run("direct+deadline", func(b *testing.B) {
		hc := &http.Client{}
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), httpcap.DefaultTimeout)
			req, _ := http.NewRequestWithContext(ctx, "GET", s.URL, nil)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
			cancel()
		}
	})
	b.Run("httpcap", func(b *testing.B) {
		c := client(b, p)
		for b.Loop() {
			if _, err := c.Do(context.Background(), httpcap.Request{Method: "GET", URL: s.URL}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
