//go:build race

package meter_test

// raceEnabled: under the race detector wazero's compiler takes minutes
// over the 2.7 MB Go guest, so tests run it on the interpreter.
const raceEnabled = true
