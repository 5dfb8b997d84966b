package wire

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
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
