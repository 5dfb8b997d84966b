package node

import (
	"context"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport/wire"
	"github.com/theater-go/theater/wit"
)

// prepare does what taking actor id over from a process that may still
// serve it (an earlier one under this node's name) needs and its lease
// does not: it compiles the module and reads the chain from the restore
// point, so that after the lease and the fence the node reads only the
// events appended since and serves at once. Until the fence the previous
// owner may go on serving: nothing here stops it. A failure leaves the
// work to host, which does it after the fence; the result is nil then.
func (n *Node) prepare(ctx context.Context, id string, e wire.Entry) *restored {
	if err := n.precompile(ctx, id, e); err != nil {
		n.log.Debug("module not compiled before the takeover", "actor", id, "err", err)
	}
	rs, err := n.restore(ctx, id)
	if err != nil {
		n.log.Debug("chain not read before the takeover", "actor", id, "err", err)
		return nil
	}
	return rs
}

// precompile compiles e's module under the limits host will spawn it
// with, unless this node has compiled it already.
func (n *Node) precompile(ctx context.Context, id string, e wire.Entry) error {
	var model *wit.Model
	if e.Manifest.WIT != "" {
		src, err := wire.GetObject(ctx, n.obs, e.Manifest.WIT)
		if err != nil {
			return err
		}
		if model, err = wit.Parse(e.Manifest.Name+".wit", src); err != nil {
			return err
		}
	}
	spec, err := actor.SpecFromManifest(id, &e.Manifest, model)
	if err != nil {
		return err
	}
	n.mu.Lock()
	known := n.compiled[spec.Digest]
	n.mu.Unlock()
	if known {
		return nil
	}
	if spec.Module, err = wire.GetObject(ctx, n.obs, e.Digest); err != nil {
		return err
	}
	start := time.Now()
	if err := n.rt.Precompile(ctx, spec); err != nil {
		return err
	}
	n.metrics.compiled(e.Manifest.Name, time.Since(start))
	n.mu.Lock()
	n.compiled[spec.Digest] = true
	n.mu.Unlock()
	return nil
}
