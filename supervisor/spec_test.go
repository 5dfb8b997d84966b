package supervisor_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/supervisor"
)

// A spec comes from a manifest; only the children's handles are Go.
func TestSpecFromJSON(t *testing.T) {
	const text = `{
		"name": "root", "strategy": "rest_for_one", "intensity": 3, "period": "30s",
		"children": [
			{"id": "a", "restart": "transient", "shutdown": "2s", "start_from": "initial"},
			{"id": "b"}
		]
	}`
	var spec supervisor.Spec
	if err := json.Unmarshal([]byte(text), &spec); err != nil {
		t.Fatal(err)
	}
	j := &journal{}
	spec.Children[0].Child = newWorker(j, "a")
	spec.Children[1].Child = newWorker(j, "b")
	got, err := supervisor.Validate(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got.Strategy != supervisor.RestForOne || got.Intensity != 3 || got.Period != supervisor.Duration(30*time.Second) {
		t.Errorf("spec %+v", got)
	}
	a, b := got.Children[0], got.Children[1]
	if a.Restart != supervisor.Transient || a.Shutdown != supervisor.Duration(2*time.Second) || a.StartFrom != supervisor.StartInitial {
		t.Errorf("child a %+v", a)
	}
	// Defaults: permanent, the default shutdown, the last state.
	if b.Restart != supervisor.Permanent || b.Shutdown != supervisor.Duration(supervisor.DefaultShutdown) || b.StartFrom != supervisor.StartLast {
		t.Errorf("child b %+v", b)
	}

	out, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"period":"30s"`) || !strings.Contains(string(out), `"shutdown":"5s"`) {
		t.Errorf("JSON %s does not write durations as strings", out)
	}
	if err := json.Unmarshal([]byte(`{"period": "soon"}`), &spec); err == nil || !strings.Contains(err.Error(), `supervisor: invalid duration "soon"`) {
		t.Errorf("bad duration: %v", err)
	}
}

func TestValidateDefaults(t *testing.T) {
	got, err := supervisor.Validate(supervisor.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Strategy != supervisor.OneForOne || got.Intensity != supervisor.DefaultIntensity || got.Period != supervisor.Duration(supervisor.DefaultPeriod) {
		t.Errorf("defaults %+v", got)
	}
	// With a period, intensity 0 means no restart at all.
	got, err = supervisor.Validate(supervisor.Spec{Period: supervisor.Duration(time.Second)})
	if err != nil || got.Intensity != 0 {
		t.Errorf("intensity 0: %+v, %v", got, err)
	}
}

func TestValidateErrors(t *testing.T) {
	w := newWorker(&journal{}, "w")
	for _, tc := range []struct {
		spec supervisor.Spec
		want string
	}{
		{supervisor.Spec{Strategy: "all_for_one"}, `strategy: unknown strategy "all_for_one"`},
		{supervisor.Spec{Intensity: -1, Period: supervisor.Duration(time.Second)}, "intensity: -1 is negative"},
		{supervisor.Spec{Intensity: 3}, "period: 0s is not positive"},
		{supervisor.Spec{Children: []supervisor.ChildSpec{{Child: w}}}, "children[0]: empty id"},
		{supervisor.Spec{Children: []supervisor.ChildSpec{{ID: "a", Child: w}, {ID: "a", Child: w}}}, `children[1]: duplicate id "a"`},
		{supervisor.Spec{Children: []supervisor.ChildSpec{{ID: "a", Child: w, Restart: "sometimes"}}}, `children[0]: child "a": restart: unknown restart type "sometimes"`},
		{supervisor.Spec{Children: []supervisor.ChildSpec{{ID: "a", Child: w, StartFrom: "middle"}}}, `children[0]: child "a": start_from: unknown state "middle"`},
		{supervisor.Spec{Children: []supervisor.ChildSpec{{ID: "a", Child: w, Shutdown: -1}}}, `children[0]: child "a": shutdown: -1ns is negative`},
		{supervisor.Spec{Children: []supervisor.ChildSpec{{ID: "a"}}}, `children[0]: child "a": no Child`},
	} {
		_, err := supervisor.Validate(tc.spec)
		if !errors.Is(err, supervisor.ErrInvalidSpec) {
			t.Errorf("%+v: %v, want ErrInvalidSpec", tc.spec, err)
			continue
		}
		if want := "supervisor: invalid spec: " + tc.want; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q, want it to start %q", err, want)
		}
		if _, err := supervisor.New(tc.spec); !errors.Is(err, supervisor.ErrInvalidSpec) {
			t.Errorf("New(%+v): %v, want ErrInvalidSpec", tc.spec, err)
		}
	}
}
