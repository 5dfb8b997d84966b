package guest_test

import (
	"bytes"
	"testing"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

func supType(t *testing.T, name string) wit.Type {
	t.Helper()
	a, err := abi.Load()
	if err != nil {
		t.Fatal(err)
	}
	typ, ok := a.Type("supervisor", name)
	if !ok {
		t.Fatalf("no supervisor.%s", name)
	}
	return typ
}

// The SDK writes supervisor.child-spec exactly as the codec's canonical
// form, for both sources.
func TestAppendChildSpecCanonical(t *testing.T) {
	typ := supType(t, "child-spec")
	for _, c := range []guest.ChildSpec{
		{ID: "w", Manifest: "worker"},
		{ID: "w-2", Digest: "sha256:00", ManifestTOML: "[limits]\nmailbox = 4\n", Restart: "permanent", StartFrom: "initial", ShutdownMS: 300, DelayMS: 70000},
	} {
		b := guest.AppendChildSpec(nil, c)
		canon, err := codec.Canonical(typ, b)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if !bytes.Equal(b, canon) {
			t.Errorf("%+v: %x, canonical %x", c, b, canon)
		}
	}
}

// ParseChildEvent reads what the codec writes for a child-event and
// refuses other messages.
func TestParseChildEvent(t *testing.T) {
	ev := codec.Variant{Case: "child-exit", Value: map[string]any{
		"id": "w", "reason": "trap", "detail": "boom", "restarting": true, "restarts": uint32(3)}}
	b, err := codec.Marshal(supType(t, "child-event"), ev)
	if err != nil {
		t.Fatal(err)
	}
	x, ok := guest.ParseChildEvent(b)
	if want := (guest.ChildExit{ID: "w", Reason: "trap", Detail: "boom", Restarting: true, Restarts: 3}); !ok || x != want {
		t.Errorf("got %+v %v, want %+v", x, ok, want)
	}
	for _, other := range [][]byte{nil, {0x01}, {0x81, 0xa1, 'x', 0xc0}, b[:len(b)-1], append(bytes.Clone(b), 0)} {
		if _, ok := guest.ParseChildEvent(other); ok {
			t.Errorf("%x read as a child event", other)
		}
	}
}

// FuzzParseChildEvent checks that ParseChildEvent never panics and
// accepts only child events: whatever it reads is a valid
// supervisor.child-event that decodes to the same record. Seeds are in
// testdata/fuzz/FuzzParseChildEvent.
func FuzzParseChildEvent(f *testing.F) {
	a, err := abi.Load()
	if err != nil {
		f.Fatal(err)
	}
	typ, _ := a.Type("supervisor", "child-event")
	f.Fuzz(func(t *testing.T, msg []byte) {
		x, ok := guest.ParseChildEvent(msg)
		if !ok {
			return
		}
		v, err := codec.Unmarshal(typ, msg)
		if err != nil {
			t.Fatalf("%x read as %+v but is not a child-event: %v", msg, x, err)
		}
		rec := v.(codec.Variant).Value.(map[string]any)
		if rec["id"] != x.ID || rec["reason"] != x.Reason || rec["detail"] != x.Detail || rec["restarting"] != x.Restarting || rec["restarts"] != x.Restarts {
			t.Fatalf("%x: read %+v, the codec says %v", msg, x, rec)
		}
	})
}
