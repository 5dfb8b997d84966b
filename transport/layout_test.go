package transport_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/theater-go/theater/transport"
)

func TestNewLayout(t *testing.T) {
	for _, tc := range []struct {
		prefix, want string
		ok           bool
	}{
		{"", "theater", true},
		{"theater", "theater", true},
		{"Team-A_2", "Team-A_2", true},
		{strings.Repeat("p", 32), strings.Repeat("p", 32), true},
		{strings.Repeat("p", 33), "", false},
		{"a.b", "", false},
		{"a*", "", false},
		{"a>", "", false},
		{"a b", "", false},
		{"a\tb", "", false},
		{"ünï", "", false},
		{"a/b", "", false},
		{"$SYS", "", false},
	} {
		l, err := transport.NewLayout(tc.prefix)
		if tc.ok != (err == nil) {
			t.Errorf("NewLayout(%q) error = %v, want ok=%v", tc.prefix, err, tc.ok)
			continue
		}
		if err != nil && (!errors.Is(err, transport.ErrConfig) || !strings.HasPrefix(err.Error(), "transport: prefix")) {
			t.Errorf("NewLayout(%q) error = %v, want transport.ErrConfig", tc.prefix, err)
		}
		if l.Prefix != tc.want {
			t.Errorf("NewLayout(%q).Prefix = %q, want %q", tc.prefix, l.Prefix, tc.want)
		}
	}
}

func TestValidID(t *testing.T) {
	good := []string{"a", "A1", "billing-agent_2", "0NUIDxyz", "0b5c5f3e-8c1d-4d0f-a4a8-9f1f1a2b3c4d", strings.Repeat("x", transport.MaxIDLen)}
	for _, id := range good {
		if err := transport.ValidID(id); err != nil {
			t.Errorf("ValidID(%q) = %v", id, err)
		}
	}
	bad := []string{"", "a.b", "*", ">", "a>", "a b", " a", "a\n", "a\x00", "a\x7f", "é", "a/b", "a=b", "a:b", strings.Repeat("x", transport.MaxIDLen+1)}
	for _, id := range bad {
		err := transport.ValidID(id)
		if !errors.Is(err, transport.ErrConfig) || !strings.HasPrefix(err.Error(), "transport: ") {
			t.Errorf("ValidID(%q) = %v, want transport.ErrConfig", id, err)
		}
	}
	if err := transport.ValidID("a b"); !strings.Contains(err.Error(), "' ' at byte 1") {
		t.Errorf("message does not point at the bad byte: %v", err)
	}
}

func TestLayoutNames(t *testing.T) {
	l, err := transport.NewLayout("t1")
	if err != nil {
		t.Fatal(err)
	}
	for got, want := range map[string]string{
		l.SendSubject("a"):         "t1.actor.a.send",
		l.RequestSubject("a"):      "t1.actor.a.req",
		l.EventSubject("a", "k"):   "t1.events.a.k",
		l.AllEvents():              "t1.events.>",
		l.ChainSubject("a"):        "t1.chain.a",
		l.NodeSubject("n", "stop"): "t1.node.n.stop",
		l.ControlSubject("spawn"):  "t1.ctl.spawn",
		l.MailboxStream():          "t1_mailbox",
		l.ChainStream():            "t1_chain",
		l.EventsStream():           "t1_events",
		l.ActorsBucket():           "t1_actors",
		l.NodesBucket():            "t1_nodes",
		l.StoreBucket():            "t1_store",
		l.RestoreBucket():          "t1_restore",
		l.ChildrenBucket():         "t1_children",
		l.ChildSpawnSubject():      "t1.sup.spawn",
		l.ModulesStore():           "t1_modules",
		l.StoreValuesStore():       "t1_store_values",
		l.ServiceName():            "t1",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if (transport.Layout{}).SendSubject("a") != "theater.actor.a.send" {
		t.Error("zero transport.Layout does not use the default prefix")
	}
}
