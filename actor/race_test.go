//go:build race

package actor_test

// raceEnabled scales down the tests whose cost the race detector
// multiplies.
const raceEnabled = true
