//go:build wasip1

package guest

import "unsafe"

//go:wasmimport theater:actor/config@0.1.0 get
func configGet(name unsafe.Pointer, nameLen uint32, retptr unsafe.Pointer) int32

func retConfigError() error { return decodeConfigError(retBytes(0)) }

// Config returns the manifest's config value or the node's secret called
// name (needs the config capability). A name the manifest does not give,
// or a secret the node lacks, is a *ConfigError.
func Config(name string) (string, error) {
	if err := statusErr(configGet(strPtr(name), uint32(len(name)), retPtr()), retConfigError); err != nil {
		return "", err
	}
	return string(retBytes(0)), nil
}
