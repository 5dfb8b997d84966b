package manifest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/supervisor"
)

const digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestSupervisorCapability(t *testing.T) {
	src := `name = "boss"
module = "boss.wasm"
[capabilities.supervisor]
manifests = ["worker*"]
modules = ["` + digestA + `"]
strategy = "one_for_all"
intensity = 2
period = "1m"
backoff = { initial = "10ms", multiplier = 1.5 }
`
	m, err := Parse("m.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := &SupervisorConfig{MaxChildren: DefaultMaxChildren, Manifests: []string{"worker*"}, Modules: []string{digestA},
		Strategy: supervisor.OneForAll, Intensity: 2, Period: Duration(time.Minute),
		Backoff: &supervisor.Backoff{Initial: Duration(10 * time.Millisecond), Multiplier: 1.5}}
	if !reflect.DeepEqual(m.Capabilities.Supervisor, want) {
		t.Errorf("got  %+v\nwant %+v", m.Capabilities.Supervisor, want)
	}
	if !m.Grants("supervisor") {
		t.Error("supervisor not granted")
	}
	for name, ok := range map[string]bool{"worker": true, "worker-2": true, "boss": false} {
		if m.AllowsManifest(name) != ok {
			t.Errorf("AllowsManifest(%q) = %v", name, !ok)
		}
	}
	if !m.AllowsModule(digestA) || m.AllowsModule(strings.Replace(digestA, "a", "b", 1)) {
		t.Error("AllowsModule")
	}
	none := &Manifest{}
	if none.AllowsManifest("worker") || none.AllowsModule(digestA) {
		t.Error("a manifest without the capability allows spawning")
	}
}

func TestSupervisorCapabilityBad(t *testing.T) {
	base := "name = \"boss\"\nmodule = \"boss.wasm\"\n[capabilities.supervisor]\n"
	for _, tt := range []struct{ src, want string }{
		{"max_children = 2000\n", "m.toml:4:16: capabilities.supervisor.max_children: 2000 is out of range 1..1024"},
		{"manifests = [\"[\"]\n", `m.toml:4:13: capabilities.supervisor.manifests: invalid pattern "["`},
		{"modules = [\"sha256:00\"]\n", `m.toml:4:11: capabilities.supervisor.modules: invalid digest "sha256:00": want sha256: followed by 64 lowercase hex digits`},
		{"strategy = \"all\"\n", `m.toml:4:12: capabilities.supervisor.strategy: unknown strategy "all" (want one_for_one, one_for_all or rest_for_one)`},
		{"intensity = 3\n", `m.toml: capabilities.supervisor.period: 0s is not positive`},
		{"[capabilities.supervisor.backoff]\ninitial = \"1s\"\nmax = \"1ms\"\n", `m.toml:6:7: capabilities.supervisor.backoff.max: 1ms is less than initial 1s`},
		{"max = 3\n", `m.toml:4:1: unknown key "capabilities.supervisor.max"`},
	} {
		_, err := Parse("m.toml", []byte(base+tt.src))
		if err == nil || err.Error() != "manifest: "+tt.want {
			t.Errorf("%q: got %v\nwant manifest: %s", tt.src, err, tt.want)
		}
	}
}
