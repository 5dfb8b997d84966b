package manifest

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/supervisor"
)

// base is the smallest valid manifest; cases add to it.
const base = "name = \"counter\"\nmodule = \"counter.wasm\"\n"

// defaults is what base parses to.
func defaults() *Manifest {
	return &Manifest{
		Name:   "counter",
		Module: "counter.wasm",
		Limits: Limits{
			MemoryPages:     DefaultMemoryPages,
			HandlerDeadline: Duration(DefaultHandlerDeadline),
			Mailbox:         DefaultMailbox,
			MaxMessageBytes: DefaultMaxMessageBytes,
		},
		Supervision: Supervision{Restart: supervisor.Permanent, StartFrom: supervisor.StartLast},
	}
}

func TestParseGood(t *testing.T) {
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name string
		src  string
		want func(m *Manifest)
	}{
		{"minimal", base, func(*Manifest) {}},
		{"digest module", "name = \"c\"\nmodule = \"" + digest + "\"\n", func(m *Manifest) {
			m.Name, m.Module = "c", digest
		}},
		{"primitive types need no wit", base + "[types]\nsend = \"u32\"\nrequest = \"list<u8>\"\nreply = \"result<_, string>\"\nstate = \"tuple<u32, option<string>>\"\n",
			func(m *Manifest) {
				m.Types = Types{Send: "u32", Request: "list<u8>", Reply: "result<_, string>", State: "tuple<u32, option<string>>"}
			}},
		{"everything", `
name = "bank-1"
module = "wasm/bank.wasm"
wit = "wit"

[types]
send = "api.request"
request = "example:bank/api.request"
reply = "api.reply"
state = "list<api.transfer, 4>"

[state]
initial = '{"count": 0}'

[capabilities.log]
level = "debug"
[capabilities.runtime]
[capabilities.clock]
[capabilities.random]
[capabilities.message]
allow = ["bank-*", "ledger"]

[limits]
memory_pages = 512
handler_deadline = "1m30s"
mailbox = 10
max_message_bytes = 65536
idle = "30s"

[supervision]
restart = "transient"
start_from = "initial"
`, func(m *Manifest) {
			*m = Manifest{
				Name: "bank-1", Module: "wasm/bank.wasm", WIT: "wit",
				Types: Types{Send: "api.request", Request: "example:bank/api.request", Reply: "api.reply", State: "list<api.transfer, 4>"},
				State: State{Initial: `{"count": 0}`},
				Capabilities: Capabilities{
					Log:     &LogConfig{Level: LevelDebug},
					Runtime: &RuntimeConfig{}, Clock: &ClockConfig{}, Random: &RandomConfig{},
					Message: &MessageConfig{Allow: []string{"bank-*", "ledger"}},
				},
				Limits: Limits{
					MemoryPages: 512, HandlerDeadline: Duration(90 * time.Second), Mailbox: 10,
					MaxMessageBytes: 65536, Idle: Duration(30 * time.Second),
				},
				Supervision: Supervision{Restart: supervisor.Transient, StartFrom: supervisor.StartInitial},
			}
		}},
		{"log level defaults to info", base + "[capabilities.log]\n", func(m *Manifest) {
			m.Capabilities.Log = &LogConfig{Level: LevelInfo}
		}},
		{"empty allow grants message to no one", base + "capabilities.message.allow = []\n", func(m *Manifest) {
			m.Capabilities.Message = &MessageConfig{Allow: []string{}}
		}},
		{"inline tables", base + "capabilities = { clock = {}, log = { level = \"warn\" } }\n", func(m *Manifest) {
			m.Capabilities.Clock = &ClockConfig{}
			m.Capabilities.Log = &LogConfig{Level: LevelWarn}
		}},
		{"explicit zero means the default", base + "[limits]\nmemory_pages = 0\nhandler_deadline = \"0s\"\nidle = \"0\"\n", func(*Manifest) {}},
		{"msgpack state", base + "[state]\ninitial_base64 = \"gaVjb3VudAA=\"\n", func(m *Manifest) {
			m.State.InitialMsgpack = Msgpack{0x81, 0xa5, 'c', 'o', 'u', 'n', 't', 0x00}
		}},
		{"empty msgpack state is no state", base + "[state]\ninitial_base64 = \"\"\n", func(*Manifest) {}},
		{"largest limits", base + "[limits]\nmemory_pages = 65536\nhandler_deadline = \"10m\"\nmailbox = 1048576\nmax_message_bytes = 67108864\n", func(m *Manifest) {
			m.Limits = Limits{MemoryPages: 65536, HandlerDeadline: Duration(10 * time.Minute), Mailbox: 1 << 20, MaxMessageBytes: 64 << 20}
		}},
		{"byte-order mark", "\ufeff" + base, func(*Manifest) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("m.toml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			want := defaults()
			tt.want(want)
			want = want.WithDefaults()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	for _, tt := range badCases {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.toml", []byte(tt.src))
			if err == nil {
				t.Fatalf("no error; got %+v", m)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
		})
	}
}

var badCases = []struct{ name, src, want string }{
	{"syntax", "name = \"x\nmodule = \"m.wasm\"\n",
		"manifest: m.toml:1:10: basic strings cannot have new lines"},
	{"duplicate key", "name = \"x\"\nname = \"y\"\n",
		"manifest: m.toml:2:1: key name is already defined"},
	{"unknown top-level key", base + "nmae = \"x\"\n",
		"manifest: m.toml:3:1: unknown key \"nmae\""},
	{"unknown limit", base + "\n[limits]\nmemry_pages = 3\n",
		"manifest: m.toml:5:1: unknown key \"limits.memry_pages\""},
	{"unknown dotted key", base + "limits.memry_pages = 3\n",
		"manifest: m.toml:3:1: unknown key \"limits.memry_pages\""},
	{"key case", "Name = \"x\"\nmodule = \"m.wasm\"\n",
		"manifest: m.toml:1:1: unknown key \"Name\""},
	{"unknown capability", base + "[capabilities.net]\nhosts = [\"x\"]\n",
		"manifest: m.toml:3:1: unknown capability \"net\" (known: channel, clock, config, http, log, message, random, runtime, store, supervisor, timer)"},
	{"unknown capability inline", base + "capabilities = { log = {}, net = {} }\n",
		"manifest: m.toml:3:28: unknown capability \"net\" (known: channel, clock, config, http, log, message, random, runtime, store, supervisor, timer)"},
	{"unknown capability setting", base + "[capabilities.runtime]\nverbose = true\n",
		"manifest: m.toml:4:1: unknown key \"capabilities.runtime.verbose\""},
	{"unknown parent table", base + "[restart.policy]\nalways = true\n",
		"manifest: m.toml:3:1: unknown key \"restart\""},
	{"unknown table", base + "[restart]\npolicy = \"always\"\n",
		"manifest: m.toml:3:1: unknown key \"restart\""},
	{"name not a string", "name = 5\nmodule = \"m.wasm\"\n",
		"manifest: m.toml:1:8: name: expected a string, got integer"},
	{"duration text", base + "[limits]\nhandler_deadline = \"5 seconds\"\n",
		"manifest: m.toml:4:20: limits.handler_deadline: invalid duration \"5 seconds\""},
	{"duration integer", base + "[limits]\nhandler_deadline = 5\n",
		"manifest: m.toml:4:20: limits.handler_deadline: expected a string, got integer"},
	{"integer as string", base + "[limits]\nmemory_pages = \"256\"\n",
		"manifest: m.toml:4:16: limits.memory_pages: expected an integer, got string"},
	{"allow not an array", base + "[capabilities.message]\nallow = \"bank-*\"\n",
		"manifest: m.toml:4:9: capabilities.message.allow: expected an array of strings, got string"},
	{"allow element", base + "[capabilities.message]\nallow = [\"a\", 1]\n",
		"manifest: m.toml:4:9: capabilities.message.allow: expected an array of strings, got integer at index 1"},
	{"types not a table", base + "types = \"u32\"\n",
		"manifest: m.toml:3:9: types: expected a table, got string"},
	{"array of tables", base + "[[limits]]\nmailbox = 1\n",
		"manifest: m.toml:3:1: limits: expected a table, got array of tables"},
	{"missing name", "module = \"m.wasm\"\n",
		"manifest: m.toml: name: required"},
	{"name with dot", "name = \"bank.main\"\nmodule = \"m.wasm\"\n",
		"manifest: m.toml:1:8: name: invalid name \"bank.main\": use 1 to 64 letters, digits, '-' and '_', starting with a letter or digit"},
	{"name too long", "name = \"" + strings.Repeat("a", 65) + "\"\nmodule = \"m.wasm\"\n",
		"manifest: m.toml:1:8: name: invalid name \"" + strings.Repeat("a", 65) + "\": use 1 to 64 letters, digits, '-' and '_', starting with a letter or digit"},
	{"missing module", "name = \"x\"\n",
		"manifest: m.toml: module: required"},
	{"bad digest", "name = \"x\"\nmodule = \"sha256:ABC\"\n",
		"manifest: m.toml:2:10: module: invalid digest \"sha256:ABC\": want sha256: followed by 64 lowercase hex digits"},
	{"named type without wit", base + "[types]\nsend = \"api.add\"\n",
		"manifest: m.toml:4:8: types.send: \"api.add\" is a named WIT type; set wit to the file or directory that defines it"},
	{"bad type syntax", base + "[types]\nsend = \"list<u8\"\n",
		"manifest: m.toml:4:8: types.send: invalid type \"list<u8\": unexpected end"},
	{"request without reply", base + "[types]\nrequest = \"u32\"\n",
		"manifest: m.toml: types.reply: required when types.request is set"},
	{"both initial states", base + "[types]\nstate = \"u32\"\n[state]\ninitial = \"0\"\ninitial_base64 = \"AA==\"\n",
		"manifest: m.toml:7:18: state.initial_base64: set only one of state.initial and state.initial_base64"},
	{"initial not JSON", base + "[types]\nstate = \"u32\"\n[state]\ninitial = \"{count: 0}\"\n",
		"manifest: m.toml:6:11: state.initial: invalid JSON: invalid character 'c' looking for beginning of object key string"},
	{"initial without type", base + "[state]\ninitial = \"0\"\n",
		"manifest: m.toml:4:11: state.initial: JSON state needs types.state; set it, or give msgpack in state.initial_base64"},
	{"initial_base64 not base64", base + "[state]\ninitial_base64 = \"!!\"\n",
		"manifest: m.toml:4:18: state.initial_base64: invalid base64: illegal base64 data at input byte 0"},
	{"log level", base + "[capabilities.log]\nlevel = \"verbose\"\n",
		"manifest: m.toml:4:9: capabilities.log.level: unknown level \"verbose\" (want debug, info, warn or error)"},
	{"allow pattern", base + "[capabilities.message]\nallow = [\"bank-*\", \"[a\"]\n",
		"manifest: m.toml:4:9: capabilities.message.allow: invalid pattern \"[a\""},
	{"memory pages high", base + "[limits]\nmemory_pages = 70000\n",
		"manifest: m.toml:4:16: limits.memory_pages: 70000 is out of range 1..65536"},
	{"memory pages negative", base + "[limits]\nmemory_pages = -1\n",
		"manifest: m.toml:4:16: limits.memory_pages: -1 is out of range 1..65536"},
	{"deadline too long", base + "[limits]\nhandler_deadline = \"11m\"\n",
		"manifest: m.toml:4:20: limits.handler_deadline: 11m0s is out of range: want more than 0s and at most 10m0s"},
	{"mailbox too big", base + "[limits]\nmailbox = 2000000\n",
		"manifest: m.toml:4:11: limits.mailbox: 2000000 is out of range 1..1048576"},
	{"message too big", base + "[limits]\nmax_message_bytes = 104857600\nmemory_pages = 65536\n",
		"manifest: m.toml:4:21: limits.max_message_bytes: 104857600 is out of range 1..67108864"},
	{"message above memory", base + "[limits]\nmemory_pages = 1\n",
		"manifest: m.toml: limits.max_message_bytes: 1048576 is more than the actor's memory of 65536 bytes (limits.memory_pages = 1)"},
	{"idle negative", base + "[limits]\nidle = \"-1s\"\n",
		"manifest: m.toml:4:8: limits.idle: -1s is negative"},
	{"restart", base + "[supervision]\nrestart = \"always\"\n",
		"manifest: m.toml:4:11: supervision.restart: unknown restart type \"always\" (want permanent, transient or temporary)"},
	{"start_from", base + "[supervision]\nstart_from = \"middle\"\n",
		"manifest: m.toml:4:14: supervision.start_from: unknown state \"middle\" (want initial or last)"},
	{"intensity", base + "[supervision]\nintensity = -1\nperiod = \"1s\"\n",
		"manifest: m.toml:4:13: supervision.intensity: -1 is negative"},
	{"period", base + "[supervision]\nintensity = 3\n",
		"manifest: m.toml: supervision.period: 0s is not positive"},
	{"backoff", base + "[supervision]\n[supervision.backoff]\ninitial = \"1s\"\nmax = \"10ms\"\n",
		"manifest: m.toml:6:7: supervision.backoff.max: 10ms is less than initial 1s"},
	{"unknown key before bad value", base + "nmae = 1\n[limits]\nmailbox = \"x\"\n",
		"manifest: m.toml:3:1: unknown key \"nmae\""},
	{"bad value before unknown key", base + "[limits]\nmailbox = \"x\"\nmemry = 1\n",
		"manifest: m.toml:4:11: limits.mailbox: expected an integer, got string"},
	{"position after multiline string", base + "[types]\nstate = \"u32\"\n[state]\ninitial = '''\n7 # [limits]\n'''\n# [limits] name = 1\n[limits]\n  \"mem\\u0072y\" = 1\n",
		"manifest: m.toml:11:3: unknown key \"limits.memry\""},
}

func TestJSONRoundTrip(t *testing.T) {
	for _, tt := range append([]string{base}, goodFiles(t)...) {
		m, err := Parse("m.toml", []byte(tt))
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Manifest
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&back, m) {
			t.Errorf("JSON %s\ngot  %+v\nwant %+v", js, &back, m)
		}
	}
}

// goodFiles returns the sources of the valid manifests of TestParseGood's
// shape that exercise every field; the example manifest is one of them.
func goodFiles(t *testing.T) []string {
	t.Helper()
	counter, err := os.ReadFile("../../examples/counter/counter.toml")
	if err != nil {
		t.Fatal(err)
	}
	return []string{string(counter), base + `
[state]
initial_base64 = "gA=="
[capabilities.message]
allow = []
[capabilities.runtime]
[capabilities.clock]
[capabilities.random]
[limits]
idle = "1h"
`}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "abs.wasm")
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	m, err := Load(write("rel.toml", "name = \"a\"\nmodule = \"wat/a.wasm\"\nwit = \"../wit\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "wat", "a.wasm"); m.Module != want {
		t.Errorf("module %q, want %q", m.Module, want)
	}
	if want := filepath.Join(filepath.Dir(dir), "wit"); m.WIT != want {
		t.Errorf("wit %q, want %q", m.WIT, want)
	}

	m, err = Load(write("abs.toml", "name = \"a\"\nmodule = \""+filepath.ToSlash(abs)+"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Module != abs || m.WIT != "" {
		t.Errorf("module %q wit %q, want %q and no wit", m.Module, m.WIT, abs)
	}

	digest := "sha256:" + strings.Repeat("ab", 32)
	m, err = Load(write("digest.toml", "name = \"a\"\nmodule = \""+digest+"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Module != digest {
		t.Errorf("module %q, want the digest unchanged", m.Module)
	}

	p := write("bad.toml", "name = \"a\"\n")
	if _, err := Load(p); err == nil || err.Error() != "manifest: "+p+": module: required" {
		t.Errorf("got %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.toml")); err == nil || errors.Is(err, ErrInvalid) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want a not-exist error that is not ErrInvalid", err)
	}
}

func TestCounterExample(t *testing.T) {
	m, err := Load("../../examples/counter/counter.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "examples", "counter")
	want := defaults()
	want.Module = filepath.Join(dir, "wat", "counter.wasm")
	want.WIT = filepath.Join(dir, "counter.wit")
	want.Types = Types{Send: "api.add", Request: "api.add", Reply: "api.total", State: "api.state"}
	want.State.Initial = "0"
	want.Capabilities.Log = &LogConfig{Level: LevelInfo}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got  %+v\nwant %+v", m, want)
	}
}

func TestGrants(t *testing.T) {
	m := &Manifest{Capabilities: Capabilities{Log: &LogConfig{}, Clock: &ClockConfig{}}}
	for name, want := range map[string]bool{"log": true, "clock": true, "message": false, "random": false, "runtime": false, "net": false, "": false} {
		if got := m.Grants(name); got != want {
			t.Errorf("Grants(%q) = %v, want %v", name, got, want)
		}
	}
	// Every capability the manifest can name is answered by Grants.
	all := &Manifest{Capabilities: Capabilities{
		Clock: &ClockConfig{}, Log: &LogConfig{}, Message: &MessageConfig{}, Random: &RandomConfig{}, Runtime: &RuntimeConfig{},
		Supervisor: &SupervisorConfig{}, HTTP: &HTTPConfig{}, Store: &StoreConfig{}, Config: &ConfigConfig{}, Timer: &TimerConfig{},
		Channel: &ChannelConfig{},
	}}
	for _, name := range tagNames(reflect.TypeFor[Capabilities]()) {
		if !all.Grants(name) {
			t.Errorf("Grants(%q) = false with every capability granted", name)
		}
	}
}

func TestAllowsTarget(t *testing.T) {
	m := &Manifest{Capabilities: Capabilities{Message: &MessageConfig{Allow: []string{"bank-*", "ledger", "[ab]x?"}}}}
	for id, want := range map[string]bool{
		"bank-1": true, "bank-": true, "bank": false, "ledger": true, "ledger2": false,
		"ax1": true, "bx_": true, "cx1": false, "": false,
	} {
		if got := m.AllowsTarget(id); got != want {
			t.Errorf("AllowsTarget(%q) = %v, want %v", id, got, want)
		}
	}
	if (&Manifest{}).AllowsTarget("ledger") {
		t.Error("AllowsTarget without the message capability")
	}
	if (&Manifest{Capabilities: Capabilities{Message: &MessageConfig{}}}).AllowsTarget("ledger") {
		t.Error("AllowsTarget with no patterns")
	}
}

func TestValidate(t *testing.T) {
	m := &Manifest{Name: "a", Module: "a.wasm", Capabilities: Capabilities{Log: &LogConfig{}}}
	if err := m.Validate(); err != nil {
		t.Errorf("zero fields with defaults: %v", err)
	}
	d := m.WithDefaults()
	if m.Limits != (Limits{}) || m.Capabilities.Log.Level != "" || m.Supervision != (Supervision{}) {
		t.Errorf("WithDefaults changed its receiver: %+v", m)
	}
	if d.Capabilities.Log.Level != LevelInfo || d.Limits.MemoryPages != DefaultMemoryPages {
		t.Errorf("WithDefaults: %+v", d)
	}

	m.Limits.Mailbox = -1
	err := m.Validate()
	var e *Error
	if !errors.As(err, &e) || e.Key != "limits.mailbox" || e.File != "" || e.Line != 0 {
		t.Fatalf("got %#v", err)
	}
	if want := "manifest: limits.mailbox: -1 is out of range 1..1048576"; err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}

func TestName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "Bank_1-x": true, "0": true, strings.Repeat("x", 64): true,
		"": false, strings.Repeat("x", 65): false, "-a": false, "_a": false, "a.b": false,
		"a*": false, "a>": false, "a b": false, "a\t": false, "a/b": false, "é": false, "a:b": false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestTypeRef(t *testing.T) {
	good := map[string]bool{ // ref: named
		"u32": false, "string": false, "list<u8>": false, "list<u8, 16>": false,
		"result": false, "result<_, string>": false, "option<list<s64>>": false,
		"tuple<string,string>": false, "tuple< string , bool >": false,
		"api.add": true, "example:bank/api.transfer": true, "%my-iface.%type": true,
		"list<api.transfer>": true, "wasi:http/types@0.2.12.method": true, "ns:p/i@1.0.0-rc.1+b.2.x": true, "result<u32, api.failure>": true,
		"utf-8.a1": true, "XML-doc.parse-XML": true, "ns:pkg/iface.name": true,
	}
	for ref, named := range good {
		got, err := parseTypeRef(ref)
		if err != nil || got != named {
			t.Errorf("parseTypeRef(%q) = %v, %v; want %v, nil", ref, got, err, named)
		}
	}
	bad := map[string]string{
		"":                          "expected an identifier at byte 0",
		"transfer":                  `"transfer" is not a primitive; name a WIT type as iface.name`,
		"list<cents>":               `"cents" is not a primitive; name a WIT type as iface.name`,
		"ns:p/i@.x":                 "expected a version, '.' and a type name at byte 7",
		"ns:p/i@1.0.0":              "expected an identifier at byte 11",
		"ns:p/i@1<u8>":              "expected a version, '.' and a type name at byte 7",
		" u32":                      "leading or trailing space",
		"list<":                     "expected an identifier at byte 5",
		"list<u8":                   "unexpected end",
		"list<u8>>":                 `unexpected '>' at byte 8`,
		"u32<u8>":                   `"u32" takes no parameters`,
		"api.add<u8>":               `"api.add" takes no parameters`,
		"option<_>":                 "expected an identifier at byte 7",
		"list<u8, 4x>":              `unexpected 'x' at byte 10`,
		"ns:pkg.iface":              "expected '/' after package name at byte 6",
		"ns:pkg/iface":              "expected '.' and a type name at byte 12",
		"api.":                      "expected an identifier at byte 4",
		"1api.add":                  "expected an identifier at byte 0",
		"api-.add":                  "expected an identifier at byte 4",
		"Api.add":                   `identifier fragment "Api" mixes upper and lower case`,
		"api.add.x":                 `unexpected '.' at byte 7`,
		"list<u8,>":                 "expected an identifier at byte 8",
		strings.Repeat("a", 257):    "longer than 256 bytes",
		strings.Repeat("list<", 50): "expected an identifier at byte 250",
	}
	for ref, want := range bad {
		if _, err := parseTypeRef(ref); err == nil || err.Error() != want {
			t.Errorf("parseTypeRef(%q): got %v, want %s", ref, err, want)
		}
	}
}

func TestScan(t *testing.T) {
	src := `# a comment with key = 1
a = "x # not a comment" # comment
"b.c" . d = """
e = 1
"""""
[t1 . 't 2']
f = { g = [1, { h = 2 }], "i\u0041" = 'j' }
k = [
  "[not] a = header", # ]
]
[[arr]]
l = 2020-01-01 10:00:00Z
`
	want := map[string][2]int{ // key: line and column of the key
		"a":               {2, 1},
		"\"b.c\"":         {3, 1},
		"\"b.c\".d":       {3, 1},
		"t1":              {6, 1},
		"t1.\"t 2\"":      {6, 1},
		"t1.\"t 2\".f":    {7, 1},
		"t1.\"t 2\".f.g":  {7, 7},
		"t1.\"t 2\".f.iA": {7, 27},
		"t1.\"t 2\".k":    {8, 1},
		"arr":             {11, 1},
		"arr[0]":          {11, 1},
		"arr[0].l":        {12, 1},
	}
	doc, err := scan([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	idx := doc.spots
	for key, pos := range want {
		s, ok := idx[key]
		if !ok {
			t.Errorf("%s not indexed", key)
			continue
		}
		if line, col := lineCol(doc.src, s.key); line != pos[0] || col != pos[1] {
			t.Errorf("%s at %d:%d, want %d:%d", key, line, col, pos[0], pos[1])
		}
	}
	if len(idx) != len(want) {
		t.Errorf("indexed %d keys, want %d: %v", len(idx), len(want), idx)
	}
	if s := idx["t1.\"t 2\".f.g"]; src[s.val] != '[' {
		t.Errorf("value of f.g at %q", src[s.val:])
	}
}

// TestSupervisionOwnSupervisor: [supervision] gives the actor's own
// supervisor its intensity, period and backoff.
func TestSupervisionOwnSupervisor(t *testing.T) {
	m, err := Parse("m.toml", []byte(`name = "w"
module = "w.wasm"
[supervision]
restart = "transient"
intensity = 3
period = "1m"
[supervision.backoff]
initial = "100ms"
max = "2s"
`))
	if err != nil {
		t.Fatal(err)
	}
	sv := m.Supervision
	if sv.Restart != supervisor.Transient || sv.Intensity != 3 || time.Duration(sv.Period) != time.Minute ||
		sv.Backoff == nil || time.Duration(sv.Backoff.Initial) != 100*time.Millisecond || time.Duration(sv.Backoff.Max) != 2*time.Second {
		t.Fatalf("supervision %+v", sv)
	}
}
