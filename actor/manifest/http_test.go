package manifest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor/manifest"
)

const httpBase = "name = \"a\"\nmodule = \"a.wasm\"\n"

func TestHTTPCapability(t *testing.T) {
	m, err := manifest.Parse("a.toml", []byte(httpBase+`
[capabilities.http]
hosts = ["api.example.com", "*.example.org"]
ports = [8443]
schemes = ["https"]
methods = ["GET"]
max_response_bytes = 4096
timeout = "2s"
max_redirects = -1
allow_private = true
expose_headers = ["content-type"]
`))
	if err != nil {
		t.Fatal(err)
	}
	h := m.Capabilities.HTTP
	if !m.Grants("http-client") || h.Hosts[1] != "*.example.org" || h.Ports[0] != 8443 || h.MaxResponseBytes != 4096 ||
		h.MaxRedirects != -1 || !h.AllowPrivate || h.ExposeHeaders[0] != "content-type" {
		t.Fatalf("got %+v", h)
	}
	if m, _ := manifest.Parse("a.toml", []byte(httpBase)); m.Grants("http-client") {
		t.Fatal("granted without [capabilities.http]")
	}
}

func TestHTTPCapabilityErrors(t *testing.T) {
	for body, want := range map[string]string{
		"[capabilities.http]\n":                                          "a.toml: capabilities.http.hosts: no hosts",
		"[capabilities.http]\nhosts = [\"a/b\"]\n":                       "a.toml:4:9: capabilities.http.hosts: invalid host",
		"[capabilities.http]\nhosts = [\"a\"]\nports = [0]\n":            "a.toml:5:9: capabilities.http.ports: invalid port 0",
		"[capabilities.http]\nhosts = [\"a\"]\nschemes = [\"ftp\"]\n":    "capabilities.http.schemes: unknown scheme",
		"[capabilities.http]\nhosts = [\"a\"]\nmethods = [\"get\"]\n":    "capabilities.http.methods: invalid method",
		"[capabilities.http]\nhosts = [\"a\"]\nmax_redirects = 50\n":     "capabilities.http.max_redirects: 50 is out of range",
		"[capabilities.http]\nhosts = [\"a\"]\nmax_request_bytes = -1\n": "capabilities.http.max_request_bytes: -1 is out of range",
		"[capabilities.http]\nhosts = [\"a\"]\nproxy = \"x\"\n":          "proxy",
	} {
		_, err := manifest.Parse("a.toml", []byte(httpBase+body))
		if !errors.Is(err, manifest.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", body, err, want)
		}
	}
}
