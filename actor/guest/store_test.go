package guest_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

func witType(t testing.TB, iface, name string) wit.Type {
	t.Helper()
	a, err := abi.Load()
	if err != nil {
		t.Fatal(err)
	}
	typ, ok := a.Type(iface, name)
	if !ok {
		t.Fatalf("no %s.%s", iface, name)
	}
	return typ
}

// TestConditionCanonical: the SDK writes store.condition in the
// canonical form wit/codec defines.
func TestConditionCanonical(t *testing.T) {
	typ := witType(t, "store", "condition")
	for _, c := range []guest.Condition{guest.Always, guest.Absent, guest.IfRevision(0), guest.IfRevision(1 << 40)} {
		b := guest.AppendCondition(nil, c)
		canon, err := codec.Canonical(typ, b)
		if err != nil || !bytes.Equal(canon, b) {
			t.Fatalf("%+v: %x is not canonical (%v)", c, b, err)
		}
	}
}

// TestParseStoreValues: the SDK reads what the codec writes for entries,
// key lists and each error case, and refuses anything else.
func TestParseStoreValues(t *testing.T) {
	entry, err := codec.FromJSON(witType(t, "store", "entry"), []byte(`{"value":"eA==","revision":7}`))
	if err != nil {
		t.Fatal(err)
	}
	if e, found, err := guest.ParseEntry(entry); err != nil || !found || string(e.Value) != "x" || e.Revision != 7 {
		t.Fatalf("entry: %+v %v %v", e, found, err)
	}
	if _, found, err := guest.ParseEntry([]byte{0xc0}); err != nil || found {
		t.Fatalf("none: %v %v", found, err)
	}
	if keys, err := guest.ParseKeys([]byte{0x92, 0xa1, 'a', 0xa1, 'b'}); err != nil || len(keys) != 2 || keys[1] != "b" {
		t.Fatalf("keys %v %v", keys, err)
	}
	errType := witType(t, "store", "error")
	for js, want := range map[string]guest.StoreError{
		`{"conflict":9}`:      {Case: "conflict", N: 9},
		`{"budget":3}`:        {Case: "budget", N: 3},
		`{"denied":"ns"}`:     {Case: "denied", Detail: "ns"},
		`{"too-large":"big"}`: {Case: "too-large", Detail: "big"},
		`{"invalid":"k"}`:     {Case: "invalid", Detail: "k"},
		`{"failed":"nats"}`:   {Case: "failed", Detail: "nats"},
	} {
		b, err := codec.FromJSON(errType, []byte(js))
		if err != nil {
			t.Fatal(err)
		}
		var se *guest.StoreError
		if err := guest.ParseStoreError(b); !errors.As(err, &se) || *se != want {
			t.Errorf("%s: %v", js, err)
		}
	}
	timerErr := witType(t, "timer", "error")
	b, _ := codec.FromJSON(timerErr, []byte(`{"budget":16}`))
	var te *guest.TimerError
	if err := guest.ParseTimerError(b); !errors.As(err, &te) || te.Case != "budget" || te.N != 16 {
		t.Errorf("timer error: %v", err)
	}
	for _, bad := range [][]byte{nil, {0x80}, {0x81, 0xa1, 'x', 0xc0}, append(append([]byte{}, entry...), 0)} {
		if _, _, err := guest.ParseEntry(bad); err == nil && len(bad) > 0 && bad[0] != 0xc0 {
			t.Errorf("entry %x parsed", bad)
		}
		if err := guest.ParseStoreError(bad); err == nil {
			t.Errorf("error %x parsed", bad)
		} else if errors.As(err, new(*guest.StoreError)) {
			t.Errorf("error %x parsed as a store error", bad)
		}
	}
}

// FuzzParseStore: the SDK's store and timer parsers never panic, and an
// entry they accept is one the codec accepts as an option<entry>.
func FuzzParseStore(f *testing.F) {
	f.Add([]byte{0xc0})
	f.Add([]byte{0x82, 0xa5, 'v', 'a', 'l', 'u', 'e', 0xc4, 1, 'x', 0xa8, 'r', 'e', 'v', 'i', 's', 'i', 'o', 'n', 7})
	f.Add([]byte{0x81, 0xa8, 'c', 'o', 'n', 'f', 'l', 'i', 'c', 't', 9})
	entryType := witType(f, "store", "entry")
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = guest.ParseStoreError(b)
		_ = guest.ParseTimerError(b)
		_, _ = guest.ParseKeys(b)
		if _, found, err := guest.ParseEntry(b); err == nil && found {
			if _, err := codec.Unmarshal(entryType, b); err != nil {
				t.Fatalf("%x parsed as an entry, the codec says %v", b, err)
			}
		}
	})
}
