package manifest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor/manifest"
)

func TestTopics(t *testing.T) {
	for _, c := range []struct {
		topic         string
		ok, patternOK bool
	}{
		{"jobs", true, true},
		{"jobs.done", true, true},
		{"a-b_c.D9", true, true},
		{"", false, false},
		{"jobs.", false, false},
		{".jobs", false, false},
		{"jobs..done", false, false},
		{"jobs.*", false, true},
		{"*.done", false, true},
		{"jobs.>", false, true},
		{">", false, true},
		{"jobs.>.x", false, false},
		{"jo bs", false, false},
		{"a.b.c.d.e.f.g.h", true, true},
		{"a.b.c.d.e.f.g.h.i", false, false},
		{strings.Repeat("x", 65), false, false},
	} {
		if got := manifest.ValidTopic(c.topic); got != c.ok {
			t.Errorf("ValidTopic(%q) = %v", c.topic, got)
		}
		if got := manifest.ValidTopicPattern(c.topic); got != c.patternOK {
			t.Errorf("ValidTopicPattern(%q) = %v", c.topic, got)
		}
	}
	for _, c := range []struct {
		pattern, topic string
		want           bool
	}{
		{"jobs", "jobs", true},
		{"jobs", "jobs.x", false},
		{"jobs.*", "jobs.x", true},
		{"jobs.*", "jobs", false},
		{"jobs.*", "jobs.x.y", false},
		{"jobs.>", "jobs.x.y", true},
		{"jobs.>", "jobs", false},
		{">", "a.b", true},
		{"*.done", "w1.done", true},
		{"*.done", "w1.fail", false},
	} {
		if got := manifest.MatchTopic(c.pattern, c.topic); got != c.want {
			t.Errorf("MatchTopic(%q, %q) = %v", c.pattern, c.topic, got)
		}
	}
}

func TestChannelGrant(t *testing.T) {
	src := `name = "c"
module = "c.wasm"
[types]
send = "string"
[capabilities.channel]
publish = ["jobs.*", "results"]
subscribe = ["results.>"]
`
	m, err := manifest.Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Grants("channel") {
		t.Fatal("channel not granted")
	}
	for topic, want := range map[string]bool{"jobs.a": true, "results": true, "jobs": false, "other": false, "jobs.*": false} {
		if got := m.AllowsPublish(topic); got != want {
			t.Errorf("AllowsPublish(%q) = %v", topic, got)
		}
	}
	for _, c := range []struct{ src, want string }{
		{strings.Replace(src, `"jobs.*"`, `"jobs.>.x"`, 1), "capabilities.channel.publish: invalid topic pattern \"jobs.>.x\""},
		{strings.Replace(src, `send = "string"`, ``, 1), "capabilities.channel.subscribe: publications arrive as one-way messages: set types.send"},
	} {
		_, err := manifest.Parse("c.toml", []byte(c.src))
		if !errors.Is(err, manifest.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse: %v, want %q", err, c.want)
		}
	}
}

// A channel grant names topic patterns: "*" is one token, a last ">"
// one or more.
func ExampleManifest_AllowsPublish() {
	m, err := manifest.Parse("c.toml", []byte(`name = "c"
module = "c.wasm"
[capabilities.channel]
publish = ["jobs.*", "log.>"]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, topic := range []string{"jobs.calc", "jobs", "jobs.calc.x", "log.a.b", "other"} {
		fmt.Println(topic, m.AllowsPublish(topic))
	}
	// Output:
	// jobs.calc true
	// jobs false
	// jobs.calc.x false
	// log.a.b true
	// other false
}
