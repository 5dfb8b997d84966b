package manifest_test

import (
	"fmt"
	"time"

	"github.com/theater-go/theater/actor/manifest"
)

func Example() {
	m, err := manifest.Parse("bank.toml", []byte(`
name = "bank"
module = "bank.wasm"
wit = "wit"

[types]
request = "api.request"
reply = "api.reply"

[capabilities.log]
[capabilities.message]
allow = ["ledger-*"]

[limits]
handler_deadline = "2s"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Name, m.Module, m.Types.Request, m.Types.Reply)
	fmt.Println("log:", m.Grants("log"), m.Capabilities.Log.Level, "clock:", m.Grants("clock"))
	fmt.Println("ledger-eu:", m.AllowsTarget("ledger-eu"), "bank-2:", m.AllowsTarget("bank-2"))
	fmt.Println(m.Limits.MemoryPages, time.Duration(m.Limits.HandlerDeadline), m.Supervision.Restart)

	_, err = manifest.Parse("bank.toml", []byte(`name = "bank"
module = "bank.wasm"

[limits]
memry_pages = 512
`))
	fmt.Println(err)
	// Output:
	// bank bank.wasm api.request api.reply
	// log: true info clock: false
	// ledger-eu: true bank-2: false
	// 256 2s permanent
	// manifest: bank.toml:5:1: unknown key "limits.memry_pages"
}

func ExampleParseTree() {
	t, err := manifest.ParseTree("tree.toml", []byte(`
strategy = "one_for_all"
intensity = 3
period = "10s"
backoff = { initial = "100ms", max = "2s" }

[[children]]
id = "ledger"
manifest = "ledger.toml"

[[children]]
id = "team"
[children.supervisor]
strategy = "rest_for_one"
[[children.supervisor.children]]
id = "clerk"
restart = "transient"
actor = { module = "clerk.wasm" }
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Name, t.Strategy, time.Duration(t.Backoff.Initial), len(t.Children))
	team := t.Children[1].Supervisor
	fmt.Println(team.Name, team.Strategy, team.Children[0].ID, team.Children[0].Restart, team.Children[0].Actor.Name)

	_, err = manifest.ParseTree("tree.toml", []byte("[[children]]\nid = \"a\"\nmanifest = \"a.toml\"\nrestart = \"always\"\n"))
	fmt.Println(err)
	// Output:
	// root one_for_all 100ms 2
	// team rest_for_one clerk transient clerk
	// manifest: tree.toml:4:11: children[0].restart: unknown restart type "always" (want permanent, transient or temporary)
}
