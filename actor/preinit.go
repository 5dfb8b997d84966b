package actor

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/internal/preinit"
	"github.com/theater-go/theater/actor/internal/wasm"
)

// preinitRun is the one run of a module's initialisation that its image is
// taken from. What the run does that a snapshot of memory and globals
// cannot hold (a host call, a line on stdout or stderr) is recorded here
// and leaves the module without an image.
type preinitRun struct {
	seed   string // of WASI random_get during the run
	reason string // why the module gets no image, once known
}

func (p *preinitRun) refuse(why string) {
	if p.reason == "" {
		p.reason = why
	}
}

// errPreinitHost stops an initialisation that calls a Theater host
// function while its image is made.
var errPreinitHost = fmt.Errorf("actor: %w: host call during pre-initialisation", ErrTrap)

// CompileStats counts what [Runtime.Compile] and [Runtime.Spawn] did with
// the modules they compiled.
type CompileStats struct {
	// Preinitialised modules start every instance from their image;
	// NotPreinitialised ones run their initialisation in each instance
	// (see [Runtime.Compile] for why a module gets no image).
	Preinitialised, NotPreinitialised uint64
	// DiskHits counts modules whose metered or pre-initialised code came
	// from the cache directory ([WithCacheDir]); DiskCorrupt counts files
	// of the cache directory that did not check and were deleted.
	DiskHits, DiskCorrupt uint64
}

// CompileStats returns the counts since the runtime started.
func (r *Runtime) CompileStats() CompileStats {
	return CompileStats{Preinitialised: r.stats.images.Load(), NotPreinitialised: r.stats.noImage.Load(),
		DiskHits: r.stats.diskHits.Load(), DiskCorrupt: r.stats.diskCorrupt.Load()}
}

// prepare returns the code to compile for a module: its pre-initialised
// image when it has one, the metered module otherwise, and the image's
// meta.
//
// With a cache directory, the code comes from the cache when it holds it
// (the bounds and the initialisation passed when it was written), and
// goes there once made.
func (r *Runtime) prepare(ctx context.Context, d Digest, wasm []byte, l Limits) ([]byte, preinit.Meta, error) {
	var e cached
	var meta preinit.Meta
	hit := false
	if r.disk != nil {
		e, meta, hit = r.loadCached(d)
	}
	if !hit {
		mod, err := instrument(wasm, l.MemoryPages)
		if err != nil {
			return nil, meta, fmt.Errorf("%w: %w", ErrRefused, err)
		}
		e = cached{kind: cachedMetered, code: mod.Encode()}
		if !r.opts.noPreinit {
			img, m, why, err := r.preinitialise(ctx, d, mod, l)
			if err != nil {
				return nil, meta, err
			}
			if img != nil {
				e, meta = cached{kind: cachedImage, code: img}, m
			} else {
				e.reason = why
			}
		}
		if r.disk != nil {
			r.storeCached(d, e)
		}
	}
	switch {
	case r.opts.noPreinit:
	case e.kind == cachedImage:
		r.stats.images.Add(1)
	default:
		r.stats.noImage.Add(1)
		r.opts.logger.Debug("actor: module not pre-initialised", "digest", hex.EncodeToString(d[:8]), "reason", e.reason)
	}
	return e.code, meta, nil
}

// preinitialise runs the metered module's start function and _initialize
// once, under the limits l and the handler deadline, and returns its
// image (package preinit). A module whose initialisation cannot be
// snapshotted gets no image and why; one whose initialisation fails is
// refused, as it would be at its first spawn.
//
// The run is deterministic, so the image is the same on every machine:
// the WASI clocks are virtual (their read counts are kept in the image's
// meta), random_get is seeded from the digest ("preinit." and its hex,
// a seed no actor id can have), args and environ are empty, and a host
// call or a write to stdout or stderr leaves the module without an
// image.
func (r *Runtime) preinitialise(ctx context.Context, d Digest, metered *wasm.Module, l Limits) (img []byte, meta preinit.Meta, why string, err error) {
	plan, code, err := preinit.PrepareModule(metered, abi.ExportInitialize)
	if err != nil {
		return nil, meta, err.Error(), nil
	}
	cm, err := r.rt.CompileModule(ctx, code)
	if err != nil {
		return nil, meta, "", fmt.Errorf("%w: %w", ErrRefused, err)
	}
	defer cm.Close(context.Background())
	info, err := r.abi.Inspect(cm, r.wasi)
	if err != nil {
		return nil, meta, "", fmt.Errorf("%w: %w", ErrRefused, err)
	}
	l.IdleTimeout, l.Fuel = -1, 0
	run := &preinitRun{seed: "preinit." + hex.EncodeToString(d[:])}
	p := &Actor{rt: r, mod: &module{cm: cm, info: info},
		spec: Spec{ID: "preinit", Logger: slog.New(slog.DiscardHandler), Limits: l}}
	inst, f := p.openWith(run)
	if f != nil {
		if run.reason != "" {
			return nil, meta, run.reason, nil
		}
		return nil, meta, "", fmt.Errorf("%w: %w", ErrRefused, *f)
	}
	defer inst.close()
	if run.reason != "" {
		return nil, meta, run.reason, nil
	}
	mem, _ := inst.mem.Read(0, inst.mem.Size())
	globals := make([]uint64, len(plan.Globals()))
	for k, i := range plan.Globals() {
		g := inst.mod.ExportedGlobal(preinit.GlobalExport + strconv.FormatUint(uint64(i), 10))
		if g == nil {
			return nil, meta, "", fmt.Errorf("actor: %w: pre-initialised module lost global %d", ErrTrap, i)
		}
		globals[k] = g.Get()
	}
	meta = preinit.Meta{WallReads: uint64(inst.clk.wallReads), MonoReads: uint64(inst.clk.monoReads)}
	img, err = plan.Build(mem, globals, meta)
	if err != nil {
		return nil, meta, "", errors.Join(ErrTrap, err)
	}
	return img, meta, "", nil
}
