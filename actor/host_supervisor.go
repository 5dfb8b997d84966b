package actor

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// Supervision serves the supervisor capability: it runs, stops and
// inspects the children of a parent actor, named by id. The node
// implements it over its own tree; [LocalSupervision] runs children in
// one [Runtime]. ctx carries the calling handler's deadline.
//
// The host checks the grant ([SupervisorGrant]) before it calls Spawn:
// the source is allowed and the parent has fewer than MaxChildren
// children. Errors may wrap [ErrExists], [ErrInvalidID],
// [supervisor.ErrUnknownChild], [supervisor.ErrChildRunning] or
// [ErrDenied]; the guest gets them as the WIT supervisor.error variant.
type Supervision interface {
	Spawn(ctx context.Context, parent string, req ChildRequest) error
	Stop(ctx context.Context, parent, id string) error
	Restart(ctx context.Context, parent, id string) error
	Children(ctx context.Context, parent string) ([]supervisor.ChildInfo, error)
	State(ctx context.Context, parent, id string) ([]byte, error)
}

// ChildRequest is a guest's supervisor.child-spec: what to spawn, under
// which id, and how the parent's supervisor treats it.
type ChildRequest struct {
	ID string
	// Manifest names a manifest the Supervision knows; otherwise Digest
	// ("sha256:<hex>") names a module and ManifestTOML holds the manifest
	// fields to run it with, without name and module.
	Manifest     string
	Digest       string
	ManifestTOML string
	Restart      supervisor.Restart
	StartFrom    supervisor.StartFrom
	// Shutdown bounds a stop (zero: the supervisor's default); Delay
	// postpones the start (a backoff the parent computed).
	Shutdown time.Duration
	Delay    time.Duration
}

// SupervisorGrant is the supervisor capability's configuration, from a
// manifest's [capabilities.supervisor]: what the actor may spawn, and the
// strategy, intensity and backoff of the supervisor that restarts its
// permanent and transient children (Tree's Children are ignored).
type SupervisorGrant struct {
	MaxChildren int
	// AllowManifest and AllowModule say whether a manifest name or a
	// module digest ("sha256:<hex>") may be spawned; nil allows none.
	AllowManifest func(name string) bool
	AllowModule   func(digest string) bool
	Tree          supervisor.Spec
}

// SupervisorGrantOf is the grant a manifest's [capabilities.supervisor]
// describes, and false when the manifest does not grant supervisor.
func SupervisorGrantOf(m *manifest.Manifest) (SupervisorGrant, bool) {
	d := m.WithDefaults()
	c := d.Capabilities.Supervisor
	if c == nil {
		return SupervisorGrant{}, false
	}
	// The grant must not change when the caller's manifest does.
	own := *d
	sc := *c
	sc.Manifests, sc.Modules = slices.Clone(c.Manifests), slices.Clone(c.Modules)
	own.Capabilities.Supervisor = &sc
	return SupervisorGrant{
		MaxChildren:   sc.MaxChildren,
		AllowManifest: own.AllowsManifest,
		AllowModule:   own.AllowsModule,
		Tree:          supervisor.Spec{Strategy: sc.Strategy, Intensity: sc.Intensity, Period: sc.Period, Backoff: sc.Backoff},
	}, true
}

// ChildExit is what a parent hears when one of its children ends: the
// WIT record supervisor.child-exit. It reaches the parent as the one-way
// message supervisor.child-event (see [ChildEvent]).
type ChildExit struct {
	ID string
	// Reason is an exit-reason case: "stopped", "killed", "trap",
	// "deadline", "out-of-fuel", "memory-limit", "proc-exit", "fault", "guest-error",
	// "abi" or "start-failed".
	Reason     string
	Detail     string
	Restarting bool
	Restarts   int
}

// ExitReasonOf names the exit-reason case of an actor's [Exit].
func ExitReasonOf(x Exit) string {
	switch {
	case x.Reason == Stopped:
		return "stopped"
	case x.Reason == Killed || x.Failure == nil:
		return "killed"
	}
	switch x.Failure.Kind {
	case Trap:
		return "trap"
	case Deadline:
		return "deadline"
	case OutOfFuel:
		return "out-of-fuel"
	case MemoryLimit:
		return "memory-limit"
	case ProcExit:
		return "proc-exit"
	case GuestError:
		return "guest-error"
	case ABI:
		return "abi"
	}
	return "fault"
}

// supTypes are the WIT types of the supervisor interface the host codes.
type supTypes struct {
	spec, event, err, infos wit.Type
}

var loadSupTypes = sync.OnceValues(func() (*supTypes, error) {
	a, err := abi.Load()
	if err != nil {
		return nil, err
	}
	var ts supTypes
	for name, p := range map[string]*wit.Type{"child-spec": &ts.spec, "child-event": &ts.event, "error": &ts.err, "child-info": &ts.infos} {
		t, ok := a.Type("supervisor", name)
		if !ok {
			return nil, fmt.Errorf("actor: %w: no supervisor.%s type", abi.ErrWIT, name)
		}
		*p = t
	}
	ts.infos = &wit.TypeDef{Kind: &wit.List{Elem: ts.infos}}
	return &ts, nil
})

// ChildEvent encodes x as the msgpack of supervisor.child-event, the
// one-way message a parent's mailbox receives.
func ChildEvent(x ChildExit) ([]byte, error) {
	ts, err := loadSupTypes()
	if err != nil {
		return nil, err
	}
	return codec.Marshal(ts.event, codec.Variant{Case: "child-exit", Value: map[string]any{
		"id": x.ID, "reason": x.Reason, "detail": x.Detail, "restarting": x.Restarting,
		"restarts": uint32(min(x.Restarts, math.MaxUint32)),
	}})
}

// CheckChildEvent checks that b is the msgpack of a supervisor.child-event,
// the only one-way message a node delivers to a supervisor agent outside
// its own types.send.
func CheckChildEvent(b []byte) error {
	ts, err := loadSupTypes()
	if err != nil {
		return err
	}
	if err := codec.Validate(ts.event, b); err != nil {
		return fmt.Errorf("%w: supervisor.child-event: %w", ErrInvalidMessage, err)
	}
	return nil
}

// supervisorArgs checks a (ptr, len) argument and retptr of the
// supervisor imports and returns the bytes.
func (i *instance) supervisorArgs(ptr, n, ret uint64) ([]byte, uint32, int32) {
	b, ok := i.bytesAt(ptr, n)
	retptr := uint32(ret)
	_, ok2 := i.mem.Read(retptr, 8)
	switch {
	case !ok || !ok2:
		return nil, 0, abi.StatusFault
	case len(b) > i.a.spec.Limits.MaxMessageSize:
		return nil, 0, abi.StatusTooLarge
	case i.a.spec.Supervision == nil:
		return nil, 0, abi.StatusUnavailable
	}
	return b, retptr, abi.StatusOK
}

// supervisor.spawn(spec_ptr, spec_len, retptr)
func hostSpawn(ctx context.Context, i *instance, stack []uint64) int32 {
	b, retptr, st := i.supervisorArgs(stack[0], stack[1], stack[2])
	if st != abi.StatusOK {
		return st
	}
	ts, err := loadSupTypes()
	if err != nil {
		return abi.StatusUnavailable
	}
	req, err := decodeChildSpec(ts.spec, b)
	if err != nil {
		return supErr(ctx, i, retptr, "invalid", err.Error())
	}
	g := &i.a.spec.SupervisorGrant
	switch {
	case req.Manifest != "" && (g.AllowManifest == nil || !g.AllowManifest(req.Manifest)):
		return supErr(ctx, i, retptr, "denied", "manifest "+req.Manifest)
	case req.Manifest == "" && (g.AllowModule == nil || !g.AllowModule(req.Digest)):
		return supErr(ctx, i, retptr, "denied", "module "+req.Digest)
	}
	sv := i.a.spec.Supervision
	// Only this actor's handlers spawn its children, one at a time, so
	// the count cannot grow between this check and the spawn.
	children, err := sv.Children(ctx, i.a.spec.ID)
	if err != nil {
		return supFail(ctx, i, retptr, req.ID, err)
	}
	if len(children) >= g.MaxChildren {
		return supErr(ctx, i, retptr, "too-many", uint32(min(g.MaxChildren, math.MaxUint32)))
	}
	if err := sv.Spawn(ctx, i.a.spec.ID, req); err != nil {
		return supFail(ctx, i, retptr, req.ID, err)
	}
	return abi.StatusOK
}

// decodeChildSpec reads a supervisor.child-spec.
func decodeChildSpec(t wit.Type, b []byte) (ChildRequest, error) {
	v, err := codec.Unmarshal(t, b)
	if err != nil {
		return ChildRequest{}, err
	}
	rec := v.(map[string]any) // the codec checked the shape
	req := ChildRequest{
		ID:        rec["id"].(string),
		Restart:   supervisor.Restart(rec["restart"].(string)),
		StartFrom: supervisor.StartFrom(rec["start-from"].(string)),
		Shutdown:  time.Duration(rec["shutdown-ms"].(uint32)) * time.Millisecond,
		Delay:     time.Duration(rec["delay-ms"].(uint32)) * time.Millisecond,
	}
	src := rec["source"].(codec.Variant)
	if src.Case == "manifest" {
		req.Manifest = src.Value.(string)
		if req.Manifest == "" {
			return ChildRequest{}, errors.New("empty manifest name")
		}
	} else {
		m := src.Value.(map[string]any)
		req.Digest, req.ManifestTOML = m["digest"].(string), m["manifest"].(string)
	}
	return req, nil
}

// supervisor.stop(id_ptr, id_len, retptr)
func hostStopChild(ctx context.Context, i *instance, stack []uint64) int32 {
	return i.childOp(ctx, stack, func(sv Supervision, id string) error { return sv.Stop(ctx, i.a.spec.ID, id) })
}

// supervisor.restart(id_ptr, id_len, retptr)
func hostRestartChild(ctx context.Context, i *instance, stack []uint64) int32 {
	return i.childOp(ctx, stack, func(sv Supervision, id string) error { return sv.Restart(ctx, i.a.spec.ID, id) })
}

func (i *instance) childOp(ctx context.Context, stack []uint64, op func(Supervision, string) error) int32 {
	b, retptr, st := i.supervisorArgs(stack[0], stack[1], stack[2])
	if st != abi.StatusOK {
		return st
	}
	if !utf8.Valid(b) {
		return abi.StatusInvalid
	}
	if err := op(i.a.spec.Supervision, string(b)); err != nil {
		return supFail(ctx, i, retptr, string(b), err)
	}
	return abi.StatusOK
}

// supervisor.children(retptr)
func hostChildren(ctx context.Context, i *instance, stack []uint64) int32 {
	_, retptr, st := i.supervisorArgs(0, 0, stack[0])
	if st != abi.StatusOK {
		return st
	}
	ts, err := loadSupTypes()
	if err != nil {
		return abi.StatusUnavailable
	}
	infos, err := i.a.spec.Supervision.Children(ctx, i.a.spec.ID)
	if err != nil {
		return supFail(ctx, i, retptr, "", err)
	}
	list := make([]any, len(infos))
	for k, in := range infos {
		list[k] = map[string]any{"id": in.ID, "restart": string(in.Restart), "running": in.Running,
			"restarts": uint32(min(in.Restarts, math.MaxUint32))}
	}
	data, err := codec.Marshal(ts.infos, list)
	if err != nil {
		return abi.StatusUnavailable // the WIT and this code disagree: a host defect
	}
	return i.give(ctx, data, retptr)
}

// supervisor.state(id_ptr, id_len, retptr)
func hostChildState(ctx context.Context, i *instance, stack []uint64) int32 {
	b, retptr, st := i.supervisorArgs(stack[0], stack[1], stack[2])
	if st != abi.StatusOK {
		return st
	}
	if !utf8.Valid(b) {
		return abi.StatusInvalid
	}
	state, err := i.a.spec.Supervision.State(ctx, i.a.spec.ID, string(b))
	if err == nil && len(state) > i.a.spec.Limits.MaxMessageSize {
		err = &TooLargeError{Size: len(state), Limit: i.a.spec.Limits.MaxMessageSize}
	}
	if err != nil {
		return supFail(ctx, i, retptr, string(b), err)
	}
	return i.give(ctx, state, retptr)
}

// supFail writes err as the supervisor.error case it wraps.
func supFail(ctx context.Context, i *instance, retptr uint32, id string, err error) int32 {
	switch c := SupervisorErrorCase(err); c {
	case "exists", "unknown-child":
		return supErr(ctx, i, retptr, c, id)
	default:
		return supErr(ctx, i, retptr, c, err.Error())
	}
}

// SupervisorErrorCase names the WIT supervisor.error case the guest gets
// for an error a [Supervision] call returned: "exists" (the child's id,
// not the text, is its value), "unknown-child" (likewise), "denied",
// "invalid" or "failed" (the error's text). A recorder of the calls
// classifies with it, so that a replay answers the same case.
func SupervisorErrorCase(err error) string {
	switch {
	case errors.Is(err, ErrExists), errors.Is(err, supervisor.ErrChildExists):
		return "exists"
	case errors.Is(err, supervisor.ErrUnknownChild):
		return "unknown-child"
	case errors.Is(err, ErrDenied):
		return "denied"
	case errors.Is(err, ErrInvalidID), errors.Is(err, supervisor.ErrInvalidSpec), errors.Is(err, errInvalidSource):
		return "invalid"
	}
	return "failed"
}

// supErr writes the supervisor.error variant {c: v} at retptr and
// returns status 1.
func supErr(ctx context.Context, i *instance, retptr uint32, c string, v any) int32 {
	ts, err := loadSupTypes()
	if err != nil {
		return abi.StatusUnavailable
	}
	data, err := codec.Marshal(ts.err, codec.Variant{Case: c, Value: v})
	if err != nil {
		return abi.StatusUnavailable // the WIT and this code disagree: a host defect
	}
	if st := i.give(ctx, data, retptr); st != abi.StatusOK {
		return st
	}
	return abi.StatusErr
}

// errInvalidSource is wrapped by errors about a child's source: an
// unknown manifest name, bad manifest text.
var errInvalidSource = errors.New("actor: invalid child source")

// parseDigest reads "sha256:" and 64 lowercase hex digits.
func parseDigest(s string) (Digest, bool) {
	var d Digest
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || h != strings.ToLower(h) || hex.DecodedLen(len(h)) != len(d) {
		return d, false
	}
	_, err := hex.Decode(d[:], []byte(h))
	return d, err == nil
}
