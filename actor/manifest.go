package actor

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// capabilities are the theater:actor interfaces a manifest can grant, in
// the order a spec lists them.
var capabilities = []string{"log", "runtime", "message", "clock", "random", "supervisor", "http-client", "store", "config", "timer", "channel"}

// SpecFromManifest returns the spec of actor id as its manifest m says, the
// way a node builds it, so that an embedded actor behaves exactly as one
// on a node: the granted capabilities, the limits (a manifest's idle of 0
// means never hibernate), the log level, the message allow-list, the WIT
// types of its payloads and state, and the initial state (state.initial
// converted from JSON under the state type, or state.initial_base64).
// Zero fields of m take the manifest defaults ([manifest.Manifest.WithDefaults]).
//
// model resolves the manifest's type references; nil means m has no WIT,
// and then only primitive types ("u64", "list<string>") resolve. A module
// named by digest ("sha256:<hex>") becomes the spec's Digest; a module
// path is left to the caller, who sets Module ([LoadSpec] reads the file).
// The http-client grant becomes a live Spec.HTTP (see [HTTPPolicyOf]); a node
// wraps it to record what it returns.
// What a manifest cannot say is left to the caller too: Router (needed
// when message is granted), Supervision (when supervisor is granted),
// Clock, Entropy, Logger, FailurePolicy and the callbacks. A node runs its
// actors with the zero policy, EndOnFailure, under supervisors built from
// the manifest's [supervision] (or a tree), which restart them.
//
// Errors wrap [manifest.ErrInvalid].
func SpecFromManifest(id string, m *manifest.Manifest, model *wit.Model) (Spec, error) {
	d := m.WithDefaults()
	if err := d.Validate(); err != nil {
		return Spec{}, fmt.Errorf("actor: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("actor: manifest %q: %w: %s", d.Name, manifest.ErrInvalid, fmt.Sprintf(format, args...))
	}
	types, err := manifestTypes(d, model)
	if err != nil {
		return Spec{}, bad("%v", err)
	}
	spec := Spec{
		ID:       id,
		Manifest: d.Name,
		Types:    types,
		Limits: Limits{
			MemoryPages:    uint32(d.Limits.MemoryPages),
			HandlerTimeout: time.Duration(d.Limits.HandlerDeadline),
			MailboxLen:     d.Limits.Mailbox,
			MaxMessageSize: d.Limits.MaxMessageBytes,
			IdleTimeout:    time.Duration(d.Limits.Idle),
			Fuel:           uint64(d.Limits.Fuel),
			Budget:         budgetOf(&d.Limits),
		},
	}
	// The manifest's 0 means never hibernate; the runtime's zero means
	// its default, and a negative value never.
	if spec.Limits.IdleTimeout == 0 {
		spec.Limits.IdleTimeout = -1
	}
	for _, c := range capabilities {
		if d.Grants(c) {
			spec.Capabilities = append(spec.Capabilities, c)
		}
	}
	if c := d.Capabilities.Log; c != nil {
		spec.LogLevel = logLevel(c.Level)
	}
	if c := d.Capabilities.Message; c != nil {
		// The spec must not change when the caller's manifest does.
		own := *d
		mc := *c
		mc.Allow = slices.Clone(c.Allow)
		own.Capabilities.Message = &mc
		spec.AllowTarget = own.AllowsTarget
	}
	if g, ok := SupervisorGrantOf(d); ok {
		spec.SupervisorGrant = g
	}
	if p, ok := HTTPPolicyOf(d); ok {
		if spec.HTTP, err = NewHTTPClient(p); err != nil {
			return Spec{}, bad("capabilities.http: %v", err) // Validate checked most of it
		}
	}
	spec.ConfigValues, spec.SecretNames = ConfigOf(d) // the owner gives the Secrets
	if d.Capabilities.Timer != nil {
		spec.TimerMaxSets = TimerMaxSetsOf(d) // the owner gives the Timers
	}
	if c := d.Capabilities.Channel; c != nil {
		// The owner gives the Channels; the grant must not change when
		// the caller's manifest does.
		own := *d
		cc := cloneChannelConfig(c)
		own.Capabilities.Channel = &cc
		spec.AllowPublish = own.AllowsPublish
	}
	if g, ok := StoreGrantOf(d); ok {
		spec.StoreGrant = g // the owner gives the Store
	}
	if h, ok := d.ModuleDigest(); ok {
		if _, err := hex.Decode(spec.Digest[:], []byte(h)); err != nil {
			return Spec{}, bad("module: %v", err) // Validate checked the form
		}
	}
	switch {
	case d.State.Initial != "": // Validate made sure there is a state type
		if spec.State, err = codec.FromJSON(types.State, []byte(d.State.Initial)); err != nil {
			return Spec{}, bad("state.initial: %v", err)
		}
	case len(d.State.InitialMsgpack) > 0:
		spec.State = slices.Clone([]byte(d.State.InitialMsgpack))
	}
	return spec, nil
}

// manifestTypes resolves the manifest's type references in model.
func manifestTypes(m *manifest.Manifest, model *wit.Model) (Types, error) {
	if model == nil {
		// An empty package gives the lookup a model in which only
		// primitives and types built from them resolve.
		var err error
		if model, err = wit.Parse(m.Name+".wit", []byte("package theater:no-wit;\n")); err != nil {
			return Types{}, err
		}
	}
	var ts Types
	for _, f := range []struct {
		key, ref string
		dst      *wit.Type
	}{
		{"types.send", m.Types.Send, &ts.Send},
		{"types.request", m.Types.Request, &ts.Request},
		{"types.reply", m.Types.Reply, &ts.Reply},
		{"types.state", m.Types.State, &ts.State},
	} {
		if f.ref == "" {
			continue
		}
		t, err := model.Type(f.ref)
		if err != nil {
			return Types{}, fmt.Errorf("%s: %w", f.key, err)
		}
		if err := codec.CheckType(t); err != nil {
			return Types{}, fmt.Errorf("%s: %w", f.key, err)
		}
		*f.dst = t
	}
	return ts, nil
}

func logLevel(l manifest.LogLevel) slog.Level {
	switch l {
	case manifest.LevelDebug:
		return slog.LevelDebug
	case manifest.LevelWarn:
		return slog.LevelWarn
	case manifest.LevelError:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// LoadSpec reads the manifest file at path ([manifest.Load]), the WIT it
// names ([wit.Load]: a file or a package directory) and its module file,
// and returns the spec of actor id from them ([SpecFromManifest]) with
// Module set. A module named by digest is not read: spawn it by Digest.
// Like wit.Load, it reads local files and takes no context.
func LoadSpec(id, path string) (Spec, error) {
	m, err := manifest.Load(path)
	if err != nil {
		return Spec{}, fmt.Errorf("actor: %w", err)
	}
	var model *wit.Model
	if m.WIT != "" {
		if model, err = wit.Load(m.WIT); err != nil {
			return Spec{}, fmt.Errorf("actor: manifest %q: %w: wit: %w", m.Name, manifest.ErrInvalid, err)
		}
	}
	spec, err := SpecFromManifest(id, m, model)
	if err != nil {
		return Spec{}, err
	}
	if _, ok := m.ModuleDigest(); !ok {
		if spec.Module, err = os.ReadFile(m.Module); err != nil {
			return Spec{}, fmt.Errorf("actor: manifest %q: %w: module: %w", m.Name, manifest.ErrInvalid, err)
		}
	}
	return spec, nil
}
