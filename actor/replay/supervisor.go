package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/supervisor"
)

// CallSupervisor is one call of the supervisor capability; Data is the
// msgpack map {"op": "spawn"|"stop"|"restart"|"children"|"state",
// "id": str, "spec": {"manifest": str, "digest": str, "manifest_toml":
// str, "restart": str, "start_from": str, "shutdown_ms": uint,
// "delay_ms": uint} | nil, "err": str, "detail": str, "children":
// [{"id": str, "restart": str, "running": bool, "restarts": uint}] | nil,
// "state": bin | nil}: the call (spec for a spawn only), and its outcome
// as the guest received it: err is "" or the WIT supervisor.error case
// ([actor.SupervisorErrorCase]), detail the error's text, children the
// list a children call returned and state the bytes a state call did.
//
// The calls are effects that go out live (a child is spawned or stopped
// while the handler runs, as a request is sent), and their outcomes are
// inputs: a replay answers them from the record and touches no child.
const CallSupervisor = "supervisor"

// Supervision returns the supervision to put in the actor's spec: each
// call goes to sv, and its outcome is recorded as a [CallSupervisor]
// input.
func (r *Recorder) Supervision(sv actor.Supervision) actor.Supervision { return recSupervision{r, sv} }

type recSupervision struct {
	r  *Recorder
	sv actor.Supervision
}

func (s recSupervision) Spawn(ctx context.Context, parent string, req actor.ChildRequest) error {
	err := s.sv.Spawn(ctx, parent, req)
	s.r.record(CallSupervisor, encodeSup(supCall("spawn", req.ID, &req), supOutcome(err)))
	return err
}

func (s recSupervision) Stop(ctx context.Context, parent, id string) error {
	err := s.sv.Stop(ctx, parent, id)
	s.r.record(CallSupervisor, encodeSup(supCall("stop", id, nil), supOutcome(err)))
	return err
}

func (s recSupervision) Restart(ctx context.Context, parent, id string) error {
	err := s.sv.Restart(ctx, parent, id)
	s.r.record(CallSupervisor, encodeSup(supCall("restart", id, nil), supOutcome(err)))
	return err
}

func (s recSupervision) Children(ctx context.Context, parent string) ([]supervisor.ChildInfo, error) {
	infos, err := s.sv.Children(ctx, parent)
	in := supOutcome(err)
	if err == nil {
		in.Children = childrenOf(infos)
	}
	s.r.record(CallSupervisor, encodeSup(supCall("children", "", nil), in))
	return infos, err
}

func (s recSupervision) State(ctx context.Context, parent, id string) ([]byte, error) {
	st, err := s.sv.State(ctx, parent, id)
	in := supOutcome(err)
	if err == nil {
		in.State = nonNilBytes(bytes.Clone(st))
	}
	s.r.record(CallSupervisor, encodeSup(supCall("state", id, nil), in))
	return st, err
}

// supInput is a [CallSupervisor] input's Data.
type supInput struct {
	Op       string     `msgpack:"op"`
	ID       string     `msgpack:"id"`
	Spec     *supSpec   `msgpack:"spec"`
	Err      string     `msgpack:"err"`
	Detail   string     `msgpack:"detail"`
	Children []supChild `msgpack:"children"`
	State    []byte     `msgpack:"state"`
}

type supSpec struct {
	Manifest     string `msgpack:"manifest"`
	Digest       string `msgpack:"digest"`
	ManifestTOML string `msgpack:"manifest_toml"`
	Restart      string `msgpack:"restart"`
	StartFrom    string `msgpack:"start_from"`
	ShutdownMs   uint64 `msgpack:"shutdown_ms"`
	DelayMs      uint64 `msgpack:"delay_ms"`
}

type supChild struct {
	ID       string `msgpack:"id"`
	Restart  string `msgpack:"restart"`
	Running  bool   `msgpack:"running"`
	Restarts uint64 `msgpack:"restarts"`
}

func supCall(op, id string, req *actor.ChildRequest) supInput {
	in := supInput{Op: op, ID: id}
	if req != nil {
		in.Spec = &supSpec{Manifest: req.Manifest, Digest: req.Digest, ManifestTOML: req.ManifestTOML,
			Restart: string(req.Restart), StartFrom: string(req.StartFrom),
			ShutdownMs: uint64(max(req.Shutdown, 0) / time.Millisecond), DelayMs: uint64(max(req.Delay, 0) / time.Millisecond)}
	}
	return in
}

// supOutcome is the error part of an input: the case and the text.
func supOutcome(err error) supInput {
	if err == nil {
		return supInput{}
	}
	return supInput{Err: actor.SupervisorErrorCase(err), Detail: err.Error()}
}

func childrenOf(infos []supervisor.ChildInfo) []supChild {
	out := make([]supChild, len(infos)) // never nil: an empty list is not "no list"
	for i, in := range infos {
		out[i] = supChild{ID: in.ID, Restart: string(in.Restart), Running: in.Running, Restarts: uint64(max(in.Restarts, 0))}
	}
	return out
}

// encodeSup is the Data of call with outcome's result fields.
func encodeSup(call, outcome supInput) []byte {
	call.Err, call.Detail, call.Children, call.State = outcome.Err, outcome.Detail, outcome.Children, outcome.State
	b, _ := msgpack.Marshal(&call) // strings, ints, bools and bytes
	return b
}

func decodeSup(data []byte) (supInput, error) {
	var in supInput
	if err := msgpack.Unmarshal(data, &in); err != nil {
		return supInput{}, fmt.Errorf("%w: supervisor: %v", ErrMalformedInput, err)
	}
	switch in.Op {
	case "spawn", "stop", "restart", "children", "state":
	default:
		return supInput{}, fmt.Errorf("%w: supervisor: unknown op %q", ErrMalformedInput, in.Op)
	}
	switch in.Err {
	case "", "exists", "unknown-child", "denied", "invalid", "failed":
	default:
		return supInput{}, fmt.Errorf("%w: supervisor: unknown error case %q", ErrMalformedInput, in.Err)
	}
	if b, _ := msgpack.Marshal(&in); !bytes.Equal(b, data) {
		return supInput{}, fmt.Errorf("%w: supervisor: not in canonical form", ErrMalformedInput)
	}
	return in, nil
}

// errSupReplayed answers a supervisor call replay cannot answer from the
// record (the divergence is reported).
var errSupReplayed = errors.New("replay: the supervisor call is not in the record")

// answer is the error the guest got, as the host maps it to the same
// supervisor.error case with the same text.
func (in supInput) answer() error {
	switch in.Err {
	case "":
		return nil
	case "exists":
		return &recordedError{msg: in.Detail, is: actor.ErrExists}
	case "unknown-child":
		return &recordedError{msg: in.Detail, is: supervisor.ErrUnknownChild}
	case "denied":
		return &recordedError{msg: in.Detail, is: actor.ErrDenied}
	case "invalid":
		return &recordedError{msg: in.Detail, is: actor.ErrInvalidID}
	}
	return &recordedError{msg: in.Detail}
}

// playSupervision answers supervisor calls from the record.
type playSupervision struct{ p *player }

// take returns the recorded outcome of call, checking the call is the
// one recorded.
func (s playSupervision) take(call supInput) (supInput, bool) {
	in, i, ok := s.p.take(CallSupervisor)
	if !ok {
		return supInput{}, false
	}
	rec, err := decodeSup(in.Data)
	if err != nil {
		s.p.misfit(i, CallSupervisor, fmt.Sprintf("data %x", in.Data), err.Error())
		return supInput{}, false
	}
	if !bytes.Equal(encodeSup(call, rec), in.Data) {
		s.p.misfit(i, CallSupervisor, fmt.Sprintf("supervisor.%s %q", rec.Op, rec.ID), fmt.Sprintf("supervisor.%s %q", call.Op, call.ID))
		return supInput{}, false
	}
	return rec, true
}

func (s playSupervision) Spawn(_ context.Context, _ string, req actor.ChildRequest) error {
	rec, ok := s.take(supCall("spawn", req.ID, &req))
	if !ok {
		return errSupReplayed
	}
	return rec.answer()
}

func (s playSupervision) Stop(_ context.Context, _, id string) error {
	rec, ok := s.take(supCall("stop", id, nil))
	if !ok {
		return errSupReplayed
	}
	return rec.answer()
}

func (s playSupervision) Restart(_ context.Context, _, id string) error {
	rec, ok := s.take(supCall("restart", id, nil))
	if !ok {
		return errSupReplayed
	}
	return rec.answer()
}

func (s playSupervision) Children(context.Context, string) ([]supervisor.ChildInfo, error) {
	rec, ok := s.take(supCall("children", "", nil))
	if !ok {
		return nil, errSupReplayed
	}
	if err := rec.answer(); err != nil {
		return nil, err
	}
	infos := make([]supervisor.ChildInfo, len(rec.Children))
	for i, c := range rec.Children {
		infos[i] = supervisor.ChildInfo{ID: c.ID, Restart: supervisor.Restart(c.Restart), Running: c.Running, Restarts: int(min(c.Restarts, 1<<31-1))}
	}
	return infos, nil
}

func (s playSupervision) State(_ context.Context, _, id string) ([]byte, error) {
	rec, ok := s.take(supCall("state", id, nil))
	if !ok {
		return nil, errSupReplayed
	}
	if err := rec.answer(); err != nil {
		return nil, err
	}
	return rec.State, nil
}
