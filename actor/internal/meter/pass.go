package meter

import (
	"fmt"

	"github.com/theater-go/theater/actor/internal/wasm"
)

// pass rewrites function bodies. Its slices are reused from body to body.
type pass struct {
	fuel, hostFn, nImp uint32
	nTypes             uint32 // types and globals of the original module,
	nGlobals           uint32 // to refuse references to what the pass adds

	ir    wasm.InstrReader
	costs []int64 // cost of each region: 0 is the function, then loops in order
	stack []int   // region of each open block
	edits []edit
}

// edit is a change at one offset of a body: a metering point after a loop
// header (region > 0) or a function index to renumber (region < 0).
type edit struct {
	at, end int
	region  int
	index   uint32
}

// body returns the metered form of one function body.
//
// The first walk finds the regions: the code a metering point pays for
// is every instruction of its function or loop body that is not inside a
// nested loop. Control can reach each such instruction at most once per
// entry to the region (blocks and ifs only branch forward, and branching
// back to the loop enters it again), so the charge at entry bounds what
// the region runs, and depends only on which regions are entered.
//
// An index one past the original module's types or globals would name the
// added type or the fuel global in the output, turning an invalid module
// into a valid one that can refill itself, so it is refused.
func (p *pass) body(b []byte) ([]byte, error) {
	p.costs = append(p.costs[:0], 0)
	p.stack = append(p.stack[:0], 0)
	p.edits = p.edits[:0]
	var in wasm.Instr
	p.ir.Reset(b, 0)
	for p.ir.Next(&in) {
		if (in.Op == wasm.OpGlobalGet || in.Op == wasm.OpGlobalSet) && in.Index >= p.nGlobals ||
			(in.Op == wasm.OpCallIndirect || in.TypeIdx) && in.Index >= p.nTypes {
			return nil, fmt.Errorf("%w: opcode 0x%02x at byte %d refers to index %d, out of range",
				wasm.ErrMalformed, in.Op, in.Start, in.Index)
		}
		cur := p.stack[len(p.stack)-1]
		p.costs[cur]++
		switch in.Op {
		case wasm.OpBlock, wasm.OpIf:
			p.stack = append(p.stack, cur)
		case wasm.OpLoop:
			r := len(p.costs)
			p.costs = append(p.costs, 0)
			p.stack = append(p.stack, r)
			p.edits = append(p.edits, edit{at: in.End, end: in.End, region: r})
		case wasm.OpEnd:
			p.stack = p.stack[:len(p.stack)-1]
		case wasm.OpCall, wasm.OpRefFunc:
			if in.Index >= p.nImp {
				p.edits = append(p.edits, edit{at: in.ImmStart, end: in.End, region: -1, index: in.Index + 1})
			}
		}
	}
	if err := p.ir.Err(); err != nil {
		return nil, err
	}

	out := make([]byte, 0, len(b)+len(p.costs)*24+len(p.edits)*2)
	out = p.point(out, p.costs[0])
	last := 0
	for _, e := range p.edits {
		out = append(out, b[last:e.at]...)
		if e.region > 0 {
			out = p.point(out, p.costs[e.region])
		} else {
			out = wasm.AppendU32(out, e.index)
		}
		last = e.end
	}
	return append(out, b[last:]...), nil
}

// point appends a metering point charging cost:
//
//	global.get $fuel; i64.const cost; i64.sub; global.set $fuel
//	global.get $fuel; i64.const 0; i64.lt_s
//	if
//	  global.get $fuel; call $out_of_fuel; global.set $fuel
//	end
func (p *pass) point(out []byte, cost int64) []byte {
	out = wasm.AppendU32(append(out, wasm.OpGlobalGet), p.fuel)
	out = wasm.AppendS64(append(out, wasm.OpI64Const), cost)
	out = wasm.AppendU32(append(out, wasm.OpI64Sub, wasm.OpGlobalSet), p.fuel)
	out = wasm.AppendU32(append(out, wasm.OpGlobalGet), p.fuel)
	out = append(out, wasm.OpI64Const, 0, wasm.OpI64LtS, wasm.OpIf, 0x40, wasm.OpGlobalGet)
	out = wasm.AppendU32(out, p.fuel)
	out = wasm.AppendU32(append(out, wasm.OpCall), p.hostFn)
	out = wasm.AppendU32(append(out, wasm.OpGlobalSet), p.fuel)
	return append(out, wasm.OpEnd)
}
