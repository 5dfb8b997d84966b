package actor

import (
	"context"
	"crypto/sha256"
	"fmt"
)

// Precompile compiles spec's module as [Runtime.Spawn] would, under
// spec's limits, without starting an actor: a later Spawn of the same
// module starts at once. A node calls it before it takes an actor over,
// so the actor is unanswered only for the reads that must follow the
// takeover, not for a compile.
func (r *Runtime) Precompile(ctx context.Context, spec Spec) error {
	d := spec.Digest
	if spec.Module != nil {
		d = sha256.Sum256(spec.Module)
	}
	if _, err := r.compile(ctx, d, spec.Module, r.spawnLimits(spec.Limits)); err != nil {
		return fmt.Errorf("actor: precompile %s: %w", d, err)
	}
	return nil
}

// spawnLimits are the limits an actor of spec limits l runs under.
func (r *Runtime) spawnLimits(l Limits) Limits {
	l = l.withDefaults(r.opts.limits)
	l.MemoryPages = min(l.MemoryPages, MaxMemoryPages)
	if l.Fuel == 0 {
		l.Fuel = r.opts.limits.Fuel // withDefaults predates fuel
	}
	return l
}
