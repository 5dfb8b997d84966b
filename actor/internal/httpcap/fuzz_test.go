package httpcap_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor/internal/httpcap"
)

// FuzzAllowed checks the URL check on any URL a guest may send: it never
// panics, and a URL it allows has an allowed scheme, method, host and port.
func FuzzAllowed(f *testing.F) {
	for _, s := range []string{"https://api.example.com/v1", "https://example.com:8443/", "http://API.example.com",
		"https://u@api.example.com/", "https://[::1]:443/", "https://api.example.com.evil.org/", "//api.example.com", "https://api.example.com:99999/"} {
		f.Add("GET", s)
	}
	c, err := httpcap.New(httpcap.Policy{Hosts: []string{"*.example.com", "example.com"}, Ports: []int{443, 8443}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		if c.Allowed(method, u) != nil {
			return
		}
		host := strings.ToLower(u.Hostname())
		port := u.Port()
		if u.Scheme != "https" || !slices.Contains([]string{"GET", "POST"}, method) || u.User != nil ||
			host != "example.com" && !strings.HasSuffix(host, ".example.com") ||
			port != "" && port != "443" && port != "8443" {
			t.Fatalf("allowed %s %q", method, raw)
		}
	})
}
