//go:build wasip1

package guest

import (
	"encoding/binary"
	"errors"
	"unsafe"
)

// --- memory -------------------------------------------------------------

// pinned holds every block the host can see: blocks it allocated through
// cabi_realloc (handler arguments, import results) and everything a
// handler returned. Go's GC does not move objects, so keeping them
// reachable here is all the ABI needs. They are released the first time
// the guest is entered after a handler returned (ABI.md, "Memory
// ownership"): not at handler entry, because the host allocates a
// handler's arguments just before calling it.
var (
	pinned         [][]byte
	releasePending bool
)

// enter releases the previous call's blocks if a handler has returned
// since they were pinned.
func enter() {
	if releasePending {
		clear(pinned) // drop references so the GC can free the blocks
		pinned = pinned[:0]
		releasePending = false
	}
}

// zero is where zero-length blocks point: a valid, non-null address.
var zero [8]byte

// alloc returns a pinned, zeroed block of n bytes whose address is a
// multiple of align.
func alloc(n, align uint32) []byte {
	if n == 0 {
		return zero[:0]
	}
	if align == 0 || align&(align-1) != 0 {
		align = 1
	}
	b := make([]byte, n+align-1)
	off := (align - addr(b)%align) % align
	b = b[off : off+n : off+n]
	pinned = append(pinned, b)
	return b
}

// addr is the linear-memory address of a slice's first byte.
func addr(b []byte) uint32 {
	if cap(b) == 0 {
		return uint32(uintptr(unsafe.Pointer(&zero)))
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// view is the guest memory at ptr..ptr+n. The host only ever points at
// blocks it got from cabi_realloc, which are pinned, so view finds the
// block instead of turning an integer into a pointer (which the GC could
// not account for).
func view(ptr, n uint32) []byte {
	if n == 0 {
		return nil
	}
	for _, b := range pinned {
		start := addr(b)
		if ptr >= start && uint64(ptr)+uint64(n) <= uint64(start)+uint64(len(b)) {
			off := ptr - start
			return b[off : off+n : off+n]
		}
	}
	panic("guest: the host passed memory it did not get from cabi_realloc")
}

// pin makes a returned slice visible to the host until the next entry and
// returns its address.
func pin(b []byte) uint32 {
	if len(b) > 0 {
		pinned = append(pinned, b)
	}
	return addr(b)
}

//go:wasmexport cabi_realloc
func cabiRealloc(oldPtr, oldSize, align, newSize uint32) uint32 {
	enter()
	b := alloc(newSize, align)
	if oldPtr != 0 {
		copy(b, view(oldPtr, min(oldSize, newSize)))
	}
	return addr(b)
}

//go:wasmexport theater_abi_version
func theaterABIVersion() int32 { return ABIVersion }

// --- handlers -------------------------------------------------------------

var errNoHandler = errors.New("guest: no handler registered")

// result writes a handler's return area: tag at byte 0, then at offset 4
// the (ptr, len) pairs of parts when ok, or of the error text.
func result(err error, parts ...[]byte) uint32 {
	area := alloc(4+8*2, 4)
	if err != nil {
		msg := []byte(err.Error())
		area[0] = 1
		parts = [][]byte{msg}
	}
	for i, p := range parts {
		binary.LittleEndian.PutUint32(area[4+8*i:], pin(p))
		binary.LittleEndian.PutUint32(area[8+8*i:], uint32(len(p)))
	}
	releasePending = true
	return addr(area)
}

// stateOnly runs a handler of shape state -> state.
func stateOnly(f func([]byte) ([]byte, error), sp, sl uint32) uint32 {
	enter()
	state := view(sp, sl)
	if f == nil { // the optional handlers default to "state unchanged"
		return result(nil, state)
	}
	var out []byte
	err := call(func() (err error) { out, err = f(state); return })
	return result(err, out)
}

//go:wasmexport theater_init
func theaterInit(sp, sl uint32) uint32 { return stateOnly(handlers.Init, sp, sl) }

//go:wasmexport theater_on_stop
func theaterOnStop(sp, sl uint32) uint32 { return stateOnly(handlers.OnStop, sp, sl) }

//go:wasmexport theater_handle_send
func theaterHandleSend(sp, sl, mp, ml uint32) uint32 {
	enter()
	if handlers.Send == nil {
		return result(errNoHandler)
	}
	state, msg := view(sp, sl), view(mp, ml)
	var out []byte
	err := call(func() (err error) { out, err = handlers.Send(state, msg); return })
	return result(err, out)
}

//go:wasmexport theater_handle_request
func theaterHandleRequest(sp, sl, mp, ml uint32) uint32 {
	enter()
	if handlers.Request == nil {
		return result(errNoHandler)
	}
	state, msg := view(sp, sl), view(mp, ml)
	var out, reply []byte
	err := call(func() (err error) { out, reply, err = handlers.Request(state, msg); return })
	return result(err, out, reply)
}

// --- host functions -------------------------------------------------------

// ret is the return area for import calls. It is a global, not a local,
// so its address cannot change while the host writes to it (the host may
// call cabi_realloc in the middle of an import call).
var ret [4]uint32

func retPtr() unsafe.Pointer { ret = [4]uint32{}; return unsafe.Pointer(&ret) }

// retBytes copies the (ptr, len) pair at ret[i:] out of host-allocated memory.
func retBytes(i int) []byte { return append([]byte(nil), view(ret[i], ret[i+1])...) }

func retMessageError() error { return decodeMessageError(retBytes(0)) }

//go:wasmimport theater:actor/log@0.1.0 write
func logWrite(level uint32, msg unsafe.Pointer, msgLen uint32) int32

//go:wasmimport theater:actor/runtime@0.1.0 self-id
func runtimeSelfID(retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/message@0.1.0 send
func messageSend(to unsafe.Pointer, toLen uint32, payload unsafe.Pointer, payloadLen uint32, retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/message@0.1.0 request
func messageRequest(to unsafe.Pointer, toLen uint32, payload unsafe.Pointer, payloadLen uint32, timeoutMS uint32, retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/clock@0.1.0 now
func clockNow(retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/random@0.1.0 bytes
func randomBytes(n uint32, retptr unsafe.Pointer) int32

func strPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

func bytesPtr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// Log writes one log line (needs the log capability).
func Log(level Level, msg string) error {
	return statusErr(logWrite(uint32(level), strPtr(msg), uint32(len(msg))), nil)
}

// SelfID returns the actor's id (needs the runtime capability).
func SelfID() (string, error) {
	if err := statusErr(runtimeSelfID(retPtr()), nil); err != nil {
		return "", err
	}
	return string(retBytes(0)), nil
}

// Send sends a one-way msgpack message to actor to (needs the message
// capability). A refusal by the host is a *MessageError.
func Send(to string, payload []byte) error {
	st := messageSend(strPtr(to), uint32(len(to)), bytesPtr(payload), uint32(len(payload)), retPtr())
	return statusErr(st, retMessageError)
}

// Request sends a msgpack request to actor to and waits at most timeoutMS
// milliseconds (0: the handler deadline) for the reply.
func Request(to string, payload []byte, timeoutMS uint32) ([]byte, error) {
	st := messageRequest(strPtr(to), uint32(len(to)), bytesPtr(payload), uint32(len(payload)), timeoutMS, retPtr())
	if err := statusErr(st, retMessageError); err != nil {
		return nil, err
	}
	return retBytes(0), nil
}

// Now returns the wall-clock time in nanoseconds since the Unix epoch
// (needs the clock capability; the value is recorded for replay).
func Now() (uint64, error) {
	if err := statusErr(clockNow(retPtr()), nil); err != nil {
		return 0, err
	}
	return uint64(ret[0]) | uint64(ret[1])<<32, nil
}

// RandomBytes returns n random bytes, n at most 65536 (needs the random
// capability; the bytes are recorded for replay).
func RandomBytes(n int) ([]byte, error) {
	if n < 0 || n > 1<<16 {
		return nil, StatusInvalid
	}
	if err := statusErr(randomBytes(uint32(n), retPtr()), nil); err != nil {
		return nil, err
	}
	return retBytes(0), nil
}
