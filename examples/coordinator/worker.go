package coordinator

import (
	"errors"
	"strings"

	"github.com/theater-go/theater/actor/guest"
)

// Worker returns the one-way handler of a worker: it takes a job
// ["job", id, kind, input, attempt] from the topics its manifest
// subscribes to, does it with do, and publishes ["result", id, worker,
// output] to the topic results. An input starting with "flaky" is
// dropped on its first attempt, as a worker that lost it would: the
// coordinator's timer publishes it again. The state is the number of
// jobs answered (u64).
func Worker(do func(input string) string) func(st, msg []byte) ([]byte, error) {
	return func(st, msg []byte) ([]byte, error) {
		done, _, err := guest.ReadUint(st)
		if err != nil {
			return nil, errors.New("worker: bad state")
		}
		m, _, err := ReadStrs(msg)
		if err != nil || len(m) != 5 || m[0] != "job" {
			return nil, errors.New("worker: want [job, id, kind, input, attempt]")
		}
		id, kind, input, attempt := m[1], m[2], m[3], m[4]
		self, err := guest.SelfID()
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(input, "flaky") && attempt == "1" {
			guest.LogFields(guest.Warn, "dropping a flaky job", guest.Field{Key: "job", Value: id}, guest.Field{Key: "attempt", Value: attempt})
			return st, nil
		}
		if err := guest.Publish("results", Strs("result", id, self, do(input))); err != nil {
			return nil, err
		}
		guest.LogFields(guest.Info, "job answered", guest.Field{Key: "job", Value: id}, guest.Field{Key: "kind", Value: kind})
		return guest.AppendUint(nil, done+1), nil
	}
}

// StartWorker is a worker's init: a fresh worker has answered no job.
func StartWorker(st []byte) ([]byte, error) {
	if len(st) == 0 {
		return guest.AppendUint(nil, 0), nil
	}
	return st, nil
}
