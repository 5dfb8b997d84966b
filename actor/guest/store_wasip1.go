//go:build wasip1

package guest

import "unsafe"

//go:wasmimport theater:actor/store@0.1.0 get
func storeGet(ns unsafe.Pointer, nsLen uint32, key unsafe.Pointer, keyLen uint32, retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/store@0.1.0 put
func storePut(ns unsafe.Pointer, nsLen uint32, key unsafe.Pointer, keyLen uint32, value unsafe.Pointer, valueLen uint32,
	cond unsafe.Pointer, condLen uint32, retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/store@0.1.0 delete
func storeDelete(ns unsafe.Pointer, nsLen uint32, key unsafe.Pointer, keyLen uint32, cond unsafe.Pointer, condLen uint32, retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/store@0.1.0 list-keys
func storeListKeys(ns unsafe.Pointer, nsLen uint32, retptr unsafe.Pointer) int32

func retStoreError() error { return ParseStoreError(retBytes(0)) }

// StoreGet reads key in namespace ns ("" is the actor's own; needs the
// store capability). found is false when the key has no value. A refusal
// or failure reported by the host is a *StoreError.
func StoreGet(ns, key string) (e Entry, found bool, err error) {
	if err := statusErr(storeGet(strPtr(ns), uint32(len(ns)), strPtr(key), uint32(len(key)), retPtr()), retStoreError); err != nil {
		return Entry{}, false, err
	}
	return ParseEntry(retBytes(0))
}

// StorePut writes value under key if c holds (a *StoreError with Case
// "conflict" if not). The write takes effect once the handler's event is
// durable; the handler's own later calls see it at once.
func StorePut(ns, key string, value []byte, c Condition) error {
	cond := AppendCondition(nil, c)
	return statusErr(storePut(strPtr(ns), uint32(len(ns)), strPtr(key), uint32(len(key)), bytesPtr(value), uint32(len(value)),
		bytesPtr(cond), uint32(len(cond)), retPtr()), retStoreError)
}

// StoreDelete removes key if c holds; as StorePut, it takes effect once
// the handler's event is durable.
func StoreDelete(ns, key string, c Condition) error {
	cond := AppendCondition(nil, c)
	return statusErr(storeDelete(strPtr(ns), uint32(len(ns)), strPtr(key), uint32(len(key)), bytesPtr(cond), uint32(len(cond)), retPtr()), retStoreError)
}

// StoreKeys lists the keys of namespace ns, sorted.
func StoreKeys(ns string) ([]string, error) {
	if err := statusErr(storeListKeys(strPtr(ns), uint32(len(ns)), retPtr()), retStoreError); err != nil {
		return nil, err
	}
	return ParseKeys(retBytes(0))
}
