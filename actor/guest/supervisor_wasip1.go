//go:build wasip1

package guest

import "unsafe"

//go:wasmimport theater:actor/supervisor@0.1.0 spawn
func supervisorSpawn(spec unsafe.Pointer, specLen uint32, retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/supervisor@0.1.0 stop
func supervisorStop(id unsafe.Pointer, idLen uint32, retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/supervisor@0.1.0 restart
func supervisorRestart(id unsafe.Pointer, idLen uint32, retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/supervisor@0.1.0 children
func supervisorChildren(retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/supervisor@0.1.0 state
func supervisorState(id unsafe.Pointer, idLen uint32, retptr unsafe.Pointer) int32

func retSupervisorError() error { return decodeSupervisorError(retBytes(0)) }

// Spawn starts a child (needs the supervisor capability). A refusal by
// the host is a *SupervisorError.
func Spawn(c ChildSpec) error {
	b := AppendChildSpec(nil, c)
	return statusErr(supervisorSpawn(bytesPtr(b), uint32(len(b)), retPtr()), retSupervisorError)
}

// StopChild stops a child and forgets it; its last state stays readable
// and a later Spawn from "last" resumes from it.
func StopChild(id string) error {
	return statusErr(supervisorStop(strPtr(id), uint32(len(id)), retPtr()), retSupervisorError)
}

// RestartChild starts again a permanent or transient child that is not
// running.
func RestartChild(id string) error {
	return statusErr(supervisorRestart(strPtr(id), uint32(len(id)), retPtr()), retSupervisorError)
}

// Children lists the children in start order.
func Children() ([]ChildInfo, error) {
	if err := statusErr(supervisorChildren(retPtr()), retSupervisorError); err != nil {
		return nil, err
	}
	return decodeChildInfos(retBytes(0))
}

// ChildState returns a child's state (the one it ended with, for an ended
// child).
func ChildState(id string) ([]byte, error) {
	if err := statusErr(supervisorState(strPtr(id), uint32(len(id)), retPtr()), retSupervisorError); err != nil {
		return nil, err
	}
	return retBytes(0), nil
}
