package wire

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/manifest"
)

// DigestName is the object name of content: "sha256:<hex>", as in a
// manifest's module key.
func DigestName(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// PutObject stores b in the object store under its digest unless it is
// there already; objects are immutable by name, so an existing object is
// the same bytes.
func PutObject(ctx context.Context, obs jetstream.ObjectStore, b []byte) (string, error) {
	name := DigestName(b)
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

// GetObject fetches an object by digest name and checks its content.
func GetObject(ctx context.Context, obs jetstream.ObjectStore, name string) ([]byte, error) {
	b, err := obs.GetBytes(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: %s is not in the object store; spawn with the file to upload it", ErrBadManifest, name)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: fetch %s: %w", ErrNATS, name, err)
	}
	if DigestName(b) != name {
		return nil, fmt.Errorf("%w: object %s does not match its digest", ErrInternal, name)
	}
	return b, nil
}

// ManifestObject is the object name of the manifest a supervisor agent
// spawns children from by name (supervisor source manifest(name)):
// "manifest/<name>". Unlike modules, a named manifest may be replaced;
// a child's registry entry keeps the manifest it was spawned with.
func ManifestObject(name string) string { return "manifest/" + name }

// PutManifest stores m, whose module and WIT are named by digest, under
// [ManifestObject] of its name.
func PutManifest(ctx context.Context, obs jetstream.ObjectStore, m *manifest.Manifest) error {
	if _, ok := m.ModuleDigest(); !ok {
		return fmt.Errorf("%w: manifest %q: module %q is not named by its digest", ErrBadManifest, m.Name, m.Module)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("%w: manifest %q: %w", ErrInternal, m.Name, err)
	}
	if _, err := obs.PutBytes(ctx, ManifestObject(m.Name), b); err != nil {
		return fmt.Errorf("%w: upload manifest %q: %w", ErrNATS, m.Name, err)
	}
	return nil
}

// GetManifest fetches the manifest stored under name by [PutManifest].
func GetManifest(ctx context.Context, obs jetstream.ObjectStore, name string) (*manifest.Manifest, error) {
	b, err := obs.GetBytes(ctx, ManifestObject(name))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: no manifest named %q in the object store; spawn its parent with the manifest file beside it, or upload it with the client", ErrBadManifest, name)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: fetch manifest %q: %w", ErrNATS, name, err)
	}
	var m manifest.Manifest
	if err := DecodeStrict(b, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest %q: %w", ErrBadManifest, name, err)
	}
	return &m, nil
}
