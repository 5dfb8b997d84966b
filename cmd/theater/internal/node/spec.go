package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// Entry is an actor's registry entry in the <prefix>_actors bucket, keyed
// by its id. Module and WIT are object names in <prefix>_modules, so any
// node can start the actor from the entry alone.
//
// MailboxSeq and State are the interim exactly-once record (until the
// chain holds them): the last mailbox sequence whose handler finished and
// the state it left, written together with compare-and-set on the entry's
// revision, which also fences a node that lost the actor.
type Entry struct {
	Node       string            `json:"node"`
	Digest     string            `json:"digest"`
	Manifest   manifest.Manifest `json:"manifest"`
	Status     string            `json:"status"`
	MailboxSeq uint64            `json:"mailbox_seq"`
	State      []byte            `json:"state,omitempty"`
	Updated    time.Time         `json:"updated"`
}

// Registry statuses.
const (
	StatusRunning = "running"
	StatusStopped = "stopped"
)

// digestName is the object name of content: "sha256:<hex>", as in a
// manifest's module key.
func digestName(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func parseDigest(name string) (actor.Digest, error) {
	var d actor.Digest
	h, ok := strings.CutPrefix(name, "sha256:")
	if !ok || hex.DecodedLen(len(h)) != len(d) {
		return d, fmt.Errorf("%w: %q is not sha256:<64 hex digits>", ErrBadManifest, name)
	}
	if _, err := hex.Decode(d[:], []byte(h)); err != nil {
		return d, fmt.Errorf("%w: %q: %w", ErrBadManifest, name, err)
	}
	return d, nil
}

// putObject stores b in the object store under its digest unless it is
// there already; modules are immutable by name, so an existing object is
// the same bytes.
func putObject(ctx context.Context, obs jetstream.ObjectStore, b []byte) (string, error) {
	name := digestName(b)
	if _, err := obs.GetInfo(ctx, name); err == nil {
		return name, nil
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return "", fmt.Errorf("%w: object store: %w", ErrNATS, err)
	}
	if _, err := obs.PutBytes(ctx, name, b); err != nil {
		return "", fmt.Errorf("%w: upload %s: %w", ErrNATS, name, err)
	}
	return name, nil
}

// getObject fetches an object by digest name and checks its content.
func getObject(ctx context.Context, obs jetstream.ObjectStore, name string) ([]byte, error) {
	b, err := obs.GetBytes(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: %s is not in the object store; spawn with the file to upload it", ErrBadManifest, name)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: fetch %s: %w", ErrNATS, name, err)
	}
	if digestName(b) != name {
		return nil, fmt.Errorf("%w: object %s does not match its digest", ErrInternal, name)
	}
	return b, nil
}

// loadTypes resolves the manifest's type references in the WIT source
// (nil when the manifest has no WIT: then only primitives resolve).
func loadTypes(m *manifest.Manifest, witSrc []byte) (actor.Types, error) {
	if witSrc == nil {
		// Without WIT only primitives and types built from them resolve;
		// an empty package gives the lookup a model to work on.
		witSrc = []byte("package theater:no-wit;\n")
	}
	model, err := wit.Parse(m.Name+".wit", witSrc)
	if err != nil {
		return actor.Types{}, fmt.Errorf("%w: wit: %w", ErrBadManifest, err)
	}
	var ts actor.Types
	for _, f := range []struct {
		key string
		ref string
		dst *wit.Type
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
			return actor.Types{}, fmt.Errorf("%w: %s: %w", ErrBadManifest, f.key, err)
		}
		if err := codec.CheckType(t); err != nil {
			return actor.Types{}, fmt.Errorf("%w: %s: %w", ErrBadManifest, f.key, err)
		}
		*f.dst = t
	}
	return ts, nil
}

// initialState is the state theater_init receives: the manifest's JSON
// converted under the state type, or its msgpack, or nothing.
func initialState(m *manifest.Manifest, ts actor.Types) ([]byte, error) {
	switch {
	case m.State.Initial != "":
		if ts.State == nil {
			return nil, fmt.Errorf("%w: state.initial needs types.state", ErrBadManifest)
		}
		b, err := codec.FromJSON(ts.State, []byte(m.State.Initial))
		if err != nil {
			return nil, fmt.Errorf("%w: state.initial: %w", ErrBadManifest, err)
		}
		return b, nil
	case len(m.State.InitialMsgpack) > 0:
		return m.State.InitialMsgpack, nil
	}
	return nil, nil
}

// capabilities are the names of theater:actor interfaces a manifest can
// grant, as the runtime knows them.
var capabilities = []string{"log", "runtime", "message", "clock", "random"}

// specOf fills the parts of an actor.Spec that come from the manifest.
func specOf(id string, m *manifest.Manifest, ts actor.Types, logger *slog.Logger) actor.Spec {
	var caps []string
	for _, c := range capabilities {
		if m.Grants(c) {
			caps = append(caps, c)
		}
	}
	spec := actor.Spec{
		ID:           id,
		Manifest:     m.Name,
		Capabilities: caps,
		Types:        ts,
		Limits: actor.Limits{
			MemoryPages:    uint32(m.Limits.MemoryPages),
			HandlerTimeout: time.Duration(m.Limits.HandlerDeadline),
			MailboxLen:     m.Limits.Mailbox,
			MaxMessageSize: m.Limits.MaxMessageBytes,
			IdleTimeout:    time.Duration(m.Limits.Idle),
		},
		Logger: logger, // the runtime adds the "actor" attribute
	}
	// The manifest's "0" means never hibernate; the runtime's zero means
	// its default and a negative value never.
	if spec.Limits.IdleTimeout == 0 {
		spec.Limits.IdleTimeout = -1
	}
	if c := m.Capabilities.Log; c != nil {
		spec.Logger = slog.New(levelHandler{min: logLevel(c.Level), Handler: spec.Logger.Handler()})
	}
	if m.Grants("message") {
		spec.AllowTarget = m.AllowsTarget
	}
	return spec
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

// levelHandler drops records below the manifest's log level, whatever
// level the node's own logger lets through.
type levelHandler struct {
	min slog.Level
	slog.Handler
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return levelHandler{h.min, h.Handler.WithAttrs(as)}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{h.min, h.Handler.WithGroup(name)}
}
