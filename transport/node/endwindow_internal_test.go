package node

import (
	"testing"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/transport/wire"
)

// TestNotRestarted is the table a restore applies to a chain that ends
// with a failure (TestEndCrashWindow opens that window on a node): which
// failures end the actor, as its supervisor would have, and which leave
// it to restart or to another supervisor.
func TestNotRestarted(t *testing.T) {
	trap := &chain.Failure{Reason: "trap", Call: chain.CallSend, Detail: "actor: \"w\" failed in send: trap: unreachable"}
	exit0 := &chain.Failure{Reason: "exit", Call: chain.CallRequest, Detail: normalExitPrefix + "actor: \"w\" failed in request: exit: module closed with exit_code(0)"}
	exit1 := &chain.Failure{Reason: "exit", Call: chain.CallRequest, Detail: "actor: \"w\" failed in request: exit: module closed with exit_code(1)"}
	guest := &chain.Failure{Reason: "guest_error", Call: chain.CallRequest, Detail: "no"}
	rejected := &chain.Failure{Reason: "rejected", Call: chain.CallSend, Detail: "not a u32"}
	onStop := &chain.Failure{Reason: "trap", Call: chain.CallStop, Detail: "trap"}
	entry := func(r supervisor.Restart) wire.Entry {
		return wire.Entry{Manifest: manifest.Manifest{Supervision: manifest.Supervision{Restart: r}}}
	}
	inTree, child := entry(supervisor.Temporary), entry(supervisor.Temporary)
	inTree.Tree, child.Parent = "t@obj", "boss"
	for _, tc := range []struct {
		name string
		e    wire.Entry
		f    *chain.Failure
		want string
	}{
		{"permanent trap", entry(supervisor.Permanent), trap, ""},
		{"permanent normal exit", entry(supervisor.Permanent), exit0, ""},
		{"default (permanent) trap", wire.Entry{}, trap, ""},
		{"transient trap", entry(supervisor.Transient), trap, ""},
		{"transient exit 1", entry(supervisor.Transient), exit1, ""},
		{"transient normal exit", entry(supervisor.Transient), exit0, wire.StatusStopped},
		{"temporary trap", entry(supervisor.Temporary), trap, wire.StatusFailed},
		{"temporary exit 1", entry(supervisor.Temporary), exit1, wire.StatusFailed},
		{"temporary normal exit", entry(supervisor.Temporary), exit0, wire.StatusStopped},
		{"temporary guest error", entry(supervisor.Temporary), guest, ""},
		{"temporary rejected send", entry(supervisor.Temporary), rejected, ""},
		{"temporary on-stop failure", entry(supervisor.Temporary), onStop, ""},
		{"temporary in a tree", inTree, trap, ""},
		{"temporary child of an agent", child, trap, ""},
	} {
		if got, why := notRestarted(tc.e, tc.f); got != tc.want {
			t.Errorf("%s: %q (%s), want %q", tc.name, got, why, tc.want)
		}
	}
}
