package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/wire"
)

// PutManifest uploads module and WIT (when not nil) by digest, names them
// so in m, and stores m under its name ([wire.ManifestObject]): a
// supervisor agent whose [capabilities.supervisor] allows the name may
// then spawn children from it on any node. A nil module means m names
// one by digest already. A manifest stored under the name before is
// replaced; children spawned from it keep theirs.
func (c *Client) PutManifest(ctx context.Context, m *manifest.Manifest, module, witSrc []byte) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w: %w", wire.ErrBadManifest, err)
	}
	m = m.WithDefaults()
	var err error
	if module != nil {
		if m.Module, err = wire.PutObject(ctx, c.obs, module); err != nil {
			return err
		}
	}
	if witSrc != nil {
		if m.WIT, err = wire.PutObject(ctx, c.obs, witSrc); err != nil {
			return err
		}
	}
	return wire.PutManifest(ctx, c.obs, m)
}

// PutManifestFile loads a manifest file with its module and WIT and
// stores it as [Client.PutManifest] does.
func (c *Client) PutManifestFile(ctx context.Context, path string) error {
	m, module, witSrc, err := loadFiles(path)
	if err != nil {
		return err
	}
	return c.PutManifest(ctx, m, module, witSrc)
}

// loadFiles loads a manifest file and the module and WIT files it names
// (nil when named by digest).
func loadFiles(path string) (*manifest.Manifest, []byte, []byte, error) {
	m, err := manifest.Load(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", wire.ErrBadManifest, err)
	}
	var module, witSrc []byte
	if _, ok := m.ModuleDigest(); !ok {
		if module, err = os.ReadFile(m.Module); err != nil {
			return nil, nil, nil, fmt.Errorf("%w: module: %w", wire.ErrBadManifest, err)
		}
	}
	if m.WIT != "" && !strings.HasPrefix(m.WIT, "sha256:") {
		if fi, err := os.Stat(m.WIT); err == nil && fi.IsDir() {
			return nil, nil, nil, fmt.Errorf("%w: wit %q is a directory; a node takes one .wit file for now", wire.ErrBadManifest, m.WIT)
		}
		if witSrc, err = os.ReadFile(m.WIT); err != nil {
			return nil, nil, nil, fmt.Errorf("%w: wit: %w", wire.ErrBadManifest, err)
		}
	}
	return m, module, witSrc, nil
}

// putChildManifests stores the manifests a supervisor agent's manifest
// at path may spawn children from: for each name its
// [capabilities.supervisor] manifests lists literally (not a pattern),
// the file NAME.toml beside path, when there is one.
func (c *Client) putChildManifests(ctx context.Context, path string, m *manifest.Manifest) error {
	sc := m.Capabilities.Supervisor
	if sc == nil {
		return nil
	}
	for _, name := range sc.Manifests {
		if strings.ContainsAny(name, `*?[\/`) {
			continue
		}
		file := filepath.Join(filepath.Dir(path), name+".toml")
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := c.PutManifestFile(ctx, file); err != nil {
			return fmt.Errorf("child manifest %s: %w", file, err)
		}
	}
	return nil
}
