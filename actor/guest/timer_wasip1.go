//go:build wasip1

package guest

import "unsafe"

//go:wasmimport theater:actor/timer@0.1.0 set
func timerSet(id unsafe.Pointer, idLen uint32, delayMs, intervalMs uint32, payload unsafe.Pointer, payloadLen uint32, retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/timer@0.1.0 cancel
func timerCancel(id unsafe.Pointer, idLen uint32, retptr unsafe.Pointer) int32

func retTimerError() error { return ParseTimerError(retBytes(0)) }

// SetTimer delivers payload (a message of the actor's send type) into
// the actor's own mailbox once after delayMs milliseconds, or, when
// intervalMs is not 0, every intervalMs milliseconds (at least 1000).
// Setting an id again replaces its timer. It takes effect once the
// handler's event is durable (needs the timer capability).
func SetTimer(id string, delayMs, intervalMs uint32, payload []byte) error {
	return statusErr(timerSet(strPtr(id), uint32(len(id)), delayMs, intervalMs, bytesPtr(payload), uint32(len(payload)), retPtr()), retTimerError)
}

// CancelTimer cancels the timer of id, once the handler's event is
// durable.
func CancelTimer(id string) error {
	return statusErr(timerCancel(strPtr(id), uint32(len(id)), retPtr()), retTimerError)
}
