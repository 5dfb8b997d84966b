package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
)

// SpawnTree loads a supervision tree file ([manifest.LoadTree]), uploads
// every actor's module and WIT by digest, and asks a node (opts.Node, or
// any node) to start the tree: its actors all on that node, under
// supervisors as declared. opts.ID is unused: a tree's actors are named
// by their child ids. It returns the actors started, in start order.
func (c *Client) SpawnTree(ctx context.Context, path string, opts SpawnOptions) ([]wire.ActorInfo, error) {
	t, err := manifest.LoadTree(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrBadManifest, err)
	}
	if err := c.uploadTree(ctx, t); err != nil {
		return nil, err
	}
	subject := c.layout.ControlSubject(wire.OpSpawnTree)
	if opts.Node != "" {
		if err := transport.ValidID(opts.Node); err != nil {
			return nil, fmt.Errorf("%w: node: %w", wire.ErrInvalidID, err)
		}
		subject = c.layout.NodeSubject(opts.Node, wire.OpSpawnTree)
	}
	var infos []wire.ActorInfo
	err = c.control(ctx, subject, wire.SpawnTreeRequest{Tree: *t}, &infos)
	for _, info := range infos {
		c.forget(info.ID)
	}
	return infos, err
}

// uploadTree puts the modules and WIT of a loaded tree's actors in the
// object store and names them by digest in their manifests.
func (c *Client) uploadTree(ctx context.Context, t *manifest.Tree) error {
	for i := range t.Children {
		ch := &t.Children[i]
		if ch.Supervisor != nil {
			if err := c.uploadTree(ctx, ch.Supervisor); err != nil {
				return err
			}
			continue
		}
		m := ch.Actor.WithDefaults()
		if _, ok := m.ModuleDigest(); !ok {
			b, err := os.ReadFile(m.Module)
			if err != nil {
				return fmt.Errorf("%w: child %q: module: %w", wire.ErrBadManifest, ch.ID, err)
			}
			if m.Module, err = wire.PutObject(ctx, c.obs, b); err != nil {
				return err
			}
		}
		if m.WIT != "" && !strings.HasPrefix(m.WIT, "sha256:") {
			b, err := os.ReadFile(m.WIT)
			if err != nil {
				return fmt.Errorf("%w: child %q: wit: %w", wire.ErrBadManifest, ch.ID, err)
			}
			if m.WIT, err = wire.PutObject(ctx, c.obs, b); err != nil {
				return err
			}
		}
		ch.Actor, ch.Manifest = m, ""
	}
	return nil
}

// Tree returns the live supervision tree of every node (each a root
// [wire.TreeNode]), or, when id is not empty, the subtrees whose id is id
// (an actor's id, or tree/NAME for a tree).
func (c *Client) Tree(ctx context.Context, id string) ([]wire.TreeNode, error) {
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	var out []wire.TreeNode
	for _, hb := range nodes {
		var root wire.TreeNode
		if err := c.control(ctx, c.layout.NodeSubject(hb.Node, wire.OpTree), struct{}{}, &root); err != nil {
			if errors.Is(err, wire.ErrUnavailable) {
				continue // gone meanwhile
			}
			return nil, err
		}
		if id == "" {
			out = append(out, root)
			continue
		}
		out = append(out, findTree(root, id)...)
	}
	if id != "" && len(out) == 0 {
		return nil, fmt.Errorf("%w: %q is in no live supervision tree; `theater tree` lists them", wire.ErrUnknownActor, id)
	}
	return out, nil
}

// findTree returns the subtrees of t whose id is id, outermost first; an
// actor supervised on its own is found with its one-child supervisor.
func findTree(t wire.TreeNode, id string) []wire.TreeNode {
	if t.ID == id {
		return []wire.TreeNode{t}
	}
	var out []wire.TreeNode
	for _, c := range t.Children {
		out = append(out, findTree(c, id)...)
	}
	return out
}
