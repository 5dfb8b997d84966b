package meter_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/theater-go/theater/actor/internal/meter"
)

const root = "../../.."

// errOutOfFuel is what the test tank panics with when it has no fuel
// left; wazero returns it from the call, leaving the module open.
var errOutOfFuel = errors.New("out of fuel")

// tank is a host side of the meter's contract: it hands out fuel in
// slices up to a total, counting what it gave, and aborts the call when
// the total is spent or stop says so (a deadline, in real use).
type tank struct {
	slice, left int64
	granted     int64
	refills     int
	stop        func() bool
	exit        bool // abort with sys.ExitError (closes the module) instead of errOutOfFuel
}

func (t *tank) outOfFuel(_ context.Context, remaining int64) int64 {
	t.refills++
	if t.left <= 0 || (t.stop != nil && t.stop()) {
		if t.exit {
			panic(sys.NewExitError(99))
		}
		panic(errOutOfFuel)
	}
	g := min(t.slice, t.left)
	t.left -= g
	t.granted += g
	return remaining + g
}

// consumed is the fuel units spent: what was granted minus what is left.
func (t *tank) consumed(mod api.Module) int64 {
	return t.granted - int64(mod.ExportedGlobal(meter.FuelExport).Get())
}

func bigTank() *tank { return &tank{slice: 1 << 20, left: 1 << 62} }

// newRuntime returns a runtime without WithCloseOnContextDone, with a
// 64 MiB memory limit, and with the tank behind theater:meter/out-of-fuel
// when t is not nil.
func newRuntime(t testing.TB, ctx context.Context, tk *tank) wazero.Runtime {
	return newRuntimeWith(t, ctx, tk, wazero.NewRuntimeConfig())
}

func newRuntimeWith(t testing.TB, ctx context.Context, tk *tank, cfg wazero.RuntimeConfig) wazero.Runtime {
	t.Helper()
	rt := wazero.NewRuntimeWithConfig(ctx, cfg.WithMemoryLimitPages(1024))
	t.Cleanup(func() { rt.Close(ctx) })
	if tk != nil {
		_, err := rt.NewHostModuleBuilder(meter.ImportModule).
			NewFunctionBuilder().WithFunc(tk.outOfFuel).Export(meter.ImportName).
			Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	return rt
}

// stubImports instantiates WASI and, for every other imported module, a
// host module whose functions record their arguments in log and return
// zeros.
func stubImports(t testing.TB, ctx context.Context, rt wazero.Runtime, cm wazero.CompiledModule, log *[]string) {
	t.Helper()
	byModule := map[string][]api.FunctionDefinition{}
	for _, f := range cm.ImportedFunctions() {
		mod, _, _ := f.Import()
		if mod == meter.ImportModule {
			continue
		}
		byModule[mod] = append(byModule[mod], f)
	}
	for mod, fns := range byModule {
		if mod == wasi_snapshot_preview1.ModuleName {
			wasi_snapshot_preview1.MustInstantiate(ctx, rt)
			continue
		}
		b := rt.NewHostModuleBuilder(mod)
		for _, f := range fns {
			_, name, _ := f.Import()
			nres := len(f.ResultTypes())
			b = b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
				args := make([]uint64, len(f.ParamTypes()))
				for i, pt := range f.ParamTypes() {
					args[i] = stack[i]
					if pt == api.ValueTypeI32 || pt == api.ValueTypeF32 {
						args[i] = uint64(uint32(stack[i])) // the upper half is undefined
					}
				}
				*log = append(*log, fmt.Sprintf("host %s.%s%v", mod, name, args))
				for i := range nres {
					stack[i] = 0
				}
			}), f.ParamTypes(), f.ResultTypes()).Export(name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// run instantiates wasm and drives it through the actor ABI as far as it
// goes, returning a transcript of every result, host call and returned
// memory; with a tank it also returns the fuel consumed. It runs on
// wazero's compiler, or its interpreter when interp is set.
func run(t testing.TB, wasm []byte, tk *tank, handlers, interp bool) (transcript []string, fuel int64) {
	t.Helper()
	ctx := context.Background()
	cfg := wazero.NewRuntimeConfig()
	if interp || raceEnabled && len(wasm) > 1<<20 {
		cfg = wazero.NewRuntimeConfigInterpreter()
	}
	rt := newRuntimeWith(t, ctx, tk, cfg)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var log []string
	stubImports(t, ctx, rt, cm, &log)
	mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("guest").WithStartFunctions())
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	call := func(name string, args ...uint64) ([]uint64, bool) {
		fn := mod.ExportedFunction(name)
		if fn == nil {
			log = append(log, name+": missing")
			return nil, false
		}
		res, err := fn.Call(ctx, args...)
		if err != nil {
			// Only the kind: messages carry stack traces whose function
			// indices the pass shifts.
			var exit *sys.ExitError
			if errors.As(err, &exit) {
				log = append(log, fmt.Sprintf("%s: exit %d", name, exit.ExitCode()))
			} else {
				log = append(log, name+": error")
			}
			return nil, false
		}
		log = append(log, fmt.Sprintf("%s%v = %v", name, args, res))
		return res, true
	}
	mem := func(ptr, n uint32) {
		b, ok := mod.Memory().Read(ptr, n)
		log = append(log, fmt.Sprintf("mem[%d:+%d] %v %x", ptr, n, ok, b))
	}
	alloc := func(p []byte) (uint32, bool) {
		res, ok := call("cabi_realloc", 0, 0, 1, uint64(len(p)))
		if !ok {
			return 0, false
		}
		mod.Memory().Write(uint32(res[0]), p)
		return uint32(res[0]), true
	}
	// reply reads the return area of a handler: tag, then (ptr, len)s.
	reply := func(res []uint64) {
		ra := uint32(res[0])
		mem(ra, 20)
		for i := uint32(1); i < 5; i += 2 {
			p, _ := mod.Memory().ReadUint32Le(ra + 4*i)
			n, _ := mod.Memory().ReadUint32Le(ra + 4*i + 4)
			mem(p, min(n, 1024))
		}
	}
	if mod.ExportedFunction("_initialize") != nil {
		call("_initialize")
	}
	call("theater_abi_version")
	for _, name := range []string{"theater_init", "theater_handle_send", "theater_handle_request"} {
		if !handlers && name != "theater_init" {
			break
		}
		state := []byte{0x05} // msgpack 5
		msg := []byte{0x01}   // msgpack 1
		sp, ok1 := alloc(state)
		mp, ok2 := alloc(msg)
		if !ok1 || !ok2 {
			break
		}
		var res []uint64
		var ok bool
		if name == "theater_init" {
			res, ok = call(name, uint64(sp), uint64(len(state)))
		} else {
			res, ok = call(name, uint64(sp), uint64(len(state)), uint64(mp), uint64(len(msg)))
		}
		if ok && len(res) == 1 {
			reply(res)
		}
	}
	if tk != nil {
		fuel = tk.consumed(mod)
	}
	return log, fuel
}

// neverStarts lists the guests whose instantiation or _initialize never
// returns on its own; TestDeadline covers a looping start function.
var neverStarts = map[string]bool{
	"actor/testdata/guests/startloop.wasm": true,
	"actor/testdata/guests/initloop.wasm":  true,
}

// guests returns every committed guest module of the repo, and the Go
// counter built from source, by path.
func guests(t testing.TB) map[string][]byte {
	t.Helper()
	var paths []string
	for _, pat := range []string{"examples/*/*/*.wasm", "actor/testdata/guests/*.wasm"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	sort.Strings(paths)
	if len(paths) < 10 {
		t.Fatalf("found only %d guests", len(paths))
	}
	out := map[string][]byte{}
	for _, p := range paths {
		if neverStarts[strings.TrimPrefix(p, root+"/")] {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(p, root+"/")] = b
	}
	out["examples/counter/go (built)"] = goCounter(t)
	return out
}

var goGuest struct {
	once sync.Once
	wasm []byte
	err  error
}

// goCounter builds examples/counter/go with the standard toolchain, once
// per test binary.
func goCounter(t testing.TB) []byte {
	t.Helper()
	goGuest.once.Do(func() {
		dir, err := os.MkdirTemp("", "meter-go-guest")
		if err != nil {
			goGuest.err = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "counter.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./examples/counter/go")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if b, err := cmd.CombinedOutput(); err != nil {
			goGuest.err = fmt.Errorf("go build: %v\n%s", err, b)
			return
		}
		goGuest.wasm, goGuest.err = os.ReadFile(out)
	})
	if goGuest.err != nil {
		t.Fatal(goGuest.err)
	}
	return goGuest.wasm
}
